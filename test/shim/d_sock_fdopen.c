/* d_sock_fdopen: an fd closed behind the shim's back, then reused — a
 * socket is fdopen()ed and fclose()d (glibc closes it through an internal
 * alias no interposer sees), a new socketpair gets the same number, and
 * blocking I/O on it with a peer task works and does not hang. */
#include "sockutil.h"

static int wfd;

static void *peer(void *arg)
{
  char buf[8];
  (void)arg;
  sleep_ms(60);
  check_threads(1);
  if (write(wfd, "ping", 4) != 4)
    return (void *)1;
  if (read(wfd, buf, sizeof(buf)) != 4 || memcmp(buf, "pong", 4) != 0)
    return (void *)2;
  return NULL;
}

static void *late(void *arg)
{
  (void)arg;
  sleep_ms(60);
  return write(wfd, "late", 4) == 4 ? NULL : (void *)1;
}

int main(void)
{
  int sv[2], nv[2], old;
  char buf[16];
  struct task t;
  FILE *f;

  setvbuf(stdout, NULL, _IOLBF, 0);
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  /* Used blocking first, so that the shim has waited on it. */
  wfd = sv[1];
  spawn(&t, late, NULL);
  CALL("read on the first socket", read(sv[0], buf, sizeof(buf)));
  EXPECT("late", join(&t) == NULL);
  EXPECT("F_SETFL O_NONBLOCK", fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
  f = fdopen(sv[0], "r+");
  EXPECT("fdopen", f != NULL);
  fputs("via stdio", f);
  fflush(f);
  CALL("peer reads what stdio wrote", read(sv[1], buf, sizeof(buf)));
  old = sv[0];
  EXPECT("fclose", fclose(f) == 0);
  close(sv[1]);

  EXPECT("new socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, nv) == 0);
  SAY("reused the number: %d\n", nv[0] == old || nv[1] == old);
  SAY("F_GETFL nonblock of the reused number: %d\n", nonblock_flag(old));
  wfd = nv[0] == old ? nv[1] : nv[0];
  spawn(&t, peer, NULL);
  CALL("blocking read on the reused number", read(old, buf, sizeof(buf)));
  CALL("write back", write(old, "pong", 4));
  EXPECT("peer", join(&t) == NULL);
  close(wfd);
  CALL("EOF on the reused number", read(old, buf, sizeof(buf)));
  close(old);

  /* The same with a pipe taking the number. */
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  old = sv[0];
  f = fdopen(sv[0], "r");
  EXPECT("fclose", fclose(f) == 0);
  EXPECT("pipe", pipe(nv) == 0);
  SAY("pipe reused the number: %d\n", nv[0] == old);
  SAY("F_GETFL nonblock of the pipe: %d\n", nonblock_flag(nv[0]));
  wfd = nv[1];
  spawn(&t, late, NULL);
  CALL("blocking read on the pipe", read(nv[0], buf, sizeof(buf)));
  EXPECT("late", join(&t) == NULL);
  close(nv[0]);
  close(nv[1]);
  close(sv[1]);
  return compat_failures != 0;
}
