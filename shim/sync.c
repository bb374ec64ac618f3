/* sync.c: pthread mutexes, condition variables, rwlocks, spinlocks,
 * barriers, once, and POSIX semaphores, shared by coroutines on any
 * scheduler and threads the runtime does not own.
 *
 * Objects keep glibc's ABI: they are initialised by glibc's own init
 * functions (pure memory writes; all-zero static initializers and
 * PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP work without one), and their
 * state lives in glibc's fields. Every caller — a coroutine, a real thread
 * of a library (jemalloc's, libuv's), the runtime itself — runs the same
 * algorithms on the same words, futex style: a coroutine waits by parking
 * (core/wait.h, gp__addr_wait), a thread by a real futex wait on the same
 * word, and a wake reaches both. Uncontended, each lock and unlock is one
 * atomic operation. Process-shared objects are left to glibc, whole.
 *
 * State, by object (glibc 2.36 layout, fields named as in its headers):
 *   mutex:   __lock 0 free, 1 locked, 2 locked and maybe waited for;
 *            __count recursion; __owner+__nusers (8 bytes) the owner's id;
 *            __kind the type as glibc set it;
 *   cond:    __g_signals[0] a sequence that signals move on, __g_signals[1]
 *            one that broadcasts move on, __g_size (8 bytes) the waiters and
 *            the signals pending, __g_refs[0] the waiters inside for the
 *            destroy, __wrefs the clock and process-shared bits;
 *   rwlock:  __readers the lock word (readers, WRITER, WAITERS), __writers
 *            writers waiting, __pad3+__pad4 (8 bytes) the writer's id,
 *            __flags the kind;
 *   barrier: glibc's {in, current_round, count, shared, out}, out a lock;
 *   sem:     the low 32 bits of the first word the value, the high the
 *            waiters;
 *   once:    0, 1 running, 2 done;
 *   spin:    glibc's word (on x86, 1 is free). */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define PSHARED_MUTEX 128 /* __kind bit of a process-shared mutex */
#define ROBUST_MUTEX  16  /* __kind bit of a robust mutex */
#define PRIO_PROTECT  64  /* __kind bit of a priority-protecting mutex */
/* __kind bits of a robust, priority-inheriting or -protecting mutex */
#define MUTEX_PROTOCOL_BITS (16 | 32 | PRIO_PROTECT)
#define SHARED_FUTEX        128 /* glibc's marker of a process-shared sem/barrier */
#define COND_SHARED         1 /* __wrefs bits of a condition variable */
#define COND_MONOTONIC      2

/* Thread patching is on: the objects are the runtime's. Looked at once
 * the configuration has been read. */
static int patched(void)
{
  gp__runtime_init();
  return (gp__config.patch & GP__PATCH_THREAD) != 0;
}

/* How the caller waits: an application coroutine parks; anyone else (a
 * thread the runtime does not own, the runtime's own code) waits in the
 * kernel. */
static int how(void)
{
  return gp__shim_active(GP__PATCH_THREAD) ? 0 : GP__WAIT_THREAD;
}

/* The caller's id for ownership: its coroutine's (never used again, as
 * a struct is when a thread has ended and another starts: that one must
 * not own what the ended one held), or its thread's. */
