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
#define GP__WAIT_UNCANCELABLE 1  /* gp_kill, pthread_cancel and gp_timeout
                                    wait until it ends (a lock; a lookup
                                    writing into the caller's buffers) */
#define GP__WAIT_INTERRUPTIBLE 2 /* a caught signal ends it (-EINTR) */

/* Puts the running coroutine at the back of the ready queue and runs every
 * coroutine ready before it once (gevent.sleep(0)). Returns 0 or
 * -ECANCELED. */
int gp__yield(void);

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

/* Parks the running coroutine on addr, futex style (a table of wait
 * queues keyed by address, so that objects keep their own layout). flags:
 * GP__WAIT_*. Returns what gp__park returns. */
int gp__addr_wait(const void *addr, uint64_t deadline, const char *what,
                  int flags);
/* Wakes up to n coroutines waiting on addr, oldest first, with result.
 * Returns how many. */
size_t gp__addr_wake(const void *addr, size_t n, int result);
/* Nonzero when someone waits on addr. */
int gp__addr_has_waiters(const void *addr);

/* Ends co's wait with -EINTR if it is parked where a signal interrupts.
 * Returns 1 if it was, else 0. */
int gp__coro_interrupt(struct gp__coro *co);

/* Cancels co: if parked in a cancelable wait, the wait ends with
 * -ECANCELED; otherwise its next cancelable wait does. A coroutine that
 * has not started yet still starts (pthread_cancel's deferred
 * cancellation). Returns 0. */
int gp__coro_cancel(struct gp__coro *co);

/* Kills co (gp_kill): as gp__coro_cancel, except that a coroutine that has
 * not started yet never runs its function. Returns 0. */
int gp__coro_kill(struct gp__coro *co);

/* Parks the calling thread's original context until every other coroutine
 * of its scheduler has finished (pthread_exit in main). Signals are then
 * delivered to the others. */
void gp__wait_others(void);

/* The app's signal handler starts running on this thread, its frame at
 * frame (shim/signal.c): no time-slice yield below that frame until
 * gp__handler_leave. *saved receives the enclosing handler's mark. */
struct gp__handler_mark {
  void *frame;             /* the handler's frame */
  struct gp__coro *co;     /* the coroutine it interrupted */
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
/* ---- core/ only: the mechanics of a wait ---- */

/* One wait: lives on the parked coroutine's own stack for as long as it is
 * parked. Whoever ends the wait unlinks it first, then wakes it. */
struct gp__wait {
  struct gp__coro *co;     /* the parked coroutine */
  struct gp__list link;    /* in what it waits on */
  void (*unlink)(struct gp__wait *w); /* takes w out of what it waits on */
  int result;              /* what gp__park() returns; set by the waker */
  int flags;               /* GP__WAIT_* */
  int fd;                  /* fd waits: the fd, else -1 */
  uint32_t events;         /* fd waits: EPOLLIN/EPOLLOUT wanted, then got */
  struct gp__wait *parent; /* part of a multi-fd wait: wake this instead */
  struct gp__wait *subs;   /* a multi-fd wait: its per-fd records */
  size_t nsubs;            /* how many */
  const char *what;        /* for reports: "sleep", "event", "join" … */
  const void *obj;         /* for reports: the object waited on */
};

/* Sets up w for a wait on something that unlink takes it out of. */
void gp__wait_init(struct gp__wait *w, void (*unlink)(struct gp__wait *w),
                   int flags, const char *what, const void *obj);

/* Parks the running coroutine until someone ends w, or its deadline
 * passes. w must be linked into whatever will wake it. Returns w's result
 * (see above). */
int gp__park(struct gp__wait *w, uint64_t deadline);

/* Ends the wait w with result and makes its coroutine ready. The caller has
 * unlinked w. */
void gp__wake(struct gp__wait *w, int result);

/* Unlinks w and ends it with result. */
void gp__wait_end(struct gp__wait *w, int result);

/* A queue of parked coroutines (joiners, events, queues). */
struct gp__waitq {
  struct gp__list waiters; /* struct gp__wait, oldest first */
};

void gp__waitq_init(struct gp__waitq *q);
/* Parks the running coroutine on q. Returns what gp__park returns. */
int gp__waitq_wait(struct gp__waitq *q, uint64_t deadline, const char *what,
                   const void *obj);
/* Wakes the oldest waiter with result. Returns 1 if one was woken, else 0. */
int gp__waitq_wake_one(struct gp__waitq *q, int result);
/* Wakes every waiter with result. Returns how many. */
size_t gp__waitq_wake_all(struct gp__waitq *q, int result);
/* Nonzero when nobody waits on q. */
int gp__waitq_empty(const struct gp__waitq *q);

/* Delivers the interruption of a signal caught while the hub polled: one
 * interruptible waiter of s gets -EINTR, the one the kernel would have
 * chosen unpatched. Returns 1 if one was woken. */
int gp__interrupt_one(struct gp__sched *s);
#endif /* GP__CORE */

#endif /* GP_WAIT_H */
