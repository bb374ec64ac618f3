/* d_sock_bigwrite: a write on a blocking stream socket completes fully —
 * write, send, writev and sendmsg of 8 MiB over a socketpair and over TCP
 * return the full length while the reader, another task, reads slowly; the
 * reader gets every byte in order. */
#include "sockutil.h"

#include <sys/uio.h>

#define TOTAL (8u << 20)

static unsigned char *src;
static int rfd;

static unsigned char pattern(size_t i)
{
  return (unsigned char)(i * 7 + (i >> 13));
}

/* Reads until EOF in small pieces, pausing now and then; checks every
 * byte. Returns the count (or (void *)-1 on a mismatch). */
static void *reader(void *arg)
{
  static unsigned char buf[32768];
  size_t got = 0;
  int reads = 0;

  (void)arg;
  for (;;) {
    ssize_t n = read(rfd, buf, sizeof(buf));
    if (n < 0)
      return (void *)-2;
    if (n == 0)
      break;
    for (ssize_t i = 0; i < n; i++)
      if (buf[i] != pattern(got + (size_t)i))
        return (void *)-1;
    got += (size_t)n;
    if (++reads % 16 == 0) {
      check_threads(1); /* the writer is blocked meanwhile */
      sleep_ms(2);
    }
  }
  return (void *)got;
}

static ssize_t do_write(int how, int fd)
{
  struct iovec iov[5];
  struct msghdr m;
  size_t cut[6] = {0, 1, 4096, 1 << 20, (1 << 20) + 3, TOTAL};

  for (int i = 0; i < 5; i++)
    iov[i] = (struct iovec){src + cut[i], cut[i + 1] - cut[i]};
  ssize_t n;

  memset(&m, 0, sizeof(m));
  m.msg_iov = iov;
  m.msg_iovlen = 5;
  switch (how) {
  case 0:
    return write(fd, src, TOTAL);
  case 1:
    return send(fd, src, TOTAL, 0);
  case 2:
    n = writev(fd, iov, 5);
    break;
  default:
    n = sendmsg(fd, &m, 0);
    break;
  }
  /* The app's own iovec array and header are left as they were. */
  for (int i = 0; i < 5; i++)
    if (iov[i].iov_base != src + cut[i] ||
        iov[i].iov_len != cut[i + 1] - cut[i])
      return -3;
  if (m.msg_iov != iov || m.msg_iovlen != 5)
    return -4;
  return n;
}

int main(void)
{
  static const char *names[] = {"write", "send", "writev", "sendmsg"};
  struct task t;

  setvbuf(stdout, NULL, _IOLBF, 0);
  src = malloc(TOTAL);
  for (size_t i = 0; i < TOTAL; i++)
    src[i] = pattern(i);
  for (int tcp = 0; tcp < 2; tcp++) {
    for (int how = 0; how < 4; how++) {
      int sv[2];
      ssize_t n;
      void *got;
      if (tcp)
        EXPECT("tcp pair", tcp_pair(&sv[1], &sv[0]) == 0);
      else
        EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
      rfd = sv[0];
      spawn(&t, reader, NULL);
      n = do_write(how, sv[1]);
      SAY("%s %s of 8 MiB returned %zd\n", tcp ? "tcp" : "unix", names[how], n);
      close(sv[1]);
      got = join(&t);
      SAY("%s %s: reader got %ld bytes, in order\n", tcp ? "tcp" : "unix",
          names[how], (long)got);
      close(sv[0]);
    }
  }
  return compat_failures != 0;
}