static uint64_t me(void)
{
  uint64_t id = gp__tls.depth ? 0 : gp__self_id();
  return id ? id << 1 : (uint64_t)gp__real_pthread_self() | 1;
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

/* Calls that never wait still count towards a coroutine's time slice: a
 * loop of lock calls that always succeed (a lock taken and given back)
 * must let the others run now and then, as preemption would. The clock is
 * looked at every 64th call; a coroutine that holds a mutex is not made
 * to yield (gp__slice). */
static void tick(void)
{
  static __thread unsigned calls;
  if ((++calls & 63) == 0 && gp__shim_active(GP__PATCH_THREAD))
    gp__slice();
}

/* ---- process-shared objects ----
 * They stay glibc's (or the kernel's): other processes use them. A real
 * wait on one would stop every coroutine of the OS thread, among them the
 * one that may be about to post or unlock it. So while other coroutines
 * live it is taken by tries that never wait, the caller parked between
 * tries: woken at once by a post, unlock or signal of this process, and
 * after 1, 2, then every 4 ms for one of another process. */

#define SHARED_BUSY 1 /* what a take returns when it must wait */

/* Whether a semaphore's wait that a signal handler interrupted goes on:
 * with SA_RESTART, and no deadline (glibc's sem_timedwait and
 * sem_clockwait fail with EINTR whatever SA_RESTART says). */
static int restarts(uint64_t deadline)
{
  return deadline == GP__NEVER && gp__signal_restarts();
}

static int shared_parks(void)
{
  return gp__shim_active(GP__PATCH_THREAD) && !gp__sched_alone();
}

/* Before glibc's own wait on a process-shared object that is not taken by
 * tries (a barrier, an rwlock, a robust or recursive mutex…), made while
 * other coroutines live: said once on stderr, since it stops them. */
static void shared_real_wait(const char *what)
{
  static int said;
  if (shared_parks() && !__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
    gp__debug_out(2,
                  "gpatch: a thread waits in glibc's own wait on a "
                  "process-shared %s: the other threads of its OS thread "
                  "stop meanwhile, and hang if one of them is to end the "
                  "wait (see README, Limitations)\n",
                  what);
}

/* Tries take(obj) — 0 when taken, SHARED_BUSY, or a negative error
 * number — parked on word between tries, until it takes or fails. Returns
 * 0, take's error, or what the park ended with (-ETIMEDOUT at the
 * deadline, -EINTR for a signal handler that does not restart, when flags
 * say interruptible; -ECANCELED unless they say uncancelable). */
static int shared_retry(uint32_t *word, int (*take)(void *), void *obj,
                        uint64_t deadline, const char *what, int flags)
{
  uint64_t pause = 1000000;

  for (;;) {
    uint64_t until = gp__now() + pause;
    uint32_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
    int r = take(obj);
    if (r != SHARED_BUSY)
      return r;
    r = gp__addr_wait(word, v, until < deadline ? until : deadline, what,
                      flags);
    if (r == 0 || r == -EAGAIN)
      continue; /* a post or unlock of this process, or a change */
    if (r == -ETIMEDOUT && until < deadline)
      pause = pause < 4000000 ? 2 * pause : pause;
    else if (r == -EINTR && restarts(deadline))
      continue;
    else if (r == -ETIMEDOUT && take(obj) == 0)
      return 0; /* came just in time */
    else
      return r;
  }
}

/* ---- mutexes ---- */

static uint32_t *mutex_word(pthread_mutex_t *m)
{
  return (uint32_t *)&m->__data.__lock;
}

static uint64_t owner_of(const pthread_mutex_t *m)
{
  return __atomic_load_n((const uint64_t *)(const void *)&m->__data.__owner,
                         __ATOMIC_RELAXED);
}

static void set_owner(pthread_mutex_t *m, uint64_t o)
{
  __atomic_store_n((uint64_t *)(void *)&m->__data.__owner, o, __ATOMIC_RELAXED);
}

/* ---- robust mutexes ----
 * glibc marks every robust mutex process-shared (the kernel walks a dying
 * thread's list of them); one made private is the runtime's
 * (pthread_mutex_init), and the runtime does what the kernel would: a
 * thread that ends holding one gives it to the next locker with
 * EOWNERDEAD. Its state is in __spins, which glibc uses for adaptive
 * mutexes only; the mutexes a thread holds are linked through __list, as
 * glibc links them. */
#define ROBUST_DEAD          ((uint64_t)-2) /* owner: ended holding it */
#define ROBUST_INCONSISTENT  1 /* taken with EOWNERDEAD, not made consistent */
#define ROBUST_UNRECOVERABLE 2 /* given back inconsistent: never again */

static int robust(const pthread_mutex_t *m)
{
  return (m->__data.__kind & ROBUST_MUTEX) != 0;
}

static int robust_state(const pthread_mutex_t *m)
{
  return __atomic_load_n(&m->__data.__spins, __ATOMIC_ACQUIRE);
}

static void robust_set(pthread_mutex_t *m, int state)
{
  __atomic_store_n(&m->__data.__spins, state, __ATOMIC_RELEASE);
}

/* In (list: the caller's, or NULL) or out of the list of those held. */
static void robust_link(pthread_mutex_t *m, __pthread_list_t *list)
{
  __pthread_list_t *n = &m->__data.__list;
  if (list == NULL) {
    n->__prev = n->__next = NULL;
    return;
  }
  n->__next = list->__next;
  n->__prev = list;
  list->__next->__prev = n;
  list->__next = n;
}

static void robust_unlink(pthread_mutex_t *m)
{
  __pthread_list_t *n = &m->__data.__list;
  if (n->__next != NULL) {
    n->__next->__prev = n->__prev;
    n->__prev->__next = n->__next;
  }
  n->__prev = n->__next = NULL;
}

/* Gives m's word back (its owner already cleared) and wakes one waiter
 * if some wait: the end of an unlock, and of a robust mutex's owner. */
static void word_release(pthread_mutex_t *m)
{
  uint32_t *w = mutex_word(m);
  if (gp__tls.locks_held > 0) /* not when another than the locker unlocks,
                                 which glibc allows for a normal mutex */
    gp__tls.locks_held--;
  if (__atomic_exchange_n(w, 0, __ATOMIC_RELEASE) == 2)
    gp__addr_wake(w, 1);
}

void gp__sync_robust_died(__pthread_list_t *list)
{
  while (list->__next != list) {
    pthread_mutex_t *m =
        GP__CONTAINER(list->__next, pthread_mutex_t, __data.__list);
    robust_unlink(m);
    m->__data.__count = 0;
    robust_set(m, 0); /* the next owner gets EOWNERDEAD, consistent or not */
    set_owner(m, ROBUST_DEAD);
    word_release(m);
  }
}

/* Not process-shared, nor priority-protecting (glibc keeps the ceiling in
 * the lock word, and its lock checks it against the caller's priority). */
static int emulated_mutex(const pthread_mutex_t *m)
{
  return patched() && !(m->__data.__kind & (PSHARED_MUTEX | PRIO_PROTECT));
}

/* A process-shared mutex taken by tries: a normal or adaptive one, not
 * robust, inheriting or protecting priority (glibc tells the owners of
 * those apart by OS thread, which coroutines share; they wait for real). */
static int shared_mutex_parks(const pthread_mutex_t *m)
{
  int kind = m->__data.__kind;
  return (kind & PSHARED_MUTEX) && !(kind & MUTEX_PROTOCOL_BITS) &&
         ((kind & 3) == PTHREAD_MUTEX_NORMAL ||
          (kind & 3) == PTHREAD_MUTEX_ADAPTIVE_NP) &&
         shared_parks();
}

static void mutex_real_wait(const pthread_mutex_t *m)
{
  if (m->__data.__kind & PSHARED_MUTEX)
    shared_real_wait("mutex");
}

static int shared_mutex_take(void *m)
{
  int r = gp__real_pthread_mutex_trylock(m);
  return r == EBUSY ? SHARED_BUSY : -r;
}

static int shared_mutex_lock(pthread_mutex_t *m, uint64_t deadline)
{
  int r = shared_retry(mutex_word(m), shared_mutex_take, m, deadline,
                       "process-shared mutex", GP__WAIT_UNCANCELABLE);
  return r == -ETIMEDOUT || r == -GP__EXPIRED ? ETIMEDOUT : -r;
}

static int shared_mutex_unlock(pthread_mutex_t *m)
{
  int r = gp__real_pthread_mutex_unlock(m);
  if (r == 0 && patched())
    gp__addr_wake(mutex_word(m), 1); /* a coroutine of ours between tries */
  return r;
}

/* Nonzero when m checks its owner (errorcheck, recursive, and every robust
 * mutex, as glibc's) and the caller does not hold it: an unlock or a
 * condition wait says EPERM. */
static int not_held(pthread_mutex_t *m)
{
  int type = m->__data.__kind & 3;
  return (robust(m) || (type != PTHREAD_MUTEX_NORMAL &&
                        type != PTHREAD_MUTEX_ADAPTIVE_NP)) &&
         (__atomic_load_n(mutex_word(m), __ATOMIC_RELAXED) == 0 ||
          owner_of(m) != me());
}

/* A robust mutex just taken (its word) by self. */
static int robust_taken(pthread_mutex_t *m, uint64_t self)
{
  uint32_t *w = mutex_word(m);
  uint64_t was = owner_of(m);

  if (robust_state(m) & ROBUST_UNRECOVERABLE) {
    m->__data.__count = 0;
    if (__atomic_exchange_n(w, 0, __ATOMIC_RELEASE) == 2)
      gp__addr_wake(w, SIZE_MAX);
    return ENOTRECOVERABLE;
  }
  set_owner(m, self);
  gp__tls.locks_held++;
  robust_link(m, gp__thread_robust_list());
  if (was != ROBUST_DEAD)
    return 0;
  robust_set(m, ROBUST_INCONSISTENT);
  return EOWNERDEAD;
}

/* Locks m, waiting until the deadline (as a thread with GP__WAIT_THREAD
 * in wait, else as how() says). Returns 0 or an error number. */
static int mutex_lock(pthread_mutex_t *m, uint64_t deadline, int try, int wait)
{
  int type = m->__data.__kind & 3;
  uint32_t *w = mutex_word(m), zero = 0;
  uint64_t self = me();

  if (robust(m) && (robust_state(m) & ROBUST_UNRECOVERABLE))
    return ENOTRECOVERABLE;
  if (type != PTHREAD_MUTEX_NORMAL && type != PTHREAD_MUTEX_ADAPTIVE_NP &&
      owner_of(m) == self) {
    if (type == PTHREAD_MUTEX_RECURSIVE) {
      if (m->__data.__count == UINT_MAX)
        return EAGAIN;
      m->__data.__count++;
      return 0;
    }
    return try && !robust(m) ? EBUSY : EDEADLK; /* glibc's, robust or not */
  }
  if (!__atomic_compare_exchange_n(w, &zero, 1, 0, __ATOMIC_ACQUIRE,
                                   __ATOMIC_RELAXED)) {
    if (try)
      return EBUSY;
    /* A normal mutex locked twice by its owner deadlocks, as it would. */
    while (__atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE) != 0)
      if (gp__addr_wait(w, 2, deadline, "mutex",
                        GP__WAIT_UNCANCELABLE | (wait ? wait : how())) ==
          -ETIMEDOUT)
        return ETIMEDOUT;
  }
  m->__data.__count = 1;
  if (robust(m))
    return robust_taken(m, self);
  set_owner(m, self);
  gp__tls.locks_held++;
  return 0;
}

/* Unlocks m fully (count) or once. Returns 0 or EPERM. */
static int mutex_unlock(pthread_mutex_t *m)
{
  int type = m->__data.__kind & 3;
  uint32_t *w = mutex_word(m);

  if (not_held(m))
    return EPERM;
  if (type == PTHREAD_MUTEX_RECURSIVE && --m->__data.__count > 0)
    return 0;
  m->__data.__count = 0;
  set_owner(m, 0);
  if (robust(m)) {
    robust_unlink(m);
    if (robust_state(m) & ROBUST_INCONSISTENT) {
      robust_set(m, ROBUST_UNRECOVERABLE); /* every waiter fails */
      if (gp__tls.locks_held > 0)
        gp__tls.locks_held--;
      __atomic_store_n(w, 0, __ATOMIC_RELEASE);
      gp__addr_wake(w, SIZE_MAX);
      return 0;
    }
  }
  word_release(m);
  return 0;
}

/* A lock call from code whose thread-local state is the OS thread's
 * (an allocator's, core/tls.c) must not switch coroutines: no time slice, and a
 * wait in the kernel. Else 0: the call may switch. */
static int no_switch(const void *caller)
{
  return gp__tls_os_thread_code(caller) ? GP__WAIT_THREAD : 0;
}

GP_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
  int wait;
  if (!emulated_mutex(m)) {
    if (shared_mutex_parks(m))
      return shared_mutex_lock(m, GP__NEVER);
    mutex_real_wait(m);
    return gp__real_pthread_mutex_lock(m);
  }
  if (!(wait = no_switch(__builtin_return_address(0))))
    tick();
  return mutex_lock(m, GP__NEVER, 0, wait);
}

