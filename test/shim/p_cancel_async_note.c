/* p_cancel_async_note (patched only): an asynchronous cancel acts through
 * the runtime's preemption signal; where preemption is off
 * (GPATCH_PREEMPT_MS=0) it acts only at a cancellation point, and the
 * runtime says so on stderr, once. The child cancels two threads that
 * made themselves asynchronous and wait in sem_wait, which ends them
 * either way; with preemption on, nothing is said. */
#include "compat.h"

#include <semaphore.h>

static sem_t never;

static void *waits(void *arg)
{
  pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
  for (;;)
    sem_wait(&never);
  return arg;
}

static int child(void)
{
  sem_init(&never, 0, 0);
  for (int i = 0; i < 2; i++) {
    pthread_t th;
    void *ret = NULL;
    if (pthread_create(&th, NULL, waits, NULL) != 0)
      return 2;
    sleep_ms(10);
    if (pthread_cancel(th) != 0 || pthread_join(th, &ret) != 0 ||
        ret != PTHREAD_CANCELED)
      return 3;
  }
  return 0;
}

int main(int argc, char **argv)
{
  static const char *const off[] = {"GPATCH_PREEMPT_MS=0", NULL};
  static const char *const on[] = {NULL};
  const char *note = "an asynchronous cancel acts only at";
  int bad = 0;

  if (argc > 1)
    return child();
  bad |= check_note("child", off, note, 1, "preemption off");
  bad |= check_note("child", on, note, 0, "preemption on");
  return bad;
}
