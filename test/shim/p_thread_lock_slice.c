/* p_thread_lock_slice (patched only): a thread that holds a mutex is not
 * made to yield by the time slice, however long it keeps taking other
 * locks (an allocator's arena lock held while its inner locks come and
 * go): the one-thread scheduler then never runs another coroutine while
 * the mutex is held by one that is not running. Without a held mutex the
 * slice does let the other run (the control). */
#include "compat.h"

static pthread_mutex_t outer = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t inner = PTHREAD_MUTEX_INITIALIZER;
static volatile int holding, saw_held, other_ran;

/* The other thread: notes whether it ever ran while outer was held. */
static void *other(void *arg)
{
  (void)arg;
  other_ran = 1;
  if (holding)
    saw_held = 1;
  return NULL;
}

/* Takes inner many times for 50 ms (25 time slices), holding outer or
 * not. */
static void churn(int hold)
{
  double end = now_ms() + 50;
  if (hold) {
    pthread_mutex_lock(&outer);
    holding = 1;
  }
  while (now_ms() < end) {
    pthread_mutex_lock(&inner);
    pthread_mutex_unlock(&inner);
  }
  if (hold) {
    holding = 0;
    pthread_mutex_unlock(&outer);
  }
}

int main(int argc, char **argv)
{
  pthread_t t;
  const char *cores = getenv("GPATCH_CORES");

  (void)argc;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!patched()) {
    fprintf(stderr, "not patched\n");
    return 1;
  }
  if (cores == NULL) { /* the default, auto: this checks one scheduler */
    return rerun_with("GPATCH_CORES", "1", argv);
  }
  if (strcmp(cores, "1") != 0) {
    SAY("GPATCH_CORES=%s: the other thread may run on another scheduler "
        "at any time; nothing to check\n",
        cores);
    return 0;
  }
  /* control: no mutex held, the slice lets the other run mid-loop */
  other_ran = 0;
  pthread_create(&t, NULL, other, NULL);
  churn(0);
  EXPECT("the slice let the other run", other_ran);
  pthread_join(t, NULL);

  other_ran = saw_held = 0;
  pthread_create(&t, NULL, other, NULL);
  churn(1);
  pthread_join(t, NULL);
  EXPECT("the other ran", other_ran);
  EXPECT("never while the mutex was held", !saw_held);
  return compat_failures != 0;
}
