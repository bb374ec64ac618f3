/* p_debug_dump (patched only): GPATCH_DEBUG's signal dumps every
 * coroutine of every scheduler on stderr. libuv watches its signal pipe
 * only from its next poll, and the hub polled the loop only when that
 * pipe reported something, so the signal was caught and the dump never
 * came; with several schedulers only the first one's coroutines were
 * listed. The program re-runs itself with GPATCH_DEBUG=SIGUSR2 and two
 * schedulers: three named threads sleep while main sends itself the
 * signal, and the child's stderr must list main, the three threads and
 * both schedulers. */
#include "compat.h"

#include <signal.h>

static void *sleeper(void *arg)
{
  (void)arg;
  pthread_setname_np(pthread_self(), "dumpme");
  sleep_ms(1500);
  return NULL;
}

static int child(void)
{
  pthread_t t[3];
  for (int i = 0; i < 3; i++)
    pthread_create(&t[i], NULL, sleeper, NULL);
  sleep_ms(300); /* all named and asleep */
  kill(getpid(), SIGUSR2);
  sleep_ms(500); /* the dump comes from the hubs, between waits */
  for (int i = 0; i < 3; i++)
    pthread_join(t[i], NULL);
  return 0;
}

int main(int argc, char **argv)
{
  static const char *const set[] = {"GPATCH_DEBUG=SIGUSR2", "GPATCH_CORES=2",
                                    NULL};
  static char err[65536];
  int status;

  if (argc > 1)
    return child();
  if (!patched())
    return 0;
  status = rerun_self("child", set, NULL, 0, err, sizeof(err));
  if (status != 0 || occurrences(err, "coroutines of scheduler 0") != 1 ||
      occurrences(err, "coroutines of scheduler 1") != 1 ||
      occurrences(err, "'main': waiting on") != 1 ||
      occurrences(err, "'dumpme': waiting on sleep") != 3) {
    fprintf(stderr, "child status %d, its stderr:\n%s\n", status, err);
    return 1;
  }
  return 0;
}
