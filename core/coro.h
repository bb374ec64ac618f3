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
#include "scheduler.h"
#include "stack.h"
#include "wait.h"

#include <stdint.h>
#include <uv.h>

/* Options for gp__coro_spawn. */
struct gp__spawn_opts {
  size_t stack_size;        /* 0: GPATCH_STACK_SIZE */
  const char *name;         /* NULL: none */
  int detached;             /* freed when it finishes */
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

/* What the shim may know of a coroutine, without reading its fields. */

/* Nonzero for the thread's original context (id 0; the process's first
 * thread, or a real thread's own), which has no stack of its own. */
int gp__coro_is_main(const struct gp__coro *co);
/* Nonzero once co has finished. */
int gp__coro_finished(const struct gp__coro *co);
/* Nonzero when co is detached. */
int gp__coro_detached(const struct gp__coro *co);
/* Its name, at most 15 characters ("" for none). */
const char *gp__coro_name(const struct gp__coro *co);
/* Sets its name, cut to 15 characters. */
void gp__coro_set_name(struct gp__coro *co, const char *name);
/* The slot of the shim's per-coroutine state (NULL until set). */
void **gp__coro_local(struct gp__coro *co);
/* The bounds of co's stack. Returns 0, or -EINVAL for a thread's own. */
int gp__coro_stack(const struct gp__coro *co, void **lo, size_t *size);

/* Set by the shim: run on a coroutine as it exits, before it is counted
 * dead (thread keys, thread_local destructors). */
extern void (*gp__coro_exit_hook)(struct gp__coro *co);

#ifdef GP__CORE
/* ---- core/ only: the struct, and its making and release ---- */

#define GP__CORO_MAGIC 0x67702d636f726f31ULL /* "gp-coro1" */

enum gp__coro_state {
  GP__READY,   /* in the ready queue */
  GP__RUNNING, /* the current coroutine of its scheduler */
  GP__PARKED,  /* waiting; ->wait says on what */
  GP__DEAD     /* finished; a zombie until joined (or freed if detached) */
};

struct gp__tls_dtor;

struct gp__coro {
  struct gp__ctx ctx;       /* saved registers while not running */
  uint64_t magic;           /* GP__CORO_MAGIC while the handle is valid */
  struct gp__sched *sched;  /* the scheduler (thread) it runs on */
  struct gp__stack *stack;  /* its stack; NULL for a thread's own stack */
  uint64_t id;              /* 0 for the thread's original context */
  int state;                /* enum gp__coro_state */
  int saved_errno;          /* errno while switched out */
  void *(*fn)(void *);      /* the entry function */
  void *arg;                /* its argument */
  void *retval;             /* what fn returned, once dead */
  struct gp__list ready_link; /* in the scheduler's ready queue */
  struct gp__list all_link; /* in the scheduler's list of live coroutines */
  struct gp__wait *wait;    /* the current wait while parked */
  struct gp__waitq joiners; /* coroutines waiting for this one to finish */
  uv_timer_t timer;         /* for timed waits; initialised once */
  uint64_t park_deadline;   /* the deadline of the current wait */
  uint64_t block_deadline;  /* gp_timeout's deadline for this coroutine */
  char *tls;                /* its copy of the program's TLS blocks while
                               switched out (tls.c), or NULL */
  struct gp__tls_dtor *tls_dtors; /* its thread_local destructors, newest
                               first (tls.c) */
  uint64_t slice_start;     /* gp__slice: when a call that could have
                               waited first returned at once since this
                               coroutine last switched out; 0 for none */
  unsigned started : 1;     /* has run at least once */
  unsigned detached : 1;    /* freed at exit, not joinable */
  unsigned joining : 1;     /* a join is waiting on it */
  unsigned cancel_pending : 1; /* the next wait fails with -ECANCELED */
  unsigned canceled : 1;    /* killed before it started: fn never runs */
  unsigned is_hub : 1;      /* the scheduler's hub */
  unsigned park_block : 1;  /* the current wait ends at block_deadline */
  char name[16];            /* for reports; like pthread names, 15 chars */
  void *local;              /* the shim's per-coroutine state, or NULL */
  void *asan_fake_stack;    /* AddressSanitizer's bookkeeping */
  const void *asan_bottom;  /* stack bounds for AddressSanitizer, set for */
  size_t asan_size;         /* a thread's own stack on its first switch */
  unsigned vg_stack_id;     /* valgrind's id for the registered stack */
  struct gp__coro *free_next; /* in the scheduler's pool of structs */
};

/* For scheduler.c: a zeroed struct made ready for scheduler s; and the release
 * of a coroutine that has switched away for the last time. */
void gp__coro_init_struct(struct gp__sched *s, struct gp__coro *co);
void gp__coro_release(struct gp__sched *s, struct gp__coro *co);

/* Puts co at the back of s's ready queue (scheduler.c runs it). */
static inline void gp__sched_make_ready(struct gp__sched *s,
                                        struct gp__coro *co)
{
  co->state = GP__READY;
  gp__list_push_back(&s->ready, &co->ready_link);
  s->nready++;
}
#endif /* GP__CORE */

#endif /* GP_CORO_H */
