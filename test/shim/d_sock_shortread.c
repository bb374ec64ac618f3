/* d_sock_shortread: reads of a TCP socket after one that came back short.
 * Patched, a short read lets the next one wait for input before it tries;
 * each case here is something a short read can leave behind that no new
 * readiness edge announces, once the reader has been parked on the socket
 * (so the runtime watches it) and then slept while the peer acted (so those
 * edges have come and gone):
 *   - more data arriving later (the plain case);
 *   - the end of the stream after the data;
 *   - a reset after the data;
 *   - urgent data, inline and not: a read stops at the mark;
 *   - MSG_WAITALL filled by pieces arriving over time.
 * Every read's result and bytes are printed: the same plain and patched,
 * and no read may hang. */
#include "sockutil.h"

#include <netinet/tcp.h>

static int peer, scenario;

/* Prints the result of recv of up to len (<= 64) bytes. */
static void say_read(const char *label, int fd, int flags, size_t len)
{
  char buf[64];
  ssize_t r;
  errno = 0;
  r = recv(fd, buf, len, flags);
  SAY("%s: %zd %s %.*s\n", label, r, r < 0 ? strerrorname_np(errno) : "-",
      r > 0 ? (int)r : 0, buf);
}

/* The peer: a first byte after 30 ms (the reader is parked by then), then
 * what the scenario sends while the reader sleeps. */
static void *act(void *arg)
{
  struct linger lg = {1, 0};
  (void)arg;
  sleep_ms(30);
  check_threads(1);
  if (write(peer, "x", 1) != 1)
    return (void *)1;
  sleep_ms(20);
  switch (scenario) {
  case 0: /* more data later */
    if (write(peer, "abc", 3) != 3)
      return (void *)1;
    sleep_ms(150);
    if (write(peer, "defg", 4) != 4)
      return (void *)1;
    break;
  case 1: /* data, then the end of the stream */
    if (write(peer, "abc", 3) != 3)
      return (void *)1;
    shutdown(peer, SHUT_WR);
    break;
  case 2: /* data, then a reset */
    if (write(peer, "abc", 3) != 3)
      return (void *)1;
    sleep_ms(20);
    setsockopt(peer, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(peer);
    peer = -1;
    break;
  case 3: /* urgent data between two pieces */
  case 4:
    if (send(peer, "ab", 2, 0) != 2 || send(peer, "c", 1, MSG_OOB) != 1 ||
        send(peer, "de", 2, 0) != 2)
      return (void *)1;
    break;
  case 5: /* 16 bytes in four pieces, 30 ms apart */
    for (int i = 0; i < 4; i++) {
      if (write(peer, "wxyz", 4) != 4)
        return (void *)1;
      sleep_ms(30);
    }
    break;
  }
  return NULL;
}

int main(void)
{
  static const char *names[] = {"later data", "end of stream",
                                "reset",      "urgent inline",
                                "urgent",     "MSG_WAITALL"};
  char label[128];

  for (scenario = 0; scenario < 6; scenario++) {
    int c, s, one = 1;
    struct task t;
#define L(x)                                                                   \
  (snprintf(label, sizeof(label), "%s: %s", names[scenario], x), label)
    if (tcp_pair(&c, &s) != 0) {
      SAY("tcp_pair failed\n");
      return 1;
    }
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (scenario == 3)
      setsockopt(s, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one));
    peer = c;
    spawn(&t, act, NULL);
    say_read(L("first byte, waited for"), s, 0, 64);
    sleep_ms(100); /* the peer acts meanwhile */
    switch (scenario) {
    case 0:
      say_read(L("what is there"), s, 0, 64);
      say_read(L("what comes later"), s, 0, 64);
      break;
    case 1:
      say_read(L("the data"), s, 0, 64);
      say_read(L("end"), s, 0, 64);
      say_read(L("end again"), s, 0, 64);
      break;
    case 2:
      say_read(L("after the reset"), s, 0, 64);
      say_read(L("again"), s, 0, 64);
      say_read(L("once more"), s, 0, 64);
      break;
    case 3:
      say_read(L("up to the mark"), s, 0, 64);
      say_read(L("from the mark"), s, 0, 64);
      break;
    case 4:
      say_read(L("up to the mark"), s, 0, 64);
      say_read(L("after the mark"), s, 0, 64);
      say_read(L("the urgent byte"), s, MSG_OOB, 64);
      break;
    case 5:
      say_read(L("whole, with MSG_WAITALL"), s, MSG_WAITALL, 16);
      break;
    }
    EXPECT(L("peer"), join(&t) == NULL);
    if (peer >= 0)
      close(peer);
    close(s);
  }
  return compat_failures != 0;
}
