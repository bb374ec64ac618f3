/* d_cores_spinner: with more than one scheduler, a thread that computes
 * without making a single call does not stop the thread that made it. Main
 * makes a thread that spins on a flag (as a pure-Python loop holding the
 * GIL does), sleeps 100 ms and clears the flag. Patched, it runs with two
 * schedulers (re-executed with GPATCH_CORES=2 unless it is set above 1);
 * with one, cooperative scheduling cannot end such a loop (README,
 * Limitations). Before, the first thread a program made always stayed on
 * its creator's scheduler (the workers were not up yet, and a tie in load
 * kept it there), or was taken back by the creator's idle hub before its
 * own scheduler could start it: the program hung. */
#include "compat.h"

static volatile int spinning = 1;
static volatile long spins;

static void *spin(void *arg)
{
  while (spinning)
    spins++;
  return arg;
}

int main(int argc, char **argv)
{
  const char *cores = getenv("GPATCH_CORES");
  pthread_t th;

  (void)argc;
  if (patched() && (cores == NULL || strcmp(cores, "1") == 0)) {
    return rerun_with("GPATCH_CORES", "2", argv);
  }
  alarm(20);
  for (int round = 0; round < 3; round++) {
    long before = spins;
    spinning = 1;
    pthread_create(&th, NULL, spin, NULL);
    /* As Python's Thread.start does: return once the thread runs (a
     * thread not started yet may still be taken by an idle scheduler). */
    while (spins == before)
      sched_yield();
    sleep_ms(100);
    spinning = 0;
    pthread_join(th, NULL);
  }
  SAY("a spinning thread stopped by main after 100 ms: %s\n", "yes");
  return 0;
}
