/* scheduler.h: the scheduler of one OS thread — its hub, its ready queue, and
 * the per-thread state every interposer looks at first.
 *
 * Coroutines switch only to the hub and the hub only to coroutines. The hub
 * runs the ready queue in rounds, then polls (poller.h) and runs the
 * private libuv loop (timers, the threadpool's completions). */
#ifndef GP_SCHEDULER_H
#define GP_SCHEDULER_H

#include "common.h"
#include "list.h"
#include "poller.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

struct gp__coro;

/* Per-thread state. */
struct gp__tls {
  struct gp__sched *sched;  /* this thread's scheduler, or NULL */
  int depth;                /* >0 while the runtime calls out (libuv,
                               libunwind): interposers pass through */
  int foreign;              /* this thread never gets a scheduler */
  int setup;                /* 1 while making this thread's scheduler,
                               -1 once that failed (gp__sched_get) */
  int app;                  /* this thread runs application code */
  /* The innermost app signal handler running (shim/signal.c): its frame
   * and the coroutine it interrupted; a handler left by longjmp leaves
   * them stale, which only stops time-slice yields below that frame. */
  void *handler_frame;
  struct gp__coro *handler_co;
};
extern __thread struct gp__tls gp__tls
    __attribute__((tls_model("initial-exec")));

#define GP__RUNTIME_ENTER() (gp__tls.depth++)
#define GP__RUNTIME_LEAVE() (gp__tls.depth--)

/* This thread's scheduler, made on first use: the running context becomes
 * coroutine 0. Returns NULL when the memory for it cannot be had. */
struct gp__sched *gp__sched_get(void);

/* The running coroutine of this thread, or NULL when it has no scheduler
 * (never makes one). */
struct gp__coro *gp__self(void);

/* The running coroutine of this thread, making the scheduler if needed;
 * NULL without memory. */
struct gp__coro *gp__coro_current(void);

/* Runtime statistics, for reports, tests and benchmarks. */
struct gp__stats {
  uint64_t switches;        /* context switches */
  size_t live;              /* coroutines not dead */
  size_t ready;             /* coroutines ready to run */
  size_t fd_waits;          /* coroutines parked on fds */
};
void gp__sched_stats(struct gp__stats *out);

/* Nonzero when no coroutine of the calling thread but the running one is
 * alive: nothing it waits for can come from this thread, so a real
 * blocking wait is exact. */
int gp__sched_alone(void);

#ifdef GP__CORE
/* ---- core/ only: the struct, and the mechanics of the hub ---- */

struct gp__sched {
  struct gp__coro *current; /* the running coroutine */
  struct gp__coro *hub;     /* runs the loop; never parks */
  struct gp__coro *main;    /* the thread's original context, id 0 */
  struct gp__coro *prev;    /* the coroutine switched away from last */
  struct gp__coro *tls_owner; /* whose TLS is in the live blocks (tls.c) */
  struct gp__list ready;    /* struct gp__coro, FIFO */
  size_t nready;            /* length of ready */
  struct gp__list all;      /* every coroutine not yet reaped, hub aside */
  size_t nlive;             /* coroutines not dead, main included */
  struct gp__coro *free;    /* pooled coroutine structs */
  uv_loop_t loop;           /* private loop: timers, threadpool */
  struct gp__poller poller; /* fd waits, plus the loop's own backend fd */
  size_t nfdwait;           /* coroutines parked on fds */
  size_t nexternal;         /* waits another thread may end */
  uint64_t next_id;         /* id of the next coroutine */
  uint64_t switches;        /* context switches so far */
  int in_poll;              /* nonzero while the hub blocks in epoll_wait */
  int main_ended;           /* main waits for the others (pthread_exit) */
  uint64_t last_poll;       /* gp__now() when the hub last polled its set */
  pid_t tid;                /* the thread it belongs to */
  void *main_uc;            /* ucontext_t for main (fallback switch) */
  void *altstack;           /* this thread's signal stack */
};

/* For coro.c and wait.c: the mechanics of the hub. */
/* Switches from the running coroutine to the hub; returns when something
 * makes it run again. */
void gp__sched_suspend(struct gp__sched *s);
/* For a coroutine's first run (called on its new stack). */
void gp__sched_started(struct gp__sched *s);
/* Switches to the hub for good: the caller is dead. */
_Noreturn void gp__sched_leave_dead(struct gp__sched *s);
#endif /* GP__CORE */

#endif /* GP_SCHEDULER_H */
