/* d_signal_kill_handler: pthread_kill of a signal with a handler that its
 * target does not block runs the handler once and interrupts the target's
 * sleep, and nothing else: main's own sleep goes on. With several
 * schedulers the handler never ran (the signal pended on a scheduler
 * thread that blocks every signal), and with one, main's sleep ended with
 * EINTR too. Three targets, each with its own sender, so that they spread
 * over the schedulers. The handler runs in its target, as the kernel runs
 * it: its thread-local count is the target's (it ran on the sender's OS
 * thread, in whatever ran there). */
#include "compat.h"

#include <signal.h>

#define PAIRS 3

static int handled;
static int about_to_sleep; /* targets that are at their sleep */
static __thread int here;  /* the handler's runs in this thread */

static void on_usr1(int sig)
{
  (void)sig;
  __atomic_fetch_add(&handled, 1, __ATOMIC_RELAXED);
  here++;
}

/* Its sleep's errno (0: whole), and 100 for each handler run in it. */
static void *target(void *arg)
{
  struct timespec ts = {5, 0};
  int r, err;
  (void)arg;
  __atomic_fetch_add(&about_to_sleep, 1, __ATOMIC_RELEASE);
  r = nanosleep(&ts, NULL);
  err = r == 0 ? 0 : errno;
  return (void *)(intptr_t)(err + 100 * here);
}

static void *sender(void *arg)
{
  /* Every target at its sleep, then a while for it to get in (on a busy
   * machine a target could start after a fixed delay, plain too). */
  while (__atomic_load_n(&about_to_sleep, __ATOMIC_ACQUIRE) < PAIRS)
    sleep_ms(5);
  sleep_ms(100);
  pthread_kill(*(pthread_t *)arg, SIGUSR1);
  return NULL;
}

int main(void)
{
  pthread_t t[PAIRS], s[PAIRS];
  struct timespec ts = {0, 400000000}, rem = {0, 0};
  int r;

  signal(SIGUSR1, on_usr1);
  for (int i = 0; i < PAIRS; i++)
    pthread_create(&t[i], NULL, target, NULL);
  for (int i = 0; i < PAIRS; i++)
    pthread_create(&s[i], NULL, sender, &t[i]);
  r = nanosleep(&ts, &rem);
  printf("main's sleep: %s\n", r == 0 ? "whole" : "interrupted");
  for (int i = 0; i < PAIRS; i++) {
    void *got;
    pthread_join(s[i], NULL);
    pthread_join(t[i], &got);
    intptr_t err = (intptr_t)got % 100;
    printf("target %d: sleep %s, the handler ran in it %d time(s)\n", i,
           err == EINTR ? "interrupted (EINTR)"
           : err == 0   ? "whole"
                        : "failed otherwise",
           (int)((intptr_t)got / 100));
  }
  printf("handler ran %d times\n", handled);
  return 0;
}
