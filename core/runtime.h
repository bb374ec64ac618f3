/* runtime.h: the coroutine runtime as the rest of the library sees it —
 * coroutines, the per-thread scheduler and its hub, and the ways a coroutine
 * parks (on a wait queue, a timer, or an fd) and is woken.
 *
 * Conventions: functions return 0 or a negative errno and never touch errno
 * (the per-coroutine errno save/restore in the switch aside). Times are
 * nanoseconds on CLOCK_MONOTONIC (uv_hrtime); a deadline is absolute, and
 * GP__NEVER means none. */
#ifndef GP_RUNTIME_H
#define GP_RUNTIME_H

#include "../arch/arch.h"
#include "list.h"
#include "stack.h"

#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#define GP__NEVER UINT64_MAX
#define GP__CORO_MAGIC 0x67702d636f726f31ULL /* "gp-coro1" */

/* Defined when built with AddressSanitizer (gcc or clang), which must be
 * told about every stack switch. */
#if defined(__SANITIZE_ADDRESS__)
#define GP__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GP__ASAN 1
#endif
#endif

/* Marks what the library exports: gp_* and the interposed libc names. */
#define GP_EXPORT __attribute__((visibility("default")))

/* Aborts with a message when a runtime invariant fails; kept in release
 * builds. Never used for anything the host program can cause. */
#define GP__ASSERT(cond)                                                       \
  ((cond) ? (void)0 : gp__assert_fail(#cond, __FILE__, __LINE__))
_Noreturn void gp__assert_fail(const char *expr, const char *file, int line);

/* One wait: lives on the parked coroutine's own stack for as long as it is
 * parked. Whoever ends the wait unlinks it first, then calls gp__wake(). */
struct gp__wait {
  struct gp__coro *co;     /* the parked coroutine */
  struct gp__list link;    /* in the wait queue or fd waiter list */
  void (*unlink)(struct gp__wait *w); /* takes w out of what it waits on */
  int result;              /* what gp__park() returns; set by the waker */
  int fd;                  /* fd waits: the fd, else -1 */
  uint32_t events;         /* fd waits: EPOLLIN/EPOLLOUT wanted, then got */
  int interruptible;       /* a caught signal ends the wait with -EINTR */
  int uncancelable;        /* gp_kill and gp_timeout wait until it ends
                              (a DNS lookup writing into the caller's
                              buffers) */
  struct gp__wait *parent; /* part of a multi-fd wait: wake this instead */
  struct gp__wait *subs;   /* a multi-fd wait: its per-fd records */
  size_t nsubs;            /* how many */
  const char *what;        /* for reports: "sleep", "event", "join" … */
  const void *obj;         /* for reports: the object waited on */
};

/* A queue of parked coroutines (joiners, events, queues, locks). */
struct gp__waitq {
  struct gp__list waiters; /* struct gp__wait, oldest first */
};

enum gp__coro_state {
  GP__READY,   /* in the ready queue */
  GP__RUNNING, /* the current coroutine of its scheduler */
  GP__PARKED,  /* waiting; ->wait says on what */
  GP__DEAD     /* finished; a zombie until joined (or freed if detached) */
};

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
  unsigned block_expired : 1; /* a wait ended by block_deadline */
  unsigned is_hub : 1;      /* the scheduler's hub */
  char name[16];            /* for reports; like pthread names, 15 chars */
  void *local;              /* the shim's per-coroutine state, or NULL */
  void *asan_fake_stack;    /* AddressSanitizer's bookkeeping */
  const void *asan_bottom;  /* stack bounds for AddressSanitizer, set for */
  size_t asan_size;         /* a thread's own stack on its first switch */
  unsigned vg_stack_id;     /* valgrind's id for the registered stack */
  struct gp__coro *free_next; /* in the scheduler's pool of structs */
};

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
  int epfd;                 /* fd waits, plus the loop's own backend fd */
  size_t nfdwait;           /* coroutines parked on fds */
  size_t nexternal;         /* waits another thread may end */
  uint64_t next_id;         /* id of the next coroutine */
  uint64_t switches;        /* context switches so far */
  int in_poll;              /* nonzero while the hub blocks in epoll_wait */
  uint64_t last_poll;       /* gp__now() when the hub last polled its set */
  pid_t tid;                /* the thread it belongs to */
  void *main_uc;            /* ucontext_t for main (fallback switch) */
  void *altstack;           /* this thread's signal stack */
};

