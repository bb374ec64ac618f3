/* d_sock_connect: connect's answers, exactly — refused (blocking, and
 * non-blocking polled by the app), EBADF, ENOTSOCK, EINVAL, EAFNOSUPPORT,
 * EISCONN, the EINPROGRESS / EALREADY sequence against a full TCP backlog
 * (non-blocking, and blocking with SO_SNDTIMEO), a blocking connect again on
 * a socket still connecting, and AF_UNIX connects to a full backlog. */
#include "sockutil.h"

#include <poll.h>
#include <sys/un.h>

static int lfd, naccept;

/* Accepts naccept connections on lfd, the first after 50 ms, and keeps
 * them open. */
static void *accepter(void *arg)
{
  (void)arg;
  sleep_ms(50);
  check_threads(1);
  for (int i = 0; i < naccept; i++)
    if (accept(lfd, NULL, NULL) < 0)
      return (void *)1;
  return NULL;
}

static void set_sndtimeo(int fd, long ms)
{
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
    SAY("setsockopt failed\n");
}

static void tcp_checks(void)
{
  struct sockaddr_in a, closed;
  struct sockaddr_un u = {.sun_family = AF_UNIX};
  socklen_t len = sizeof(closed);
  struct pollfd p;
  struct task t;
  int fd, fa, fb, fc, err, pfd[2];
  double t0;

  /* A bound port nobody listens on: connections to it are refused. */
  fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&closed, 0, sizeof(closed));
  closed.sin_family = AF_INET;
  closed.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT("bind", bind(fd, (struct sockaddr *)&closed, sizeof(closed)) == 0 &&
                     getsockname(fd, (struct sockaddr *)&closed, &len) == 0);

  fa = socket(AF_INET, SOCK_STREAM, 0);
  CALL("blocking connect to a closed port",
       connect(fa, (struct sockaddr *)&closed, sizeof(closed)));
  len = sizeof(err);
  getsockopt(fa, SOL_SOCKET, SO_ERROR, &err, &len);
  SAY("SO_ERROR afterwards: %s\n", err ? strerrorname_np(err) : "0");
  close(fa);

  fa = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  CALL("non-blocking connect to a closed port",
       connect(fa, (struct sockaddr *)&closed, sizeof(closed)));
  p = (struct pollfd){.fd = fa, .events = POLLOUT};
  CALL("poll POLLOUT", poll(&p, 1, 2000));
  SAY("revents POLLOUT=%d POLLERR=%d POLLHUP=%d\n", !!(p.revents & POLLOUT),
      !!(p.revents & POLLERR), !!(p.revents & POLLHUP));
  len = sizeof(err);
  getsockopt(fa, SOL_SOCKET, SO_ERROR, &err, &len);
  SAY("SO_ERROR: %s\n", err ? strerrorname_np(err) : "0");
  getsockopt(fa, SOL_SOCKET, SO_ERROR, &err, &len);
  SAY("SO_ERROR again: %s\n", err ? strerrorname_np(err) : "0");
  close(fa);
  close(fd);

  CALL("connect on fd -1",
       connect(-1, (struct sockaddr *)&closed, sizeof(closed)));
  CALL("connect on a closed fd",
       connect(777, (struct sockaddr *)&closed, sizeof(closed)));
  EXPECT("pipe", pipe(pfd) == 0);
  CALL("connect on a pipe",
       connect(pfd[0], (struct sockaddr *)&closed, sizeof(closed)));
  close(pfd[0]);
  close(pfd[1]);

  lfd = tcp_listener(&a, 0, 0);
  EXPECT("listener with backlog 0", lfd >= 0);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  CALL("connect with address length 1", connect(fd, (struct sockaddr *)&a, 1));
  CALL("connect with an AF_UNIX address",
       connect(fd, (struct sockaddr *)&u, sizeof(u)));
  CALL("connect with a NULL address", connect(fd, NULL, sizeof(a)));
  close(fd);

  fa = socket(AF_INET, SOCK_STREAM, 0);
  CALL("connect A (fills the backlog)",
       connect(fa, (struct sockaddr *)&a, sizeof(a)));
  CALL("connect A again", connect(fa, (struct sockaddr *)&a, sizeof(a)));
  sleep_ms(20);

  fb = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  CALL("non-blocking connect B to a full backlog",
       connect(fb, (struct sockaddr *)&a, sizeof(a)));
  CALL("connect B again", connect(fb, (struct sockaddr *)&a, sizeof(a)));
  p = (struct pollfd){.fd = fb, .events = POLLOUT};
  CALL("poll B for 50 ms", poll(&p, 1, 50));

  fc = socket(AF_INET, SOCK_STREAM, 0);
  set_sndtimeo(fc, 100);
  t0 = now_ms();
  CALL("blocking connect C with a 100 ms SO_SNDTIMEO",
       connect(fc, (struct sockaddr *)&a, sizeof(a)));
  SAY("C waited >= 90 ms: %d\n", now_ms() - t0 >= 90);
  t0 = now_ms();
  CALL("blocking connect C again",
       connect(fc, (struct sockaddr *)&a, sizeof(a)));
  SAY("C waited >= 90 ms: %d\n", now_ms() - t0 >= 90);

  /* Room in the backlog from 50 ms on: the blocking connect waits for the
   * SYN to be sent again and succeeds. */
  set_sndtimeo(fc, 0);
  naccept = 3;
  spawn(&t, accepter, NULL);
  CALL("blocking connect C, no timeout, while it is still connecting",
       connect(fc, (struct sockaddr *)&a, sizeof(a)));
  CALL("connect C again", connect(fc, (struct sockaddr *)&a, sizeof(a)));
  p = (struct pollfd){.fd = fb, .events = POLLOUT};
  CALL("poll B", poll(&p, 1, 5000));
  len = sizeof(err);
  getsockopt(fb, SOL_SOCKET, SO_ERROR, &err, &len);
  SAY("B SO_ERROR: %s\n", err ? strerrorname_np(err) : "0");
  CALL("connect B once connected",
       connect(fb, (struct sockaddr *)&a, sizeof(a)));
  CALL("connect B once more", connect(fb, (struct sockaddr *)&a, sizeof(a)));
  EXPECT("accepter", join(&t) == NULL);
  close(fa);
  close(fb);
  close(fc);
  close(lfd);
}

