/* d_select: select and pselect report the kernel's sets (read, write,
 * except with TCP urgent data), wait as long as they should, update the
 * timeval as Linux does, and fail as plain (EBADF, EINVAL). */
#include "compat.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>

static int p1[2], p2[2];

static void *oob_later(void *arg)
{
  int fd = *(int *)arg;
  sleep_ms(50);
  check_threads(1);
  if (send(fd, "!", 1, MSG_OOB) != 1)
    return (void *)1;
  return NULL;
}

/* Prints which of the test's fds (by name, not number) are in the sets. */
static void show(const char *what, int r, fd_set *rs, fd_set *ws, fd_set *es,
                 int maxfd)
{
  const struct {
    const char *name;
    int fd;
  } fds[] = {{"p1r", p1[0]}, {"p1w", p1[1]}, {"p2r", p2[0]}, {"p2w", p2[1]}};
  (void)maxfd;
  printf("%s: r=%d", what, r);
  for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
    if (rs && FD_ISSET(fds[i].fd, rs))
      printf(" r:%s", fds[i].name);
    if (ws && FD_ISSET(fds[i].fd, ws))
      printf(" w:%s", fds[i].name);
    if (es && FD_ISSET(fds[i].fd, es))
      printf(" e:%s", fds[i].name);
  }
  printf("\n");
  fflush(stdout);
}

/* A connected TCP pair on loopback. */
static void tcp_pair(int *a, int *b)
{
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t len = sizeof(sa);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
      listen(l, 1) != 0 || getsockname(l, (struct sockaddr *)&sa, &len) != 0)
    abort();
  *a = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(*a, (struct sockaddr *)&sa, sizeof(sa)) != 0)
    abort();
  *b = accept(l, NULL, NULL);
  if (*b < 0)
    abort();
  close(l);
}

