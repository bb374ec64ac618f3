/* coro.h: coroutines — the struct that stands in for a thread, and its
 * lifecycle: spawn, exit, join, detach. A coroutine is a pthread-like
 * object, joinable by one joiner or detached; its stack goes back to the
 * pool the moment it finishes, its small struct when it is reaped. How a
 * coroutine waits, and how it is cancelled or interrupted, is wait.h's. */
#ifndef GP_CORO_H
#define GP_CORO_H

#include "../arch/arch.h"
#include "common.h"
#include "list.h"
#include "lock.h"
#include "scheduler.h"
#include "stack.h"
#include "wait.h"

#include <stdint.h>
#include <sys/types.h>

/* Options for gp__coro_spawn. */
struct gp__spawn_opts {
  size_t stack_size; /* 0: GPATCH_STACK_SIZE */
  const char *name;  /* NULL: none */
  int detached;      /* freed when it finishes */
  int place;         /* put it on the least loaded scheduler (a
                        pthread), not the caller's (gp_spawn) */
  void *local;       /* the shim's state for it, from the start */
};

/* Makes a coroutine that will run fn(arg) on the calling thread's
 * scheduler, ready to run after those already ready. Returns 0 and sets
 * *out (may be NULL when detached), or -ENOMEM. */
int gp__coro_spawn(struct gp__coro **out, void *(*fn)(void *), void *arg,
                   const struct gp__spawn_opts *opts);

/* Ends the calling coroutine with retval; never returns. The thread's
 * original context (gp__coro_is_main) cannot exit this way. */
_Noreturn void gp__coro_exit(void *retval);

/* Waits until co has finished, then frees it and stores its return value.
 * Returns 0, -EDEADLK (co is the caller), -EINVAL (detached, or joined by
 * someone else), or the wait's error (-ETIMEDOUT, -GP__EXPIRED,
 * -ECANCELED). */
int gp__coro_join(struct gp__coro *co, void **retval, uint64_t deadline);

/* Waits until co has finished without freeing it. Same errors as join. */
int gp__coro_wait_dead(struct gp__coro *co, uint64_t deadline);

/* Frees a finished coroutine and returns its value. co must be dead. */
void *gp__coro_reap(struct gp__coro *co);

/* Marks co detached: freed when it finishes (at once if it has). Returns 0
 * or -EINVAL when already detached. */
int gp__coro_detach(struct gp__coro *co);

/* Nonzero when co is a coroutine of the calling thread's scheduler that
 * has not been reaped: a handle the app may pass (a pthread_t, say). co
 * must point to readable memory. */
int gp__coro_valid(const struct gp__coro *co);

/* The first coroutine with a valid handle, on any scheduler, for which
 * pred (called with a lock held: it must not wait, spawn or reap) returns
 * nonzero; NULL when none does. The struct stays readable after, but the
 * coroutine may end at any time: check its handle again before acting on
 * it. Walks every handle: for rare events. */
struct gp__coro *gp__coro_find(int (*pred)(struct gp__coro *co, void *arg),
                               void *arg);

/* What the shim may know of a coroutine, without reading its fields. */

/* Nonzero for the thread's original context (id 0; the process's first
 * thread, or a real thread's own), which has no stack of its own. */
int gp__coro_is_main(const struct gp__coro *co);
/* Nonzero once co has finished. */
int gp__coro_finished(const struct gp__coro *co);
/* Nonzero when co is detached. */
int gp__coro_detached(const struct gp__coro *co);
/* Its id (gp_id's), to tell a struct reused for another thread. */
uint64_t gp__coro_id(const struct gp__coro *co);
/* Its name, at most 15 characters ("" for none). */
const char *gp__coro_name(const struct gp__coro *co);
/* Sets its name, cut to 15 characters. */
void gp__coro_set_name(struct gp__coro *co, const char *name);
/* The slot of the shim's per-coroutine state (NULL until set). */
void **gp__coro_local(struct gp__coro *co);
/* The bounds of co's stack. Returns 0, or -EINVAL for a thread's own. */
int gp__coro_stack(const struct gp__coro *co, void **lo, size_t *size);
/* The OS thread of co's scheduler when that is not the caller's, else 0
 * (a coroutine not started yet may still be taken by another). */
