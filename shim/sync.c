/* sync.c: pthread mutexes, condition variables, rwlocks, spinlocks,
 * barriers, once, and POSIX semaphores, for threads that are coroutines.
 *
 * Objects keep glibc's ABI: they are initialised by glibc's own init
 * functions (pure memory writes; all-zero static initializers and
 * PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP work without one), their state
 * lives in glibc's fields, and coroutines waiting on them wait on their
 * address (core/sync.c). Process-shared objects are left to glibc, whole.
 *
 * State, by object (glibc 2.36 layout, fields named as in its headers):
 *   mutex:   __lock 0/1, __count recursion, __owner+__nusers (8 bytes) the
 *            owner's thread id + 1, __kind the type as glibc set it;
 *   rwlock:  __readers active readers, __writers waiting writers,
 *            __pad3+__pad4 (8 bytes) the writer's id + 1, __flags the kind;
 *   barrier: glibc's {in, current_round, count, shared, out};
 *   sem:     the low 32 bits of the first word, the value;
 *   once:    0, 1 running, 2 done;
 *   spin:    glibc's word (on x86, 1 is free). */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define PSHARED_MUTEX 128  /* __kind bit of a process-shared mutex */
#define SHARED_FUTEX 128   /* glibc's marker of a process-shared sem/barrier */
#define COND_SHARED 1      /* __wrefs bits of a condition variable */
#define COND_MONOTONIC 2

/* The calling thread's id for ownership: unique among live threads. */
static uint64_t me(void)
{
  return (uint64_t)(uintptr_t)gp__self();
}

/* Converts an absolute time on clock into a monotonic deadline. Returns 0,
 * or EINVAL for a bad timespec or clock. A time in the past is a deadline
 * now. */
static int deadline_of(clockid_t clock, const struct timespec *abs,
                       uint64_t *out)
{
  if (abs == NULL || abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000L)
    return EINVAL;
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
    return EINVAL;
  *out = gp__now() +
         (abs->tv_sec < 0 ? 0 : gp__ns_until(clock, gp__ts_to_ns(abs)));
  return 0;
}

/* An uncancelable wait on addr (locks are not cancellation points). */
static int lock_wait(const void *addr, uint64_t deadline, const char *what)
{
  return gp__addr_wait(addr, deadline, what, GP__WAIT_UNCANCELABLE);
}

/* ---- mutexes ---- */

static uint64_t owner_of(const pthread_mutex_t *m)
{
  uint64_t o;
  memcpy(&o, &m->__data.__owner, sizeof(o));
  return o;
}

static void set_owner(pthread_mutex_t *m, uint64_t o)
{
  memcpy(&m->__data.__owner, &o, sizeof(o));
}

static int emulated_mutex(const pthread_mutex_t *m)
{
  return gp__shim_active(GP__PATCH_THREAD) &&
         !(m->__data.__kind & PSHARED_MUTEX);
}

/* Locks m, waiting until the deadline. Returns 0 or an error number. */
static int mutex_lock(pthread_mutex_t *m, uint64_t deadline, int try)
{
  int type = m->__data.__kind & 3;
  uint64_t self = me();

  for (;;) {
    if (m->__data.__lock == 0) {
      m->__data.__lock = 1;
      m->__data.__count = 1;
      set_owner(m, self);
      return 0;
    }
    if (owner_of(m) == self) {
      if (type == PTHREAD_MUTEX_RECURSIVE) {
        if (m->__data.__count == UINT_MAX)
          return EAGAIN;
        m->__data.__count++;
        return 0;
      }
      if (type == PTHREAD_MUTEX_ERRORCHECK)
        return try ? EBUSY : EDEADLK;
    }
    if (try)
      return EBUSY;
    /* A normal mutex locked twice by its owner deadlocks, as it would. */
    if (lock_wait(m, deadline, "mutex") == -ETIMEDOUT)
      return ETIMEDOUT;
  }
}

