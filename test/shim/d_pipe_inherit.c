/* d_pipe_inherit: pipes are never made non-blocking — the parent makes a
 * pipe and forks a child that writes into it slowly; the parent reads it
 * (waiting); F_GETFL, in the parent after its reads and in the child after
 * its writes, shows O_NONBLOCK was never set on the shared open file
 * description. A read on a pipe blocks only the reading task: another task
 * makes progress meanwhile. Also the process's own stdin/stdout/stderr. */
#include "sockutil.h"

#include <sys/wait.h>

static int p[2];
static volatile int ticks;
static volatile int stop;

static void *ticker(void *arg)
{
  (void)arg;
  while (!stop) {
    sleep_ms(10);
    ticks++;
  }
  return NULL;
}

int main(void)
{
  char buf[64];
  int st, n, total = 0, c[2];
  pid_t pid;
  struct task t;

  setvbuf(stdout, NULL, _IOLBF, 0);
  SAY("stdin nonblock %d, stderr nonblock %d\n", nonblock_flag(0),
      nonblock_flag(2));
  CALL("read stdin (/dev/null)", read(0, buf, sizeof(buf)));
  SAY("stdin nonblock after the read %d, in the kernel %d\n", nonblock_flag(0),
      kernel_nonblock(0));

  EXPECT("pipe", pipe(p) == 0);
  EXPECT("pipe for the child's report", pipe(c) == 0);
  SAY("fresh pipe nonblock: read end %d, write end %d\n", nonblock_flag(p[0]),
      nonblock_flag(p[1]));
  CALL("read 0 bytes from an empty pipe", read(p[0], buf, 0));
  CALL("write 0 bytes to it", write(p[1], buf, 0));
  pid = fork();
  if (pid == 0) {
    char r[64];
    close(p[0]);
    for (int i = 0; i < 3; i++) {
      sleep_ms(60);
      if (write(p[1], "chunk", 5) != 5)
        _exit(1);
    }
    snprintf(r, sizeof(r), "child: write end nonblock %d, in the kernel %d\n",
             nonblock_flag(p[1]), kernel_nonblock(p[1]));
    if (write(c[1], r, strlen(r)) < 0)
      _exit(2);
    _exit(0);
  }
  close(p[1]);
  close(c[1]);
  spawn(&t, ticker, NULL);
  while ((n = (int)read(p[0], buf, sizeof(buf))) > 0) {
    total += n;
    check_threads(1);
  }
  stop = 1;
  EXPECT("ticker", join(&t) == NULL);
  SAY("parent read %d bytes, then %d\n", total, n);
  SAY("the other task ran while the read waited: %d\n", ticks >= 5);
  SAY("parent: read end nonblock %d, in the kernel %d\n", nonblock_flag(p[0]),
      kernel_nonblock(p[0]));
  n = (int)read(c[0], buf, sizeof(buf) - 1);
  buf[n > 0 ? n : 0] = 0;
  SAY("%s", buf);
  EXPECT("child exited 0",
         waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  close(p[0]);
  close(c[0]);

  /* A pipe the app makes O_NONBLOCK itself: EAGAIN, as plain. */
  EXPECT("pipe2 O_NONBLOCK", pipe2(p, O_NONBLOCK) == 0);
  SAY("pipe2 nonblock %d\n", nonblock_flag(p[0]));
  CALL("read an empty non-blocking pipe", read(p[0], buf, sizeof(buf)));
  EXPECT("F_SETFL blocking", fcntl(p[0], F_SETFL, 0) == 0);
  SAY("nonblock now %d\n", nonblock_flag(p[0]));
  close(p[1]);
  CALL("read a blocking pipe with no writer left", read(p[0], buf, 8));
  close(p[0]);

  /* Big write to a blocking pipe read by another task: all of it. */
  EXPECT("pipe", pipe(p) == 0);
  {
    static char big[1 << 20];
    stop = 0;
    ticks = 0;
    pid = fork();
    if (pid == 0) {
      size_t got = 0;
      close(p[1]);
      while ((n = (int)read(p[0], buf, sizeof(buf))) > 0) {
        got += (size_t)n;
        if (got % 65536 < 64)
          sleep_ms(1);
      }
      _exit(got == sizeof(big) ? 0 : 1);
    }
    close(p[0]);
    CALL("write 1 MiB to a pipe read slowly by a child",
         write(p[1], big, sizeof(big)));
    SAY("write end nonblock %d\n", nonblock_flag(p[1]));
    close(p[1]);
    EXPECT("child read it all", waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
                                    WEXITSTATUS(st) == 0);
  }
  return compat_failures != 0;
}
