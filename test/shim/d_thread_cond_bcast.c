/* d_thread_cond_bcast: a signal right after a broadcast, when the waiters
 * the broadcast woke re-wait before the others have left.
 *
 * 1. The exact case (deterministic with one scheduler): W1 and W2 wait;
 *    main broadcasts and signals at once, so the broadcast has woken both
 *    and the signal's own wake finds nobody asleep. W1 re-waits (its
 *    predicate is false) before W2 leaves; W2 leaves for good. The pending
 *    signal must still reach a waiter: before the fix it stayed pending
 *    with W1 asleep, main's next signal was dropped as already pending,
 *    and the program hung (first seen as d_thread_alloc under
 *    tcmalloc_minimal and GPATCH_CORES=4 hanging about 1 run in 5,000).
 * 2. A stress of the same: every round main broadcasts (every other
 *    round) and signals one item to 16 waiters, and waits until one has
 *    taken it. */
#include "compat.h"

#define WAITERS 16
#define ROUNDS  20000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t items = PTHREAD_COND_INITIALIZER;
static pthread_cond_t taken = PTHREAD_COND_INITIALIZER;
static int count, done;
static long got[WAITERS];

static void *waiter(void *arg)
{
  long id = (long)(intptr_t)arg;

  pthread_mutex_lock(&lock);
  for (;;) {
    while (count == 0 && !done)
      pthread_cond_wait(&items, &lock);
    if (count == 0)
      break;
    count = 0;
    got[id]++;
    pthread_cond_signal(&taken);
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int flag;

/* W1: waits until flag is set, re-waiting after any other wake. */
static void *w1(void *arg)
{
  (void)arg;
  pthread_mutex_lock(&lock);
  while (!flag)
    pthread_cond_wait(&c, &lock);
  pthread_mutex_unlock(&lock);
  return NULL;
}

/* W2: one wait, whatever ends it. */
static void *w2(void *arg)
{
  (void)arg;
  pthread_mutex_lock(&lock);
  pthread_cond_wait(&c, &lock);
  pthread_mutex_unlock(&lock);
  return NULL;
}

static void exact_case(void)
{
  pthread_t a, b;

  pthread_create(&a, NULL, w1, NULL);
  sleep_ms(30);
  pthread_create(&b, NULL, w2, NULL);
  sleep_ms(30); /* both wait, W1 first */
  pthread_mutex_lock(&lock);
  pthread_cond_broadcast(&c);
  pthread_cond_signal(&c);
  pthread_mutex_unlock(&lock);
  pthread_join(b, NULL); /* W1 has re-waited, W2 has left */
  sleep_ms(30);
  pthread_mutex_lock(&lock);
  flag = 1;
  pthread_cond_signal(&c);
  pthread_mutex_unlock(&lock);
  pthread_join(a, NULL);
  printf("a signal after a broadcast ends W1's wait\n");
}

int main(void)
{
  pthread_t t[WAITERS];
  long total = 0;

  alarm(60);
  setvbuf(stdout, NULL, _IOLBF, 0);
  exact_case();
  for (long i = 0; i < WAITERS; i++)
    pthread_create(&t[i], NULL, waiter, (void *)(intptr_t)i);
  for (int r = 0; r < ROUNDS; r++) {
    pthread_mutex_lock(&lock);
    if (r % 2 == 0)
      pthread_cond_broadcast(&items);
    count = 1;
    pthread_cond_signal(&items);
    while (count != 0)
      pthread_cond_wait(&taken, &lock);
    pthread_mutex_unlock(&lock);
  }
  pthread_mutex_lock(&lock);
  done = 1;
  pthread_cond_broadcast(&items);
  pthread_mutex_unlock(&lock);
  for (int i = 0; i < WAITERS; i++) {
    pthread_join(t[i], NULL);
    total += got[i];
  }
  printf("%d rounds, %ld items taken\n", ROUNDS, total);
  return total == ROUNDS ? 0 : 1;
}