/* Unlocks m fully (count) or once. Returns 0 or EPERM. */
static int mutex_unlock(pthread_mutex_t *m)
{
  int type = m->__data.__kind & 3;

  if (type != PTHREAD_MUTEX_NORMAL && type != PTHREAD_MUTEX_ADAPTIVE_NP &&
      (m->__data.__lock == 0 || owner_of(m) != me()))
    return EPERM;
  if (type == PTHREAD_MUTEX_RECURSIVE && --m->__data.__count > 0)
    return 0;
  m->__data.__lock = 0;
  m->__data.__count = 0;
  set_owner(m, 0);
  gp__addr_wake(m, 1, 0);
  return 0;
}

GP_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
  if (!emulated_mutex(m))
    return gp__real_pthread_mutex_lock(m);
  return mutex_lock(m, GP__NEVER, 0);
}

GP_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
  if (!emulated_mutex(m))
    return gp__real_pthread_mutex_trylock(m);
  return mutex_lock(m, GP__NEVER, 1);
}

GP_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
                                      const struct timespec *abs)
{
  uint64_t deadline;
  int r;

  if (!emulated_mutex(m))
    return gp__real_pthread_mutex_clocklock(m, clock, abs);
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
    return EINVAL; /* glibc looks at the clock first */
  if ((r = mutex_lock(m, GP__NEVER, 1)) != EBUSY)
    return r; /* the time is looked at only when the call must wait */
  if ((r = deadline_of(clock, abs, &deadline)) != 0)
    return r;
  return mutex_lock(m, deadline, 0);
}

GP_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m,
                                      const struct timespec *abs)
{
  if (!emulated_mutex(m))
    return gp__real_pthread_mutex_timedlock(m, abs);
  return pthread_mutex_clocklock(m, CLOCK_REALTIME, abs);
}

GP_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
  if (!emulated_mutex(m))
    return gp__real_pthread_mutex_unlock(m);
  return mutex_unlock(m);
}

GP_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
  if (!emulated_mutex(m))
    return gp__real_pthread_mutex_destroy(m);
  if (m->__data.__lock != 0 || gp__addr_has_waiters(m))
    return EBUSY;
  m->__data.__kind = -1; /* as glibc marks a destroyed mutex */
  return 0;
}

GP_EXPORT int pthread_mutex_init(pthread_mutex_t *m,
                                 const pthread_mutexattr_t *attr)
{
  gp__real_init(); /* may run in a library's constructor, before ours */
  return gp__real_pthread_mutex_init(m, attr); /* glibc's layout, kind */
}

/* ---- condition variables ---- */

static int emulated_cond(const pthread_cond_t *c)
{
  return gp__shim_active(GP__PATCH_THREAD) &&
         !(c->__data.__wrefs & COND_SHARED);
}

/* Waits on c with m released; m is held again on return, whatever the
 * outcome. Returns 0, ETIMEDOUT or EPERM. */
static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m, uint64_t deadline)
{
  unsigned count = m->__data.__count;
  int type = m->__data.__kind & 3, r;

  if (type != PTHREAD_MUTEX_NORMAL && type != PTHREAD_MUTEX_ADAPTIVE_NP &&
      (m->__data.__lock == 0 || owner_of(m) != me()))
    return EPERM;
  /* Give the mutex up entirely, even if recursive, and wait: nothing runs
   * between the two, so no wake-up can be missed. */
  m->__data.__count = 1;
  mutex_unlock(m);
  r = gp__addr_wait(c, deadline, "condition", GP__WAIT_INTERRUPTIBLE);
  mutex_lock(m, GP__NEVER, 0);
  m->__data.__count = count ? count : 1;
  if (r == -ECANCELED)
    gp__thread_cancel_point(); /* the mutex is held, as POSIX wants */
  /* A signal or gp_kill ends the wait as a spurious wake-up would. */
  return r == -ETIMEDOUT ? ETIMEDOUT : 0;
}

