/* d_thread_mutex: mutex kinds from static initializers and from attrs,
 * recursion counts, errorcheck's EDEADLK and EPERM, trylock's EBUSY,
 * timedlock and clocklock timeouts, mutual exclusion under contention
 * (yields inside the critical section), destroy of a locked mutex, and a
 * priority-protecting mutex (glibc's). */
#include "compat.h"

#include <sched.h>

#define EN(r) ((r) == 0 ? "0" : strerrorname_np(r))

static pthread_mutex_t m_normal = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t m_rec = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_mutex_t m_err = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static pthread_mutex_t m_arec, m_aerr, m_anorm;

static void *try_fn(void *p)
{
  return (void *)(intptr_t)pthread_mutex_trylock(p);
}

static void *unlock_fn(void *p)
{
  return (void *)(intptr_t)pthread_mutex_unlock(p);
}

struct timed {
  pthread_mutex_t *m;
  clockid_t clock; /* -1: pthread_mutex_timedlock */
  long ms;
  int r;       /* out */
  int reached; /* out: returned no earlier than the deadline */
};

static void *timed_fn(void *p)
{
  struct timed *t = p;
  struct timespec abs;
  abs_in(&abs, t->clock < 0 ? CLOCK_REALTIME : t->clock, t->ms);
  if (t->clock < 0)
    t->r = pthread_mutex_timedlock(t->m, &abs);
  else
    t->r = pthread_mutex_clocklock(t->m, t->clock, &abs);
  t->reached = reached(t->clock < 0 ? CLOCK_REALTIME : t->clock, &abs);
  if (t->r == 0)
    pthread_mutex_unlock(t->m);
  return NULL;
}

static long counter;
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;

static void *count_fn(void *p)
{
  for (int i = 0; i < 1000; i++) {
    pthread_mutex_lock(&cm);
    long c = counter;
    sched_yield();
    counter = c + 1;
    pthread_mutex_unlock(&cm);
  }
  return NULL;
}

/* The outcome of fn(m) on another thread. */
static int on_thread(void *(*fn)(void *), pthread_mutex_t *m)
{
  pthread_t th;
  void *ret;
  pthread_create(&th, NULL, fn, m);
  pthread_join(th, &ret);
  return (int)(intptr_t)ret;
}

static void timed_case(const char *name, pthread_mutex_t *m, clockid_t clock)
{
  struct timed t = {m, clock, 100, -1, 0};
  pthread_t th;
  pthread_mutex_lock(m);
  pthread_create(&th, NULL, timed_fn, &t);
  pthread_join(th, NULL);
  SAY("%s held elsewhere: %s; not before the deadline: %d\n", name, EN(t.r),
      t.reached);
  pthread_mutex_unlock(m);
  t.r = -1;
  pthread_create(&th, NULL, timed_fn, &t);
  pthread_join(th, NULL);
  SAY("%s free: %s\n", name, EN(t.r));
}

static pthread_mutex_t held_ec = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static pthread_mutex_t held_rec = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

static void *hold_ec_rec(void *arg)
{
  pthread_mutex_lock(&held_ec);
  pthread_mutex_lock(&held_rec);
  return arg;
}

static void *probe_ec_rec(void *arg)
{
  SAY("after its holder ended: errorcheck trylock %s, unlock %s; recursive "
      "trylock %s, unlock %s\n",
      EN(pthread_mutex_trylock(&held_ec)), EN(pthread_mutex_unlock(&held_ec)),
      EN(pthread_mutex_trylock(&held_rec)),
      EN(pthread_mutex_unlock(&held_rec)));
  return arg;
}