GP_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
  if (!emulated_mutex(m))
    return gp__real_pthread_mutex_trylock(m);
  if (!no_switch(__builtin_return_address(0)))
    tick();
  return mutex_lock(m, GP__NEVER, 1, 0);
}

GP_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
                                      const struct timespec *abs)
{
  uint64_t deadline;
  int r;

  if (!emulated_mutex(m) && !shared_mutex_parks(m)) {
    mutex_real_wait(m);
    return gp__real_pthread_mutex_clocklock(m, clock, abs);
  }
  if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
    return EINVAL; /* glibc looks at the clock first */
  if (emulated_mutex(m) && (m->__data.__kind & 3) == PTHREAD_MUTEX_ERRORCHECK &&
      owner_of(m) == me())
    return EDEADLK; /* before the time, as glibc */
  if ((r = emulated_mutex(m) ? mutex_lock(m, GP__NEVER, 1, 0)
                             : gp__real_pthread_mutex_trylock(m)) != EBUSY)
    return r; /* the time is looked at only when the call must wait */
  if ((r = deadline_of(clock, abs, &deadline)) != 0)
    return r;
  return emulated_mutex(m) ? mutex_lock(m, deadline, 0, 0)
                           : shared_mutex_lock(m, deadline);
}

GP_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m,
                                      const struct timespec *abs)
{
  if (!emulated_mutex(m) && !shared_mutex_parks(m)) {
    mutex_real_wait(m);
    return gp__real_pthread_mutex_timedlock(m, abs);
  }
  return pthread_mutex_clocklock(m, CLOCK_REALTIME, abs);
}

GP_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
  if (!emulated_mutex(m))
    return shared_mutex_unlock(m);
  return mutex_unlock(m);
}

GP_EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
  if (!emulated_mutex(m))
    return gp__real_pthread_mutex_destroy(m);
  if (__atomic_load_n(mutex_word(m), __ATOMIC_ACQUIRE) != 0 ||
      gp__addr_has_waiters(mutex_word(m)))
    return EBUSY;
  m->__data.__kind = -1; /* as glibc marks a destroyed mutex */
  return 0;
}

GP_EXPORT int pthread_mutex_init(pthread_mutex_t *m,
                                 const pthread_mutexattr_t *attr)
{
  int r, shared = PTHREAD_PROCESS_PRIVATE;

  gp__real_init(); /* may run in a library's constructor, before ours */
  r = gp__real_pthread_mutex_init(m, attr); /* glibc's layout, kind */
  /* A private robust one is the runtime's (robust mutexes, above). */
  if (r == 0 && robust(m) && patched() &&
      (attr == NULL || (pthread_mutexattr_getpshared(attr, &shared) == 0 &&
                        shared == PTHREAD_PROCESS_PRIVATE)))
    m->__data.__kind &= ~PSHARED_MUTEX;
  return r;
}

