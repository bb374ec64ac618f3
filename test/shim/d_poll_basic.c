/* d_poll_basic: poll and ppoll report exactly what the kernel reports —
 * mixed ready and idle fds, duplicates, negative fds, POLLNVAL, POLLHUP,
 * POLLRDHUP — and wait as long as they should: timeout 0, -1 (woken by
 * another task), n ms; bad arguments fail as plain. */
#include "compat.h"

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>

static int p1[2], p2[2], sv[2];

static void *close_later(void *arg)
{
  int fd = *(int *)arg;
  sleep_ms(50);
  check_threads(1);
  close(fd);
  return NULL;
}

static void *shut_later(void *arg)
{
  int fd = *(int *)arg;
  sleep_ms(50);
  check_threads(1);
  shutdown(fd, SHUT_WR);
  return NULL;
}

int main(void)
{
  struct pollfd f[8];
  struct task t;
  double t0, el;
  int r, closed;

  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  EXPECT("pipes", pipe(p1) == 0 && pipe(p2) == 0);
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  EXPECT("write p1", write(p1[1], "a", 1) == 1);

  /* Mixed: one readable, one idle, one writable socket, one writable pipe. */
  memset(f, 0, sizeof(f));
  f[0] = (struct pollfd){p1[0], POLLIN, 0x7777};
  f[1] = (struct pollfd){p2[0], POLLIN, 0x7777};
  f[2] = (struct pollfd){sv[0], POLLIN | POLLOUT, 0x7777};
  f[3] = (struct pollfd){p2[1], POLLOUT, 0x7777};
  r = poll(f, 4, 0);
  SAY("mixed t=0: r=%d revents %#x %#x %#x %#x\n", r, f[0].revents,
      f[1].revents, f[2].revents, f[3].revents);
  r = poll(f, 4, -1);
  SAY("mixed t=-1: r=%d revents %#x %#x %#x %#x\n", r, f[0].revents,
      f[1].revents, f[2].revents, f[3].revents);
  r = poll(f, 4, 100);
  SAY("mixed t=100: r=%d revents %#x %#x %#x %#x\n", r, f[0].revents,
      f[1].revents, f[2].revents, f[3].revents);

  /* Duplicates and negative fds. */
  f[0] = (struct pollfd){p1[0], POLLIN, 0x7777};
  f[1] = (struct pollfd){p1[0], POLLIN | POLLOUT, 0x7777};
  f[2] = (struct pollfd){-1, POLLIN, 0x7777};
  f[3] = (struct pollfd){-5, POLLOUT, 0x7777};
  f[4] = (struct pollfd){p2[0], POLLIN, 0x7777};
  r = poll(f, 5, 50);
  SAY("dup+neg: r=%d revents %#x %#x %#x %#x %#x\n", r, f[0].revents,
      f[1].revents, f[2].revents, f[3].revents, f[4].revents);

  /* Only negative fds: a plain sleep. */
  f[0] = (struct pollfd){-1, POLLIN, 0x7777};
  t0 = now_ms();
  r = poll(f, 1, 100);
  el = now_ms() - t0;
  SAY("negative only: r=%d revents %#x\n", r, f[0].revents);
  EXPECT("negative only waits 100 ms", el >= 99.5);

  /* POLLNVAL for a closed fd, even with an infinite timeout. */
  closed = dup(p2[0]);
  close(closed);
  f[0] = (struct pollfd){closed, POLLIN, 0};
  f[1] = (struct pollfd){p2[0], POLLIN, 0};
  r = poll(f, 2, -1);
  SAY("closed fd: r=%d revents %#x %#x\n", r, f[0].revents, f[1].revents);

  /* Timeout n: returns 0 after at least n ms. */
  f[0] = (struct pollfd){p2[0], POLLIN, 0x7777};
  t0 = now_ms();
  r = poll(f, 1, 120);
  el = now_ms() - t0;
  SAY("timeout 120: r=%d revents %#x\n", r, f[0].revents);
  EXPECT("timeout 120 not early", el >= 119.5);
  t0 = now_ms();
  r = poll(NULL, 0, 80);
  el = now_ms() - t0;
  SAY("poll(NULL, 0, 80): r=%d\n", r);
  EXPECT("poll(NULL, 0, 80) sleeps", el >= 79.5);

  /* Timeout -1, woken by another task's write. */
  spawn(&t, write_later, &p2[1]);
  f[0] = (struct pollfd){p2[0], POLLIN, 0};
  f[1] = (struct pollfd){sv[0], POLLIN, 0};
  r = poll(f, 2, -1);
  SAY("woken by write: r=%d revents %#x %#x\n", r, f[0].revents, f[1].revents);
  EXPECT("writer", join(&t) == NULL);
  {
    char c;
    EXPECT("drain p2", read(p2[0], &c, 1) == 1);
  }

  /* More fds than fit on the stack: woken by the last. */
  {
    int many[40][2];
    struct pollfd big[40];
    for (int i = 0; i < 40; i++) {
      if (pipe(many[i]) != 0)
        abort();
      big[i] = (struct pollfd){many[i][0], POLLIN, 0};
    }
    spawn(&t, write_later, &many[39][1]);
    r = poll(big, 40, 5000);
    SAY("40 fds: r=%d revents[39] %#x revents[0] %#x\n", r, big[39].revents,
        big[0].revents);
    join(&t);
    for (int i = 0; i < 40; i++)
      close(many[i][0]), close(many[i][1]);
  }

  /* POLLHUP: the writer of a pipe closed, before and during the wait. */
  {
    int h[2];
    EXPECT("pipe h", pipe(h) == 0);
    close(h[1]);
    f[0] = (struct pollfd){h[0], POLLIN, 0};
    r = poll(f, 1, -1);
    SAY("hup before: r=%d revents %#x\n", r, f[0].revents);
    close(h[0]);
    EXPECT("pipe h", pipe(h) == 0);
    spawn(&t, close_later, &h[1]);
    f[0] = (struct pollfd){h[0], POLLIN, 0};
    r = poll(f, 1, -1);
    SAY("hup during: r=%d revents %#x\n", r, f[0].revents);
    join(&t);
    close(h[0]);
  }

  /* POLLRDHUP: the peer shut its writing side, before and during. */
  {
    int s[2];
    EXPECT("socketpair s", socketpair(AF_UNIX, SOCK_STREAM, 0, s) == 0);
    spawn(&t, shut_later, &s[1]);
    f[0] = (struct pollfd){s[0], POLLRDHUP, 0};
    r = poll(f, 1, -1);
    SAY("rdhup during: r=%d revents %#x\n", r, f[0].revents);
    join(&t);
    f[0] = (struct pollfd){s[0], POLLIN | POLLRDHUP | POLLOUT, 0};
    r = poll(f, 1, -1);
    SAY("rdhup after: r=%d revents %#x\n", r, f[0].revents);
    close(s[0]);
    close(s[1]);
  }

  /* ppoll with a timespec. */
  {
    struct timespec ts = {0, 100000000};
    sigset_t m;
    f[0] = (struct pollfd){p2[0], POLLIN, 0x7777};
    t0 = now_ms();
    r = ppoll(f, 1, &ts, NULL);
    el = now_ms() - t0;
    SAY("ppoll 100 ms: r=%d revents %#x\n", r, f[0].revents);
    EXPECT("ppoll 100 ms not early", el >= 99.5);
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    ts.tv_sec = 5;
    spawn(&t, write_later, &p2[1]);
    r = ppoll(f, 1, &ts, &m);
    SAY("ppoll woken: r=%d revents %#x\n", r, f[0].revents);
    join(&t);
    ts = (struct timespec){0, 0};
    r = ppoll(f, 1, &ts, NULL);
    SAY("ppoll 0: r=%d revents %#x\n", r, f[0].revents);
    r = ppoll(f, 1, NULL, NULL);
    SAY("ppoll NULL: r=%d revents %#x\n", r, f[0].revents);
    ts = (struct timespec){0, 1000000000};
    errno = 0;
    r = ppoll(f, 1, &ts, NULL);
    SAY("ppoll tv_nsec=1e9: r=%d errno %d\n", r, errno);
    ts = (struct timespec){-1, 0};
    errno = 0;
    r = ppoll(f, 1, &ts, NULL);
    SAY("ppoll tv_sec=-1: r=%d errno %d\n", r, errno);
  }

  /* Bad arguments: the kernel's errors, not a crash. */
  {
    struct rlimit rl;
    struct pollfd *volatile nul = NULL;
    getrlimit(RLIMIT_NOFILE, &rl);
    errno = 0;
    r = poll(nul, 1, 100);
    SAY("poll(NULL, 1, 100): r=%d errno %d\n", r, errno);
    errno = 0;
    f[0] = (struct pollfd){p2[0], POLLIN, 0};
    r = poll(f, (nfds_t)rl.rlim_cur + 1, 100);
    SAY("poll nfds > RLIMIT_NOFILE: r=%d errno %d\n", r, errno);
  }
  return compat_failures != 0;
}
