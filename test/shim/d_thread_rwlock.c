/* d_thread_rwlock: read-write locks — three readers hold the lock at once
 * (they pass a barrier of 3 inside it), a writer excludes readers and
 * writers, try and timed variants, EDEADLK for the writer, the writer
 * waiting for the last reader to unlock, and the kinds' preferences. */
#include "compat.h"

#define EN(r) ((r) == 0 ? "0" : strerrorname_np(r))

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t bar;

static void *reader3(void *p)
{
  int r = pthread_rwlock_rdlock(&rw);
  pthread_barrier_wait(&bar); /* only passes if all 3 hold it together */
  r |= pthread_rwlock_unlock(&rw);
  return (void *)(intptr_t)r;
}

/* What another thread gets from each attempt, as a line. */
static void *attempts(void *p)
{
  pthread_rwlock_t *l = p;
  struct timespec abs;
  int r;
  r = pthread_rwlock_tryrdlock(l);
  SAY("  tryrdlock: %s\n", EN(r));
  if (r == 0)
    pthread_rwlock_unlock(l);
  r = pthread_rwlock_trywrlock(l);
  SAY("  trywrlock: %s\n", EN(r));
  if (r == 0)
    pthread_rwlock_unlock(l);
  abs_in(&abs, CLOCK_REALTIME, 50);
  r = pthread_rwlock_timedrdlock(l, &abs);
  SAY("  timedrdlock: %s%s\n", EN(r),
      r == ETIMEDOUT && !reached(CLOCK_REALTIME, &abs) ? " EARLY" : "");
  if (r == 0)
    pthread_rwlock_unlock(l);
  abs_in(&abs, CLOCK_REALTIME, 50);
  r = pthread_rwlock_timedwrlock(l, &abs);
  SAY("  timedwrlock: %s%s\n", EN(r),
      r == ETIMEDOUT && !reached(CLOCK_REALTIME, &abs) ? " EARLY" : "");
  if (r == 0)
    pthread_rwlock_unlock(l);
  abs_in(&abs, CLOCK_MONOTONIC, 50);
  r = pthread_rwlock_clockrdlock(l, CLOCK_MONOTONIC, &abs);
  SAY("  clockrdlock monotonic: %s%s\n", EN(r),
      r == ETIMEDOUT && !reached(CLOCK_MONOTONIC, &abs) ? " EARLY" : "");
  if (r == 0)
    pthread_rwlock_unlock(l);
  abs_in(&abs, CLOCK_MONOTONIC, 50);
  r = pthread_rwlock_clockwrlock(l, CLOCK_MONOTONIC, &abs);
  SAY("  clockwrlock monotonic: %s%s\n", EN(r),
      r == ETIMEDOUT && !reached(CLOCK_MONOTONIC, &abs) ? " EARLY" : "");
  if (r == 0)
    pthread_rwlock_unlock(l);
  return NULL;
}

static void others(const char *what, pthread_rwlock_t *l)
{
  pthread_t th;
  SAY("%s, another thread:\n", what);
  pthread_create(&th, NULL, attempts, l);
  pthread_join(th, NULL);
}

static volatile int writer_has_it;

static void *writer(void *p)
{
  int r = pthread_rwlock_wrlock(p);
  writer_has_it = 1;
  if (r == 0)
    pthread_rwlock_unlock(p);
  return (void *)(intptr_t)r;
}

static void *read_hold(void *p)
{
  return (void *)(intptr_t)pthread_rwlock_rdlock(p); /* and keep it */
}

static void *unlock_fn(void *p)
{
  return (void *)(intptr_t)pthread_rwlock_unlock(p);
}

static int on_thread(void *(*fn)(void *), void *arg)
{
  pthread_t th;
  void *ret;
  pthread_create(&th, NULL, fn, arg);
  pthread_join(th, &ret);
  return (int)(intptr_t)ret;
}