static int mutex_consistent(pthread_mutex_t *m)
{
  if (!emulated_mutex(m))
    return gp__real_pthread_mutex_consistent(m);
  if (!robust(m) || !(robust_state(m) & ROBUST_INCONSISTENT))
    return EINVAL;
  robust_set(m, 0);
  return 0;
}

GP_EXPORT int pthread_mutex_consistent(pthread_mutex_t *m)
{
  return mutex_consistent(m);
}

/* glibc's header redirects the _np name to the other; its old symbol
 * stays for programs linked before. */
GP_EXPORT int
mutex_consistent_np(pthread_mutex_t *m) __asm__("pthread_mutex_consistent_np");
GP_EXPORT int mutex_consistent_np(pthread_mutex_t *m)
{
  return mutex_consistent(m);
}

/* ---- the waiters inside an object, for its destroy ----
 * A count of the waiters not yet out of a condition variable or barrier,
 * with DESTROYING set once its destroy waits for them: as glibc's, a
 * destroy right after a broadcast or a barrier's last arrival waits until
 * the woken have left, returns 0, and the memory is the caller's again. */

#define DESTROYING 0x80000000u

static void inside_enter(uint32_t *inside)
{
  __atomic_fetch_add(inside, 1, __ATOMIC_RELAXED);
}

/* A waiter's last touch of the object: a destroy waiting for it may
 * return, and the caller free the memory (the wake names the address
 * only). */
static void inside_leave(uint32_t *inside)
{
  if (__atomic_sub_fetch(inside, 1, __ATOMIC_SEQ_CST) == DESTROYING)
    gp__addr_wake(inside, SIZE_MAX);
}

/* A destroy: waits until no waiter is inside. */
static void inside_wait_empty(uint32_t *inside, const char *what)
{
  uint32_t v = __atomic_or_fetch(inside, DESTROYING, __ATOMIC_SEQ_CST);
  while (v != DESTROYING) {
    gp__addr_wait(inside, v, GP__NEVER, what, GP__WAIT_UNCANCELABLE | how());
    v = __atomic_load_n(inside, __ATOMIC_SEQ_CST);
  }
}

/* ---- condition variables ---- */

static uint32_t *cond_seq(pthread_cond_t *c)
{
  return &c->__data.__g_signals[0];
}

/* The waiters and the signals not yet taken, in one 64-bit word (low half
 * waiters, high half signals), changed together: a waiter that takes a
 * signal stops being counted in the same step. Counted apart, a signal
 * made between the two saw the leaving waiter, added a signal for it that
 * nobody was woken to take, and every later signal found as many pending
 * as waiters and woke nobody: producers and consumers of a queue all
 * waited (d_thread_cond_storm). A waiter returns for a signal only by
 * taking one, so that a signal ends one wait, as glibc's does (a waiter
 * that had not gone to sleep yet when the sequence moved would otherwise
 * return too). */
typedef uint64_t __attribute__((may_alias)) cond_word_t;
#define COND_WAITER ((uint64_t)1)
#define COND_SIGNAL ((uint64_t)1 << 32)

_Static_assert(offsetof(pthread_cond_t, __data.__g_size) % 8 == 0 &&
                   _Alignof(pthread_cond_t) >= 8,
               "a condition variable's __g_size is one aligned 64-bit word");

static cond_word_t *cond_word(pthread_cond_t *c)
{
  return (cond_word_t *)(void *)&c->__data.__g_size[0];
}

static uint32_t waiters_of(uint64_t v)
{
  return (uint32_t)v;
}

static uint32_t signals_of(uint64_t v)
{
  return (uint32_t)(v >> 32);
}

/* Moves on at each broadcast: it ends every wait begun before it. */
static uint32_t *cond_bcast(pthread_cond_t *c)
{
  return &c->__data.__g_signals[1];
}

/* The waiters inside cond_wait, for the destroy. */
static uint32_t *cond_inside(pthread_cond_t *c)
{
  return &c->__data.__g_refs[0];
}

/* Takes one from the count at w when it is above 0; nonzero if taken
 * (a semaphore's value). */