GP_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
  if (!emulated_cond(c) || !emulated_mutex(m))
    return gp__real_pthread_cond_wait(c, m);
  gp__thread_cancel_point();
  return cond_wait(c, m, GP__NEVER);
}

GP_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
                                     clockid_t clock,
                                     const struct timespec *abs)
{
  uint64_t deadline;
  int r;

  if (!emulated_cond(c) || !emulated_mutex(m))
    return gp__real_pthread_cond_clockwait(c, m, clock, abs);
  if ((r = deadline_of(clock, abs, &deadline)) != 0)
    return r;
  gp__thread_cancel_point();
  return cond_wait(c, m, deadline);
}

GP_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                     const struct timespec *abs)
{
  clockid_t clock = (c->__data.__wrefs & COND_MONOTONIC) ? CLOCK_MONOTONIC
                                                          : CLOCK_REALTIME;
  if (!emulated_cond(c) || !emulated_mutex(m))
    return gp__real_pthread_cond_timedwait(c, m, abs);
  return pthread_cond_clockwait(c, m, clock, abs);
}

GP_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
  if (!emulated_cond(c))
    return gp__real_pthread_cond_signal(c);
  gp__addr_wake(c, 1, 0);
  return 0;
}

GP_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
  if (!emulated_cond(c))
    return gp__real_pthread_cond_broadcast(c);
  gp__addr_wake(c, SIZE_MAX, 0);
  return 0;
}

GP_EXPORT int pthread_cond_init(pthread_cond_t *c,
                                const pthread_condattr_t *attr)
{
  gp__real_init();
  return gp__real_pthread_cond_init(c, attr); /* sets the clock bits */
}

GP_EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
  if (!emulated_cond(c))
    return gp__real_pthread_cond_destroy(c);
  return gp__addr_has_waiters(c) ? EBUSY : 0;
}

/* ---- rwlocks ---- */

static uint64_t writer_of(const pthread_rwlock_t *rw)
{
  uint64_t w;
  memcpy(&w, &rw->__data.__pad3, sizeof(w));
  return w;
}

static void set_writer(pthread_rwlock_t *rw, uint64_t w)
{
  memcpy(&rw->__data.__pad3, &w, sizeof(w));
}

static int emulated_rw(const pthread_rwlock_t *rw)
{
  return gp__shim_active(GP__PATCH_THREAD) && rw->__data.__shared == 0;
}

static int rdlock(pthread_rwlock_t *rw, uint64_t deadline, int try)
{
  /* glibc treats PTHREAD_RWLOCK_PREFER_WRITER_NP as preferring readers. */
  int prefer_writer =
      rw->__data.__flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP;

  for (;;) {
    if (writer_of(rw) == me())
      return try ? EBUSY : EDEADLK; /* glibc's trylock does not look */
    if (writer_of(rw) == 0 && !(prefer_writer && rw->__data.__writers)) {
      if (rw->__data.__readers == UINT_MAX >> 1)
        return EAGAIN;
      rw->__data.__readers++;
      return 0;
    }
    if (try)
      return EBUSY;
    if (lock_wait(rw, deadline, "rwlock") == -ETIMEDOUT)
      return ETIMEDOUT;
  }
}

static int wrlock(pthread_rwlock_t *rw, uint64_t deadline, int try)
{
  int r = 0;

  if (writer_of(rw) == me())
    return try ? EBUSY : EDEADLK;
  rw->__data.__writers++;
  while (writer_of(rw) != 0 || rw->__data.__readers != 0) {
    if (try) {
      r = EBUSY;
      break;
    }
    if (lock_wait(rw, deadline, "rwlock") == -ETIMEDOUT) {
      r = ETIMEDOUT;
      break;
    }
  }
  rw->__data.__writers--;
  if (r == 0)
    set_writer(rw, me());
  else if (rw->__data.__writers == 0)
    gp__addr_wake(rw, SIZE_MAX, 0); /* readers held back for us go on */
  return r;
}

GP_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
  if (!emulated_rw(rw))
    return gp__real_pthread_rwlock_rdlock(rw);
  return rdlock(rw, GP__NEVER, 0);
}

