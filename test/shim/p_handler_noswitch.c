/* p_handler_noswitch (patched only): nothing the runtime runs in a signal
 * handler switches coroutines. With GPATCH_DEBUG set, the dump signal is
 * caught by libuv's handler, which reads and writes pipes of its own; those
 * calls met the interposers, and a coroutine that had computed for more
 * than its 2 ms slice yielded right there, inside the handler: another
 * coroutine ran in the middle of the first one's computation.
 *
 * The program runs itself again with GPATCH_DEBUG=SIGUSR2; a child sends
 * SIGUSR2 ten times while the main coroutine computes for 300 ms without a
 * single call, and another coroutine, ready all along, must not have run
 * when the computation ends (it runs at main's next call). */
#include "compat.h"

#include <signal.h>
#include <sys/wait.h>

static volatile int other_ran;

static void *other(void *arg)
{
  (void)arg;
  other_ran = 1;
  return NULL;
}

int main(int argc, char **argv)
{
  struct task t;
  double end;
  pid_t parent = getpid(), pid;
  int st, seen;

  if (!patched())
    return 0;
  if (getenv("GPATCH_DEBUG") == NULL) {
    return rerun_with("GPATCH_DEBUG", "SIGUSR2", argv);
  }
  (void)argc;
  spawn(&t, other, NULL);
  pid = fork();
  if (pid == 0) {
    for (int i = 0; i < 10; i++) {
      struct timespec ts = {0, 10000000};
      nanosleep(&ts, NULL);
      kill(parent, SIGUSR2);
    }
    _exit(0);
  }
  /* No call that could switch: clock_gettime is the vDSO's. */
  end = now_ms() + 300;
  while (now_ms() < end)
    ;
  seen = other_ran;
  join(&t);
  waitpid(pid, &st, 0);
  if (seen) {
    fprintf(stderr, "another coroutine ran inside a signal handler\n");
    return 1;
  }
  return 0;
}
