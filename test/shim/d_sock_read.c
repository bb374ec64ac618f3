/* d_sock_read: what a read returns — a partial read returns what is there,
 * MSG_PEEK leaves the data, MSG_WAITALL on a stream socket (recv and
 * recvmsg, AF_UNIX and TCP) waits for everything or EOF, a datagram is
 * truncated to the buffer. */
#include "sockutil.h"

#include <sys/uio.h>

static int wfd;

/* Writes "0123456789" in two halves, 60 ms apart, after 60 ms. */
static void *halves(void *arg)
{
  (void)arg;
  sleep_ms(60);
  check_threads(1);
  if (write(wfd, "01234", 5) != 5)
    return (void *)1;
  sleep_ms(60);
  if (write(wfd, "56789", 5) != 5)
    return (void *)1;
  return NULL;
}

/* Writes 4 bytes after 60 ms, then shuts the write side down. */
static void *short_then_eof(void *arg)
{
  (void)arg;
  sleep_ms(60);
  if (write(wfd, "abcd", 4) != 4)
    return (void *)1;
  sleep_ms(30);
  shutdown(wfd, SHUT_WR);
  return NULL;
}

static void stream_checks(const char *kind, int r, int w)
{
  char buf[128], label[128];
  struct task t;
  struct iovec iov[3];
  struct msghdr m;

  wfd = w;
#define L(s) (snprintf(label, sizeof(label), "%s %s", kind, s), label)
  EXPECT(L("write 10"), write(w, "abcdefghij", 10) == 10);
  sleep_ms(20); /* TCP: let it arrive */
  CALL(L("read 100 when 10 are there"), read(r, buf, 100));
  EXPECT(L("the 10 bytes"), memcmp(buf, "abcdefghij", 10) == 0);

  EXPECT(L("write 6"), send(w, "peek!!", 6, 0) == 6);
  sleep_ms(20);
  CALL(L("MSG_PEEK 3"), recv(r, buf, 3, MSG_PEEK));
  CALL(L("MSG_PEEK 100"), recv(r, buf, 100, MSG_PEEK));
  CALL(L("MSG_PEEK|MSG_DONTWAIT"), recv(r, buf, 100, MSG_PEEK | MSG_DONTWAIT));
  memset(buf, 0, sizeof(buf));
  CALL(L("then recv 100"), recv(r, buf, 100, 0));
  SAY("%s data: %s\n", kind, buf);
  CALL(L("MSG_DONTWAIT when empty"), recv(r, buf, 100, MSG_DONTWAIT));

  spawn(&t, halves, NULL);
  memset(buf, 0, sizeof(buf));
  CALL(L("recv 10 MSG_WAITALL"), recv(r, buf, 10, MSG_WAITALL));
  SAY("%s data: %s\n", kind, buf);
  EXPECT(L("writer"), join(&t) == NULL);

  spawn(&t, halves, NULL);
  memset(buf, 0, sizeof(buf));
  CALL(L("recv 10 no MSG_WAITALL"), recv(r, buf, 10, 0));
  SAY("%s data: %s\n", kind, buf);
  EXPECT(L("writer"), join(&t) == NULL);
  CALL(L("the rest"), recv(r, buf, 10, 0));

  spawn(&t, halves, NULL);
  memset(buf, 0, sizeof(buf));
  iov[0] = (struct iovec){buf, 3};
  iov[1] = (struct iovec){buf + 10, 3};
  iov[2] = (struct iovec){buf + 20, 4};
  memset(&m, 0, sizeof(m));
  m.msg_iov = iov;
  m.msg_iovlen = 3;
  CALL(L("recvmsg 3+3+4 MSG_WAITALL"), recvmsg(r, &m, MSG_WAITALL));
  SAY("%s data: %.3s|%.3s|%.4s iov unchanged: %d msg_flags %d\n", kind, buf,
      buf + 10, buf + 20,
      iov[0].iov_base == buf && iov[0].iov_len == 3 &&
          iov[1].iov_base == buf + 10 && iov[2].iov_len == 4 &&
          m.msg_iov == iov && m.msg_iovlen == 3,
      m.msg_flags);
  EXPECT(L("writer"), join(&t) == NULL);

  spawn(&t, halves, NULL);
  memset(buf, 0, sizeof(buf));
  iov[0] = (struct iovec){buf, 4};
  iov[1] = (struct iovec){buf + 10, 6};
  CALL(L("readv 4+6 (no waitall)"), readv(r, iov, 2));
  EXPECT(L("writer"), join(&t) == NULL);
  CALL(L("the rest"), recv(r, buf, 10, 0));

  spawn(&t, halves, NULL);
  sleep_ms(90); /* the first half is there */
  memset(buf, 0, sizeof(buf));
  CALL(L("MSG_PEEK|MSG_WAITALL 10"), recv(r, buf, 10, MSG_PEEK | MSG_WAITALL));
  SAY("%s peeked: %s\n", kind, buf);
  EXPECT(L("writer"), join(&t) == NULL);
  memset(buf, 0, sizeof(buf));
  CALL(L("then recv 100"), recv(r, buf, 100, 0));
  SAY("%s data: %s\n", kind, buf);

  spawn(&t, short_then_eof, NULL);
  memset(buf, 0, sizeof(buf));
  CALL(L("MSG_WAITALL 10 cut short by EOF"), recv(r, buf, 10, MSG_WAITALL));
  SAY("%s data: %s\n", kind, buf);
  EXPECT(L("writer"), join(&t) == NULL);
  CALL(L("then EOF"), recv(r, buf, 10, MSG_WAITALL));
#undef L
}

