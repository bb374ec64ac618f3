/* wait.h: how a coroutine waits, and everything that ends a wait — the one
 * place that knows it. A coroutine parks on a struct gp__wait linked into
 * what it waits for (a wait queue, an address, an fd's waiters); it is
 * woken by whoever ends the wait: the waker, its deadline, a gp_timeout
 * block's deadline, a cancel, or a caught signal.
 *
 * Results of a wait: 0 or what the waker gave; -ETIMEDOUT when the wait's
 * own deadline passed; -GP__EXPIRED when a gp_timeout block's deadline
 * passed first; -ECANCELED (gp_kill, pthread_cancel); -EINTR (a caught
 * signal, for interruptible waits). */
#ifndef GP_WAIT_H
#define GP_WAIT_H

#include "clock.h"
#include "list.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

struct gp__coro;
struct gp__sched;

/* The result of a wait ended by a gp_timeout block's deadline, distinct
 * from the wait's own deadline (-ETIMEDOUT): interposers report it as
 * ETIMEDOUT whatever their own timeout would have said. */
#define GP__EXPIRED ETIME

/* Flags of a wait. */
#define GP__WAIT_UNCANCELABLE                                                  \
  1                              /* gp_kill, pthread_cancel and gp_timeout     \
                                    wait until it ends (a lock; a lookup       \
                                    writing into the caller's buffers) */
#define GP__WAIT_INTERRUPTIBLE 2 /* a caught signal ends it (-EINTR) */
#define GP__WAIT_THREAD                                                        \
  4 /* gp__addr_wait: wait in the kernel, as a                                 \
       thread, even on a scheduler's thread                                    \
       (runtime code, a call passed through) */

/* Puts the running coroutine at the back of the ready queue and runs every
 * coroutine ready before it once (gevent.sleep(0)). Returns 0 or
 * -ECANCELED. */
int gp__yield(void);

/* sched_yield(2) of a coroutine: gp__yield, then, when no other coroutine
 * of the OS thread was ready, the OS thread's own yield, so that other
 * processes and threads on its CPU run, as they would plain. */
void gp__yield_cpu(void);

/* Called by interposed calls that may wait (poll, I/O, waitpid …) before
 * they start. Threads are preemptive and coroutines are not: a thread that
 * loops on calls that never wait (poll with a zero timeout, reads that say
 * EAGAIN, waitpid with WNOHANG) until another thread makes progress would
 * hold the OS thread for ever. Once GP__SLICE_NS have passed since such a
 * call first found the coroutine running without having switched out, it
 * yields (never inside a signal handler). */
void gp__slice(void);
#define GP__SLICE_NS 2000000

/* Parks the running coroutine until the deadline. Returns 0 at the
 * deadline, -GP__EXPIRED, -ECANCELED or, when interruptible, -EINTR. */
int gp__sleep_until(uint64_t deadline, int interruptible);

/* Waits on addr, futex style, while *addr == val (looked at under the
 * lock of addr's wait queue, so that no wake between the look and the
 * wait is missed). A coroutine parks (the table keeps a wait queue per
 * address, so objects keep their own layout); a thread without a
 * scheduler — one the runtime does not own, sharing a mutex with
 * coroutines — waits in the kernel on the same word. flags: GP__WAIT_*.
 * Returns 0 when woken, -EAGAIN when *addr was not val, or what gp__park
 * returns (-ETIMEDOUT, -GP__EXPIRED, -ECANCELED, -EINTR; a thread: the
 * kernel's -ETIMEDOUT, -EINTR). */
int gp__addr_wait(const uint32_t *addr, uint32_t val, uint64_t deadline,
                  const char *what, int flags);
/* Wakes up to n waiters on addr — coroutines first, oldest first, then
 * threads waiting in the kernel. Safe from any thread. Returns how many. */
size_t gp__addr_wake(const uint32_t *addr, size_t n);
/* Nonzero when a coroutine waits on addr (a snapshot; a thread waiting in
 * the kernel is not seen). */
int gp__addr_has_waiters(const uint32_t *addr);

/* Ends co's wait with -EINTR if it is parked where a signal interrupts.
 * Returns 1 if it was, else 0. */
int gp__coro_interrupt(struct gp__coro *co);

