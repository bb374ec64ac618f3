/* d_thread_robust: private robust mutexes. A thread that ends holding one
 * gives it to the next locker with EOWNERDEAD (a waiter already blocked
 * too); pthread_mutex_consistent makes it usable again, and an unlock
 * without it makes it unrecoverable (ENOTRECOVERABLE for every later
 * lock and trylock). Robust mutexes are owner-checked on unlock (EPERM),
 * an errorcheck one relocked says EDEADLK, a recursive one counts, and
 * pthread_mutex_consistent of a consistent or non-robust mutex says
 * EINVAL. Four threads contend for one. A condition variable's wait whose
 * mutex's owner ends meanwhile returns EOWNERDEAD. Before, glibc served
 * them as the process-shared objects it marks them (the kernel walks a
 * dying thread's robust list): threads of one OS thread waited for each
 * other in the kernel and hung, and no coroutine's end was seen. */
#include "compat.h"

#include <semaphore.h>

static pthread_mutex_t m;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t held;
static long counter;

static const char *name(int r)
{
  switch (r) {
  case 0:
    return "0";
  case EOWNERDEAD:
    return "EOWNERDEAD";
  case ENOTRECOVERABLE:
    return "ENOTRECOVERABLE";
  case EPERM:
    return "EPERM";
  case EDEADLK:
    return "EDEADLK";
  case EBUSY:
    return "EBUSY";
  case EINVAL:
    return "EINVAL";
  default:
    return strerror(r);
  }
}

static void make(int type)
{
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutexattr_settype(&a, type);
  pthread_mutex_init(&m, &a);
  pthread_mutexattr_destroy(&a);
}

static void *takes_and_ends(void *arg)
{
  int r = pthread_mutex_lock(&m);
  if (arg) {
    sem_post(&held);
    sleep_ms(30); /* the other is blocked in its lock by now */
  }
  return r == 0 ? NULL : (void *)1;
}

static void *unlocks(void *arg)
{
  return (void *)(long)pthread_mutex_unlock(&m);
}

static void *contends(void *arg)
{
  for (int i = 0; i < 20000; i++) {
    if (pthread_mutex_lock(&m) != 0)
      abort();
    long v = counter;
    if (i % 500 == 0)
      sched_yield(); /* holding it: the others must wait */
    counter = v + 1;
    pthread_mutex_unlock(&m);
  }
  return arg;
}

static void *ends_while_waited(void *arg)
{
  pthread_mutex_lock(&m);
  pthread_cond_signal(&cv);
  return arg; /* holding m */
}

int main(void)
{
  pthread_t th, ths[4];
  int r;

  sem_init(&held, 0, 0);
  make(PTHREAD_MUTEX_NORMAL);
  pthread_create(&th, NULL, takes_and_ends, NULL);
  pthread_join(th, NULL);
  r = pthread_mutex_lock(&m);
  SAY("owner ended: lock %s", name(r));
  SAY(", consistent %s", name(pthread_mutex_consistent(&m)));
  SAY(", again %s", name(pthread_mutex_consistent(&m)));
  SAY(", unlock %s", name(pthread_mutex_unlock(&m)));
  r = pthread_mutex_lock(&m);
  SAY(", lock %s", name(r));
  SAY(", unlock %s\n", name(pthread_mutex_unlock(&m)));

  pthread_create(&th, NULL, takes_and_ends, NULL);
  pthread_join(th, NULL);
  r = pthread_mutex_trylock(&m);
  SAY("not made consistent: trylock %s", name(r));
  SAY(", unlock %s", name(pthread_mutex_unlock(&m)));
  SAY(", lock %s", name(pthread_mutex_lock(&m)));
  SAY(", trylock %s\n", name(pthread_mutex_trylock(&m)));
  pthread_mutex_destroy(&m);

  make(PTHREAD_MUTEX_NORMAL);
  pthread_create(&th, NULL, takes_and_ends, (void *)1);
  sem_wait(&held);
  r = pthread_mutex_lock(&m); /* blocks until the owner ends */
  SAY("blocked while the owner ended: %s\n", name(r));
  pthread_mutex_consistent(&m);
  pthread_join(th, NULL);
  pthread_create(&th, NULL, unlocks, NULL);
  pthread_join(th, (void **)&r);
  SAY("unlock by another thread: %s", name(r));
  SAY(", by the owner: %s\n", name(pthread_mutex_unlock(&m)));
  pthread_mutex_destroy(&m);

  make(PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_lock(&m);
  SAY("errorcheck: relock %s", name(pthread_mutex_lock(&m)));
  SAY(", trylock %s\n", name(pthread_mutex_trylock(&m)));
  pthread_mutex_unlock(&m);
  pthread_mutex_destroy(&m);
  make(PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_lock(&m);
  SAY("recursive: relock %s", name(pthread_mutex_lock(&m)));
  SAY(", unlock %s", name(pthread_mutex_unlock(&m)));
  SAY(", unlock %s", name(pthread_mutex_unlock(&m)));
  SAY(", unlock %s\n", name(pthread_mutex_unlock(&m)));
  SAY("consistent of a consistent one: %s", name(pthread_mutex_consistent(&m)));
  pthread_mutex_destroy(&m);
  {
    pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;
    SAY(", of a plain one: %s\n", name(pthread_mutex_consistent(&plain)));
  }

  make(PTHREAD_MUTEX_NORMAL);
  for (int i = 0; i < 4; i++)
    pthread_create(&ths[i], NULL, contends, NULL);
  for (int i = 0; i < 4; i++)
    pthread_join(ths[i], NULL);
  SAY("4 threads, 20000 increments each: %ld\n", counter);

  pthread_mutex_lock(&m);
  pthread_create(&th, NULL, ends_while_waited, NULL);
  r = pthread_cond_wait(&cv, &m); /* the signaller ends holding m */
  SAY("condition wait, the signaller ended holding the mutex: %s\n", name(r));
  if (r == EOWNERDEAD)
    pthread_mutex_consistent(&m);
  pthread_mutex_unlock(&m);
  pthread_join(th, NULL);
  return 0;
}