static int take_one(uint32_t *w)
{
  uint32_t v = __atomic_load_n(w, __ATOMIC_ACQUIRE);
  while (v > 0)
    if (__atomic_compare_exchange_n(w, &v, v - 1, 1, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
      return 1;
  return 0;
}

/* A waiter leaves: with a signal when took (one must be pending; nonzero
 * if one was), else without one, and then no more signals stay pending
 * than waiters (one leaving by a timeout takes back the one no waiter is
 * left to take). Returns the signals still pending after it. */
static uint32_t cond_leave(pthread_cond_t *c, int take, int *took)
{
  cond_word_t *w = cond_word(c);
  uint64_t v = __atomic_load_n(w, __ATOMIC_ACQUIRE), n;

  do {
    uint32_t wt = waiters_of(v) - 1, sg = signals_of(v);
    *took = take && sg > 0;
    if (take && !*took)
      return sg; /* none to take: it goes on waiting, still counted */
    if (*took)
      sg--;
    n = ((uint64_t)(sg < wt ? sg : wt) << 32) | wt;
  } while (!__atomic_compare_exchange_n(w, &v, n, 1, __ATOMIC_SEQ_CST,
                                        __ATOMIC_ACQUIRE));
  return signals_of(n);
}

static int emulated_cond(const pthread_cond_t *c)
{
  return patched() && !(c->__data.__wrefs & COND_SHARED);
}

static void cond_wake(pthread_cond_t *c, size_t n);

/* Waits on c with m released; m is held again on return, whatever the
 * outcome. Returns 0, ETIMEDOUT or EPERM. */
static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m, uint64_t deadline)
{
  unsigned count = m->__data.__count;
  int r, lr, took = 0;
  uint32_t seq, bcast;

  if (not_held(m))
    return EPERM;
  /* Counted and the sequence read while m is held: a signal made after m
   * is released moves the sequence, and the wait below sees it. */
  inside_enter(cond_inside(c));
  __atomic_fetch_add(cond_word(c), COND_WAITER, __ATOMIC_SEQ_CST);
  bcast = __atomic_load_n(cond_bcast(c), __ATOMIC_SEQ_CST);
  seq = __atomic_load_n(cond_seq(c), __ATOMIC_SEQ_CST);
  m->__data.__count = 1;
  mutex_unlock(m); /* entirely, even if recursive */
  for (;;) {
    r = gp__addr_wait(cond_seq(c), seq, deadline, "condition",
                      GP__WAIT_INTERRUPTIBLE | how());
    /* Read before looking for a signal: one made after it moves it, and
     * the next wait returns at once. */
    seq = __atomic_load_n(cond_seq(c), __ATOMIC_SEQ_CST);
    if (__atomic_load_n(cond_bcast(c), __ATOMIC_SEQ_CST) != bcast) {
      r = 0; /* woken, even if the deadline passed meanwhile (glibc) */
      break;
    }
    cond_leave(c, 1, &took);
    if (took) {
      r = 0;
      break;
    }
    if (r != 0 && r != -EAGAIN && r != -EINTR)
      break; /* a deadline, a cancel: none taken */
    /* A signal handler has run (in the park): the wait goes on, as
     * glibc's does. */
  }
  /* Leaving without a signal (a broadcast, a deadline…): a signal still
   * pending may have spent its wake on this waiter (a broadcast had woken
   * every waiter when it was made), so another is woken to take it; else
   * it would stay pending beside a waiter asleep, and count against later
   * signals as one already given (d_thread_cond_bcast). */
  if (!took && cond_leave(c, 0, &took) > 0)
    cond_wake(c, 1);
  inside_leave(cond_inside(c)); /* the last touch of c */
  lr = mutex_lock(m, GP__NEVER, 0, 0);
  if (lr == ENOTRECOVERABLE)
    return lr; /* a robust mutex given back inconsistent: not held */
  m->__data.__count = count ? count : 1;
  if (r == -ECANCELED)
    gp__thread_cancel_point(); /* the mutex is held, as POSIX wants */
  if (lr != 0)
    return lr; /* EOWNERDEAD: its owner ended meanwhile, as glibc says */
  /* A gp_kill ends the wait as a spurious wake-up would. */
  return r == -ETIMEDOUT || r == -GP__EXPIRED ? ETIMEDOUT : 0;
}

/* A process-shared condition variable whose mutex is taken by tries (see
 * process-shared objects) is waited on by parking: glibc's own wait would
 * stop the coroutine that is to signal it. */
static int shared_cond_parks(const pthread_cond_t *c, const pthread_mutex_t *m)
{
  return (c->__data.__wrefs & COND_SHARED) && shared_mutex_parks(m);
}

/* Before glibc's own wait, when either object is process-shared. */
static void cond_real_wait(const pthread_cond_t *c, const pthread_mutex_t *m)
{
  if ((c->__data.__wrefs & COND_SHARED) || (m->__data.__kind & PSHARED_MUTEX))
    shared_real_wait("condition variable or mutex");
}

/* What such waiters park on, and a signal of this process wakes. */
static uint32_t *shared_cond_key(pthread_cond_t *c)
{
  return &c->__data.__wrefs;
}

/* The mutex given back, the caller parks until a signal or broadcast of
 * this process wakes it, or 2 ms at most: one of another process changes
 * nothing this process can watch, so the wait ends then as a spurious
 * wake-up (POSIX allows them; the caller's predicate loop waits again).
 * The mutex is taken again. Returns 0 or ETIMEDOUT. */
static int shared_cond_wait(pthread_cond_t *c, pthread_mutex_t *m,
                            uint64_t deadline)
{
  uint32_t *key = shared_cond_key(c);
  uint32_t v = __atomic_load_n(key, __ATOMIC_ACQUIRE);
  uint64_t until = gp__now() + 2000000;
  int r;

  if ((r = shared_mutex_unlock(m)) != 0)
    return r;
  r = gp__addr_wait(key, v, until < deadline ? until : deadline,
                    "process-shared condition", GP__WAIT_INTERRUPTIBLE);
  shared_mutex_lock(m, GP__NEVER);
  if (r == -ECANCELED)
    gp__thread_cancel_point(); /* the mutex is held, as POSIX wants */
  return (r == -ETIMEDOUT || r == -GP__EXPIRED) && deadline <= until ? ETIMEDOUT
                                                                     : 0;
}

GP_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
  if (!emulated_cond(c) || !emulated_mutex(m)) {
    if (!shared_cond_parks(c, m)) {
      cond_real_wait(c, m);
      return gp__real_pthread_cond_wait(c, m);
    }
    gp__thread_cancel_point();
    return shared_cond_wait(c, m, GP__NEVER);
  }
  gp__thread_cancel_point();
  return cond_wait(c, m, GP__NEVER);
}

GP_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
                                     clockid_t clock,
                                     const struct timespec *abs)
{
  uint64_t deadline;
  int r;

  if ((!emulated_cond(c) || !emulated_mutex(m)) && !shared_cond_parks(c, m)) {
    cond_real_wait(c, m);
    return gp__real_pthread_cond_clockwait(c, m, clock, abs);
  }
  if ((r = deadline_of(clock, abs, &deadline)) != 0)
    return r;
  gp__thread_cancel_point();
  return emulated_cond(c) ? cond_wait(c, m, deadline)
                          : shared_cond_wait(c, m, deadline);
}

GP_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                     const struct timespec *abs)
{
  clockid_t clock =
      (c->__data.__wrefs & COND_MONOTONIC) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
  if ((!emulated_cond(c) || !emulated_mutex(m)) && !shared_cond_parks(c, m)) {
    cond_real_wait(c, m);
    return gp__real_pthread_cond_timedwait(c, m, abs);
  }
  return pthread_cond_clockwait(c, m, clock, abs);
}

/* A signal (n 1) or broadcast of a process-shared condition variable:
 * glibc's, for its own waiters, and n of those parked here. */
static int shared_cond_wake(pthread_cond_t *c, size_t n)
{
  int r = n == 1 ? gp__real_pthread_cond_signal(c)
                 : gp__real_pthread_cond_broadcast(c);
  if (r == 0 && patched())
    gp__addr_wake(shared_cond_key(c), n);
  return r;
}

