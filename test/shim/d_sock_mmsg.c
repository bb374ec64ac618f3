/* d_sock_mmsg: recvmmsg and sendmmsg on blocking sockets wait as the
 * kernel's do. recvmmsg without MSG_WAITFORONE takes vlen messages, waiting
 * for each; with it, what is there once one came; its timeout is looked at
 * only after a message came (recvmmsg(2), BUGS), and what is left of it is
 * written back; a bad timeout is EINVAL or EFAULT. A blocking sendmmsg
 * sends every message, waiting for room. The runtime's used to return
 * after the first message(s) in every case. */
#include "compat.h"

#include <sys/socket.h>

#define N      5
#define BIG    64
#define BIGLEN 4096

static int pair[2];

static void *sender(void *arg)
{
  const int *gaps_ms = arg; /* a gap before each datagram, -1 ends */
  char c = 'a';

  for (int i = 0; gaps_ms[i] >= 0; i++, c++) {
    sleep_ms(gaps_ms[i]);
    if (send(pair[1], &c, 1, 0) != 1)
      return (void *)1;
  }
  return NULL;
}

/* recvmmsg of up to N one-byte messages; prints how many and what. */
static int receive(const char *label, int flags, struct timespec *timeout)
{
  struct mmsghdr v[N];
  struct iovec io[N];
  char got[N + 1];
  int r;

  memset(v, 0, sizeof(v));
  memset(got, 0, sizeof(got));
  for (int i = 0; i < N; i++) {
    io[i].iov_base = &got[i];
    io[i].iov_len = 1;
    v[i].msg_hdr.msg_iov = &io[i];
    v[i].msg_hdr.msg_iovlen = 1;
  }
  r = recvmmsg(pair[0], v, N, flags, timeout);
  if (r < 0)
    SAY("%s: -1 %s\n", label, strerror(errno));
  else
    SAY("%s: %d messages '%s'\n", label, r, got);
  return r;
}

static void with_sender(const int *gaps, const char *label, int flags,
                        struct timespec *timeout)
{
  pthread_t t;
  void *r;

  if (pthread_create(&t, NULL, sender, (void *)gaps) != 0)
    exit(2);
  receive(label, flags, timeout);
  pthread_join(t, &r);
  EXPECT("the sender sent everything", r == NULL);
}

static void *slow_reader(void *arg)
{
  static char buf[BIGLEN];
  long n = 0;

  (void)arg;
  for (int i = 0; i < BIG; i++) {
    if (i % 16 == 0)
      sleep_ms(20);
    if (recv(pair[1], buf, sizeof(buf), 0) == BIGLEN)
      n++;
  }
  return (void *)n;
}

/* sendmmsg of BIG messages of BIGLEN bytes into a socket with room for a
 * few: all are sent, as a reader takes them. */
static void send_many(void)
{
  static char data[BIGLEN];
  struct mmsghdr v[BIG];
  struct iovec io = {data, sizeof(data)};
  int small = 8192, r;
  pthread_t t;
  void *got;

  memset(v, 0, sizeof(v));
  for (int i = 0; i < BIG; i++) {
    v[i].msg_hdr.msg_iov = &io;
    v[i].msg_hdr.msg_iovlen = 1;
  }
  setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  if (pthread_create(&t, NULL, slow_reader, NULL) != 0)
    exit(2);
  r = sendmmsg(pair[0], v, BIG, 0);
  pthread_join(t, &got);
  SAY("sendmmsg of %d into a small buffer: %d sent, %ld read\n", BIG, r,
      (long)got);
}

int main(void)
{
  static const int spaced[] = {30, 30, 30, 30, 30, -1};
  static const int one_then_rest[] = {0, 300, 0, 0, 0, -1};
  static const int two_then_late[] = {0, 0, 600, -1};
  struct timespec t = {0, 300000000}, bad = {0, 2000000000L};

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) != 0)
    return 2;
  with_sender(spaced, "five sent 30 ms apart, vlen 5", 0, NULL);
  with_sender(one_then_rest, "one, then four after 300 ms, MSG_WAITFORONE",
              MSG_WAITFORONE, NULL);
  receive("the four left, MSG_DONTWAIT", MSG_DONTWAIT, NULL);
  /* Two at once, a third after 600 ms: the 300 ms timeout is looked at
   * only when the third came. */
  with_sender(two_then_late, "timeout 300 ms, a third message at 600 ms", 0,
              &t);
  SAY("timeout left: %lld.%09ld\n", (long long)t.tv_sec, t.tv_nsec);
  receive("a timeout of 2e9 ns", 0, &bad);
  receive("a timeout at a bad address", 0, (struct timespec *)8);
  send_many();
  return compat_failures != 0;
}