GP_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *rw)
{
  if (!emulated_rw(rw))
    return gp__real_pthread_rwlock_tryrdlock(rw);
  return rdlock(rw, GP__NEVER, 1);
}

GP_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *rw,
                                         clockid_t clock,
                                         const struct timespec *abs)
{
  uint64_t deadline;
  int r;

  if (!emulated_rw(rw))
    return gp__real_pthread_rwlock_clockrdlock(rw, clock, abs);
  if ((r = deadline_of(clock, abs, &deadline)) != 0)
    return r;
  return rdlock(rw, deadline, 0);
}

GP_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *rw,
                                         const struct timespec *abs)
{
  if (!emulated_rw(rw))
    return gp__real_pthread_rwlock_timedrdlock(rw, abs);
  return pthread_rwlock_clockrdlock(rw, CLOCK_REALTIME, abs);
}

GP_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
  if (!emulated_rw(rw))
    return gp__real_pthread_rwlock_wrlock(rw);
  return wrlock(rw, GP__NEVER, 0);
}

GP_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *rw)
{
  if (!emulated_rw(rw))
    return gp__real_pthread_rwlock_trywrlock(rw);
  return wrlock(rw, GP__NEVER, 1);
}

GP_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *rw,
                                         clockid_t clock,
                                         const struct timespec *abs)
{
  uint64_t deadline;
  int r;

  if (!emulated_rw(rw))
    return gp__real_pthread_rwlock_clockwrlock(rw, clock, abs);
  if ((r = deadline_of(clock, abs, &deadline)) != 0)
    return r;
  return wrlock(rw, deadline, 0);
}

GP_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *rw,
                                         const struct timespec *abs)
{
  if (!emulated_rw(rw))
    return gp__real_pthread_rwlock_timedwrlock(rw, abs);
  return pthread_rwlock_clockwrlock(rw, CLOCK_REALTIME, abs);
}

GP_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
  if (!emulated_rw(rw))
    return gp__real_pthread_rwlock_unlock(rw);
  if (writer_of(rw) == me()) {
    set_writer(rw, 0);
  } else if (rw->__data.__readers > 0) {
    if (--rw->__data.__readers > 0)
      return 0;
  } else {
    return EPERM;
  }
  gp__addr_wake(rw, SIZE_MAX, 0);
  return 0;
}

GP_EXPORT int pthread_rwlock_init(pthread_rwlock_t *rw,
                                  const pthread_rwlockattr_t *attr)
{
  gp__real_init();
  return gp__real_pthread_rwlock_init(rw, attr);
}

GP_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t *rw)
{
  if (!emulated_rw(rw))
    return gp__real_pthread_rwlock_destroy(rw);
  return 0;
}

/* ---- spinlocks: spinning would never let the holder run, so yield ---- */

/* glibc's lock word, as its pthread_spin_init leaves it: on x86 a free lock
 * holds 1 (a lock decrements it, unlock stores 1); elsewhere 0. */
#if defined(__x86_64__) || defined(__i386__)
#define SPIN_FREE 1
#define SPIN_HELD 0
#define spin_free(v) ((v) > 0)
#else
#define SPIN_FREE 0
#define SPIN_HELD 1
#define spin_free(v) ((v) == 0)
#endif

GP_EXPORT int pthread_spin_lock(pthread_spinlock_t *l)
{
  if (!gp__shim_active(GP__PATCH_THREAD))
    return gp__real_pthread_spin_lock(l);
  while (!spin_free(*(volatile int *)l))
    gp__yield();
  *l = SPIN_HELD;
  return 0;
}

GP_EXPORT int pthread_spin_trylock(pthread_spinlock_t *l)
{
  if (!gp__shim_active(GP__PATCH_THREAD))
    return gp__real_pthread_spin_trylock(l);
  if (!spin_free(*l))
    return EBUSY;
  *l = SPIN_HELD;
  return 0;
}