/* A signal's action for co, which the caller has kept for it (the
 * shim's): when co waits where a signal interrupts, its wait is ended with
 * -EINTR and co itself takes the action before its call returns, as the
 * kernel runs a handler on the thread it interrupts (gp__signal_due_hook,
 * in co). Another scheduler's coroutine is judged by a look at it: should
 * it not be so waiting by the time its hub acts, the hook runs there, for
 * co. Returns 1 if so, 0 when co does not wait (the caller takes the
 * action itself, now). */
int gp__coro_interrupt_due(struct gp__coro *co);
/* Set by the shim: takes the action kept for co (co the running coroutine,
 * or, on its hub, one that no longer waits). */
extern void (*gp__signal_due_hook)(struct gp__coro *co);
/* Clears co's mark, for the hook. */
void gp__coro_due_clear(struct gp__coro *co);

/* Cancels co: if parked in a cancelable wait, the wait ends with
 * -ECANCELED; otherwise its next cancelable wait does. A coroutine that
 * has not started yet still starts (pthread_cancel's deferred
 * cancellation). Returns 0. */
int gp__coro_cancel(struct gp__coro *co);

/* On the calling coroutine co: a cancel asked of it no longer ends a wait
 * (it exits: its cleanup handlers wait as any code does). */
void gp__coro_cancel_drop(struct gp__coro *co);

/* Kills co (gp_kill): as gp__coro_cancel, except that a coroutine that has
 * not started yet never runs its function. Returns 0. */
int gp__coro_kill(struct gp__coro *co);

/* Parks the calling thread's original context until every other coroutine
 * of its scheduler has finished (pthread_exit in main). Signals are then
 * delivered to the others. */
void gp__wait_others(void);

/* A signal the app catches is being handled on this thread (called from
 * the handler; async-signal-safe). Unpatched, the kernel gives a
 * process-directed signal to the main thread, and the call main is blocked
 * in (if it is) fails with EINTR: here main may be parked while another
 * coroutine runs, so the interruption is noted, and the hub delivers it
 * (gp__interrupt_one) when it next runs. A signal caught while main itself
 * runs interrupts nothing, as unpatched. */
void gp__interrupt_note(void);
/* sigsuspend and pause of a thread's main (whose mask is its OS thread's):
 * gp__suspend_main_begin, before its mask is changed, makes a handler that
 * runs from then on end the wait, even before main parks; gp__suspend_main
 * parks until one has, or (ran) ends the call, one having run already.
 * Returns -EINTR, or -ECANCELED. */
void gp__suspend_main_begin(void);
int gp__suspend_main(int ran);

/* The app's signal handler starts running on this thread, its frame at
 * frame (shim/signal.c): no time-slice yield below that frame until
 * gp__handler_leave. *saved receives the enclosing handler's mark. */
struct gp__handler_mark {
  void *frame;         /* the handler's frame */
  struct gp__coro *co; /* the coroutine it interrupted */
};
void gp__handler_enter(struct gp__handler_mark *saved, void *frame);
/* The handler returns: the enclosing mark is in force again. */
void gp__handler_leave(const struct gp__handler_mark *saved);

/* gp_timeout: from now on every cancelable wait of the running coroutine
 * ends by deadline at the latest, with -GP__EXPIRED. *saved receives the
 * block deadline in force before, for gp__block_end. */
void gp__block_begin(uint64_t deadline, uint64_t *saved);
/* Restores the block deadline saved by gp__block_begin. */
void gp__block_end(uint64_t saved);

#ifdef GP__CORE
/* ---- core/ only: the mechanics of a wait ----
 *
 * A wait is ended exactly once, by whoever claims it first (gp__wait_claim):
 * the waker that found it in what it waits on, its deadline (the hub of its
 * scheduler), a cancel or a signal. The claimer takes it out of what it
 * waits on — a waker that holds that container's lock does so directly, any
 * other through w->unlink, which takes the lock — and then wakes it. The
 * wait lives on the parked coroutine's stack: after gp__wake the claimer
 * touches it no more. A waker on another scheduler's thread (or on a thread
 * the runtime does not own) posts the coroutine to its scheduler, which
 * makes it ready (scheduler.h). */

#include "lock.h"

