/* d_thread_barrier_spin: a barrier of 4 threads for 3 rounds gives exactly
 * one PTHREAD_BARRIER_SERIAL_THREAD per round and lets no thread into a
 * round before all left the previous one; a spinlock keeps 4 threads that
 * yield inside it mutually exclusive. A barrier destroyed and made again
 * as soon as one thread is past it works as glibc's (its destroy waits for
 * the others to leave): patched, a woken thread that had not run yet saw
 * the new barrier's round 0 as its own and waited in it for good. */
#include "compat.h"

#include <sched.h>

#define EN(r) ((r) == 0 ? "0" : strerrorname_np(r))

static pthread_barrier_t bar;
static int serials[3], arrived[3], bad_round;

static void *rounds(void *p)
{
  for (int r = 0; r < 3; r++) {
    __atomic_add_fetch(&arrived[r], 1, __ATOMIC_SEQ_CST);
    int ret = pthread_barrier_wait(&bar);
    /* All 4 arrived at this round before anyone got past it. */
    if (__atomic_load_n(&arrived[r], __ATOMIC_SEQ_CST) != 4)
      __atomic_store_n(&bad_round, 1, __ATOMIC_SEQ_CST);
    if (ret == PTHREAD_BARRIER_SERIAL_THREAD)
      __atomic_add_fetch(&serials[r], 1, __ATOMIC_SEQ_CST);
    else if (ret != 0)
      __atomic_store_n(&bad_round, 2, __ATOMIC_SEQ_CST);
    sched_yield();
  }
  return NULL;
}

static pthread_barrier_t reused;

static void *wait_reused(void *p)
{
  pthread_barrier_wait(&reused);
  return p;
}

/* Rounds of a barrier of 3 destroyed, and made again in the same memory,
 * as soon as main is past it: glibc's destroy waits until the other two
 * have left it. Returns how many destroys failed. */
static int destroy_and_reuse(int rounds)
{
  int refused = 0;
  for (int i = 0; i < rounds; i++) {
    pthread_t th[2];
    pthread_barrier_init(&reused, NULL, 3);
    for (int k = 0; k < 2; k++)
      pthread_create(&th[k], NULL, wait_reused, NULL);
    pthread_barrier_wait(&reused);
    if (pthread_barrier_destroy(&reused) != 0)
      refused++;
    memset(&reused, 0, sizeof reused); /* used again: a new round 0 */
    pthread_barrier_init(&reused, NULL, 3);
    for (int k = 0; k < 2; k++)
      pthread_join(th[k], NULL);
    pthread_barrier_destroy(&reused);
  }
  return refused;
}

static pthread_spinlock_t spin;
static long counter;

static void *spinner(void *p)
{
  for (int i = 0; i < 300; i++) {
    pthread_spin_lock(&spin);
    long c = counter;
    sched_yield();
    counter = c + 1;
    pthread_spin_unlock(&spin);
  }
  return NULL;
}

int main(void)
{
  pthread_t th[4];
  pthread_barrier_t one;

  setvbuf(stdout, NULL, _IOLBF, 0);
  SAY("barrier init 0: %s\n", EN(pthread_barrier_init(&one, NULL, 0)));
  SAY("barrier init 1: %s\n", EN(pthread_barrier_init(&one, NULL, 1)));
  SAY("barrier of 1 wait: %d\n",
      pthread_barrier_wait(&one) == PTHREAD_BARRIER_SERIAL_THREAD);
  SAY("barrier destroy: %s\n", EN(pthread_barrier_destroy(&one)));

  SAY("barrier init 4: %s\n", EN(pthread_barrier_init(&bar, NULL, 4)));
  for (int i = 0; i < 4; i++)
    pthread_create(&th[i], NULL, rounds, NULL);
  for (int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  for (int r = 0; r < 3; r++)
    SAY("round %d: serial threads %d\n", r, serials[r]);
  SAY("rounds kept apart: %d\n", bad_round == 0);
  SAY("barrier destroy: %s\n", EN(pthread_barrier_destroy(&bar)));
  SAY("barrier destroyed and made again at once: %d of 300 refused\n",
      destroy_and_reuse(300));

  SAY("spin init: %s\n", EN(pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE)));
  SAY("spin trylock: %s\n", EN(pthread_spin_trylock(&spin)));
  SAY("spin trylock held: %s\n", EN(pthread_spin_trylock(&spin)));
  SAY("spin unlock: %s\n", EN(pthread_spin_unlock(&spin)));
  for (int i = 0; i < 4; i++)
    pthread_create(&th[i], NULL, spinner, NULL);
  for (int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  SAY("spin counter: %ld\n", counter);
  SAY("spin destroy: %s\n", EN(pthread_spin_destroy(&spin)));
  return 0;
}