GP_EXPORT int pthread_spin_unlock(pthread_spinlock_t *l)
{
  if (!gp__shim_active(GP__PATCH_THREAD))
    return gp__real_pthread_spin_unlock(l);
  *l = SPIN_FREE;
  return 0;
}

/* ---- barriers ---- */

/* glibc 2.36's struct pthread_barrier (sysdeps/nptl/internaltypes.h). */
struct barrier {
  unsigned int in;            /* threads that arrived this round */
  unsigned int current_round; /* rounds completed */
  unsigned int count;         /* threads per round */
  int shared;                 /* SHARED_FUTEX when process-shared */
  unsigned int out;           /* glibc's; unused here */
};
_Static_assert(sizeof(struct barrier) <= sizeof(pthread_barrier_t),
               "barrier layout");

GP_EXPORT int pthread_barrier_wait(pthread_barrier_t *pb)
{
  struct barrier *b = (struct barrier *)pb;
  unsigned round;

  if (!gp__shim_active(GP__PATCH_THREAD) || b->shared == SHARED_FUTEX)
    return gp__real_pthread_barrier_wait(pb);
  if (++b->in >= b->count) {
    b->in = 0;
    b->current_round++;
    gp__addr_wake(b, SIZE_MAX, 0);
    return PTHREAD_BARRIER_SERIAL_THREAD;
  }
  round = b->current_round;
  while (b->current_round == round)
    lock_wait(b, GP__NEVER, "barrier");
  return 0;
}

GP_EXPORT int pthread_barrier_init(pthread_barrier_t *pb,
                                   const pthread_barrierattr_t *attr,
                                   unsigned int count)
{
  gp__real_init();
  return gp__real_pthread_barrier_init(pb, attr, count);
}

GP_EXPORT int pthread_barrier_destroy(pthread_barrier_t *pb)
{
  struct barrier *b = (struct barrier *)pb;
  if (!gp__shim_active(GP__PATCH_THREAD) || b->shared == SHARED_FUTEX)
    return gp__real_pthread_barrier_destroy(pb);
  return b->in != 0 ? EBUSY : 0;
}

/* ---- once ---- */

GP_EXPORT int pthread_once(pthread_once_t *once, void (*init)(void))
{
  volatile int *o = (volatile int *)once;

  if (!gp__shim_active(GP__PATCH_THREAD))
    return gp__real_pthread_once(once, init);
  while (*o == 1) /* another thread runs init: wait for it */
    lock_wait((const void *)once, GP__NEVER, "once");
  if (*o == 0) {
    *o = 1;
    init();
    *o = 2;
    gp__addr_wake((const void *)once, SIZE_MAX, 0);
  }
  return 0;
}

/* ---- semaphores ---- */

static uint32_t *sem_value(sem_t *s)
{
  return (uint32_t *)(void *)s; /* the low half of glibc's first word */
}

static int emulated_sem(sem_t *s)
{
  const int *priv = (const int *)((const char *)s + 8);
  return gp__shim_active(GP__PATCH_THREAD) && *priv != SHARED_FUTEX;
}

/* Waits for the semaphore. Returns 0 or -1 with errno. */
static int sem_take(sem_t *s, uint64_t deadline)
{
  gp__thread_cancel_point();
  while (*sem_value(s) == 0) {
    int r = gp__addr_wait(s, deadline, "semaphore", GP__WAIT_INTERRUPTIBLE);
    if (r == 0)
      continue;
    if (r == -EINTR && gp__signal_restarts())
      continue;
    if (r == -ECANCELED)
      gp__thread_cancel_point();
    errno = r == -ETIMEDOUT ? ETIMEDOUT : EINTR;
    return -1;
  }
  (*sem_value(s))--;
  return 0;
}

/* A process-shared semaphore stays the kernel's: other processes use it.
 * Its real wait would stop every coroutine of the thread, among them the
 * one that may be about to post it (multiprocessing's locks are such
 * semaphores). So while other coroutines live it is taken with
 * sem_trywait, the caller parked between tries: woken at once by a post of
 * this process, and after 1, 2, then every 4 ms for one of another
 * process. A lone coroutine waits the real way. Returns 0, -1 with errno,
 * or 1 when the real wait is to be made. */
