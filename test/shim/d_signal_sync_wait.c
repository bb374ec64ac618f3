/* d_signal_sync_wait: a signal handler that runs in a thread waiting on a
 * condition variable or a semaphore, as glibc has it. The condition
 * variable's wait goes on after the handler, with or without SA_RESTART
 * (patched, it returned 0 at the first signal, the predicate still
 * false); sem_wait goes on with SA_RESTART and fails with EINTR without;
 * sem_timedwait and sem_clockwait fail with EINTR even with SA_RESTART
 * (patched, they went on until their deadline). Main sends SIGUSR1 every
 * 20 ms until the waiter is done, so that one lands in the wait. */
#include "compat.h"

#include <semaphore.h>
#include <signal.h>

#define EN(r) ((r) == 0 ? "0" : strerrorname_np(r))

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static int predicate, waiting, done, mode;
static volatile sig_atomic_t hits;

static void on_usr1(int sig)
{
  (void)sig;
  hits++;
}

static void *waiter(void *arg)
{
  struct timespec abs;
  int r;
  (void)arg;
  switch (mode) {
  case 0: /* cond_wait: returns with the predicate true */
    pthread_mutex_lock(&m);
    waiting = 1;
    r = pthread_cond_wait(&c, &m);
    SAY("  cond_wait: %s, predicate %d\n", EN(r), predicate);
    pthread_mutex_unlock(&m);
    break;
  case 1: /* cond_timedwait: whole */
    pthread_mutex_lock(&m);
    waiting = 1;
    abs_in(&abs, CLOCK_REALTIME, 300);
    r = pthread_cond_timedwait(&c, &m, &abs);
    SAY("  cond_timedwait 300 ms: %s, deadline reached %d\n", EN(r),
        reached(CLOCK_REALTIME, &abs));
    pthread_mutex_unlock(&m);
    break;
  case 2: /* sem_wait */
    __atomic_store_n(&waiting, 1, __ATOMIC_RELEASE);
    r = sem_wait(&sem);
    SAY("  sem_wait: %s\n", EN(r ? errno : 0));
    break;
  case 3: /* sem_timedwait */
    __atomic_store_n(&waiting, 1, __ATOMIC_RELEASE);
    abs_in(&abs, CLOCK_REALTIME, 5000);
    r = sem_timedwait(&sem, &abs);
    SAY("  sem_timedwait 5 s: %s\n", EN(r ? errno : 0));
    break;
  default: /* sem_clockwait */
    __atomic_store_n(&waiting, 1, __ATOMIC_RELEASE);
    abs_in(&abs, CLOCK_MONOTONIC, 5000);
    r = sem_clockwait(&sem, CLOCK_MONOTONIC, &abs);
    SAY("  sem_clockwait 5 s: %s\n", EN(r ? errno : 0));
    break;
  }
  __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
  return NULL;
}

/* Runs the waiter of mode m, with SIGUSR1 caught with or without
 * SA_RESTART; after 5 signals it ends the wait (predicate and signal, or
 * a post) unless the waiter is done. */
static void run(int m_, int restart)
{
  struct sigaction sa = {0};
  pthread_t th;
  int sent = 0;

  sa.sa_handler = on_usr1;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(SIGUSR1, &sa, NULL);
  mode = m_;
  predicate = waiting = done = 0;
  hits = 0;
  SAY("mode %d, %s:\n", m_, restart ? "SA_RESTART" : "no SA_RESTART");
  pthread_create(&th, NULL, waiter, NULL);
  while (!__atomic_load_n(&waiting, __ATOMIC_ACQUIRE))
    sleep_ms(1);
  while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
    /* a condition variable's waiter holds m until it waits */
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    sleep_ms(20);
    if (__atomic_load_n(&done, __ATOMIC_ACQUIRE))
      break;
    if (++sent <= 5) {
      pthread_kill(th, SIGUSR1);
    } else if (sent == 6 && mode != 1) {
      pthread_mutex_lock(&m);
      predicate = 1;
      pthread_cond_signal(&c);
      pthread_mutex_unlock(&m);
      sem_post(&sem);
    }
  }
  pthread_join(th, NULL);
  while (sem_trywait(&sem) == 0) /* a post the waiter did not take */
    ;
  SAY("  handler ran: %d\n", hits > 0);
}

int main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  sem_init(&sem, 0, 0);
  for (int restart = 0; restart < 2; restart++)
    for (int m_ = 0; m_ < 5; m_++)
      run(m_, restart);
  return 0;
}