/* MSG_PEEK|MSG_WAITALL when the end of the stream is already there. */
static void peek_at_eof(const char *kind, int r, int w)
{
  char buf[16], label[128];
  struct task t;

  wfd = w;
  spawn(&t, short_then_eof, NULL);
  CALL((snprintf(label, sizeof(label), "%s MSG_PEEK waits", kind), label),
       recv(r, buf, sizeof(buf), MSG_PEEK));
  EXPECT("writer", join(&t) == NULL);
  sleep_ms(50); /* the end of the stream arrives, nobody waiting */
  CALL((snprintf(label, sizeof(label), "%s MSG_PEEK|MSG_WAITALL at EOF", kind),
        label),
       recv(r, buf, 10, MSG_PEEK | MSG_WAITALL));
  CALL((snprintf(label, sizeof(label), "%s MSG_WAITALL at EOF", kind), label),
       recv(r, buf, 10, MSG_WAITALL));
  close(r);
  close(w);
}

int main(void)
{
  int sv[2], c = -1, s = -1;
  char buf[16];

  setvbuf(stdout, NULL, _IOLBF, 0);
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  stream_checks("unix", sv[0], sv[1]);
  EXPECT("tcp pair", tcp_pair(&c, &s) == 0);
  stream_checks("tcp", s, c);

  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  peek_at_eof("unix", sv[0], sv[1]);
  EXPECT("tcp pair", tcp_pair(&c, &s) == 0);
  peek_at_eof("tcp", s, c);

  EXPECT("dgram socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
  EXPECT("send 8", send(sv[1], "datagram", 8, 0) == 8);
  EXPECT("send 3", send(sv[1], "two", 3, 0) == 3);
  CALL("dgram recv 4 (truncated)", recv(sv[0], buf, 4, 0));
  CALL("dgram next one", recv(sv[0], buf, sizeof(buf), 0));
  EXPECT("send 8", send(sv[1], "datagram", 8, 0) == 8);
  CALL("dgram MSG_TRUNC reports the full length",
       recv(sv[0], buf, 4, MSG_TRUNC));
  EXPECT("send 0", send(sv[1], "", 0, 0) == 0);
  CALL("dgram zero-length datagram", recv(sv[0], buf, sizeof(buf), 0));
  CALL("dgram recv 0 bytes MSG_DONTWAIT", recv(sv[0], buf, 0, MSG_DONTWAIT));
  return compat_failures != 0;
}
