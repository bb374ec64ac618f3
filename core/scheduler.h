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

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

struct gp__coro;

/* Per-thread state. */
struct gp__tls {
  struct gp__sched *sched; /* this thread's scheduler, or NULL */
  int depth;               /* >0 while the runtime calls out (libuv,
                              libunwind): interposers pass through */
  int foreign;             /* this thread never gets a scheduler */
  int setup;               /* 1 while making this thread's scheduler,
                              -1 once that failed (gp__sched_get) */
  int app;                 /* this thread runs application code */
  /* The innermost app signal handler running (shim/signal.c): its frame
   * and the coroutine it interrupted; a handler left by longjmp leaves
   * them stale, which only stops time-slice yields below that frame. */
  void *handler_frame;
  struct gp__coro *handler_co;
  /* The program's mutexes the running coroutine holds (shim/sync.c; kept
   * per coroutine across switches): no time-slice yield while it holds
   * one, which would leave it held by a coroutine that is not running —
   * an allocator's lock, say, that the hub's own allocations then wait
   * for. */
  int locks_held;
  /* The hub runs (set at each switch): a signal handler that lands in it
   * runs the program's code on the OS thread's own terms, so the
   * interposers make their calls as they are (a wait blocks the thread:
   * the hub cannot park). */
  int on_hub;
  /* sched->current, kept here too (set at each switch) for the shim's
   * gp__self, a TLS load rather than a call. */
  struct gp__coro *current;
};
extern __thread struct gp__tls gp__tls
    __attribute__((tls_model("initial-exec")));

#define GP__RUNTIME_ENTER() (gp__tls.depth++)
#define GP__RUNTIME_LEAVE() (gp__tls.depth--)

/* This thread's scheduler, made on first use: the running context becomes
 * coroutine 0. Returns NULL when the memory for it cannot be had. The
 * made one is a TLS load away (every spawn, join and park asks). */
struct gp__sched *gp__sched_make(void);
static inline struct gp__sched *gp__sched_get(void)
{
  struct gp__sched *s = gp__tls.sched;
  return __builtin_expect(s != NULL, 1) ? s : gp__sched_make();
}

/* At the end of a real thread (one the runtime did not make a coroutine:
 * GPATCH_PATCH=-thread, libgc, a sandbox), its scheduler is kept for the
 * next one, with its loop, fds and stacks, rather than lost with the
 * thread; what the thread calls afterwards (a key's destructor) passes
 * straight through. Nothing happens on any other thread. */
void gp__sched_retire(void);

/* The running coroutine of this thread, or NULL when it has no scheduler
 * (never makes one). */
static inline struct gp__coro *gp__self(void)
{
  return gp__tls.sched ? gp__tls.current : NULL;
}
/* Its id plus one (never 0; an id is never used again, as the struct is),
 * or 0 when this thread has no scheduler. */
uint64_t gp__self_id(void);

/* The running coroutine of this thread, making the scheduler if needed;
 * NULL without memory. */
struct gp__coro *gp__coro_current(void);

/* Runtime statistics, for reports, tests and benchmarks. */
struct gp__stats {
  uint64_t switches; /* context switches */
  size_t live;       /* coroutines not dead */
  size_t ready;      /* coroutines ready to run */
  size_t fd_waits;   /* coroutines parked on fds */
};
void gp__sched_stats(struct gp__stats *out);

/* Watches the signals of set (a signalfd in the epoll set of the
 * scheduler that runs the program's main thread, woken, edge-triggered,
 * each time one is sent to the process): route runs on that scheduler's
 * hub after each, and does what it will with those pending. Once per
 * process; later calls change nothing. Returns 0 or a negative errno. */
int gp__sched_watch_signals(const sigset_t *set, void (*route)(void));

/* Nonzero when no coroutine of the calling thread but the running one is
 * alive: nothing it waits for can come from this thread, so a real
 * blocking wait is exact. */
int gp__sched_alone(void);

/* Nonzero when the calling OS thread's scheduler is a thread's own (the
 * first thread's, or a real thread's), whose signal mask is that thread's;
 * zero on a worker, whose OS thread blocks every signal, or with none. */
int gp__sched_in_own_thread(void);

#ifdef GP__CORE
/* ---- core/ only: the struct, and the mechanics of the hub ----
 *
 * With GPATCH_CORES above 1, the runtime runs that many schedulers, one
 * per OS thread: the first thread's, and workers it starts. What a
 * scheduler owns (ready queue, timer heap, states of its coroutines, its
 * poller) is touched only by its own thread; other threads reach it
 * through its inbox (coroutines posted to it) and its spawn queue (new
 * coroutines placed on it, not started yet, which an idle scheduler may
 * take), each under a lock, and wake its hub through an eventfd. */

#include "lock.h"

/* Schedulers at most (a bit each in an fd's registration mask). */
#define GP__MAX_SCHEDS 64