int main(void)
{
  fd_set rs, ws, es;
  struct timeval tv;
  struct task t;
  double t0, el;
  int r, maxfd, a, b;

  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  EXPECT("pipes", pipe(p1) == 0 && pipe(p2) == 0);
  EXPECT("write p1", write(p1[1], "a", 1) == 1);
  maxfd = p2[1];

  /* Ready and idle fds together, zero timeout and a long one. */
  FD_ZERO(&rs);
  FD_ZERO(&ws);
  FD_SET(p1[0], &rs);
  FD_SET(p2[0], &rs);
  FD_SET(p2[1], &ws);
  tv = (struct timeval){0, 0};
  r = select(maxfd + 1, &rs, &ws, NULL, &tv);
  show("mixed t=0", r, &rs, &ws, NULL, maxfd);
  FD_ZERO(&rs);
  FD_ZERO(&ws);
  FD_SET(p1[0], &rs);
  FD_SET(p2[0], &rs);
  FD_SET(p2[1], &ws);
  tv = (struct timeval){2, 0};
  r = select(maxfd + 1, &rs, &ws, NULL, &tv);
  show("mixed t=2s", r, &rs, &ws, NULL, maxfd);
  FD_ZERO(&rs);
  FD_SET(p1[0], &rs);
  FD_SET(p2[0], &rs);
  r = select(maxfd + 1, &rs, NULL, NULL, NULL);
  show("mixed NULL", r, &rs, NULL, NULL, maxfd);

  /* Nothing ready: times out after the whole timeout, sets emptied, the
   * timeval updated to what is left. */
  FD_ZERO(&rs);
  FD_SET(p2[0], &rs);
  tv = (struct timeval){0, 100000};
  t0 = now_ms();
  r = select(maxfd + 1, &rs, NULL, NULL, &tv);
  el = now_ms() - t0;
  show("idle t=100", r, &rs, NULL, NULL, maxfd);
  EXPECT("idle t=100 not early", el >= 99.5);
  EXPECT("timeval decreased, >= 0",
         tv.tv_sec == 0 && tv.tv_usec >= 0 && tv.tv_usec < 100000);

  /* select with no fds is a sleep. */
  tv = (struct timeval){0, 80000};
  t0 = now_ms();
  r = select(0, NULL, NULL, NULL, &tv);
  el = now_ms() - t0;
  SAY("select(0) t=80: r=%d\n", r);
  EXPECT("select(0) sleeps", el >= 79.5);

  /* Woken by another task: the timeval keeps the rest. */
  spawn(&t, write_later, &p2[1]);
  FD_ZERO(&rs);
  FD_SET(p2[0], &rs);
  tv = (struct timeval){2, 0};
  r = select(maxfd + 1, &rs, NULL, NULL, &tv);
  show("woken", r, &rs, NULL, NULL, maxfd);
  EXPECT("timeval decreased, > 0", (tv.tv_sec == 1 && tv.tv_usec > 0) ||
                                       (tv.tv_sec == 0 && tv.tv_usec > 0));
  EXPECT("writer", join(&t) == NULL);
  {
    char c;
    EXPECT("drain", read(p2[0], &c, 1) == 1);
  }

  /* exceptfds: TCP urgent data, before and during the wait. */
  tcp_pair(&a, &b);
  spawn(&t, oob_later, &a);
  FD_ZERO(&rs);
  FD_ZERO(&es);
  FD_SET(b, &es);
  r = select(b + 1, NULL, NULL, &es, NULL);
  SAY("oob during: r=%d except %d\n", r, FD_ISSET(b, &es) != 0);
  join(&t);
  FD_ZERO(&rs);
  FD_ZERO(&es);
  FD_SET(b, &rs);
  FD_SET(b, &es);
  tv = (struct timeval){1, 0};
  r = select(b + 1, &rs, NULL, &es, &tv);
  SAY("oob after: r=%d read %d except %d\n", r, FD_ISSET(b, &rs) != 0,
      FD_ISSET(b, &es) != 0);
  close(a);
  close(b);

  /* A closed fd in the set: EBADF, with and without a timeout. */
  {
    int c = dup(p2[0]);
    close(c);
    FD_ZERO(&rs);
    FD_SET(p2[0], &rs);
    FD_SET(c, &rs);
    tv = (struct timeval){1, 0};
    errno = 0;
    r = select(c + 1, &rs, NULL, NULL, &tv);
    SAY("closed fd: r=%d errno %d\n", r, errno);
    FD_ZERO(&rs);
    FD_SET(c, &rs);
    errno = 0;
    r = select(c + 1, &rs, NULL, NULL, NULL);
    SAY("closed fd, NULL: r=%d errno %d\n", r, errno);
  }

  /* Bad arguments. */
  FD_ZERO(&rs);
  FD_SET(p2[0], &rs);
  tv = (struct timeval){0, 1100000};
  errno = 0;
  t0 = now_ms();
  r = select(maxfd + 1, &rs, NULL, NULL, &tv);
  el = now_ms() - t0;
  SAY("tv_usec=1.1e6: r=%d errno %d\n", r, errno);
  if (r == 0)
    EXPECT("tv_usec=1.1e6 waits 1.1 s", el >= 1099.5);
  tv = (struct timeval){-1, 0};
  errno = 0;
  r = select(maxfd + 1, &rs, NULL, NULL, &tv);
  SAY("tv_sec=-1: r=%d errno %d\n", r, errno);
  tv = (struct timeval){0, 50000};
  errno = 0;
  r = select(-1, &rs, NULL, NULL, &tv);
  SAY("nfds=-1: r=%d errno %d\n", r, errno);
  {
    fd_set big[2];
    memset(big, 0, sizeof(big));
    FD_SET(p2[0], &big[0]);
    tv = (struct timeval){0, 50000};
    errno = 0;
    t0 = now_ms();
    r = select(FD_SETSIZE + 1, &big[0], NULL, NULL, &tv);
    el = now_ms() - t0;
    SAY("nfds=FD_SETSIZE+1: r=%d errno %d waited %d\n", r, errno, el >= 49.5);
  }

  /* pselect: a timespec, a mask, a timeout left untouched. */
  {
    struct timespec ts = {0, 100000000};
    sigset_t m;
    FD_ZERO(&rs);
    FD_SET(p2[0], &rs);
    t0 = now_ms();
    r = pselect(maxfd + 1, &rs, NULL, NULL, &ts, NULL);
    el = now_ms() - t0;
    show("pselect t=100", r, &rs, NULL, NULL, maxfd);
    EXPECT("pselect not early", el >= 99.5);
    SAY("pselect timespec after: %ld %ld\n", (long)ts.tv_sec, (long)ts.tv_nsec);
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    spawn(&t, write_later, &p2[1]);
    FD_ZERO(&rs);
    FD_SET(p2[0], &rs);
    FD_SET(p1[1], &ws);
    ts = (struct timespec){5, 0};
    r = pselect(maxfd + 1, &rs, NULL, NULL, &ts, &m);
    show("pselect woken", r, &rs, NULL, NULL, maxfd);
    join(&t);
    FD_ZERO(&rs);
    FD_SET(p2[0], &rs);
    FD_ZERO(&ws);
    FD_SET(p1[1], &ws);
    r = pselect(maxfd + 1, &rs, &ws, NULL, NULL, &m);
    show("pselect ready", r, &rs, &ws, NULL, maxfd);
    ts = (struct timespec){0, 1000000000};
    errno = 0;
    r = pselect(maxfd + 1, &rs, NULL, NULL, &ts, NULL);
    SAY("pselect tv_nsec=1e9: r=%d errno %d\n", r, errno);
  }
  return compat_failures != 0;
}
