/* d_thread_cond_storm: six producers and six consumers of a two-slot
 * queue, woken by pthread_cond_signal only (a broadcast at the end), in
 * rounds for about three seconds. Under GPATCH_CORES above 1 a signal
 * could be counted for a waiter that was leaving with another signal;
 * nobody took it, every later signal found as many pending as waiters and
 * woke nobody, and all twelve threads waited for good (the deadlock
 * report, in about one round in thirty). Every item of every round must
 * be handed over. */
#include "compat.h"

#define PRODUCERS 6
#define CONSUMERS 6
#define SLOTS     2
#define ITEMS     20000 /* per producer and round */
#define SECONDS   3

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static int count, producing;

static void *producer(void *arg)
{
  for (int i = 0; i < ITEMS; i++) {
    pthread_mutex_lock(&lock);
    while (count == SLOTS)
      pthread_cond_wait(&not_full, &lock);
    count++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
  }
  pthread_mutex_lock(&lock);
  producing--;
  pthread_cond_broadcast(&not_empty);
  pthread_mutex_unlock(&lock);
  return arg;
}

static void *consumer(void *arg)
{
  long taken = 0;

  (void)arg;
  for (;;) {
    pthread_mutex_lock(&lock);
    while (count == 0 && producing > 0)
      pthread_cond_wait(&not_empty, &lock);
    if (count == 0) {
      pthread_mutex_unlock(&lock);
      return (void *)(intptr_t)taken;
    }
    count--;
    taken++;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&lock);
  }
}

/* One round; returns the items the consumers took. */
static long round_trip(void)
{
  pthread_t p[PRODUCERS], c[CONSUMERS];
  long total = 0;

  producing = PRODUCERS;
  for (int i = 0; i < CONSUMERS; i++)
    if (pthread_create(&c[i], NULL, consumer, NULL) != 0)
      exit(2);
  for (int i = 0; i < PRODUCERS; i++)
    if (pthread_create(&p[i], NULL, producer, NULL) != 0)
      exit(2);
  for (int i = 0; i < PRODUCERS; i++)
    pthread_join(p[i], NULL);
  for (int i = 0; i < CONSUMERS; i++) {
    void *r;
    pthread_join(c[i], &r);
    total += (long)(intptr_t)r;
  }
  return total;
}

int main(void)
{
  double end = now_ms() + SECONDS * 1000.0;
  int rounds = 0, whole = 0;

  setvbuf(stdout, NULL, _IOLBF, 0);
  do {
    whole += round_trip() == (long)PRODUCERS * ITEMS && count == 0;
    rounds++;
  } while (now_ms() < end);
  EXPECT("every item of every round handed over", whole == rounds);
  return compat_failures != 0;
}