/* Moves the sequence on and wakes up to n waiters, when there are any. */
static void cond_wake(pthread_cond_t *c, size_t n)
{
  __atomic_fetch_add(cond_seq(c), 1, __ATOMIC_SEQ_CST);
  gp__addr_wake(cond_seq(c), n);
}

GP_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
  cond_word_t *w;
  uint64_t v;

  if (!emulated_cond(c))
    return shared_cond_wake(c, 1);
  /* One more signal to take, unless every waiter has one already. */
  w = cond_word(c);
  v = __atomic_load_n(w, __ATOMIC_SEQ_CST);
  do {
    if (signals_of(v) >= waiters_of(v))
      return 0;
  } while (!__atomic_compare_exchange_n(w, &v, v + COND_SIGNAL, 1,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
  cond_wake(c, 1);
  return 0;
}

GP_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
  cond_word_t *w;
  uint64_t v;

  if (!emulated_cond(c))
    return shared_cond_wake(c, SIZE_MAX);
  w = cond_word(c);
  v = __atomic_load_n(w, __ATOMIC_SEQ_CST);
  if (waiters_of(v) == 0)
    return 0;
  /* Every wait begun before this one ends: no signal is left to take. */
  __atomic_fetch_add(cond_bcast(c), 1, __ATOMIC_SEQ_CST);
  while (!__atomic_compare_exchange_n(w, &v, (uint64_t)waiters_of(v), 1,
                                      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    ;
  cond_wake(c, SIZE_MAX);
  return 0;
}

GP_EXPORT int pthread_cond_init(pthread_cond_t *c,
                                const pthread_condattr_t *attr)
{
  gp__real_init();
  return gp__real_pthread_cond_init(c, attr); /* sets the clock bits */
}

/* In the exit of a fork's child the waiters counted are the parent's
 * threads, which will never leave. */
GP_EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
  if (!emulated_cond(c))
    return gp__real_pthread_cond_destroy(c);
  if (!__atomic_load_n(&gp__shim_child_exiting, __ATOMIC_ACQUIRE))
    inside_wait_empty(cond_inside(c), "condition destroy");
  return 0;
}

/* ---- rwlocks ---- */

#define RW_WRITER  0x80000000u /* a writer holds it */
#define RW_WAITERS 0x40000000u /* someone may wait: wake on release */
#define RW_READERS 0x3fffffffu /* readers holding it */

static uint32_t *rw_word(pthread_rwlock_t *rw)
{
  return &rw->__data.__readers;
}

static uint64_t writer_of(const pthread_rwlock_t *rw)
{
  return __atomic_load_n((const uint64_t *)(const void *)&rw->__data.__pad3,
                         __ATOMIC_RELAXED);
}

static void set_writer(pthread_rwlock_t *rw, uint64_t w)
{
  __atomic_store_n((uint64_t *)(void *)&rw->__data.__pad3, w, __ATOMIC_RELAXED);
}

static int emulated_rw(const pthread_rwlock_t *rw)
{
  return patched() && rw->__data.__shared == 0;
}

/* Waits while the lock word is v, after marking it waited for. Returns 0
 * or ETIMEDOUT. */
static int rw_wait(pthread_rwlock_t *rw, uint32_t v, uint64_t deadline)
{
  uint32_t *w = rw_word(rw);
  if (!(v & RW_WAITERS) &&
      !__atomic_compare_exchange_n(w, &v, v | RW_WAITERS, 0, __ATOMIC_RELAXED,
                                   __ATOMIC_RELAXED))
    return 0; /* it changed: look again */
  return gp__addr_wait(w, v | RW_WAITERS, deadline, "rwlock",
                       GP__WAIT_UNCANCELABLE | how()) == -ETIMEDOUT
             ? ETIMEDOUT
             : 0;
}

/* Wakes everyone waiting on rw, if the word said so (v: its old value). */
static void rw_wake(pthread_rwlock_t *rw, uint32_t v)
{
  if (v & RW_WAITERS)
    gp__addr_wake(rw_word(rw), SIZE_MAX);
}

static int rdlock(pthread_rwlock_t *rw, uint64_t deadline, int try)
{
  /* glibc treats PTHREAD_RWLOCK_PREFER_WRITER_NP as preferring readers. */
  int prefer_writer =
      rw->__data.__flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP;
  uint32_t *w = rw_word(rw);

  for (;;) {
    uint32_t v = __atomic_load_n(w, __ATOMIC_RELAXED);
    if ((v & RW_WRITER) && writer_of(rw) == me())
      return try ? EBUSY : EDEADLK; /* glibc's trylock does not look */
    if (!(v & RW_WRITER) &&
        !(prefer_writer &&
          __atomic_load_n(&rw->__data.__writers, __ATOMIC_RELAXED))) {
      if ((v & RW_READERS) == RW_READERS)
        return EAGAIN;
      if (__atomic_compare_exchange_n(w, &v, v + 1, 0, __ATOMIC_ACQUIRE,
                                      __ATOMIC_RELAXED))
        return 0;
      continue;
    }
    if (try)
      return EBUSY;
    if (rw_wait(rw, v, deadline) == ETIMEDOUT)
      return ETIMEDOUT;
  }
}

static int wrlock(pthread_rwlock_t *rw, uint64_t deadline, int try)
{
  uint32_t *w = rw_word(rw);
  int r = 0;

  if ((__atomic_load_n(w, __ATOMIC_RELAXED) & RW_WRITER) &&
      writer_of(rw) == me())
    return try ? EBUSY : EDEADLK;
  __atomic_fetch_add(&rw->__data.__writers, 1, __ATOMIC_RELAXED);
  for (;;) {
    uint32_t v = __atomic_load_n(w, __ATOMIC_RELAXED);
    if ((v & (RW_WRITER | RW_READERS)) == 0) {
      if (__atomic_compare_exchange_n(w, &v, v | RW_WRITER, 0, __ATOMIC_ACQUIRE,
                                      __ATOMIC_RELAXED))
        break;
      continue;
    }
    if (try) {
      r = EBUSY;
      break;
    }
    if ((r = rw_wait(rw, v, deadline)) != 0)
      break;
  }
  if (__atomic_sub_fetch(&rw->__data.__writers, 1, __ATOMIC_RELAXED) == 0 &&
      r != 0)
    rw_wake(rw, __atomic_load_n(w, __ATOMIC_RELAXED)); /* readers held
                                                           back for us */
  if (r == 0)
    set_writer(rw, me());
  return r;
}

GP_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
  if (!emulated_rw(rw)) {
    shared_real_wait("rwlock");
    return gp__real_pthread_rwlock_rdlock(rw);
  }
  tick();
  return rdlock(rw, GP__NEVER, 0);
}