pid_t gp__coro_elsewhere(const struct gp__coro *co);
/* The kernel id of the OS thread co runs on (its scheduler's). */
pid_t gp__coro_tid(const struct gp__coro *co);

/* Set by the shim: run on a coroutine as it exits, before it is counted
 * dead (thread keys, thread_local destructors). */
extern void (*gp__coro_exit_hook)(struct gp__coro *co);
/* Set by the shim: frees what gp__coro_local held when the coroutine's
 * record goes (joined, or dead and detached). Until then another thread may
 * still look at it (pthread_cancel of a thread that has just exited). */
extern void (*gp__coro_local_free_hook)(void *local);

#ifdef GP__CORE
/* ---- core/ only: the struct, and its making and release ----
 *
 * A coroutine belongs to one scheduler from the moment it first runs
 * (home_tid): its state, wait and timer are touched only by that
 * scheduler's thread. Other threads reach it through atomics (posted,
 * cancel_pending, canceled) and its lock (joiners, detached, released). */

#define GP__CORO_MAGIC 0x67702d636f726f31ULL /* "gp-coro1" */
#define GP__NO_HEAP    SIZE_MAX /* heap_idx of a coroutine not in the heap */

enum gp__coro_state {
  GP__READY,   /* in the ready queue (or a spawn queue, not started) */
  GP__RUNNING, /* the current coroutine of its scheduler */
  GP__PARKED,  /* waiting; ->wait says on what */
  GP__DEAD     /* finished; a zombie until joined (or freed if detached) */
};

/* What another thread asks of a coroutine's scheduler (gp__sched_post). */
enum {
  GP__POST_READY = 1,     /* its wait was ended: make it ready */
  GP__POST_CANCEL = 2,    /* a cancel is pending: end a cancelable wait */
  GP__POST_INTERRUPT = 4, /* a signal: end an interruptible wait */
  GP__POST_FREE = 8       /* dead and reaped while in an inbox: the hub that
                             takes it from there frees it */
};

struct gp__tls_dtor;

