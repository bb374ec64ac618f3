/* d_stress_sync: a million contended hand-offs through mutexes, condition
 * variables (signal and broadcast), semaphores and an rwlock, between
 * threads that — under GPATCH_CORES above 1 — run on different
 * schedulers. Every operation is accounted for: a lost wake-up hangs (the
 * runner's timeout), a lost update shows in the totals. */
#include "compat.h"

#include <semaphore.h>

#define COUNTERS   8      /* threads incrementing one counter */
#define INCREMENTS 100000 /* each */
#define RING       4      /* threads passing a token around */
#define PASSES     100000 /* in all */
#define PINGS      100000 /* semaphore round trips */
#define ITEMS      100000 /* through the bounded buffer */
#define SLOTS      8      /* its size */
#define RW_THREADS 4      /* writers, and as many readers */
#define RW_ROUNDS  20000  /* each */

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *count(void *arg)
{
  for (int i = 0; i < INCREMENTS; i++) {
    pthread_mutex_lock(&m);
    counter++;
    pthread_mutex_unlock(&m);
  }
  return arg;
}

/* A token passed around the ring: thread id takes it when token % RING is
 * id; everyone waits on one condition, woken by broadcast. */
static pthread_mutex_t rm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rc = PTHREAD_COND_INITIALIZER;
static long token;
static long taken[RING];

static void *ring(void *arg)
{
  long id = (long)arg;
  pthread_mutex_lock(&rm);
  for (;;) {
    while (token < PASSES && token % RING != id)
      pthread_cond_wait(&rc, &rm);
    if (token >= PASSES)
      break;
    token++;
    taken[id]++;
    pthread_cond_broadcast(&rc);
  }
  pthread_mutex_unlock(&rm);
  return NULL;
}

/* Ping-pong on two semaphores. */
static sem_t ping, pong;

static void *ponger(void *arg)
{
  for (int i = 0; i < PINGS; i++) {
    sem_wait(&ping);
    sem_post(&pong);
  }
  return arg;
}

/* A bounded buffer: producers and consumers on two conditions, signalled
 * one at a time; whoever makes or takes the last item tells the rest. */
static pthread_mutex_t bm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static long buf[SLOTS], head, used, produced, consumed, consumed_sum;

static void *producer(void *arg)
{
  pthread_mutex_lock(&bm);
  for (;;) {
    while (used == SLOTS && produced < ITEMS)
      pthread_cond_wait(&not_full, &bm);
    if (produced >= ITEMS)
      break;
    buf[(head + used) % SLOTS] = ++produced;
    used++;
    pthread_cond_signal(&not_empty);
    if (produced == ITEMS)
      pthread_cond_broadcast(&not_full);
  }
  pthread_mutex_unlock(&bm);
  return arg;
}

static void *consumer(void *arg)
{
  long *got = arg;
  pthread_mutex_lock(&bm);
  for (;;) {
    while (used == 0 && consumed < ITEMS)
      pthread_cond_wait(&not_empty, &bm);
    if (consumed >= ITEMS)
      break;
    consumed_sum += buf[head];
    head = (head + 1) % SLOTS;
    used--;
    consumed++;
    (*got)++;
    pthread_cond_signal(&not_full);
    if (consumed == ITEMS)
      pthread_cond_broadcast(&not_empty);
  }
  pthread_mutex_unlock(&bm);
  return NULL;
}

/* Writers move two counters together; readers check they agree. */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long a_side, b_side, torn;

static void *writer(void *arg)
{
  for (int i = 0; i < RW_ROUNDS; i++) {
    pthread_rwlock_wrlock(&rw);
    a_side++;
    sched_yield();
    b_side++;
    pthread_rwlock_unlock(&rw);
  }
  return arg;
}

static void *reader(void *arg)
{
  long bad = 0;
  for (int i = 0; i < RW_ROUNDS; i++) {
    pthread_rwlock_rdlock(&rw);
    if (a_side != b_side)
      bad++;
    pthread_rwlock_unlock(&rw);
  }
  __atomic_fetch_add(&torn, bad, __ATOMIC_RELAXED);
  return arg;
}

int main(void)
{
  pthread_t t[COUNTERS + 8];
  long got[2] = {0, 0}, want = 0;

  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 0; i < COUNTERS; i++)
    pthread_create(&t[i], NULL, count, NULL);
  for (int i = 0; i < COUNTERS; i++)
    pthread_join(t[i], NULL);
  SAY("mutex: counter %ld of %d\n", counter, COUNTERS * INCREMENTS);

  for (long i = 0; i < RING; i++)
    pthread_create(&t[i], NULL, ring, (void *)i);
  for (int i = 0; i < RING; i++)
    pthread_join(t[i], NULL);
  SAY("cond ring: token %ld, taken", token);
  for (int i = 0; i < RING; i++)
    SAY(" %ld", taken[i]);
  SAY("\n");

  sem_init(&ping, 0, 0);
  sem_init(&pong, 0, 0);
  pthread_create(&t[0], NULL, ponger, NULL);
  for (int i = 0; i < PINGS; i++) {
    sem_post(&ping);
    sem_wait(&pong);
  }
  pthread_join(t[0], NULL);
  SAY("semaphores: %d round trips\n", PINGS);

  pthread_create(&t[0], NULL, producer, NULL);
  pthread_create(&t[1], NULL, producer, NULL);
  pthread_create(&t[2], NULL, consumer, &got[0]);
  pthread_create(&t[3], NULL, consumer, &got[1]);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  for (long i = 1; i <= ITEMS; i++)
    want += i;
  SAY("buffer: %ld items, sum %s\n", got[0] + got[1],
      consumed_sum == want ? "right" : "WRONG");

  for (int i = 0; i < RW_THREADS; i++) {
    pthread_create(&t[2 * i], NULL, writer, NULL);
    pthread_create(&t[2 * i + 1], NULL, reader, NULL);
  }
  for (int i = 0; i < 2 * RW_THREADS; i++)
    pthread_join(t[i], NULL);
  SAY("rwlock: %ld writes, %ld torn reads\n", a_side, torn);
  return 0;
}