GP_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *rw)
{
  if (!emulated_rw(rw))
    return gp__real_pthread_rwlock_tryrdlock(rw);
  tick();
  return rdlock(rw, GP__NEVER, 1);
}

GP_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *rw, clockid_t clock,
                                         const struct timespec *abs)
{
  uint64_t deadline;
  int r;

  if (!emulated_rw(rw)) {
    shared_real_wait("rwlock");
    return gp__real_pthread_rwlock_clockrdlock(rw, clock, abs);
  }
  if ((r = deadline_of(clock, abs, &deadline)) != 0)
    return r;
  return rdlock(rw, deadline, 0);
}

GP_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *rw,
                                         const struct timespec *abs)
{
  if (!emulated_rw(rw)) {
    shared_real_wait("rwlock");
    return gp__real_pthread_rwlock_timedrdlock(rw, abs);
  }
  return pthread_rwlock_clockrdlock(rw, CLOCK_REALTIME, abs);
}

GP_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
  if (!emulated_rw(rw)) {
    shared_real_wait("rwlock");
    return gp__real_pthread_rwlock_wrlock(rw);
  }
  tick();
  return wrlock(rw, GP__NEVER, 0);
}

GP_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *rw)
{
  if (!emulated_rw(rw))
    return gp__real_pthread_rwlock_trywrlock(rw);
  tick();
  return wrlock(rw, GP__NEVER, 1);
}

GP_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *rw, clockid_t clock,
                                         const struct timespec *abs)
{
  uint64_t deadline;
  int r;

  if (!emulated_rw(rw)) {
    shared_real_wait("rwlock");
    return gp__real_pthread_rwlock_clockwrlock(rw, clock, abs);
  }
  if ((r = deadline_of(clock, abs, &deadline)) != 0)
    return r;
  return wrlock(rw, deadline, 0);
}

GP_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *rw,
                                         const struct timespec *abs)
{
  if (!emulated_rw(rw)) {
    shared_real_wait("rwlock");
    return gp__real_pthread_rwlock_timedwrlock(rw, abs);
  }
  return pthread_rwlock_clockwrlock(rw, CLOCK_REALTIME, abs);
}

GP_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
  uint32_t *w = rw_word(rw);
  uint32_t v;

  if (!emulated_rw(rw))
    return gp__real_pthread_rwlock_unlock(rw);
  v = __atomic_load_n(w, __ATOMIC_RELAXED);
  if ((v & RW_WRITER) && writer_of(rw) == me()) {
    set_writer(rw, 0);
    rw_wake(rw, __atomic_exchange_n(w, 0, __ATOMIC_RELEASE));
    return 0;
  }
  for (;;) {
    uint32_t nv;
    if ((v & RW_READERS) == 0)
      return 0; /* not held: glibc does not look, and says 0 */
    nv = v - 1;
    if ((nv & RW_READERS) == 0)
      nv &= ~RW_WAITERS; /* the last reader wakes the waiters */
    if (__atomic_compare_exchange_n(w, &v, nv, 0, __ATOMIC_RELEASE,
                                    __ATOMIC_RELAXED))
      break;
  }
  if ((v & RW_READERS) == 1)
    rw_wake(rw, v);
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

/* ---- spinlocks: a coroutine yields while it spins, so that the holder
 * (maybe on its own scheduler) runs; a thread spins as glibc does, on the
 * same word ---- */

/* glibc's lock word, as its pthread_spin_init leaves it: on x86 a free lock
 * holds 1 (a lock decrements it, unlock stores 1); elsewhere 0. */
#if defined(__x86_64__) || defined(__i386__)
#define SPIN_FREE 1
#define SPIN_HELD 0
#else
#define SPIN_FREE 0
#define SPIN_HELD 1
#endif

/* Takes a free lock. Returns 1 if it did. */
static int spin_take(pthread_spinlock_t *l)
{
  int v = __atomic_load_n(l, __ATOMIC_RELAXED);
#if SPIN_FREE == 1
  if (v <= 0)
    return 0;
#else
  if (v != SPIN_FREE)
    return 0;
#endif
  return __atomic_compare_exchange_n(l, &v, SPIN_HELD, 0, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED);
}

GP_EXPORT int pthread_spin_lock(pthread_spinlock_t *l)
{
  if (!gp__shim_active(GP__PATCH_THREAD))
    return gp__real_pthread_spin_lock(l);
  while (!spin_take(l))
    gp__yield();
  return 0;
}

GP_EXPORT int pthread_spin_trylock(pthread_spinlock_t *l)
{
  if (!gp__shim_active(GP__PATCH_THREAD))
    return gp__real_pthread_spin_trylock(l);
  return spin_take(l) ? 0 : EBUSY;
}

GP_EXPORT int pthread_spin_unlock(pthread_spinlock_t *l)
{
  if (!gp__shim_active(GP__PATCH_THREAD))
    return gp__real_pthread_spin_unlock(l);
  __atomic_store_n(l, SPIN_FREE, __ATOMIC_RELEASE);
  return 0;
}

/* ---- barriers ---- */

/* glibc 2.36's struct pthread_barrier (sysdeps/nptl/internaltypes.h). */
struct barrier {
  unsigned int in;            /* threads that arrived this round */
  unsigned int current_round; /* rounds completed */
  unsigned int count;         /* threads per round */
  int shared;                 /* SHARED_FUTEX when process-shared */
  struct gp__lock out;        /* glibc's out: here the lock of in and
                                 current_round */
  uint32_t inside;            /* ours, past glibc's: for the destroy */
};
_Static_assert(sizeof(struct barrier) <= sizeof(pthread_barrier_t),
               "barrier layout");

