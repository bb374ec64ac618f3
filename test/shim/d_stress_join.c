/* d_stress_join: join storms — waves of threads created and joined, some
 * joined before they start and some after they end, detached threads that
 * end unwatched, and threads that create and join their own — counted to
 * the last. Under GPATCH_CORES above 1 creators, joiners and the joined
 * are on different schedulers. */
#include "compat.h"

#define WAVES    20
#define PER_WAVE 500
#define NESTED   50

static long ran, detached_done;

static void *work(void *arg)
{
  __atomic_fetch_add(&ran, 1, __ATOMIC_RELAXED);
  if ((long)arg & 1)
    sched_yield(); /* half end before their joiner asks */
  return arg;
}

static void *detached(void *arg)
{
  __atomic_fetch_add(&detached_done, 1, __ATOMIC_RELEASE);
  return arg;
}

/* Creates and joins NESTED threads of its own. */
static void *parent(void *arg)
{
  pthread_t t[NESTED];
  long sum = 0;
  for (long i = 0; i < NESTED; i++)
    pthread_create(&t[i], NULL, work, (void *)i);
  for (int i = 0; i < NESTED; i++) {
    void *r;
    pthread_join(t[i], &r);
    sum += (long)r;
  }
  return (void *)sum;
}

int main(void)
{
  static pthread_t t[PER_WAVE];
  pthread_attr_t da;
  long sum = 0, want = 0;

  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int w = 0; w < WAVES; w++) {
    for (long i = 0; i < PER_WAVE; i++)
      if (pthread_create(&t[i], NULL, work, (void *)i) != 0)
        return 1;
    for (int i = 0; i < PER_WAVE; i++) {
      void *r;
      if (pthread_join(t[i], &r) != 0)
        return 2;
      sum += (long)r;
    }
  }
  for (long i = 0; i < PER_WAVE; i++)
    want += i;
  SAY("waves: %ld ran, sum %s\n", ran, sum == WAVES * want ? "right" : "WRONG");

  pthread_attr_init(&da);
  pthread_attr_setdetachstate(&da, PTHREAD_CREATE_DETACHED);
  for (int i = 0; i < PER_WAVE; i++) {
    pthread_t d;
    if (pthread_create(&d, &da, detached, NULL) != 0)
      return 3;
  }
  while (__atomic_load_n(&detached_done, __ATOMIC_ACQUIRE) < PER_WAVE)
    sched_yield();
  SAY("detached: %ld ended\n", detached_done);

  for (long i = 0; i < 20; i++)
    pthread_create(&t[i], NULL, parent, NULL);
  sum = 0;
  for (int i = 0; i < 20; i++) {
    void *r;
    pthread_join(t[i], &r);
    sum += (long)r;
  }
  SAY("nested: sum %ld\n", sum);
  return 0;
}