static void unix_checks(void)
{
  struct sockaddr_un u = {.sun_family = AF_UNIX};
  struct task t;
  int fa, fb;
  double t0;

  snprintf(u.sun_path, sizeof(u.sun_path), "/tmp/d_sock_connect.%d",
           (int)getpid());
  fa = socket(AF_UNIX, SOCK_STREAM, 0);
  CALL("unix connect to a missing path",
       connect(fa, (struct sockaddr *)&u, sizeof(u)));
  lfd = socket(AF_UNIX, SOCK_STREAM, 0);
  EXPECT("unix bind", bind(lfd, (struct sockaddr *)&u, sizeof(u)) == 0);
  CALL("unix connect to a socket that does not listen",
       connect(fa, (struct sockaddr *)&u, sizeof(u)));
  EXPECT("unix listen 0", listen(lfd, 0) == 0);
  CALL("unix connect A", connect(fa, (struct sockaddr *)&u, sizeof(u)));
  /* (Another connect of A would block: Linux waits for room in the
   * backlog before it notices that A is connected.) */

  fb = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  CALL("unix non-blocking connect to a full backlog",
       connect(fb, (struct sockaddr *)&u, sizeof(u)));
  close(fb);
  fb = socket(AF_UNIX, SOCK_STREAM, 0);
  set_sndtimeo(fb, 100);
  t0 = now_ms();
  CALL("unix blocking connect with a 100 ms SO_SNDTIMEO to a full backlog",
       connect(fb, (struct sockaddr *)&u, sizeof(u)));
  SAY("waited >= 90 ms: %d\n", now_ms() - t0 >= 90);
  set_sndtimeo(fb, 0);
  naccept = 2;
  spawn(&t, accepter, NULL);
  t0 = now_ms();
  CALL("unix blocking connect to a full backlog waits for an accept",
       connect(fb, (struct sockaddr *)&u, sizeof(u)));
  SAY("waited >= 40 ms: %d\n", now_ms() - t0 >= 40);
  EXPECT("accepter", join(&t) == NULL);
  close(fa);
  close(fb);
  close(lfd);
  unlink(u.sun_path);
}

int main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  tcp_checks();
  unix_checks();
  return compat_failures != 0;
}