GP_EXPORT int pthread_barrier_wait(pthread_barrier_t *pb)
{
  struct barrier *b = (struct barrier *)pb;
  unsigned round;

  if (!patched() || b->shared == SHARED_FUTEX) {
    shared_real_wait("barrier");
    return gp__real_pthread_barrier_wait(pb);
  }
  gp__lock(&b->out);
  round = b->current_round;
  if (++b->in >= b->count) {
    b->in = 0;
    __atomic_store_n(&b->current_round, round + 1, __ATOMIC_RELEASE);
    gp__unlock(&b->out);
    gp__addr_wake(&b->current_round, SIZE_MAX);
    return PTHREAD_BARRIER_SERIAL_THREAD;
  }
  inside_enter(&b->inside);
  gp__unlock(&b->out);
  while (__atomic_load_n(&b->current_round, __ATOMIC_ACQUIRE) == round)
    gp__addr_wait(&b->current_round, round, GP__NEVER, "barrier",
                  GP__WAIT_UNCANCELABLE | how());
  inside_leave(&b->inside); /* the last touch of b */
  return 0;
}

GP_EXPORT int pthread_barrier_init(pthread_barrier_t *pb,
                                   const pthread_barrierattr_t *attr,
                                   unsigned int count)
{
  int r;
  gp__real_init();
  r = gp__real_pthread_barrier_init(pb, attr, count);
  if (r == 0) {
    gp__lock_reset(&((struct barrier *)pb)->out);
    ((struct barrier *)pb)->inside = 0; /* past glibc's fields */
  }
  return r;
}

GP_EXPORT int pthread_barrier_destroy(pthread_barrier_t *pb)
{
  struct barrier *b = (struct barrier *)pb;

  if (!patched() || b->shared == SHARED_FUTEX)
    return gp__real_pthread_barrier_destroy(pb);
  inside_wait_empty(&b->inside, "barrier destroy");
  return 0;
}

/* ---- once ---- */

/* An init routine cancelled: as if pthread_once had not been called, so
 * that a waiter, or a later call, runs it (as glibc does). */
static void once_cancelled(void *arg)
{
  uint32_t *o = arg;
  __atomic_store_n(o, 0, __ATOMIC_RELEASE);
  gp__addr_wake(o, SIZE_MAX);
}

GP_EXPORT int pthread_once(pthread_once_t *once, void (*init)(void))
{
  uint32_t *o = (uint32_t *)once, v;

  if (!patched())
    return gp__real_pthread_once(once, init);
  while ((v = __atomic_load_n(o, __ATOMIC_ACQUIRE)) != 2) {
    if (v & 1) { /* another runs init */
      gp__addr_wait(o, v, GP__NEVER, "once", GP__WAIT_UNCANCELABLE | how());
    } else if (__atomic_compare_exchange_n(o, &v, 1, 0, __ATOMIC_ACQ_REL,
                                           __ATOMIC_ACQUIRE)) {
      pthread_cleanup_push(once_cancelled, o);
      init();
      pthread_cleanup_pop(0);
      __atomic_store_n(o, 2, __ATOMIC_RELEASE);
      gp__addr_wake(o, SIZE_MAX);
      return 0;
    }
  }
  return 0;
}

/* ---- semaphores ---- */

static uint32_t *sem_value(sem_t *s)
{
  return (uint32_t *)(void *)s; /* the low half of glibc's first word */
}

static uint32_t *sem_waiters(sem_t *s)
{
  return (uint32_t *)(void *)s + 1; /* the high half */
}

static int emulated_sem(sem_t *s)
{
  const int *priv = (const int *)((const char *)s + 8);
  return patched() && *priv != SHARED_FUTEX;
}

/* Takes one unit if there is one. Returns 1 if it did. */
static int sem_grab(sem_t *s)
{
  return take_one(sem_value(s));
}

/* Waits for the semaphore. Returns 0 or -1 with errno. */
static int sem_take(sem_t *s, uint64_t deadline)
{
  gp__thread_cancel_point();
  while (!sem_grab(s)) {
    int r;
    __atomic_fetch_add(sem_waiters(s), 1, __ATOMIC_SEQ_CST);
    r = gp__addr_wait(sem_value(s), 0, deadline, "semaphore",
                      GP__WAIT_INTERRUPTIBLE | how());
    __atomic_fetch_sub(sem_waiters(s), 1, __ATOMIC_RELAXED);
    if (r == 0 || r == -EAGAIN)
      continue;
    if (r == -EINTR && restarts(deadline))
      continue;
    if (r == -ECANCELED)
      gp__thread_cancel_point();
    errno = r == -ETIMEDOUT || r == -GP__EXPIRED ? ETIMEDOUT : EINTR;
    return -1;
  }
  return 0;
}

static int shared_sem_take(void *s)
{
  if (gp__real_sem_trywait(s) == 0)
    return 0;
  return errno == EAGAIN ? SHARED_BUSY : -errno;
}

/* A process-shared semaphore's wait by tries (see process-shared objects;
 * multiprocessing's locks are such semaphores). A lone coroutine waits
 * the real way. Returns 0, -1 with errno, or 1 when the real wait is to
 * be made. */
static int shared_take(sem_t *s, uint64_t deadline)
{
  int r;

  if (!shared_parks())
    return 1;
  gp__thread_cancel_point();
  r = shared_retry(sem_value(s), shared_sem_take, s, deadline,
                   "process-shared semaphore", GP__WAIT_INTERRUPTIBLE);
  if (r == 0)
    return 0;
  if (r == -ECANCELED)
    gp__thread_cancel_point();
  errno = r == -ETIMEDOUT || r == -GP__EXPIRED ? ETIMEDOUT
          : r == -EINTR || r == -ECANCELED     ? EINTR
                                               : -r;
  return -1;
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
  tick();
  if (!sem_grab(s)) {
    errno = EAGAIN;
    return -1;
  }
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
  uint32_t v;

  if (!emulated_sem(s)) {
    int r = gp__real_sem_post(s);
    if (r == 0 && patched())
      gp__addr_wake(sem_value(s), 1); /* a coroutine of ours in shared_take */
    return r;
  }
  v = __atomic_load_n(sem_value(s), __ATOMIC_RELAXED);
  do {
    if (v >= SEM_VALUE_MAX) {
      errno = EOVERFLOW;
      return -1;
    }
  } while (!__atomic_compare_exchange_n(sem_value(s), &v, v + 1, 0,
                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
  if (__atomic_load_n(sem_waiters(s), __ATOMIC_SEQ_CST) > 0)
    gp__addr_wake(sem_value(s), 1);
  return 0;
}

GP_EXPORT int sem_getvalue(sem_t *s, int *value)
{
  if (!emulated_sem(s))
    return gp__real_sem_getvalue(s, value);
  *value = (int)__atomic_load_n(sem_value(s), __ATOMIC_ACQUIRE);
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
