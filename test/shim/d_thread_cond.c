/* d_thread_cond: condition variables — a producer/consumer with predicate
 * loops, signal and broadcast (all 5 waiters wake), timedwait on
 * CLOCK_REALTIME and on a CLOCK_MONOTONIC condattr, clockwait, EINVAL for
 * a bad tv_nsec, and the mutex held on every return. A destroy right
 * after a broadcast, its waiters woken but not yet out, returns 0 as
 * glibc's does (it waits for them): patched said EBUSY, and the waiters
 * touched the memory after it. */
#include "compat.h"

#define EN(r) ((r) == 0 ? "0" : strerrorname_np(r))

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t em = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static pthread_cond_t notfull = PTHREAD_COND_INITIALIZER;

/* A bounded queue of 4 ints. */
static int q[4], qhead, qlen;

static void *producer(void *p)
{
  for (int i = 1; i <= 100; i++) {
    pthread_mutex_lock(&m);
    while (qlen == 4)
      pthread_cond_wait(&notfull, &m);
    q[(qhead + qlen++) % 4] = i;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&m);
  }
  return NULL;
}

static void *consumer(void *p)
{
  long sum = 0;
  int last = 0, ordered = 1;
  for (int n = 0; n < 100; n++) {
    pthread_mutex_lock(&m);
    while (qlen == 0)
      pthread_cond_wait(&c, &m);
    int v = q[qhead];
    qhead = (qhead + 1) % 4;
    qlen--;
    pthread_cond_signal(&notfull);
    pthread_mutex_unlock(&m);
    ordered &= v == last + 1;
    last = v;
    sum += v;
  }
  return (void *)(sum * 2 + ordered);
}

#define SIGNAL_ROUNDS 200

static int gen, waiting, woken;

static void *waiter(void *p)
{
  pthread_mutex_lock(&m);
  int my = gen;
  waiting++;
  pthread_cond_signal(&notfull); /* tells main one more waits */
  while (gen == my)
    pthread_cond_wait(&c, &m);
  woken++;
  /* The mutex is held here: an errorcheck relock would say EDEADLK, a
   * normal one cannot be asked; unlocking it must work. */
  pthread_mutex_unlock(&m);
  return NULL;
}

/* Starts five waiters, and once all wait, signals once. */
static void signal_five(pthread_t th[5])
{
  for (int i = 0; i < 5; i++)
    pthread_create(&th[i], NULL, waiter, NULL);
  pthread_mutex_lock(&m);
  while (waiting < 5)
    pthread_cond_wait(&notfull, &m);
  gen++;
  pthread_cond_signal(&c);
  pthread_mutex_unlock(&m);
}

/* A condition variable in an object freed right after a broadcast, as a
 * completion object is: glibc's destroy returns 0 once the woken waiters
 * have left it, and the memory is free to reuse. */
struct completion {
  pthread_mutex_t m;
  pthread_cond_t c;
  int done, in;
};

static void *completion_waiter(void *p)
{
  struct completion *o = p;
  pthread_mutex_lock(&o->m);
  o->in++;
  while (!o->done)
    pthread_cond_wait(&o->c, &o->m);
  pthread_mutex_unlock(&o->m);
  return NULL;
}

/* Rounds of three waiters woken by a broadcast, the condition variable
 * destroyed and its memory scribbled over at once: returns how many
 * destroys failed. */
static int destroy_after_broadcast(int rounds)
{
  int refused = 0;
  for (int i = 0; i < rounds; i++) {
    struct completion *o = calloc(1, sizeof *o);
    pthread_t w[3];
    int in;
    pthread_mutex_init(&o->m, NULL);
    pthread_cond_init(&o->c, NULL);
    for (int k = 0; k < 3; k++)
      pthread_create(&w[k], NULL, completion_waiter, o);
    do {
      usleep(100);
      pthread_mutex_lock(&o->m);
      in = o->in;
      pthread_mutex_unlock(&o->m);
    } while (in < 3);
    pthread_mutex_lock(&o->m);
    o->done = 1;
    pthread_cond_broadcast(&o->c);
    if (pthread_cond_destroy(&o->c) != 0)
      refused++;
    else
      memset(&o->c, 0xa5, sizeof o->c); /* no waiter may look at it now */
    pthread_mutex_unlock(&o->m);
    for (int k = 0; k < 3; k++)
      pthread_join(w[k], NULL);
    free(o);
  }
  return refused;
}

static int relock_err(void)
{
  return pthread_mutex_lock(&em); /* held by the caller: EDEADLK */
}