struct gp__sched {
  int index;                  /* its place in gp__scheds */
  int pool;                   /* one of the GPATCH_CORES schedulers, where
                                 pthread_create places threads */
  struct gp__coro *current;   /* the running coroutine */
  struct gp__coro *hub;       /* runs the loop; never parks */
  struct gp__coro *main;      /* the thread's original context, id 0, or
                                 NULL on a worker (its hub runs there) */
  struct gp__coro *prev;      /* the coroutine switched away from last */
  int *errno_at;              /* &errno on its OS thread: every coroutine's
                                 with TLS copies (tls.c), not with a thread
                                 pointer each (tp.c) */
  struct gp__coro *tls_owner; /* whose TLS is in the live blocks (tls.c) */
  struct gp__tls_blocks *tls; /* this thread's TLS blocks (tls.c) */
  void *os_tp;                /* the OS thread's own thread pointer (tp.c) */
  void *live_tp;              /* the thread pointer in %fs now (tp.c) */
  void *live_locale;          /* the uselocale in effect, NULL: global
                                 (tls.c, with copies) */
  struct gp__list ready;      /* struct gp__coro, FIFO */
  size_t nready;              /* length of ready */
  struct gp__list all;        /* its coroutines not yet reaped, hub aside */
  size_t nlive;               /* its coroutines not dead, main included */
  uint64_t id_next, id_end;   /* the ids it may give next (coro.c) */
  int load;                   /* atomic: coroutines placed on it and not
                                 finished, for placement */
  struct gp__coro *free;      /* pooled coroutine structs */
  size_t nfree;               /* how many (at most POOL_MAX, coro.c) */
  struct gp__coro **heap;     /* timer heap: parked coroutines by deadline */
  size_t nheap;               /* entries in heap */
  size_t heap_cap;            /* its capacity */
  struct gp__lock inbox_lock; /* guards inbox */
  struct gp__list inbox;      /* coroutines posted by other threads */
  int ninbox;                 /* atomic: length of inbox */
  struct gp__lock spawn_lock; /* guards spawnq */
  struct gp__list spawnq;     /* placed here, not started: may be stolen */
  int nspawn;                 /* atomic: length of spawnq */
  int kick_fd;                /* eventfd that wakes the hub from its poll */
  int sleeping;               /* atomic: the hub is (about to be) in its
                                 poll and must be kicked */
  int kicked;                 /* atomic: kick_fd written since last read */
  uv_loop_t loop;             /* private loop: the threadpool, signals */
  struct gp__poller poller;   /* fd waits, the loop's backend fd, kick_fd */
  size_t nfdwait;             /* coroutines parked on fds */
  size_t nexternal;           /* waits only a signal or cancel can end */
  uint64_t switches;          /* context switches so far */
  int in_poll;                /* nonzero while the hub blocks in its poll */
  int steal_later;     /* a steal was put off: poll briefly, look again */
  int idle;            /* counted in the schedulers with nothing to
                          do and nothing to wait for (deadlock) */
  int main_ended;      /* main waits for the others (pthread_exit) */
  int main_suspended;  /* main is in sigsuspend or pause (wait.c) */
  int dump_wanted;     /* atomic: GPATCH_DEBUG's dump asked of this hub by
                          another's (gp__sched_dump_all) */
  unsigned interrupts; /* atomic: signals caught on this thread that
                          interrupt a parked coroutine (noted by the
                          handler, delivered by the hub) */
  uint64_t last_poll;  /* gp__now() when the hub last polled its set */
  pid_t tid;           /* the thread it belongs to */
  void *main_uc;       /* ucontext_t for main (fallback switch) */
  void *altstack;      /* this thread's signal stack */
  int preempt_asked;   /* atomic: the monitor sent the preemption signal
                          (core/preempt.c) and the handler has not run */
  int ncancel_async;   /* atomic: its coroutines with an asynchronous
                          cancel asked (preempt.c) */
  int preempt_closed;  /* the signal is blocked again on this thread
                          after gp__preempt_stop */
  int retired;         /* atomic: a real thread's, whose thread ended; kept
                          for the next real thread (gp__sched_retire) */
  struct gp__sched *retired_next; /* the retired list, under its lock */
};

/* Every scheduler made, by index; the first gp__ncores are the pool. */
extern struct gp__sched *gp__scheds[GP__MAX_SCHEDS];

/* For GPATCH_DEBUG's dump, on s's hub: dumps s's coroutines, and has
 * every other scheduler of the pool dump its own on its own thread (each
 * list is its owner's alone). */
void gp__sched_dump_all(struct gp__sched *s, int sig);
extern int gp__nsched;

/* For coro.c and wait.c: the mechanics of the hub. */
/* Switches from the running coroutine to the hub; returns when something
 * makes it run again. */
void gp__sched_suspend(struct gp__sched *s);
/* For a coroutine's first run (called on its new stack). */
void gp__sched_started(struct gp__sched *s);
/* Switches to the hub for good: the caller is dead. */
_Noreturn void gp__sched_leave_dead(struct gp__sched *s);
/* Asks co's scheduler, from any thread, to act on what (GP__POST_*) at
 * its hub's next turn, and wakes that hub if it sleeps. */
void gp__sched_post(struct gp__coro *co, int what);
/* Wakes every scheduler's hub that sleeps in its poll, for a turn. */
void gp__sched_kick_all(void);
/* The scheduler a new thread goes to: the least loaded of the pool (the
 * caller's own on a tie, or with one scheduler). */
struct gp__sched *gp__sched_place(void);
/* Queues the new coroutine co on s, from another scheduler's thread. */
void gp__sched_spawn_remote(struct gp__sched *s, struct gp__coro *co);
#endif /* GP__CORE */

#endif /* GP_SCHEDULER_H */
