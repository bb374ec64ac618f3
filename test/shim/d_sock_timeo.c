/* d_sock_timeo: SO_RCVTIMEO and SO_SNDTIMEO — recv and accept give up
 * with EAGAIN after the timeout, a send on a full buffer returns the bytes
 * that fit or EAGAIN, getsockopt returns what was set; no invented timeout:
 * a recv without one waits 300 ms for late data and gets it. Times are only
 * checked as bounds. */
#include "sockutil.h"

static int wfd;

static void set_timeo(int fd, int name, long ms)
{
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, name, &tv, sizeof(tv)) != 0)
    SAY("setsockopt: %s\n", strerrorname_np(errno));
}

static void show_timeo(const char *what, int fd, int name)
{
  struct timeval tv;
  socklen_t len = sizeof(tv);
  CALL(what, getsockopt(fd, SOL_SOCKET, name, &tv, &len));
  SAY("  = %ld s %ld us (len %u)\n", (long)tv.tv_sec, (long)tv.tv_usec,
      (unsigned)len);
}

static void *late(void *arg)
{
  (void)arg;
  sleep_ms(300);
  check_threads(1);
  return write(wfd, "late", 4) == 4 ? NULL : (void *)1;
}

/* Reads drain_total bytes from the full socket after 50 ms. */
static size_t drain_total;
static void *drain(void *arg)
{
  static char buf[65536];
  size_t got = 0;
  (void)arg;
  sleep_ms(50);
  while (got < drain_total) {
    size_t want = drain_total - got;
    ssize_t n = read(wfd, buf, want < sizeof(buf) ? want : sizeof(buf));
    if (n <= 0)
      return (void *)1;
    got += (size_t)n;
  }
  return NULL;
}

int main(void)
{
  static char big[4 << 20];
  struct sockaddr_in a;
  struct task t;
  char buf[16];
  int sv[2], lfd, fd;
  double t0, el;
  ssize_t n;

  setvbuf(stdout, NULL, _IOLBF, 0);
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  show_timeo("SO_RCVTIMEO default", sv[0], SO_RCVTIMEO);
  set_timeo(sv[0], SO_RCVTIMEO, 100);
  show_timeo("SO_RCVTIMEO after setting 100 ms", sv[0], SO_RCVTIMEO);
  t0 = now_ms();
  CALL("recv with a 100 ms SO_RCVTIMEO", recv(sv[0], buf, sizeof(buf), 0));
  el = now_ms() - t0;
  SAY("elapsed >= 90 ms: %d, < 2000 ms: %d\n", el >= 90, el < 2000);
  t0 = now_ms();
  CALL("read with it", read(sv[0], buf, sizeof(buf)));
  SAY("elapsed >= 90 ms: %d\n", now_ms() - t0 >= 90);
  t0 = now_ms();
  CALL("recv MSG_WAITALL with it", recv(sv[0], buf, sizeof(buf), MSG_WAITALL));
  SAY("elapsed >= 90 ms: %d\n", now_ms() - t0 >= 90);
  EXPECT("write 3", write(sv[1], "abc", 3) == 3);
  t0 = now_ms();
  CALL("recv MSG_WAITALL 16 with 3 there, times out with them",
       recv(sv[0], buf, sizeof(buf), MSG_WAITALL));
  SAY("elapsed >= 90 ms: %d\n", now_ms() - t0 >= 90);
  EXPECT("write 3", write(sv[1], "abc", 3) == 3);
  CALL("recv with data there", recv(sv[0], buf, sizeof(buf), 0));

  /* A timeout set through a dup applies to the socket. */
  fd = dup(sv[0]);
  set_timeo(sv[0], SO_RCVTIMEO, 0);
  show_timeo("SO_RCVTIMEO cleared, seen through a dup", fd, SO_RCVTIMEO);
  set_timeo(fd, SO_RCVTIMEO, 100);
  close(fd);
  t0 = now_ms();
  CALL("recv with the timeout set through the dup",
       recv(sv[0], buf, sizeof(buf), 0));
  SAY("elapsed >= 90 ms: %d\n", now_ms() - t0 >= 90);

  /* No timeout: waits as long as it takes. */
  set_timeo(sv[0], SO_RCVTIMEO, 0);
  show_timeo("SO_RCVTIMEO cleared", sv[0], SO_RCVTIMEO);
  wfd = sv[1];
  spawn(&t, late, NULL);
  t0 = now_ms();
  CALL("recv without a timeout gets late data",
       recv(sv[0], buf, sizeof(buf), 0));
  SAY("elapsed >= 290 ms: %d\n", now_ms() - t0 >= 290);
  EXPECT("late writer", join(&t) == NULL);

  /* SO_SNDTIMEO: a big send fills the buffer and returns what fit. */
  set_timeo(sv[1], SO_SNDTIMEO, 100);
  show_timeo("SO_SNDTIMEO", sv[1], SO_SNDTIMEO);
  t0 = now_ms();
  n = send(sv[1], big, sizeof(big), 0);
  el = now_ms() - t0;
  drain_total = n > 0 ? (size_t)n + 1000 : 1000;
  SAY("send 4 MiB to nobody reading: partial %d, elapsed >= 90 ms: %d\n",
      n > 0 && n < (ssize_t)sizeof(big), el >= 90);
  t0 = now_ms();
  CALL("send on the full buffer", send(sv[1], big, sizeof(big), 0));
  SAY("elapsed >= 90 ms: %d\n", now_ms() - t0 >= 90);
  t0 = now_ms();
  CALL("write of 1 byte on the full buffer", write(sv[1], big, 1));
  SAY("elapsed >= 90 ms: %d\n", now_ms() - t0 >= 90);
  wfd = sv[0];
  spawn(&t, drain, NULL);
  n = send(sv[1], big, 1000, 0);
  SAY("send of 1000 once someone reads: %zd\n", n);
  EXPECT("drain", join(&t) == NULL);
  close(sv[0]);
  close(sv[1]);

  /* accept with SO_RCVTIMEO. */
  lfd = tcp_listener(&a, 0, 4);
  EXPECT("listener", lfd >= 0);
  set_timeo(lfd, SO_RCVTIMEO, 100);
  t0 = now_ms();
  CALL("accept with a 100 ms SO_RCVTIMEO", accept(lfd, NULL, NULL));
  SAY("elapsed >= 90 ms: %d\n", now_ms() - t0 >= 90);
  t0 = now_ms();
  CALL("accept4 with it", accept4(lfd, NULL, NULL, SOCK_CLOEXEC));
  SAY("elapsed >= 90 ms: %d\n", now_ms() - t0 >= 90);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT("connect", connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
  CALL("accept with a client there", accept(lfd, NULL, NULL) >= 0);
  close(lfd);

  CALL("setsockopt SO_RCVTIMEO with a short length",
       setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, buf, 3));
  {
    struct timeval bad = {0, 2000000};
    CALL("setsockopt SO_RCVTIMEO with tv_usec out of range",
         setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof(bad)));
  }
  CALL("setsockopt SO_RCVTIMEO on a bad fd",
       setsockopt(999, SOL_SOCKET, SO_RCVTIMEO, buf, 16));
  close(fd);
  return compat_failures != 0;
}