/* A reader holds l and a writer waits: can a new reader come in? */
static void preference(const char *name, int kind)
{
  pthread_rwlockattr_t a;
  pthread_rwlock_t l;
  pthread_t w;
  struct timespec abs;
  int r;

  pthread_rwlockattr_init(&a);
  pthread_rwlockattr_setkind_np(&a, kind);
  pthread_rwlock_init(&l, &a);
  pthread_rwlockattr_destroy(&a);
  on_thread(read_hold, &l); /* a reader that holds it (and exits) */
  writer_has_it = 0;
  pthread_create(&w, NULL, writer, &l);
  sleep_ms(50); /* the writer is waiting */
  r = pthread_rwlock_tryrdlock(&l);
  SAY("%s: new reader while a writer waits: %s\n", name, EN(r));
  if (r == 0)
    pthread_rwlock_unlock(&l);
  abs_in(&abs, CLOCK_REALTIME, 20);
  r = pthread_rwlock_timedrdlock(&l, &abs);
  SAY("%s: timed reader: %s\n", name, EN(r));
  if (r == 0)
    pthread_rwlock_unlock(&l);
  SAY("%s: writer got it: %d\n", name, writer_has_it);
  /* The held read lock belongs to a thread that is gone; with glibc any
   * thread may release a read lock. */
  SAY("%s: unlock the reader's hold: %s\n", name,
      EN(pthread_rwlock_unlock(&l)));
  pthread_join(w, NULL);
  SAY("%s: then the writer: %d\n", name, writer_has_it);
  pthread_rwlock_destroy(&l);
}

int main(void)
{
  pthread_t th[3];
  void *ret;
  int ok = 1;

  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_barrier_init(&bar, NULL, 3);
  for (int i = 0; i < 3; i++)
    pthread_create(&th[i], NULL, reader3, NULL);
  for (int i = 0; i < 3; i++) {
    pthread_join(th[i], &ret);
    ok &= ret == NULL;
  }
  SAY("3 readers held it together: %d\n", ok);
  pthread_barrier_destroy(&bar);

  {
    pthread_rwlock_t fresh = PTHREAD_RWLOCK_INITIALIZER;
    SAY("unlock of one not held: %s\n", EN(pthread_rwlock_unlock(&fresh)));
  }
  SAY("rdlock: %s\n", EN(pthread_rwlock_rdlock(&rw)));
  SAY("rdlock again (recursive read): %s\n", EN(pthread_rwlock_rdlock(&rw)));
  others("two read holds", &rw);
  SAY("unlock, unlock: %s ", EN(pthread_rwlock_unlock(&rw)));
  SAY("%s\n", EN(pthread_rwlock_unlock(&rw)));
  SAY("wrlock: %s\n", EN(pthread_rwlock_wrlock(&rw)));
  SAY("rdlock by the writer: %s\n", EN(pthread_rwlock_rdlock(&rw)));
  SAY("wrlock by the writer: %s\n", EN(pthread_rwlock_wrlock(&rw)));
  SAY("tryrdlock, trywrlock by the writer: %s ",
      EN(pthread_rwlock_tryrdlock(&rw)));
  SAY("%s\n", EN(pthread_rwlock_trywrlock(&rw)));
  others("write hold", &rw);
  SAY("unlock: %s\n", EN(pthread_rwlock_unlock(&rw)));
  others("free", &rw);

  /* A writer waits for the last of two readers. */
  on_thread(read_hold, &rw);
  on_thread(read_hold, &rw);
  writer_has_it = 0;
  pthread_create(&th[0], NULL, writer, &rw);
  sleep_ms(50);
  SAY("writer with 2 readers: %d\n", writer_has_it);
  SAY("one reader unlocks: %s\n", EN(on_thread(unlock_fn, &rw)));
  sleep_ms(50);
  SAY("writer with 1 reader: %d\n", writer_has_it);
  SAY("the other unlocks: %s\n", EN(on_thread(unlock_fn, &rw)));
  pthread_join(th[0], &ret);
  SAY("writer: %s, got it: %d\n", EN((int)(intptr_t)ret), writer_has_it);

  struct timespec abs = {0, 1000000000L};
  SAY("timedrdlock, tv_nsec 1e9: %s\n",
      EN(pthread_rwlock_timedrdlock(&rw, &abs)));
  SAY("timedwrlock, tv_nsec 1e9: %s\n",
      EN(pthread_rwlock_timedwrlock(&rw, &abs)));
  abs_in(&abs, CLOCK_MONOTONIC, 10);
  SAY("clockrdlock, bad clock: %s\n",
      EN(pthread_rwlock_clockrdlock(&rw, CLOCK_PROCESS_CPUTIME_ID, &abs)));
  SAY("destroy: %s\n", EN(pthread_rwlock_destroy(&rw)));

  preference("prefer reader", PTHREAD_RWLOCK_PREFER_READER_NP);
  preference("prefer writer", PTHREAD_RWLOCK_PREFER_WRITER_NP);
  preference("prefer writer nonrecursive",
             PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  return 0;
}