int main(void)
{
  pthread_mutexattr_t a;
  int r, kind = -1;
  struct timespec abs;

  setvbuf(stdout, NULL, _IOLBF, 0);

  /* Static initializers. */
  SAY("normal lock: %s\n", EN(pthread_mutex_lock(&m_normal)));
  SAY("normal trylock by owner: %s\n", EN(pthread_mutex_trylock(&m_normal)));
  SAY("normal trylock elsewhere: %s\n", EN(on_thread(try_fn, &m_normal)));
  SAY("normal unlock: %s\n", EN(pthread_mutex_unlock(&m_normal)));
  SAY("normal trylock elsewhere, free: %s\n",
      EN(on_thread(try_fn, &m_normal))); /* the thread exits holding it */
  SAY("normal trylock after: %s\n", EN(pthread_mutex_trylock(&m_normal)));
  SAY("normal unlock of a dead thread's lock: %s\n",
      EN(pthread_mutex_unlock(&m_normal)));

  for (int i = 0; i < 3; i++)
    SAY("recursive lock %d: %s\n", i, EN(pthread_mutex_lock(&m_rec)));
  SAY("recursive trylock by owner: %s\n", EN(pthread_mutex_trylock(&m_rec)));
  SAY("recursive trylock elsewhere: %s\n", EN(on_thread(try_fn, &m_rec)));
  SAY("recursive unlock elsewhere: %s\n", EN(on_thread(unlock_fn, &m_rec)));
  for (int i = 0; i < 4; i++)
    SAY("recursive unlock %d: %s\n", i, EN(pthread_mutex_unlock(&m_rec)));
  SAY("recursive unlock once more: %s\n", EN(pthread_mutex_unlock(&m_rec)));
  SAY("recursive trylock elsewhere, free: %s\n", EN(on_thread(try_fn, &m_rec)));

  SAY("errorcheck unlock, unlocked: %s\n", EN(pthread_mutex_unlock(&m_err)));
  SAY("errorcheck lock: %s\n", EN(pthread_mutex_lock(&m_err)));
  SAY("errorcheck relock: %s\n", EN(pthread_mutex_lock(&m_err)));
  SAY("errorcheck trylock by owner: %s\n", EN(pthread_mutex_trylock(&m_err)));
  SAY("errorcheck unlock elsewhere: %s\n", EN(on_thread(unlock_fn, &m_err)));
  SAY("errorcheck unlock: %s\n", EN(pthread_mutex_unlock(&m_err)));
  SAY("errorcheck unlock again: %s\n", EN(pthread_mutex_unlock(&m_err)));

  /* The same kinds from attrs. */
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutexattr_gettype(&a, &kind);
  SAY("attr recursive: %d\n", kind == PTHREAD_MUTEX_RECURSIVE);
  SAY("init recursive: %s\n", EN(pthread_mutex_init(&m_arec, &a)));
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
  SAY("init errorcheck: %s\n", EN(pthread_mutex_init(&m_aerr, &a)));
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_NORMAL);
  SAY("init normal: %s\n", EN(pthread_mutex_init(&m_anorm, &a)));
  pthread_mutexattr_destroy(&a);
  SAY("attr recursive lock, lock, trylock: %s %s %s\n",
      EN(pthread_mutex_lock(&m_arec)), EN(pthread_mutex_lock(&m_arec)),
      EN(pthread_mutex_trylock(&m_arec)));
  SAY("attr recursive elsewhere: %s\n", EN(on_thread(try_fn, &m_arec)));
  r = pthread_mutex_unlock(&m_arec);
  r |= pthread_mutex_unlock(&m_arec);
  r |= pthread_mutex_unlock(&m_arec);
  SAY("attr recursive unlocked 3 times: %s, a 4th: %s\n", EN(r),
      EN(pthread_mutex_unlock(&m_arec)));
  SAY("attr errorcheck lock: %s\n", EN(pthread_mutex_lock(&m_aerr)));
  SAY("attr errorcheck relock: %s\n", EN(pthread_mutex_lock(&m_aerr)));
  SAY("attr errorcheck unlock elsewhere: %s\n",
      EN(on_thread(unlock_fn, &m_aerr)));
  SAY("attr errorcheck unlock, again: %s ", EN(pthread_mutex_unlock(&m_aerr)));
  SAY("%s\n", EN(pthread_mutex_unlock(&m_aerr)));
  SAY("attr normal lock: %s\n", EN(pthread_mutex_lock(&m_anorm)));
  SAY("attr normal trylock: %s\n", EN(pthread_mutex_trylock(&m_anorm)));
  SAY("destroy locked: %s\n", EN(pthread_mutex_destroy(&m_anorm)));
  SAY("unlock: %s\n", EN(pthread_mutex_unlock(&m_anorm)));
  SAY("destroy unlocked: %s\n", EN(pthread_mutex_destroy(&m_anorm)));
  SAY("init again, lock, unlock: %s ", EN(pthread_mutex_init(&m_anorm, NULL)));
  SAY("%s ", EN(pthread_mutex_lock(&m_anorm)));
  SAY("%s\n", EN(pthread_mutex_unlock(&m_anorm)));
  SAY("destroy recursive, errorcheck: %s ", EN(pthread_mutex_destroy(&m_arec)));
  SAY("%s\n", EN(pthread_mutex_destroy(&m_aerr)));

  /* Timeouts. */
  timed_case("timedlock normal", &m_normal, -1);
  timed_case("timedlock errorcheck", &m_err, -1);
  timed_case("clocklock monotonic", &m_normal, CLOCK_MONOTONIC);
  timed_case("clocklock realtime", &m_normal, CLOCK_REALTIME);
  pthread_mutex_lock(&m_err);
  abs_in(&abs, CLOCK_REALTIME, 50);
  SAY("errorcheck timedlock by owner: %s\n",
      EN(pthread_mutex_timedlock(&m_err, &abs)));
  pthread_mutex_unlock(&m_err);
  abs.tv_nsec = 1000000000L;
  pthread_mutex_lock(&m_normal);
  SAY("timedlock, bad tv_nsec, must wait: %s\n",
      EN(pthread_mutex_timedlock(&m_normal, &abs)));
  pthread_mutex_unlock(&m_normal);
  struct timed t = {&m_normal, -1, 0, -1, 0};
  pthread_t tt;
  pthread_mutex_lock(&m_normal);
  pthread_create(&tt, NULL, timed_fn, &t);
  pthread_join(tt, NULL);
  SAY("timedlock, deadline now, must wait: %s\n", EN(t.r));
  pthread_mutex_unlock(&m_normal);
  abs_in(&abs, CLOCK_MONOTONIC, 50);
  SAY("clocklock, bad clock: %s\n",
      EN(pthread_mutex_clocklock(&m_normal, CLOCK_PROCESS_CPUTIME_ID, &abs)));

  /* Priority-protecting: glibc's lock says EINVAL for a ceiling above the
   * caller's priority, its trylock takes it (patched, the ceiling in the
   * lock word looked like a holder, and the lock waited for good). */
  {
    pthread_mutexattr_t pa;
    pthread_mutex_t pp;
    pthread_mutexattr_init(&pa);
    pthread_mutexattr_setprotocol(&pa, PTHREAD_PRIO_PROTECT);
    pthread_mutexattr_setprioceiling(&pa, 10);
    SAY("prio-protect init: %s\n", EN(pthread_mutex_init(&pp, &pa)));
    SAY("lock: %s\n", EN(pthread_mutex_lock(&pp)));
    SAY("trylock: %s\n", EN(pthread_mutex_trylock(&pp)));
    SAY("unlock: %s\n", EN(pthread_mutex_unlock(&pp)));
    SAY("destroy: %s\n", EN(pthread_mutex_destroy(&pp)));
  }

  /* An errorcheck mutex held: EDEADLK before the time is looked at. */
  pthread_mutex_lock(&m_err);
  abs.tv_nsec = 1000000000L;
  SAY("errorcheck held, timedlock with tv_nsec 1e9: %s\n",
      EN(pthread_mutex_timedlock(&m_err, &abs)));
  pthread_mutex_unlock(&m_err);

  /* A thread ends holding an errorcheck and a recursive mutex: the next
   * thread does not own them (patched, the next one took the ended one's
   * place, its struct reused, and could unlock and relock them). */
  {
    pthread_t holder;
    pthread_create(&holder, NULL, hold_ec_rec, NULL);
    pthread_join(holder, NULL);
    pthread_create(&holder, NULL, probe_ec_rec, NULL);
    pthread_join(holder, NULL);
  }

  /* Contention: 8 threads x 1000 increments, yielding mid-update. */
  pthread_t th[8];
  for (int i = 0; i < 8; i++)
    pthread_create(&th[i], NULL, count_fn, NULL);
  for (int i = 0; i < 8; i++)
    pthread_join(th[i], NULL);
  SAY("counter: %ld\n", counter);
  return 0;
}
