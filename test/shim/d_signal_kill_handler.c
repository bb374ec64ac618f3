/* d_signal_kill_handler: pthread_kill of a signal with a handler that its
 * target does not block runs the handler once and interrupts the target's
 * sleep, and nothing else: main's own sleep goes on. With several
 * schedulers the handler never ran (the signal pended on a scheduler
 * thread that blocks every signal), and with one, main's sleep ended with
 * EINTR too. Three targets, each with its own sender, so that they spread
 * over the schedulers. */
#include "compat.h"

#include <signal.h>

#define PAIRS 3

static int handled;

static void on_usr1(int sig)
{
  (void)sig;
  __atomic_fetch_add(&handled, 1, __ATOMIC_RELAXED);
}

static void *target(void *arg)
{
  struct timespec ts = {5, 0};
  int r = nanosleep(&ts, NULL);
  (void)arg;
  return (void *)(intptr_t)(r == 0 ? 0 : errno);
}

static void *sender(void *arg)
{
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
    printf("target %d: sleep %s\n", i,
           (intptr_t)got == EINTR ? "interrupted (EINTR)"
           : got == NULL          ? "whole"
                                  : "failed otherwise");
  }
  printf("handler ran %d times\n", handled);
  return 0;
}
