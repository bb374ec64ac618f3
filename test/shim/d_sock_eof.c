/* d_sock_eof: end of stream — after the peer's shutdown(SHUT_WR) and after
 * its close, read and recv return 0, again and again, on a socketpair and
 * over TCP; a reader blocked at the time wakes with 0; the writing side
 * still works after the other's SHUT_WR; our own SHUT_RD gives 0 too. */
#include "sockutil.h"

static int peer, how;

/* After 60 ms, ends the peer's side: shutdown (how 0) or close (how 1). */
static void *ender(void *arg)
{
  (void)arg;
  sleep_ms(60);
  check_threads(1);
  if (write(peer, "bye", 3) != 3)
    return (void *)1;
  if (how == 0)
    shutdown(peer, SHUT_WR);
  else
    close(peer);
  return NULL;
}

static void checks(const char *kind, int r, int w)
{
  char buf[16], label[128];
  struct task t;

  for (how = 0; how < 2; how++) {
    const char *what = how ? "close" : "SHUT_WR";
#define L(s) (snprintf(label, sizeof(label), "%s %s: %s", kind, what, s), label)
    peer = w;
    spawn(&t, ender, NULL);
    CALL(L("read waiting"), read(r, buf, sizeof(buf)));
    CALL(L("read after the data"), read(r, buf, sizeof(buf)));
    CALL(L("read again"), read(r, buf, sizeof(buf)));
    CALL(L("recv"), recv(r, buf, sizeof(buf), 0));
    CALL(L("recv MSG_WAITALL"), recv(r, buf, sizeof(buf), MSG_WAITALL));
    CALL(L("recv MSG_PEEK"), recv(r, buf, sizeof(buf), MSG_PEEK));
    CALL(L("recv MSG_DONTWAIT"), recv(r, buf, sizeof(buf), MSG_DONTWAIT));
    CALL(L("read once more"), read(r, buf, sizeof(buf)));
    EXPECT(L("ender"), join(&t) == NULL);
    if (how == 0) {
      /* The other direction still works. */
      CALL(L("write back"), write(r, "ok", 2));
      CALL(L("peer reads it"), read(w, buf, sizeof(buf)));
      close(w);
      close(r);
      if (strcmp(kind, "unix") == 0) {
        int sv[2];
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
        r = sv[0];
        w = sv[1];
      } else {
        tcp_pair(&w, &r);
      }
    }
#undef L
  }
  close(r);
}

int main(void)
{
  int sv[2], c = -1, s = -1;
  char buf[8];

  setvbuf(stdout, NULL, _IOLBF, 0);
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  checks("unix", sv[0], sv[1]);
  EXPECT("tcp pair", tcp_pair(&c, &s) == 0);
  checks("tcp", s, c);

  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  CALL("own SHUT_RD", shutdown(sv[0], SHUT_RD));
  CALL("read after own SHUT_RD", read(sv[0], buf, sizeof(buf)));
  CALL("read again", read(sv[0], buf, sizeof(buf)));
  CALL("shutdown with a bad how", shutdown(sv[0], 7));
  CALL("shutdown a closed fd", shutdown(999, SHUT_RDWR));
  close(sv[0]);
  close(sv[1]);
  return compat_failures != 0;
}