static int shared_take(sem_t *s, uint64_t deadline)
{
  uint64_t pause = 1000000;

  if (!gp__shim_active(GP__PATCH_THREAD) || gp__sched_alone())
    return 1;
  gp__thread_cancel_point();
  for (;;) {
    uint64_t until = gp__now() + pause;
    int r;
    if (gp__real_sem_trywait(s) == 0)
      return 0;
    if (errno != EAGAIN)
      return -1; /* EINVAL */
    r = gp__addr_wait(s, until < deadline ? until : deadline,
                      "process-shared semaphore", GP__WAIT_INTERRUPTIBLE);
    if (r == 0)
      continue; /* a post of this process */
    if (r == -ETIMEDOUT && until < deadline)
      pause = pause < 4000000 ? 2 * pause : pause;
    else if (r == -EINTR && gp__signal_restarts())
      continue;
    else if (r == -ETIMEDOUT && gp__real_sem_trywait(s) == 0)
      return 0; /* came just in time */
    else {
      if (r == -ECANCELED)
        gp__thread_cancel_point();
      errno = r == -ETIMEDOUT ? ETIMEDOUT : EINTR;
      return -1;
    }
  }
}

GP_EXPORT int sem_wait(sem_t *s)
{
  int r;
  if (!emulated_sem(s)) {
    if ((r = shared_take(s, GP__NEVER)) <= 0)
      return r;
    return gp__real_sem_wait(s);
  }
  return sem_take(s, GP__NEVER);
}

GP_EXPORT int sem_trywait(sem_t *s)
{
  if (!emulated_sem(s))
    return gp__real_sem_trywait(s);
  if (*sem_value(s) == 0) {
    errno = EAGAIN;
    return -1;
  }
  (*sem_value(s))--;
  return 0;
}

GP_EXPORT int sem_clockwait(sem_t *s, clockid_t clock,
                            const struct timespec *abs)
{
  uint64_t deadline;
  int r;

  if (!emulated_sem(s)) {
    if (deadline_of(clock, abs, &deadline) != 0 ||
        (r = shared_take(s, deadline)) > 0)
      return gp__real_sem_clockwait(s, clock, abs); /* and its EINVAL */
    return r;
  }
  if ((r = deadline_of(clock, abs, &deadline)) != 0) {
    errno = r;
    return -1;
  }
  return sem_take(s, deadline);
}

/* glibc's sem_timedwait is sem_clockwait on CLOCK_REALTIME. */
GP_EXPORT int sem_timedwait(sem_t *s, const struct timespec *abs)
{
  return sem_clockwait(s, CLOCK_REALTIME, abs);
}

GP_EXPORT int sem_post(sem_t *s)
{
  if (!emulated_sem(s)) {
    int r = gp__real_sem_post(s);
    if (r == 0 && gp__shim_active(GP__PATCH_THREAD))
      gp__addr_wake(s, 1, 0); /* a coroutine of ours in shared_take */
    return r;
  }
  if (*sem_value(s) >= SEM_VALUE_MAX) {
    errno = EOVERFLOW;
    return -1;
  }
  (*sem_value(s))++;
  gp__addr_wake(s, 1, 0);
  return 0;
}

GP_EXPORT int sem_getvalue(sem_t *s, int *value)
{
  if (!emulated_sem(s))
    return gp__real_sem_getvalue(s, value);
  *value = (int)*sem_value(s);
  return 0;
}

GP_EXPORT int sem_init(sem_t *s, int pshared, unsigned int value)
{
  gp__real_init();
  return gp__real_sem_init(s, pshared, value);
}

GP_EXPORT int sem_destroy(sem_t *s)
{
  if (!emulated_sem(s))
    return gp__real_sem_destroy(s);
  return 0;
}