int main(void)
{
  pthread_t th[5];
  pthread_condattr_t ca;
  pthread_cond_t mc;
  clockid_t clk = -1;
  struct timespec abs;
  void *ret;
  int r;

  setvbuf(stdout, NULL, _IOLBF, 0);

  /* Producer/consumer. */
  pthread_create(&th[0], NULL, consumer, NULL);
  pthread_create(&th[1], NULL, producer, NULL);
  pthread_join(th[1], NULL);
  pthread_join(th[0], &ret);
  SAY("consumer: sum %ld, in order %ld\n", (long)ret / 2, (long)ret % 2);

  /* signal wakes one, broadcast all. */
  signal_five(th);
  /* Wait until one has woken, then see that no more did on their own. */
  for (;;) {
    pthread_mutex_lock(&m);
    r = woken;
    pthread_mutex_unlock(&m);
    if (r >= 1)
      break;
    sleep_ms(1);
  }
  sleep_ms(50);
  pthread_mutex_lock(&m);
  SAY("signal woke: %d\n", woken);
  SAY("broadcast: %s\n", EN(pthread_cond_broadcast(&c)));
  pthread_mutex_unlock(&m);
  for (int i = 0; i < 5; i++)
    pthread_join(th[i], NULL);
  SAY("after broadcast, woken: %d of 5\n", woken);

  /* The same, many times, without the pause: a signal made while the last
   * waiter has released the mutex but is not asleep yet still ends one
   * wait only (with GPATCH_CORES above 1, that waiter runs on another OS
   * thread at that moment). */
  r = 0;
  for (int round = 0; round < SIGNAL_ROUNDS; round++) {
    woken = waiting = 0;
    signal_five(th);
    for (int seen = 0; seen < 1;) {
      pthread_mutex_lock(&m);
      seen = woken;
      pthread_mutex_unlock(&m);
      if (seen < 1)
        sched_yield();
    }
    sleep_ms(2);
    pthread_mutex_lock(&m);
    r += woken - 1;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);
    for (int i = 0; i < 5; i++)
      pthread_join(th[i], NULL);
  }
  SAY("%d rounds of one signal to 5 waiters: %d extra wakes\n", SIGNAL_ROUNDS,
      r);
  SAY("signal, broadcast with no waiters: %s %s\n", EN(pthread_cond_signal(&c)),
      EN(pthread_cond_broadcast(&c)));

  /* Timeouts, with the mutex held again on return. */
  pthread_mutex_lock(&em);
  abs_in(&abs, CLOCK_REALTIME, 100);
  r = pthread_cond_timedwait(&c, &em, &abs);
  SAY("timedwait realtime: %s; not early: %d; mutex held: %s\n", EN(r),
      reached(CLOCK_REALTIME, &abs), EN(relock_err()));
  abs_in(&abs, CLOCK_MONOTONIC, 100);
  r = pthread_cond_clockwait(&c, &em, CLOCK_MONOTONIC, &abs);
  SAY("clockwait monotonic: %s; not early: %d; mutex held: %s\n", EN(r),
      reached(CLOCK_MONOTONIC, &abs), EN(relock_err()));
  abs_in(&abs, CLOCK_REALTIME, 50);
  r = pthread_cond_clockwait(&c, &em, CLOCK_REALTIME, &abs);
  SAY("clockwait realtime: %s; not early: %d\n", EN(r),
      reached(CLOCK_REALTIME, &abs));
  abs_in(&abs, CLOCK_REALTIME, 0);
  abs.tv_sec -= 2;
  r = pthread_cond_timedwait(&c, &em, &abs);
  SAY("timedwait, time passed: %s\n", EN(r));
  abs.tv_nsec = 1000000000L;
  r = pthread_cond_timedwait(&c, &em, &abs);
  SAY("timedwait, tv_nsec 1e9: %s; mutex held: %s\n", EN(r), EN(relock_err()));
  abs.tv_nsec = -1;
  SAY("timedwait, tv_nsec -1: %s\n", EN(pthread_cond_timedwait(&c, &em, &abs)));
  abs_in(&abs, CLOCK_MONOTONIC, 10);
  SAY("clockwait, bad clock: %s\n",
      EN(pthread_cond_clockwait(&c, &em, CLOCK_PROCESS_CPUTIME_ID, &abs)));

  pthread_condattr_init(&ca);
  SAY("condattr setclock monotonic: %s\n",
      EN(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)));
  pthread_condattr_getclock(&ca, &clk);
  SAY("getclock: %d\n", clk == CLOCK_MONOTONIC);
  SAY("condattr setclock cputime: %s\n",
      EN(pthread_condattr_setclock(&ca, CLOCK_PROCESS_CPUTIME_ID)));
  SAY("cond_init: %s\n", EN(pthread_cond_init(&mc, &ca)));
  pthread_condattr_destroy(&ca);
  abs_in(&abs, CLOCK_MONOTONIC, 100);
  r = pthread_cond_timedwait(&mc, &em, &abs);
  SAY("timedwait on a monotonic cond: %s; not early (monotonic): %d\n", EN(r),
      reached(CLOCK_MONOTONIC, &abs));
  SAY("cond_destroy: %s\n", EN(pthread_cond_destroy(&mc)));
  SAY("destroys refused right after a broadcast: %d of 200\n",
      destroy_after_broadcast(200));
  SAY("cond wait with an unheld errorcheck mutex: ");
  pthread_mutex_unlock(&em);
  SAY("%s\n", EN(pthread_cond_timedwait(&c, &em, &abs)));
  return 0;
}