/* One wait. */
struct gp__wait {
  struct gp__coro *co;  /* the parked coroutine */
  struct gp__list link; /* in what it waits on; unlinked (self-linked)
                           once taken out */
  void (*unlink)(struct gp__wait *w); /* takes w out of what it waits on,
                              under that container's lock; idempotent */
  int claimed;                        /* atomic: set by whoever ends the wait */
  int result;                 /* what gp__park() returns; set by the waker */
  int flags;                  /* GP__WAIT_* */
  int fd;                     /* fd waits: the fd, else -1 */
  uint32_t events;            /* fd waits: EPOLLIN/EPOLLOUT wanted, then got */
  int exclusive;              /* fd waits: one waiter per readiness edge
                                 (accept: the next is woken by the taker) */
  struct gp__wait *parent;    /* part of a multi-fd wait: end this instead */
  struct gp__wait *subs;      /* a multi-fd wait: its per-fd records */
  size_t nsubs;               /* how many */
  struct gp__wait *next_wake; /* a waker's list of claimed waits, woken
                              once its lock is released */
  void *queue;                /* a wait queue's wait: the queue */
  const char *what;           /* for reports: "sleep", "event", "join" … */
  const void *obj;            /* for reports: the object waited on */
};

/* Sets up w for a wait on something that unlink takes it out of. Must be
 * done before w is linked anywhere a waker can see it. */
void gp__wait_init(struct gp__wait *w, void (*unlink)(struct gp__wait *w),
                   int flags, const char *what, const void *obj);

/* Claims w for ending it. Returns 1 if the caller is the one to end it
 * (unlink, then gp__wake), 0 if someone else already is. */
static inline int gp__wait_claim(struct gp__wait *w)
{
  if (gp__mt_plain_begin()) { /* one thread (mt.h) */
    int was = gp__mt_plain_set(&w->claimed);
    gp__mt_plain_end();
    return !was;
  }
  return !__atomic_exchange_n(&w->claimed, 1, __ATOMIC_ACQ_REL);
}

/* Parks the running coroutine until someone ends w, or its deadline
 * passes. w must be linked into whatever will wake it. Returns w's result
 * (see above). */
int gp__park(struct gp__wait *w, uint64_t deadline);

/* Ends the claimed, unlinked wait w with result: its coroutine becomes
 * ready (on its own scheduler). Safe from any thread. */
void gp__wake(struct gp__wait *w, int result);

/* Claims w and, if that succeeds, unlinks it and ends it with result.
 * Returns 1 if it did. Safe from any thread. */
int gp__wait_end(struct gp__wait *w, int result);

/* Wakes a list of claimed, unlinked waits chained by next_wake (built
 * under a container's lock, woken after it is released). */
void gp__wake_list(struct gp__wait *first, int result);

/* A queue of parked coroutines (joiners, events, queues), with its lock
 * (its own, or one it shares with the object it belongs to). */
struct gp__waitq {
  struct gp__lock own;     /* the lock, unless shared */
  struct gp__lock *lock;   /* guards waiters: &own, or the shared one */
  struct gp__list waiters; /* struct gp__wait, oldest first */
};

/* Sets up q with a lock of its own, or (gp__waitq_init_shared) with lock,
 * which another queue or the owning object uses too. */
void gp__waitq_init(struct gp__waitq *q);
void gp__waitq_init_shared(struct gp__waitq *q, struct gp__lock *lock);
/* Parks the running coroutine on q; q->lock must be held, and is released
 * (after the wait is linked). Returns what gp__park returns. */
int gp__waitq_wait_locked(struct gp__waitq *q, uint64_t deadline,
                          const char *what, const void *obj);
/* Wakes up to n waiters, oldest first, with result. q->lock must be held
 * (and stays held); the wakes happen after the caller releases it, through
 * gp__wake_list of the list returned. */
struct gp__wait *gp__waitq_take_locked(struct gp__waitq *q, size_t n);
/* Wakes up to n waiters with result; takes q->lock. Returns how many. */
size_t gp__waitq_wake(struct gp__waitq *q, size_t n, int result);
/* Nonzero when nobody waits on q (a snapshot). */
int gp__waitq_empty(struct gp__waitq *q);

/* For the hub: ends every timed wait of s whose deadline has passed, and
 * returns the nanoseconds until the next deadline (GP__NEVER: none). */
uint64_t gp__timers_run(struct gp__sched *s, uint64_t now);

/* For the hub: acts on what another thread posted to co (GP__POST_*). */
void gp__wait_posted(struct gp__coro *co, int posted);

/* Delivers the interruption of a signal caught while the hub polled: one
 * interruptible waiter of s gets -EINTR, the one the kernel would have
 * chosen unpatched. Returns 1 if one was woken. */
int gp__interrupt_one(struct gp__sched *s);

/* In a fork's child: every waiter of the address table is gone. */
void gp__wait_fork_child(void);
#endif /* GP__CORE */

#endif /* GP_WAIT_H */
