/* d_poll_highfd: fd numbers past FD_SETSIZE. poll and epoll wait on a socket
 * dup2'ed to fd 1500; select with nfds > FD_SETSIZE (the program's own,
 * larger fd_set arrays, as old servers allocate them) waits and reports
 * as plain. */
#include "compat.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>

#define HIGH 1500

static int sv[2];

static void *send_later(void *arg)
{
  (void)arg;
  sleep_ms(50);
  check_threads(1);
  if (write(sv[1], "x", 1) != 1)
    return (void *)1;
  return NULL;
}

/* Sets bit fd in a set array of any size (FD_SET stops at FD_SETSIZE). */
static void bit_set(fd_set *s, int fd)
{
  ((unsigned long *)s)[fd / (8 * sizeof(long))] |= 1UL
                                                   << (fd % (8 * sizeof(long)));
}

static int bit_isset(const fd_set *s, int fd)
{
  return (((const unsigned long *)s)[fd / (8 * sizeof(long))] >>
          (fd % (8 * sizeof(long)))) &
         1;
}

int main(void)
{
  struct rlimit rl;
  struct pollfd f[2];
  struct task t;
  char c;
  int r;

  setvbuf(stdout, NULL, _IOLBF, 0);
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 4096) {
    rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  EXPECT("dup2 to 1500", dup2(sv[0], HIGH) == HIGH);
  close(sv[0]);

  /* poll, timeout -1, woken by a write to the peer. */
  spawn(&t, send_later, NULL);
  f[0] = (struct pollfd){HIGH, POLLIN, 0};
  f[1] = (struct pollfd){sv[1], POLLIN, 0};
  r = poll(f, 2, -1);
  SAY("poll fd 1500: r=%d revents %#x %#x\n", r, f[0].revents, f[1].revents);
  EXPECT("writer", join(&t) == NULL);
  EXPECT("read fd 1500", read(HIGH, &c, 1) == 1 && c == 'x');

  /* poll with a timeout on it. */
  {
    double t0 = now_ms();
    r = poll(f, 1, 60);
    SAY("poll fd 1500 t=60: r=%d revents %#x\n", r, f[0].revents);
    EXPECT("not early", now_ms() - t0 >= 59.5);
  }

  /* epoll on it. */
  {
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = HIGH}, out[2];
    int ep = epoll_create1(0);
    EXPECT("epoll_ctl fd 1500", epoll_ctl(ep, EPOLL_CTL_ADD, HIGH, &ev) == 0);
    spawn(&t, send_later, NULL);
    r = epoll_wait(ep, out, 2, -1);
    SAY("epoll fd 1500: r=%d fd %d events %#x\n", r, out[0].data.fd,
        out[0].events);
    join(&t);
    EXPECT("read fd 1500", read(HIGH, &c, 1) == 1 && c == 'x');
    close(ep);
  }

  /* select with nfds past FD_SETSIZE and sets large enough for it. */
  {
    fd_set rs[2];
    struct timeval tv;
    double t0;
    memset(rs, 0, sizeof(rs));
    bit_set(rs, HIGH);
    tv = (struct timeval){0, 80000};
    t0 = now_ms();
    r = select(HIGH + 1, rs, NULL, NULL, &tv);
    SAY("select fd 1500 t=80: r=%d set %d\n", r, bit_isset(rs, HIGH));
    EXPECT("select not early", now_ms() - t0 >= 79.5);
    EXPECT("timeout left in tv >= 0",
           tv.tv_sec == 0 && tv.tv_usec >= 0 && tv.tv_usec < 80000);
    memset(rs, 0, sizeof(rs));
    bit_set(rs, HIGH);
    spawn(&t, send_later, NULL);
    r = select(HIGH + 1, rs, NULL, NULL, NULL);
    SAY("select fd 1500 woken: r=%d set %d\n", r, bit_isset(rs, HIGH));
    join(&t);
    memset(rs, 0, sizeof(rs));
    bit_set(rs, HIGH);
    tv = (struct timeval){5, 0};
    r = select(HIGH + 1, rs, NULL, NULL, &tv);
    SAY("select fd 1500 ready: r=%d set %d\n", r, bit_isset(rs, HIGH));
  }
  return compat_failures != 0;
}