/* Per-thread state. */
struct gp__tls {
  struct gp__sched *sched;  /* this thread's scheduler, or NULL */
  int depth;                /* >0 while the runtime calls out (libuv,
                               libunwind): interposers pass through */
  int foreign;              /* this thread never gets a scheduler */
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

/* Process-wide set-up: the real-function table, the configuration, the
 * context mechanism. Idempotent. */
void gp__runtime_init(void);

/* This thread's scheduler, made on first use: the running context becomes
 * coroutine 0. Returns NULL when the memory for it cannot be had. */
struct gp__sched *gp__sched_get(void);

/* The running coroutine of this thread (making the scheduler if needed), or
 * NULL. */
struct gp__coro *gp__coro_current(void);

/* Options for gp__coro_spawn. */
struct gp__spawn_opts {
  size_t stack_size;        /* 0: GPATCH_STACK_SIZE */
  const char *name;         /* NULL: none */
  int detached;             /* freed when it finishes */
};

/* Makes a coroutine that will run fn(arg), ready to run after those already
 * ready. Returns 0 and sets *out (may be NULL when detached), or -ENOMEM. */
int gp__coro_spawn(struct gp__coro **out, void *(*fn)(void *), void *arg,
                   const struct gp__spawn_opts *opts);

/* Ends the calling coroutine with retval; never returns. The thread's
 * original context (id 0) cannot exit this way. */
_Noreturn void gp__coro_exit(void *retval);

/* Waits until co has finished, then frees it and stores its return value.
 * Returns 0, -EDEADLK (co is the caller), -EINVAL (detached, or joined by
 * someone else), or the wait's error (-ETIMEDOUT, -ECANCELED). */
int gp__coro_join(struct gp__coro *co, void **retval, uint64_t deadline);

/* Nonzero when co is a coroutine of s that has not been reaped: a handle
 * the app may pass (a pthread_t, say). co must point to readable memory. */
int gp__coro_valid(const struct gp__sched *s, const struct gp__coro *co);

/* Waits until co has finished without freeing it. Same errors as join. */
int gp__coro_wait_dead(struct gp__coro *co, uint64_t deadline);

/* Frees a finished coroutine and returns its value. co must be dead. */
void *gp__coro_reap(struct gp__coro *co);

/* Marks co detached: freed when it finishes (at once if it has). Returns 0
 * or -EINVAL when already detached. */
int gp__coro_detach(struct gp__coro *co);

/* Cancels co: it never starts if it has not; if parked its wait ends with
 * -ECANCELED; if ready or running, its next wait does. Returns 0. */
int gp__coro_cancel(struct gp__coro *co);

/* Parks the running coroutine until someone calls gp__wake(w, …), the
 * deadline passes (-ETIMEDOUT; w is unlinked), it is canceled (-ECANCELED),
 * or, when w->interruptible, a signal is caught (-EINTR). w must be linked
 * into whatever will wake it, with w->unlink set. Returns w->result. */
int gp__park(struct gp__wait *w, uint64_t deadline);

/* Ends the wait w with result and makes its coroutine ready. The caller has
 * unlinked w. */
void gp__wake(struct gp__wait *w, int result);

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

/* Parks the running coroutine until the deadline. Returns 0, -ECANCELED,
 * -ETIMEDOUT (a gp_timeout block expired first) or, when interruptible,
 * -EINTR. */
int gp__sleep_until(uint64_t deadline, int interruptible);

void gp__waitq_init(struct gp__waitq *q);
/* Parks the running coroutine on q. Returns what gp__park returns. */
int gp__waitq_wait(struct gp__waitq *q, uint64_t deadline, const char *what,
                   const void *obj);
/* Wakes the oldest waiter with result. Returns 1 if one was woken, else 0. */
int gp__waitq_wake_one(struct gp__waitq *q, int result);
/* Wakes every waiter with result. Returns how many. */
size_t gp__waitq_wake_all(struct gp__waitq *q, int result);

/* Parks the running coroutine until fd is ready for events (EPOLLIN,
 * EPOLLOUT). Call it only after the operation itself reported EAGAIN: fds
 * are registered edge-triggered, once, and shared by all their waiters.
 * Returns the events seen (> 0; error and hang-up conditions are reported
 * as both directions, so that the retried call sees them), or -EBADF (the
 * fd was closed under the wait), -ETIMEDOUT, -ECANCELED, -EINTR. An fd that
 * cannot be polled (a regular file) is always ready. */
int gp__wait_fd(int fd, uint32_t events, uint64_t deadline, int interruptible);

/* A read-readiness hint, which saves the read that would only say EAGAIN.
 * gp__fd_read_short notes that a read of fd came back short with its
 * receive queue empty (the caller knows: a TCP socket); until the hub next
 * sees input or an exceptional condition on fd, gp__fd_read_idle then says
 * nonzero, and the next read may wait first. Only the fd's own scheduler
 * keeps the hint: it alone sees the fd's edges, in order with its reads. */
void gp__fd_read_short(int fd);
int gp__fd_read_idle(int fd);

/* One fd of a multi-fd wait. */
struct gp__fdwait {
  int fd;                  /* the fd; negative entries are skipped */
  uint32_t events;         /* EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLRDHUP */
};

/* Parks the running coroutine until one of the n fds is ready (poll and
 * select). Call it only after a zero-timeout poll found none ready. Returns
 * 0 when one is (look again to see which), or -ETIMEDOUT, -ECANCELED,
 * -EINTR (when interruptible), -ENOMEM, or -EXDEV when an fd belongs to
 * another thread's scheduler (the caller then makes the real call). */
int gp__wait_fds(const struct gp__fdwait *fds, size_t n, uint64_t deadline,
                 int interruptible);

/* The fd is about to be closed (or replaced by dup2): its waiters wake with
 * -EBADF and its registration goes, so that the number can be reused at
 * once. */
void gp__fd_forget(int fd);

/* After fork, in the child: every fd registration and waiter belonged to
 * the parent's epoll set and coroutines. Keeps what the shim knows of each
 * fd (kinds, the app's flags), which the child shares. */
void gp__fd_forget_all(void);

/* The fd number was just returned by a call that creates an fd: any state
 * left from an earlier file with that number (closed behind the runtime's
 * back) is dropped. */
void gp__fd_fresh(int fd);

/* nfd was just made from old (dup, dup2, dup3, F_DUPFD): both name one open
 * file description, so nfd starts with old's record, and from now on a
 * change to either is made to both (gp__fd_info_changed). */
void gp__fd_dup(int old, int nfd);

/* The record of fd was changed (the app's O_NONBLOCK, a socket timeout,
 * its kind): the fds that share its open file description get the same. */
void gp__fd_info_changed(int fd);

/* What the shim knows of an fd, process-wide. */
enum gp__fd_kind {
  GP__FD_UNKNOWN = 0, /* not looked at yet (or state dropped) */
  GP__FD_OWNED,       /* a socket the process made: O_NONBLOCK underneath,
                         the app's view kept in app_nonblock */
  GP__FD_SOCKET,      /* a blocking socket it did not make (inherited):
                         I/O with MSG_DONTWAIT, flags never touched */
  GP__FD_STREAM,      /* a blocking pipe, FIFO, tty, character device,
                         eventfd, timerfd, signalfd or inotify fd it did
                         not make: wait for readiness, then call */
  GP__FD_FILE,        /* regular file, directory, block device: the call
                         goes straight through */
  GP__FD_NONBLOCK     /* non-blocking in the app's own right: straight
                         through, EAGAIN and all */
};

struct gp__fdinfo {
  int kind;             /* enum gp__fd_kind */
  int app_nonblock;     /* GP__FD_OWNED: O_NONBLOCK as the app set it */
  int stream;           /* a byte stream (SOCK_STREAM, pipe): partial writes
                           continue until everything is written */
  uint64_t rcvtimeo_ns; /* SO_RCVTIMEO, 0 for none */
  uint64_t sndtimeo_ns; /* SO_SNDTIMEO, 0 for none */
  unsigned min_read;    /* GP__FD_STREAM: a read of fewer bytes fails at
                           once (EINVAL: eventfd, timerfd, signalfd), so
                           it is not waited for */
  int tcp;              /* GP__TCP_*: whether a short read empties it */
};

/* gp__fdinfo.tcp: a TCP socket's receive queue is empty when a read comes
 * back short (other stream sockets can stop early: at passed fds, say). */
enum { GP__TCP_UNKNOWN, GP__TCP_YES, GP__TCP_NO };

/* Calls fn for every fd the shim has a record of (kind known). */
void gp__fd_each(void (*fn)(int fd, struct gp__fdinfo *fi, void *arg),
                 void *arg);

/* The shim's record of fd, made on first use (all zero: GP__FD_UNKNOWN), or
 * NULL for a negative or absurd fd number or without memory. */
struct gp__fdinfo *gp__fd_info(int fd);

/* Flags of gp__addr_wait. */
#define GP__WAIT_UNCANCELABLE 1  /* not a cancellation point (locks) */
#define GP__WAIT_INTERRUPTIBLE 2 /* a caught signal ends it (-EINTR) */

/* sync.c: parks the running coroutine on the wait queue of addr (futex
 * style). Returns what gp__park returns. */
int gp__addr_wait(const void *addr, uint64_t deadline, const char *what,
                  int flags);
/* Wakes up to n coroutines waiting on addr, oldest first, with result.
 * Returns how many. */
size_t gp__addr_wake(const void *addr, size_t n, int result);
/* Nonzero when someone waits on addr. */
int gp__addr_has_waiters(const void *addr);

/* Nanoseconds on CLOCK_MONOTONIC. */
uint64_t gp__now(void);

/* Deadline for a timeout in ms from now (negative: GP__NEVER). */
uint64_t gp__deadline_ms(int64_t ms);

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

/* Hooks the shim sets: run when a coroutine exits (thread keys). */
extern void (*gp__coro_exit_hook)(struct gp__coro *co);

/* debug.c: the report of every coroutine (state, wait, backtrace) to fd. */
void gp__debug_dump(struct gp__sched *s, int fd, const char *title);
/* Prints a backtrace of the suspended coroutine co to fd. */
void gp__debug_backtrace(struct gp__coro *co, int fd);
/* Installs the overflow handler and the thread's signal stack. */
int gp__debug_thread_init(struct gp__sched *s);
/* The app's SIGSEGV handler: kept to be called for faults that are not a
 * stack overflow, while the runtime's own handler stays installed. Returns
 * 0 (sigaction's contract: -1 with errno on failure). */
struct sigaction;
int gp__debug_segv_chain(const struct sigaction *act, struct sigaction *oact);
/* Starts the blocking monitor if GPATCH_MAX_BLOCKING_MS is set. */
void gp__debug_monitor_start(struct gp__sched *s);
/* Names, once, on stderr, every loaded object whose thread-local storage
 * the coroutines of a thread will share: called when the first thread is
 * made a coroutine. */
/* debug.c: formats into a fixed buffer and writes it to fd (no stdio:
 * reports are written from contexts where stdio's locks may be held). */
__attribute__((format(printf, 2, 3))) void gp__debug_out(int fd,
                                                         const char *fmt,
                                                         ...);
/* tls.c: from now on each coroutine of this thread has its own copy of
 * the program's thread-local storage (called as the first coroutine is
 * made); objects that cannot be given one are named on stderr. Once per
 * process. */
void gp__tls_setup(void);
/* Swaps the TLS blocks for coroutine to, about to run (switch_to). */
void gp__tls_switch(struct gp__sched *s, struct gp__coro *to);
/* Drops the copy of a dead coroutine. */
void gp__tls_release(struct gp__sched *s, struct gp__coro *co);
/* __cxa_thread_atexit_impl for the running coroutine: 1 when the runtime
 * took the destructor (run by gp__tls_run_dtors at the coroutine's exit),
 * 0 when it belongs to the OS thread (glibc's, run at its exit), -1 with
 * no memory. */
int gp__tls_atexit(void (*fn)(void *), void *obj);
/* Runs the running coroutine's thread_local destructors, newest first. */
void gp__tls_run_dtors(struct gp__coro *co);
/* Reports, once, a libuv of the program's own that the runtime's libuv
 * calls bind to. */
void gp__debug_report_uv(void);
/* Reports a stack overflow of co to stderr (async-signal-safe). */
void gp__debug_overflow(struct gp__coro *co);

/* fdtab.c, for the hub: events arrived for fd. */
void gp__fd_ready(struct gp__sched *s, int fd, uint32_t events);
/* Wakes one interruptible waiter (the thread's main context first) with
 * -EINTR. Returns 1 if one was woken. */
int gp__sched_interrupt(struct gp__sched *s);

#endif /* GP_RUNTIME_H */
