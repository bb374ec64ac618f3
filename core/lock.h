/* lock.h: the runtime's spinlock. Held only for a few list operations, by
 * schedulers and by threads the runtime does not own (a real thread that
 * unlocks a mutex a coroutine waits on): never across a switch or a system
 * call. A holder descheduled by the kernel is waited for with sched_yield
 * after a short spin. An all-zero lock is unlocked. */
#ifndef GP_LOCK_H
#define GP_LOCK_H

#include "mt.h"

struct gp__lock {
  int v; /* 1 while held */
};

/* Spins, then yields the CPU, until l is free; core/scheduler.c. */
void gp__lock_slow(struct gp__lock *l);

/* Without a locked instruction while one thread uses the runtime (mt.h):
 * 1 if taken, 0 if l is held (by this very thread, in a signal handler
 * say: it waits as it would have). */
static inline int gp__lock_plain(struct gp__lock *l)
{
  int held = gp__mt_plain_set(&l->v);
  gp__mt_plain_end();
  return !held;
}

static inline void gp__lock(struct gp__lock *l)
{
  if (gp__mt_plain_begin() && gp__lock_plain(l))
    return;
  if (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
    gp__lock_slow(l);
}

static inline int gp__trylock(struct gp__lock *l)
{
  if (gp__mt_plain_begin())
    return gp__lock_plain(l);
  return !__atomic_load_n(&l->v, __ATOMIC_RELAXED) &&
         !__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE);
}

static inline void gp__unlock(struct gp__lock *l)
{
  __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

/* In a fork's child: a lock another thread held at the fork is free (its
 * holder is gone with its thread). */
static inline void gp__lock_reset(struct gp__lock *l)
{
  l->v = 0;
}

#endif /* GP_LOCK_H */
