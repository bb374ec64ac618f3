/* d_fortify_io: built with -O2 -D_FORTIFY_SOURCE=2, so that read, recv,
 * recvfrom, poll and ppoll on fixed-size buffers go through glibc's __*_chk
 * entry points, which the shim must interpose too: each blocks while
 * another task makes it ready, on one OS thread. */
#include "compat.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

static int p[2], sv[2];

static void *write_hello_later(void *arg)
{
  int fd = *(int *)arg;
  sleep_ms(50);
  check_threads(1);
  if (write(fd, "hello", 5) != 5)
    return (void *)1;
  return NULL;
}

int main(void)
{
  char buf[16];
  struct pollfd f[2];
  struct task t;
  volatile size_t len = sizeof(buf); /* not a constant: the _chk calls */
  volatile nfds_t nf = 1;
  ssize_t n;
  int r;

  setvbuf(stdout, NULL, _IOLBF, 0);
  EXPECT("pipe", pipe(p) == 0);
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);

  spawn(&t, write_hello_later, &p[1]);
  n = read(p[0], buf, len);
  SAY("__read_chk: n=%zd %.*s\n", n, n > 0 ? (int)n : 0, buf);
  EXPECT("writer", join(&t) == NULL);

  spawn(&t, write_hello_later, &sv[1]);
  n = recv(sv[0], buf, len, 0);
  SAY("__recv_chk: n=%zd %.*s\n", n, n > 0 ? (int)n : 0, buf);
  join(&t);

  spawn(&t, write_hello_later, &sv[1]);
  n = recvfrom(sv[0], buf, len, 0, NULL, NULL);
  SAY("__recvfrom_chk: n=%zd %.*s\n", n, n > 0 ? (int)n : 0, buf);
  join(&t);

  spawn(&t, write_hello_later, &p[1]);
  f[0] = (struct pollfd){p[0], POLLIN, 0};
  r = poll(f, nf, -1);
  SAY("__poll_chk: r=%d revents %#x\n", r, f[0].revents);
  join(&t);
  n = read(p[0], buf, len);
  SAY("read ready: n=%zd\n", n);

  {
    struct timespec ts = {5, 0};
    spawn(&t, write_hello_later, &p[1]);
    f[0] = (struct pollfd){p[0], POLLIN, 0};
    r = ppoll(f, nf, &ts, NULL);
    SAY("__ppoll_chk: r=%d revents %#x\n", r, f[0].revents);
    join(&t);
    n = read(p[0], buf, len);
    SAY("read ready: n=%zd\n", n);
    ts = (struct timespec){0, 60000000};
    {
      double t0 = now_ms();
      r = ppoll(f, nf, &ts, NULL);
      SAY("__ppoll_chk t=60: r=%d\n", r);
      EXPECT("not early", now_ms() - t0 >= 59.5);
    }
  }

  /* Timeouts and EOF through the same entry points. */
  {
    double t0 = now_ms();
    r = poll(f, nf, 70);
    SAY("__poll_chk t=70: r=%d\n", r);
    EXPECT("not early", now_ms() - t0 >= 69.5);
  }
  close(p[1]);
  n = read(p[0], buf, len);
  SAY("__read_chk at EOF: n=%zd\n", n);
  shutdown(sv[1], SHUT_WR);
  n = recv(sv[0], buf, len, 0);
  SAY("__recv_chk at EOF: n=%zd\n", n);
  return compat_failures != 0;
}