struct gp__coro {
  struct gp__ctx ctx;         /* saved registers while not running */
  uint64_t magic;             /* atomic: GP__CORO_MAGIC while the handle is
                                 valid */
  struct gp__coro *reg_next;  /* in its bucket of the handle registry, from
                                 the struct's allocation to its free: kept
                                 while it waits in a pool (coro.c) */
  struct gp__sched *sched;    /* the scheduler it runs on: set when placed,
                                 changed only by a steal before it starts */
  struct gp__stack *stack;    /* its stack; NULL for a thread's own stack */
  uint64_t id;                /* unique; 0 for a thread's original context */
  int state;                  /* enum gp__coro_state (its scheduler's) */
  int saved_errno;            /* errno while switched out */
  int saved_locks;            /* gp__tls.locks_held while switched out */
  void *locale;               /* its uselocale, NULL: global (tls.c) */
  void *(*fn)(void *);        /* the entry function */
  void *arg;                  /* its argument */
  void *retval;               /* what fn returned, once dead */
  struct gp__list ready_link; /* in the ready queue or a spawn queue */
  struct gp__list all_link;   /* in its scheduler's list of coroutines */
  struct gp__wait *wait;      /* the current wait while parked */
  uint64_t deadline;          /* the current wait's deadline, in the heap */
  size_t heap_idx;            /* its place in the timer heap, or GP__NO_HEAP */
  uint64_t block_deadline;    /* gp_timeout's deadline for this coroutine */
  int posted;                 /* atomic GP__POST_* bits not yet acted on */
  struct gp__list post_link;  /* in its scheduler's inbox while posted */
  int cancel_pending;         /* atomic: the next cancelable wait fails with
                                 -ECANCELED */
  int cancel_async;           /* atomic: a cancel to act on wherever it runs
                                 its own code (preempt.c) */
  int canceled;               /* atomic: killed before it started: fn never
                                 runs */
  int signal_due;             /* atomic: a signal's action is kept for it
                                 (gp__coro_interrupt_due) */
  struct gp__lock lock;       /* guards joiners, joining, detached, released */
  struct gp__waitq joiners;   /* coroutines waiting for it to be released */
  unsigned char joining;      /* a join waits on it */
  unsigned char detached;     /* freed when released, not joinable */
  unsigned char released;     /* dead, and its stack back in the pool */
  unsigned char started;      /* has run at least once */
  unsigned char is_hub;       /* the scheduler's hub */
  unsigned char park_block;   /* the current wait ends at block_deadline */
  pid_t home_tid;             /* the OS thread it first ran on, for good */
  void *tp;                   /* its own thread pointer (tp.c), or NULL */
  char *tls;                  /* its copy of the program's TLS blocks while
                                 switched out (tls.c), or NULL */
  struct gp__tls_dtor *tls_dtors; /* its thread_local destructors, newest
                               first (tls.c) */
  uint64_t slice_start;           /* gp__slice: when a call that could have
                                     waited first returned at once since this
                                     coroutine last switched out; 0 for none */
  char name[16];              /* for reports; like pthread names, 15 chars */
  void *local;                /* the shim's per-coroutine state, or NULL */
  void *asan_fake_stack;      /* AddressSanitizer's bookkeeping */
  const void *asan_bottom;    /* stack bounds for AddressSanitizer, set for */
  size_t asan_size;           /* a thread's own stack on its first switch */
  unsigned vg_stack_id;       /* valgrind's id for the registered stack */
  void *tsan_fiber;           /* ThreadSanitizer's fiber for its stack */
  struct gp__coro *free_next; /* in a scheduler's pool of structs */
};

/* The number of application coroutines alive, process-wide (every
 * scheduler's, the first thread's included): the process ends with the
 * last (gp__wait_others). */
extern uint32_t gp__live;
/* Nonzero once gp__wait_others waits for gp__live to fall: from then on
 * each exit wakes it (before, an exit would take a lock for nobody). */
extern int gp__live_waited;

/* For scheduler.c: a zeroed struct made ready for scheduler s; and the
 * release of a coroutine that has switched away for the last time (on its
 * scheduler's hub). */
void gp__coro_init_struct(struct gp__sched *s, struct gp__coro *co);
void gp__coro_release(struct gp__sched *s, struct gp__coro *co);
/* For the hub: frees co, reaped while it was in the hub's inbox
 * (GP__POST_FREE), into the hub's pool. */
void gp__coro_free_posted(struct gp__coro *co);
/* In a fork's child: forgets every coroutine but the caller (coro.c). */
void gp__coro_fork_child(struct gp__coro *self);
/* Registers a thread's original context (the first thread's main) as a
 * valid handle and a live coroutine. */
void gp__coro_register_main(struct gp__coro *co);

/* Puts co at the back of s's ready queue; on s's own thread only. */
static inline void gp__sched_make_ready(struct gp__sched *s,
                                        struct gp__coro *co)
{
  co->state = GP__READY;
  gp__list_push_back(&s->ready, &co->ready_link);
  s->nready++;
}

/* Makes co, whose wait was claimed and its result set, ready on its own
 * scheduler: at once from that scheduler's thread, else by posting it
 * there. Safe from any thread. */
static inline void gp__sched_resume(struct gp__coro *co)
{
  if (co->sched == gp__tls.sched)
    gp__sched_make_ready(co->sched, co);
  else
    gp__sched_post(co, GP__POST_READY);
}
#endif /* GP__CORE */

#endif /* GP_CORO_H */
