/* p_sock_close_waiter (patched only): close() or dup2() over an fd another
 * coroutine is blocked reading on wakes that reader with EBADF at once
 * (unpatched Linux keeps it blocked), nothing hangs, and the number can be
 * reused at once for a new socket that works. */
#include "sockutil.h"

static int rfd;
static int result, err;
static double woke;

static void *reader(void *arg)
{
  char buf[16];
  (void)arg;
  result = (int)read(rfd, buf, sizeof(buf));
  err = errno;
  woke = now_ms();
  return NULL;
}

static void *acceptor(void *arg)
{
  (void)arg;
  result = accept(rfd, NULL, NULL);
  err = errno;
  woke = now_ms();
  return NULL;
}

static void *echo_once(void *arg)
{
  char buf[16];
  ssize_t n;
  (void)arg;
  n = read(rfd, buf, sizeof(buf));
  if (n <= 0 || write(rfd, buf, (size_t)n) != n)
    return (void *)1;
  return NULL;
}

/* The number old is a fresh socketpair end: echo through it. */
static void reuse(int old)
{
  int nv[2], mine;
  struct task t;
  char buf[16];

  EXPECT("new socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, nv) == 0);
  EXPECT("it reuses the number", nv[0] == old || nv[1] == old);
  rfd = old;
  mine = nv[0] == old ? nv[1] : nv[0];
  spawn(&t, echo_once, NULL);
  sleep_ms(20); /* the echo task waits on the reused number */
  EXPECT("write", write(mine, "again", 5) == 5);
  EXPECT("echoed through the reused number",
         read(mine, buf, sizeof(buf)) == 5 && memcmp(buf, "again", 5) == 0);
  EXPECT("echo task", join(&t) == NULL);
  close(nv[0]);
  close(nv[1]);
}

int main(void)
{
  struct sockaddr_in a;
  struct task t;
  int sv[2], ov[2], old;
  double t0;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!patched()) {
    SAY("patched-only test\n");
    return 0;
  }

  /* close() under a blocked read. */
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  rfd = old = sv[0];
  spawn(&t, reader, NULL);
  sleep_ms(30);
  check_threads(1);
  t0 = now_ms();
  EXPECT("close", close(sv[0]) == 0);
  EXPECT("reader joined", join(&t) == NULL);
  EXPECT("reader got -1 EBADF", result == -1 && err == EBADF);
  EXPECT("promptly", woke - t0 < 50);
  reuse(old);
  close(sv[1]);

  /* dup2() over a blocked read. */
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  EXPECT("other socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, ov) == 0);
  rfd = sv[0];
  spawn(&t, reader, NULL);
  sleep_ms(30);
  t0 = now_ms();
  EXPECT("dup2 over it", dup2(ov[0], sv[0]) == sv[0]);
  EXPECT("reader joined", join(&t) == NULL);
  EXPECT("reader got -1 EBADF", result == -1 && err == EBADF);
  EXPECT("promptly", woke - t0 < 50);
  /* The number now names ov[0]'s socket, and works blocking. */
  rfd = sv[0];
  spawn(&t, echo_once, NULL);
  sleep_ms(20);
  EXPECT("write to ov[1]", write(ov[1], "dup2", 4) == 4);
  {
    char buf[8];
    EXPECT("echoed through the dup2'd number",
           read(ov[1], buf, sizeof(buf)) == 4);
  }
  EXPECT("echo task", join(&t) == NULL);
  close(ov[0]);
  close(ov[1]);
  old = sv[0];
  close(sv[0]);
  close(sv[1]);
  reuse(old);

  /* close() under a blocked accept. */
  rfd = old = tcp_listener(&a, 0, 4);
  EXPECT("listener", rfd >= 0);
  spawn(&t, acceptor, NULL);
  sleep_ms(30);
  t0 = now_ms();
  EXPECT("close the listener", close(rfd) == 0);
  EXPECT("acceptor joined", join(&t) == NULL);
  EXPECT("accept got -1 EBADF", result == -1 && err == EBADF);
  EXPECT("promptly", woke - t0 < 50);
  reuse(old);

  /* Two readers on one fd, closed under both. */
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  {
    struct task t2;
    rfd = sv[0];
    spawn(&t, reader, NULL);
    spawn(&t2, reader, NULL);
    sleep_ms(30);
    EXPECT("close", close(sv[0]) == 0);
    EXPECT("both joined", join(&t) == NULL && join(&t2) == NULL);
    EXPECT("last reader got EBADF", result == -1 && err == EBADF);
  }
  close(sv[1]);
  return compat_failures != 0;
}
