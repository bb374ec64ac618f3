/* scheduler.c: the schedulers — one per OS thread that runs application
 * coroutines — and their hubs.
 *
 * The hub of a scheduler takes what other threads posted to it (its inbox)
 * and the coroutines placed on it (its spawn queue), runs the ready queue
 * in rounds (each coroutine that was ready when the round began runs once;
 * one that yields goes to the next round), then polls: without blocking
 * while anything is ready, else until something can run — an fd, the
 * earliest deadline of its timer heap, libuv's loop (the threadpool's
 * completions), or a kick from another thread (an eventfd).
 *
 * With GPATCH_CORES=N the first thread's scheduler is joined by N-1
 * workers, started when the program first creates a thread: pthread_create
 * places the new coroutine on the least loaded scheduler, where it stays
 * once it has run (its TLS copy, pointers into its __thread variables and
 * the &errno a compiler keeps are valid only on that OS thread). A
 * scheduler with nothing to run takes coroutines not started yet from
 * another's spawn queue.
 *
 * uv_poll_t is not used for fds: uv_poll_init turns O_NONBLOCK on, which
 * must never happen to an fd the process inherited, and libuv aborts the
 * process when a deferred epoll_ctl fails, which an fd closed behind the
 * runtime's back (fclose of an fdopen'ed socket) would cause. */
#define _GNU_SOURCE
#include "scheduler.h"
#include "mem.h"
#include "config.h"
#include "coro.h"
#include "debug.h"
#include "fdtab.h"
#include "ownfd.h"
#include "preempt.h"
#include "real.h"
#include "startup.h"
#include "sud.h"
#include "tls.h"
#include "tp.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef GP__ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef GP__VALGRIND
#include <valgrind/valgrind.h>
#endif
#ifdef GP__TSAN
#include <sanitizer/tsan_interface.h>
#endif

__thread struct gp__tls gp__tls __attribute__((tls_model("initial-exec")));

struct gp__sched *gp__scheds[GP__MAX_SCHEDS];
int gp__nsched;

/* Events taken from epoll per call. */
#define MAX_EVENTS 256
/* Cold stacks given back to the kernel per idle moment of the hub. */
#define TRIM_BATCH 256
/* While coroutines are ready, the hub polls without blocking at most this
 * often. A round of one or two coroutines (a create and its join, a lock
 * handed back and forth) would otherwise spend most of its time in that
 * epoll_wait; fd readiness is seen at most this much later. */
#define BUSY_POLL_NS 20000
/* The poller's data for the kick eventfd. */
#define POLL_KICK    (GP__POLL_LOOP - 1)
#define POLL_SIGNALS (GP__POLL_LOOP - 2)

/* gp__sched_watch_signals': the signalfd, and what the hub runs. */
static int signal_fd = -1;
static void (*signal_route)(void);

/* The schedulers of the pool (gp__scheds[0 .. pool_n - 1]), and the lock
 * under which the set changes and idle ones are counted. */
static struct gp__lock sched_lock;
static int pool_n;          /* schedulers in the pool */
static int workers_pending; /* workers started, not yet in the pool or
                               failed (gp__sched_place waits for them) */
static int workers_started; /* the pool's workers run */
static int nidle;           /* pool schedulers with nothing to wait for */

void gp__assert_fail(const char *expr, const char *file, int line)
{
  gp__debug_out(2, "gpatch: internal error: %s at %s:%d\n", expr, file, line);
  abort();
}

/* Tells the CPU this is a spin-wait. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield" ::: "memory");
#endif
}

void gp__lock_slow(struct gp__lock *l)
{
  for (unsigned spins = 0;; spins++) {
    if (!__atomic_load_n(&l->v, __ATOMIC_RELAXED) &&
        !__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
      return;
    if (spins < 100)
      cpu_relax();
    else
      gp__real_sched_yield(); /* the holder was descheduled */
  }
}

/* Switches from the running coroutine to `to`. Returns when something
 * switches back. errno belongs to each coroutine: saved and restored here. */
static void switch_to(struct gp__sched *s, struct gp__coro *to)
{
  struct gp__coro *from = s->current;
  /* from's errno, the same address when it is back: a call to find it
   * only when each coroutine has a thread pointer of its own */
  int *err = gp__tp_on ? &errno : s->errno_at;

  from->saved_errno = *err;
  from->saved_locks = gp__tls.locks_held;
  from->slice_start = 0;
  if (from->stack && gp__stack_canary_dead(from->stack))
    gp__debug_overflow(from); /* does not return */
  /* Never migrated once started: its TLS and &errno live on this thread
   * (checked in debug builds: four switches a thread's create and join). */
  GP__DEBUG_ASSERT(!to->started || to->home_tid == 0 || to->home_tid == s->tid);
  if (gp__tp_on)
    gp__tp_switch(s, to);
  else
    gp__tls_switch(s, to);
  s->prev = from;
  s->current = to;
  gp__tls.current = to;
  gp__tls.on_hub = to->is_hub;
  __atomic_store_n(&s->switches, s->switches + 1, __ATOMIC_RELAXED);
#ifdef GP__ASAN
  __sanitizer_start_switch_fiber(
      from->state == GP__DEAD ? NULL : &from->asan_fake_stack,
      to->stack ? (const void *)to->stack->lo : to->asan_bottom,
      to->stack ? to->stack->size : to->asan_size);
#endif
#ifdef GP__TSAN
  __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
  if (gp__ctx_switch_sets_mask())
    gp__preempt_mask_changed(); /* the thread's kept copy (preempt.h) */
  gp__ctx_switch(&from->ctx, &to->ctx);
#ifdef GP__ASAN
  {
    const void *bottom;
    size_t size;
    __sanitizer_finish_switch_fiber(from->asan_fake_stack, &bottom, &size);
    if (s->prev && s->prev->stack == NULL && s->prev->asan_bottom == NULL) {
      s->prev->asan_bottom = bottom;
      s->prev->asan_size = size;
    }
  }
#endif
  *err = from->saved_errno;
  gp__tls.locks_held = from->saved_locks;
}

void gp__sched_started(struct gp__sched *s)
{
#ifdef GP__ASAN
  const void *bottom;
  size_t size;
  __sanitizer_finish_switch_fiber(NULL, &bottom, &size);
  if (s->prev && s->prev->stack == NULL && s->prev->asan_bottom == NULL) {
    s->prev->asan_bottom = bottom;
    s->prev->asan_size = size;
  }
#else
  (void)s;
#endif
}

void gp__sched_suspend(struct gp__sched *s)
{
  switch_to(s, s->hub);
}

_Noreturn void gp__sched_leave_dead(struct gp__sched *s)
{
  switch_to(s, s->hub);
  GP__ASSERT(!"a dead coroutine was resumed");
  abort();
}

/* ---- other threads: kicks, posts, spawns ---- */

/* Wakes s's hub if it sleeps in its poll (or is about to). */
static void kick(struct gp__sched *s)
{
  uint64_t one = 1;
  if (__atomic_load_n(&s->sleeping, __ATOMIC_SEQ_CST) &&
      !__atomic_exchange_n(&s->kicked, 1, __ATOMIC_ACQ_REL) &&
      gp__real_write(s->kick_fd, &one, sizeof(one)) < 0)
    (void)0; /* a full eventfd is kicked already */
}

void gp__sched_kick_all(void)
{
  int n = __atomic_load_n(&gp__nsched, __ATOMIC_ACQUIRE);

  for (int i = 0; i < n; i++) {
    struct gp__sched *o = __atomic_load_n(&gp__scheds[i], __ATOMIC_ACQUIRE);
    if (o != NULL)
      kick(o);
  }
}

void gp__sched_post(struct gp__coro *co, int what)
{
  struct gp__sched *s = __atomic_load_n(&co->sched, __ATOMIC_ACQUIRE);

  gp__mt_need(); /* co's hub may free it with plain instructions (mt.h) */
  if (__atomic_fetch_or(&co->posted, what, __ATOMIC_ACQ_REL) != 0)
    return; /* queued already: the hub takes every bit at once */
  gp__lock(&s->inbox_lock);
  gp__list_push_back(&s->inbox, &co->post_link);
  __atomic_fetch_add(&s->ninbox, 1, __ATOMIC_SEQ_CST);
  gp__unlock(&s->inbox_lock);
  kick(s);
}

/* Takes what other threads posted. */
static void drain_inbox(struct gp__sched *s)
{
  struct gp__list got;
  struct gp__list *l;

  if (__atomic_load_n(&s->ninbox, __ATOMIC_ACQUIRE) == 0)
    return;
  gp__list_init(&got);
  gp__lock(&s->inbox_lock);
  while ((l = gp__list_pop_front(&s->inbox)) != NULL)
    gp__list_push_back(&got, l);
  __atomic_store_n(&s->ninbox, 0, __ATOMIC_RELAXED);
  gp__unlock(&s->inbox_lock);
  while ((l = gp__list_pop_front(&got)) != NULL) {
    struct gp__coro *co = GP__CONTAINER(l, struct gp__coro, post_link);
    int posted = __atomic_exchange_n(&co->posted, 0, __ATOMIC_ACQ_REL);
    /* Reaped meanwhile: nothing to act on, and it is this hub's to free. */
    if (posted & GP__POST_FREE)
      gp__coro_free_posted(co);
    /* Posted while not started, and taken by another scheduler since
     * (adopt): its owner acts on it. */
    else if (__atomic_load_n(&co->sched, __ATOMIC_ACQUIRE) != s)
      gp__sched_post(co, posted);
    else
      gp__wait_posted(co, posted);
  }
}

void gp__sched_spawn_remote(struct gp__sched *s, struct gp__coro *co)
{
  gp__lock(&s->spawn_lock);
  gp__list_push_back(&s->spawnq, &co->ready_link);
  __atomic_fetch_add(&s->nspawn, 1, __ATOMIC_SEQ_CST);
  gp__unlock(&s->spawn_lock);
  kick(s);
}

/* Makes co, placed on another scheduler and not started, s's own. */
static void adopt(struct gp__sched *s, struct gp__coro *co)
{
  struct gp__sched *from = co->sched;
  if (from != s) {
    __atomic_fetch_sub(&from->load, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&s->load, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&co->sched, s, __ATOMIC_RELEASE); /* drain_inbox */
  }
  gp__list_push_back(&s->all, &co->all_link);
  s->nlive++;
  gp__sched_make_ready(s, co);
}

/* Takes up to max coroutines from victim's spawn queue (s's own, or
 * another's when s is idle). Returns how many. */
static int take_spawned(struct gp__sched *s, struct gp__sched *victim, int max)
{
  struct gp__list *l;
  int n = 0;

  if (__atomic_load_n(&victim->nspawn, __ATOMIC_ACQUIRE) == 0)
    return 0;
  if (victim == s)
    gp__lock(&victim->spawn_lock);
  else if (!gp__trylock(&victim->spawn_lock))
    return 0;
  while (n < max && (l = gp__list_pop_front(&victim->spawnq)) != NULL) {
    __atomic_fetch_sub(&victim->nspawn, 1, __ATOMIC_RELAXED);
    adopt(s, GP__CONTAINER(l, struct gp__coro, ready_link));
    n++;
  }
  gp__unlock(&victim->spawn_lock);
  return n;
}

/* How long a scheduler may go without polling before an idle one takes
 * its coroutines not started yet: one that polls (or sleeps in its poll,
 * kicked) takes its own queue at once, and a new thread placed away from
 * its creator should start where it was placed. */
#define STEAL_AFTER_NS 10000000
/* How soon an idle scheduler that put a steal off looks again. */
#define STEAL_RETRY_NS 2000000

/* An idle scheduler takes a coroutine not started yet from another that is
 * busy or stuck. Sets s->steal_later when it put one off. */
static int steal(struct gp__sched *s)
{
  int n = __atomic_load_n(&pool_n, __ATOMIC_ACQUIRE);
  uint64_t now = gp__now();

  for (int i = 1; i <= n; i++) {
    struct gp__sched *v =
        __atomic_load_n(&gp__scheds[(s->index + i) % n], __ATOMIC_ACQUIRE);
    if (v == s || v == NULL ||
        __atomic_load_n(&v->nspawn, __ATOMIC_ACQUIRE) == 0)
      continue;
    if (__atomic_load_n(&v->sleeping, __ATOMIC_SEQ_CST) ||
        now - __atomic_load_n(&v->last_poll, __ATOMIC_RELAXED) <
            STEAL_AFTER_NS) {
      s->steal_later = 1;
      continue;
    }
    if (take_spawned(s, v, 1) > 0)
      return 1;
  }
  return 0;
}

/* ---- the hub ---- */

/* Runs every coroutine that is ready now, once. */
static void run_round(struct gp__sched *s)
{
  size_t n = s->nready;

  while (n-- > 0) {
    struct gp__list *l = gp__list_pop_front(&s->ready);
    struct gp__coro *co;
    if (l == NULL)
      break;
    s->nready--;
    co = GP__CONTAINER(l, struct gp__coro, ready_link);
    co->state = GP__RUNNING;
    switch_to(s, co);
    if (co->state == GP__DEAD)
      gp__coro_release(s, co);
  }
}

/* Nothing is ready, and nothing can make anything ready: report, then abort
 * or hang as configured. */
static void deadlock(struct gp__sched **set, int n)
{
  char title[160];
  size_t live = 0;

  for (int i = 0; i < n; i++)
    live += set[i]->nlive;
  snprintf(title, sizeof(title),
           "gpatch: deadlock: %zu coroutine%s blocked and nothing can wake "
           "%s (no fd, timer or other thread is pending)",
           live, live == 1 ? " is" : "s are", live == 1 ? "it" : "them");
  gp__debug_out(2, "%s\n", title);
  for (int i = 0; i < n; i++) {
    char sub[64];
    snprintf(sub, sizeof(sub), "  scheduler %d (thread %d):", set[i]->index,
             (int)set[i]->tid);
    gp__debug_dump(set[i], 2, n > 1 ? sub : NULL);
  }
  if (gp__config.on_deadlock == GP__DEADLOCK_HANG) {
    for (;;)
      gp__real_poll(NULL, 0, -1); /* as the program would, unpatched */
  }
  abort();
}

/* Runs libuv's loop once without blocking. */
static void run_loop(struct gp__sched *s)
{
  GP__RUNTIME_ENTER();
  gp__debug_hold_loop(s, 1);
  uv_run(&s->loop, UV_RUN_NOWAIT);
  gp__debug_hold_loop(s, 0);
  GP__RUNTIME_LEAVE();
}

/* libuv's view: whether anything is pending (*alive), and whether
 * something is due now (returns nonzero). */
static int loop_due(struct gp__sched *s, int *alive)
{
  int t = -1;
  GP__RUNTIME_ENTER();
  *alive = uv_loop_alive(&s->loop);
  if (*alive) {
    uv_update_time(&s->loop);
    t = uv_backend_timeout(&s->loop);
  }
  GP__RUNTIME_LEAVE();
  return t == 0;
}

/* Nothing can make a coroutine of s ready but another scheduler. */
static int stuck(struct gp__sched *s, int alive)
{
  return s->nready == 0 && s->nheap == 0 && !alive && s->nfdwait == 0 &&
         s->nexternal == 0 &&
         __atomic_load_n(&s->ninbox, __ATOMIC_SEQ_CST) == 0 &&
         __atomic_load_n(&s->nspawn, __ATOMIC_SEQ_CST) == 0;
}

/* A deadlock is reported only once the schedulers have stayed stuck for a
 * while with no coroutine run anywhere: a thread the runtime does not own
 * (a library's, a worker of the pool still starting) may hold the lock
 * the coroutines wait for and let it go in a moment. While such a thread
 * lives it is not reported at all: it may end any wait, as unpatched, and
 * a program that is stuck hangs, as it would. */
#define DEADLOCK_GRACE_NS  200000000ull
#define FOREIGN_RECHECK_NS 1000000000ull
static uint64_t suspect_at;       /* when the set was first seen stuck */
static uint64_t suspect_switches; /* and its switches then */

/* Nonzero when /proc/self/d names a number, into *n. */
static int number(const char *d, int *n)
{
  int v = 0;
  if (*d < '0' || *d > '9')
    return 0;
  for (; *d >= '0' && *d <= '9'; d++)
    v = v * 10 + (*d - '0');
  *n = v;
  return *d == '\0';
}

/* Nonzero when thread tid is the runtime's: a scheduler's, or named as the
 * runtime names its helpers, monitor and libuv's threadpool. */
static int runtime_thread(int tid)
{
  char path[64], comm[32];
  ssize_t len;
  int fd;

  for (int i = 0; i < gp__nsched; i++)
    if (gp__scheds[i] && gp__scheds[i]->tid == tid)
      return 1;
  snprintf(path, sizeof(path), "/proc/self/task/%d/comm", tid);
  fd = (int)gp__real_syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 1; /* gone */
  len = gp__real_read(fd, comm, sizeof(comm) - 1);
  gp__real_close(fd);
  comm[len > 0 ? len : 0] = '\0';
  return strncmp(comm, "gpatch-", 7) == 0 ||
         strncmp(comm, "libuv-worker", 12) == 0;
}

/* Nonzero when an OS thread the runtime does not own runs in the process
 * (or the threads cannot be listed). Raw system calls and a buffer on the
 * stack: the allocator may be what the coroutines wait for. */
static int foreign_threads(void)
{
  char buf[4096];
  long got;
  int fd = (int)gp__real_syscall(SYS_openat, AT_FDCWD, "/proc/self/task",
                                 O_RDONLY | O_DIRECTORY | O_CLOEXEC),
      found = 0;

  if (fd < 0)
    return 1;
  while (!found &&
         (got = gp__real_syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
    for (long off = 0; off < got && !found;) {
      struct dirent64 *d = (struct dirent64 *)(void *)(buf + off);
      int tid;
      if (number(d->d_name, &tid) && !runtime_thread(tid))
        found = 1;
      off += d->d_reclen;
    }
  }
  gp__real_close(fd);
  return found || got < 0;
}

/* The set of n schedulers is stuck (sched_lock held): reports the
 * deadlock once it has stayed so, or returns how long the hub may sleep
 * before looking again (ns; -1 for no limit). */
static int64_t judge_stuck(struct gp__sched **set, int n)
{
  uint64_t now = gp__now(), switches = 0;

  for (int i = 0; i < n; i++)
    switches += __atomic_load_n(&set[i]->switches, __ATOMIC_RELAXED);
  if (suspect_at == 0 || switches != suspect_switches) {
    suspect_at = now;
    suspect_switches = switches;
    return (int64_t)DEADLOCK_GRACE_NS;
  }
  if (now - suspect_at < DEADLOCK_GRACE_NS)
    return (int64_t)(DEADLOCK_GRACE_NS - (now - suspect_at));
  if (foreign_threads()) {
    suspect_at = now; /* look again later: the thread may be gone */
    return (int64_t)FOREIGN_RECHECK_NS;
  }
  deadlock(set, n);
  return -1;
}

/* s is stuck: counts it idle; the last scheduler of the pool to be stuck
 * with nothing posted anywhere judges whether the pool is deadlocked. A
 * scheduler outside the pool (a real thread's) is judged alone. Returns
 * how long s may sleep (ns; -1 for no limit). */
static int64_t go_idle(struct gp__sched *s)
{
  int64_t t = -1;
  int all = 1;

  gp__lock(&sched_lock);
  if (!s->pool) {
    t = judge_stuck(&s, 1);
    gp__unlock(&sched_lock);
    return t;
  }
  if (!s->idle) {
    s->idle = 1;
    nidle++;
  }
  for (int i = 0; i < pool_n && all; i++) {
    struct gp__sched *o = gp__scheds[i];
    all = o->idle && __atomic_load_n(&o->ninbox, __ATOMIC_SEQ_CST) == 0 &&
          __atomic_load_n(&o->nspawn, __ATOMIC_SEQ_CST) == 0;
  }
  if (all && nidle == pool_n)
    t = judge_stuck(gp__scheds, pool_n);
  gp__unlock(&sched_lock);
  return t;
}

static void leave_idle(struct gp__sched *s)
{
  gp__lock(&sched_lock);
  if (s->idle) {
    s->idle = 0;
    nidle--;
  }
  gp__unlock(&sched_lock);
}

/* How long the hub may block: 0 while anything is ready, else until the
 * earliest deadline or libuv's next timer; -1 for no limit. */
static int64_t poll_timeout(struct gp__sched *s, uint64_t next_timer, int *run)
{
  int alive;
  int64_t t;

  *run = loop_due(s, &alive);
  if (s->nready > 0 || *run ||
      __atomic_load_n(&s->interrupts, __ATOMIC_RELAXED))
    return 0;
  t = next_timer == GP__NEVER ? -1 : (int64_t)next_timer;
  if (s->steal_later) {
    /* Look again soon: the other scheduler may take its own by then. */
    s->steal_later = 0;
    if (t < 0 || t > STEAL_RETRY_NS)
      t = STEAL_RETRY_NS;
  }
  if (t < 0 && stuck(s, alive))
    t = go_idle(s);
  return t;
}

/* Delivers the interruptions signal handlers noted on this thread: each
 * ends one interruptible wait, the one the kernel would have interrupted
 * (gp__interrupt_one). */
static void deliver_interrupts(struct gp__sched *s)
{
  unsigned n;

  /* Only this thread's handlers add to it: a plain look first spares the
   * hub a locked instruction per round when there is nothing. */
  if (__atomic_load_n(&s->interrupts, __ATOMIC_RELAXED) == 0)
    return;
  n = __atomic_exchange_n(&s->interrupts, 0, __ATOMIC_RELAXED);
  while (n-- > 0)
    gp__interrupt_one(s);
}

/* One poll of the poller; blocks only when nothing is ready. */
static void poll_once(struct gp__sched *s)
{
  struct epoll_event ev[MAX_EVENTS];
  uint64_t next, now = gp__now(); /* one clock read before, one after */
  int64_t timeout;
  int n, loop = 0, signals = 0;

  next = gp__timers_run(s, now);
  if (s->nready > 0 && now - s->last_poll < BUSY_POLL_NS) {
    int alive;
    if (loop_due(s, &alive))
      run_loop(s);
    return;
  }
  timeout = poll_timeout(s, next, &loop);
  if (timeout != 0 && gp__stack_trim(TRIM_BATCH) > 0)
    timeout = 0; /* more may be left: look again before sleeping */
  if (timeout != 0) {
    __atomic_store_n(&s->sleeping, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&s->ninbox, __ATOMIC_SEQ_CST) ||
        __atomic_load_n(&s->nspawn, __ATOMIC_SEQ_CST))
      timeout = 0; /* posted before it could be kicked */
  }
  s->in_poll = timeout != 0;
  n = gp__poller_wait(&s->poller, ev, MAX_EVENTS, timeout);
  s->in_poll = 0;
  __atomic_store_n(&s->sleeping, 0, __ATOMIC_SEQ_CST);
  now = gp__now();
  __atomic_store_n(&s->last_poll, now, __ATOMIC_RELAXED);
  if (s->idle)
    leave_idle(s);
  deliver_interrupts(s);
  for (int i = 0; i < n; i++) {
    uint64_t d = ev[i].data.u64;
    if (d == GP__POLL_LOOP) {
      loop = 1;
    } else if (d == POLL_KICK) {
      uint64_t v;
      /* Read, then cleared: a kick between the two finds it set and
       * writes nothing, and its post is taken this round; cleared first,
       * the read could swallow a write that set it again. */
      if (gp__real_read(s->kick_fd, &v, sizeof(v)) < 0)
        (void)0; /* read by an earlier round */
      __atomic_store_n(&s->kicked, 0, __ATOMIC_SEQ_CST);
    } else if (d == POLL_SIGNALS) {
      signals = 1;
    } else {
      gp__fd_ready(s, d, ev[i].events);
    }
  }
  if (signals)
    signal_route();
  gp__timers_run(s, now);
  if (loop)
    run_loop(s);
}

/* Adds the signalfd to s's epoll set, edge-triggered: a level-triggered
 * one would wake the hub for good while a signal nobody may take stays
 * pending. */
static int add_signal_fd(struct gp__sched *s)
{
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET,
                           .data.u64 = POLL_SIGNALS};
  return gp__real_epoll_ctl(s->poller.epfd, EPOLL_CTL_ADD, signal_fd, &ev) == 0
             ? 0
             : -errno;
}

int gp__sched_watch_signals(const sigset_t *set, void (*route)(void))
{
  struct gp__sched *s;
  int fd, r = 0;

  gp__lock(&sched_lock);
  s = gp__scheds[0]; /* the first thread's */
  if (signal_fd >= 0 || s == NULL) {
    gp__unlock(&sched_lock);
    return 0;
  }
  fd = gp__ownfd_move(signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (fd < 0) {
    r = -errno;
  } else {
    signal_route = route;
    signal_fd = fd;
    if ((r = add_signal_fd(s)) < 0) {
      gp__ownfd_forget(fd);
      gp__real_close(fd);
      signal_fd = -1;
    }
  }
  gp__unlock(&sched_lock);
  return r;
}

static void dump_own(struct gp__sched *s, int sig)
{
  char title[128];
  snprintf(title, sizeof(title),
           "gpatch: coroutines of scheduler %d, thread %d (signal %d, "
           "GPATCH_DEBUG)",
           s->index, (int)s->tid, sig);
  gp__debug_dump(s, 2, title);
}

void gp__sched_dump_all(struct gp__sched *s, int sig)
{
  int n = __atomic_load_n(&pool_n, __ATOMIC_ACQUIRE);

  dump_own(s, sig);
  for (int i = 0; i < n; i++) {
    struct gp__sched *o = __atomic_load_n(&gp__scheds[i], __ATOMIC_ACQUIRE);
    if (o == NULL || o == s)
      continue;
    __atomic_store_n(&o->dump_wanted, sig, __ATOMIC_RELEASE);
    kick(o);
  }
}

/* The hub's work, for good. */
_Noreturn static void hub_loop(struct gp__sched *s)
{
  for (;;) {
    if (__atomic_load_n(&s->dump_wanted, __ATOMIC_RELAXED))
      dump_own(s, __atomic_exchange_n(&s->dump_wanted, 0, __ATOMIC_ACQUIRE));
    if (__atomic_load_n(&gp__preempt_closing, __ATOMIC_RELAXED))
      gp__preempt_hub_turn(s);
    drain_inbox(s);
    deliver_interrupts(s);
    take_spawned(s, s, INT32_MAX);
    if (s->nready == 0 && s->pool &&
        __atomic_load_n(&pool_n, __ATOMIC_RELAXED) > 1)
      steal(s);
    run_round(s);
    poll_once(s);
  }
}

/* The hub's entry on a stack of its own (the first thread's). */
static void hub_main(void *arg)
{
  struct gp__sched *s = arg;
  gp__sched_started(s);
  hub_loop(s);
}

/* ---- making schedulers ---- */

static void atfork_prepare(void);
static void atfork_parent(void);
static void atfork_child(void);

/* s's hub struct, fresh (zeroed) or cleared, as a running hub's. */
static void init_hub(struct gp__sched *s)
{
  gp__coro_init_struct(s, s->hub);
  s->hub->is_hub = 1;
  s->hub->state = GP__RUNNING;
  s->hub->started = 1;
  strcpy(s->hub->name, "hub");
}

/* The calling thread's running context becomes s's main coroutine, and
 * the hub's context starts at hub_main on its own stack: at a scheduler's
 * making, and when a real thread takes one a thread that ended left
 * (revive). The structs are zeroed here but for what outlives a thread:
 * the hub's stack and the debuggers' names for it. */
static void begin_main(struct gp__sched *s)
{
  struct gp__coro *hub = s->hub, *main = s->main;
  struct gp__stack *st = hub->stack;
#ifdef GP__VALGRIND
  unsigned vg = hub->vg_stack_id;
#endif
#ifdef GP__TSAN
  void *fiber = hub->tsan_fiber;
#endif

  memset(hub, 0, sizeof(*hub));
  memset(main, 0, sizeof(*main));
  init_hub(s);
  hub->stack = st;
#ifdef GP__VALGRIND
  hub->vg_stack_id = vg;
#endif
  gp__coro_init_struct(s, main);
  main->magic = GP__CORO_MAGIC;
  gp__ctx_adopt(&main->ctx, s->main_uc);
  main->state = GP__RUNNING;
  main->started = 1;
  main->home_tid = s->tid;
#ifdef GP__TSAN
  main->tsan_fiber = __tsan_get_current_fiber();
  hub->tsan_fiber = fiber ? fiber : __tsan_create_fiber(0);
#endif
  strcpy(main->name, "main");
  gp__list_push_back(&s->all, &main->all_link);
  s->nlive = 1;
  s->current = main;
  gp__ctx_make(&hub->ctx, st->lo, st->size, hub_main, s);
}

/* The thread's running context becomes coroutine 0 (main), and the hub
 * gets a stack of its own; on a worker (no main) the hub is the thread's
 * own context. Returns 0 or -ENOMEM. */
static int make_coros(struct gp__sched *s, int with_main)
{
  struct gp__stack *st;

  s->main_uc = gp__calloc(1, sizeof(ucontext_t));
  s->hub = gp__calloc(1, sizeof(*s->hub));
  if (with_main)
    s->main = gp__calloc(1, sizeof(*s->main));
  if (!s->main_uc || !s->hub || (with_main && !s->main))
    goto fail;
  if (!with_main) {
    init_hub(s);
    gp__ctx_adopt(&s->hub->ctx, s->main_uc);
#ifdef GP__TSAN
    s->hub->tsan_fiber = __tsan_get_current_fiber();
#endif
    s->current = s->hub;
    gp__tls.on_hub = 1;
    return 0;
  }
  /* A thread's size (a handler that lands in the hub runs the program's
   * code there, and a child it forks lives on there), in a mapping of its
   * own: the first slab waits for the first thread. */
  if (gp__stack_get_own(&st, gp__config.stack_size) < 0)
    goto fail;
  s->hub->stack = st;
#ifdef GP__VALGRIND
  /* Like every coroutine's: without it valgrind takes a switch to the hub
   * for a stack frame of its neighbour in the slab, and marks the hub's
   * saved frame undefined. */
  s->hub->vg_stack_id = VALGRIND_STACK_REGISTER(st->lo, st->lo + st->size);
#endif
  begin_main(s);
  return 0;

fail:
  gp__free(s->main);
  gp__free(s->main_uc);
  gp__free(s->hub);
  return -ENOMEM;
}

/* Returns 0 when n more fds can be opened now, else -EMFILE (or the
 * error that stopped the trial). libuv aborts the process when it cannot
 * make the pipe of its signal handling (the first uv_loop_init of a
 * process makes it, after the loop's own epoll fd): three free fds are
 * looked for first, so that a program short of fds runs unpatched rather
 * than not at all. */
static int fds_free(int n)
{
  int fd[4], k, err = 0;

  for (k = 0; k < n && k < 4; k++)
    if ((fd[k] = epoll_create1(EPOLL_CLOEXEC)) < 0) {
      err = -errno;
      break;
    }
  for (int i = 0; i < k; i++)
    gp__real_close(fd[i]);
  return err;
}

/* libuv's fds, made by uv_loop_init or uv_loop_fork, above the runtime's
 * floor (core/ownfd.h): its epoll set, its async eventfd, and the pipe of
 * the loop's signal handling (every loop has one, for its child watcher). */
static void note_loop_fds(struct gp__sched *s)
{
  gp__ownfd_note(s->loop.backend_fd);
  gp__ownfd_note(s->loop.async_io_watcher.fd);
  if (s->loop.async_wfd >= 0)
    gp__ownfd_note(s->loop.async_wfd);
  for (int i = 0; i < 2; i++)
    if (s->loop.signal_pipefd[i] >= 0)
      gp__ownfd_note(s->loop.signal_pipefd[i]);
}

/* In a fork's child, the numbers below the floor are held from the first
 * child handler to atfork_child: libuv's own child handler makes its
 * signal lock pipe anew in between, and it lands above the floor, not on
 * the numbers the child's first opens get plain. */
static struct gp__ownfd_hold fork_hold;

static void fork_hold_child(void)
{
  gp__ownfd_fork_child();
  gp__ownfd_hold(&fork_hold);
}

/* libuv's loop of s, its fds above the floor. Returns 0 or libuv's error. */
static int loop_init(struct gp__sched *s)
{
  static int once;
  struct gp__ownfd_hold h;
  int first = !__atomic_exchange_n(&once, 1, __ATOMIC_ACQ_REL), r;

  /* fork_hold_child before libuv's first loop registers its child
   * handler, atfork_child after */
  if (first) {
    pthread_atfork(NULL, NULL, fork_hold_child);
    gp__mem_uv_setup(); /* before libuv's first allocation */
  }

  gp__ownfd_hold(&h);
  GP__RUNTIME_ENTER();
  r = uv_loop_init(&s->loop);
  GP__RUNTIME_LEAVE();
  gp__ownfd_release(&h);
  if (first)
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
  if (r == 0)
    note_loop_fds(s);
  return r;
}

/* The poller, libuv's loop and the kick eventfd of s. Returns 0, or a
 * negative errno with *what naming the step that failed. */
static int make_loop(struct gp__sched *s, const char **what)
{
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = POLL_KICK};
  int err;

  *what = "epoll_create1";
  if ((err = gp__poller_init(&s->poller)) < 0)
    return err;
  gp__debug_report_uv();
  *what = "opening the fds of libuv's loop";
  if ((err = fds_free(3)) < 0)
    goto fail_poller;
  *what = "uv_loop_init";
  if ((err = loop_init(s)) != 0)
    goto fail_poller;
  *what = "eventfd";
  s->kick_fd = gp__ownfd_move(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (s->kick_fd < 0) {
    err = -errno;
    goto fail_loop;
  }
  *what = "adding libuv's fd and the kick eventfd to the epoll set";
  if ((err = gp__poller_add_loop(&s->poller, uv_backend_fd(&s->loop))) < 0)
    goto fail_kick;
  if (gp__real_epoll_ctl(s->poller.epfd, EPOLL_CTL_ADD, s->kick_fd, &ev) < 0) {
    err = -errno;
    goto fail_kick;
  }
  return 0;

fail_kick:
  gp__ownfd_forget(s->kick_fd);
  gp__real_close(s->kick_fd);
fail_loop:
  uv_loop_close(&s->loop);
fail_poller:
  gp__ownfd_forget(s->poller.epfd);
  gp__real_close(s->poller.epfd);
  return err;
}

/* Real threads' schedulers whose threads ended (gp__sched_retire), under
 * sched_lock. */
static struct gp__sched *retired;
extern void *__dso_handle __attribute__((visibility("hidden")));

/* Takes a retired scheduler for the calling real thread, or NULL when
 * there is none. Its loop, fds, hub stack and pools are as its last
 * thread left them, with nothing waiting on any. */
static struct gp__sched *revive(void)
{
  struct gp__sched *s;

  gp__lock(&sched_lock);
  if ((s = retired) != NULL)
    retired = s->retired_next;
  gp__unlock(&sched_lock);
  if (s == NULL)
    return NULL;
  s->retired_next = NULL;
  s->tid = gettid();
  gp__tp_sched_init(s);
  begin_main(s);
  s->tls_owner = NULL;
  s->main_ended = s->main_suspended = 0;
  s->preempt_asked = s->ncancel_async = s->preempt_closed = 0;
  s->switches++; /* the monitor's count of it starts again */
  __atomic_store_n(&s->retired, 0, __ATOMIC_RELEASE);
  return s;
}

static void retire_at_exit(void *arg)
{
  (void)arg;
  gp__sched_retire();
}

void gp__sched_retire(void)
{
  struct gp__sched *s = gp__tls.sched;
  stack_t cur, off = {.ss_flags = SS_DISABLE};

  /* Only a real thread's scheduler with nothing but the ending thread on
   * it (a coroutine spawned there would be lost with it either way). */
  if (s == NULL || s->pool || s->main == NULL || s->current != s->main ||
      s->nlive != 1 || s->nready || s->nheap || s->nfdwait || s->nexternal ||
      __atomic_load_n(&s->ninbox, __ATOMIC_ACQUIRE) ||
      __atomic_load_n(&s->nspawn, __ATOMIC_ACQUIRE))
    return;
  GP__RUNTIME_ENTER();
  gp__tls_thread_gone(s);
  /* The signal stack the runtime gave it is the next thread's. */
  if (s->altstack && sigaltstack(NULL, &cur) == 0 && cur.ss_sp == s->altstack)
    sigaltstack(&off, NULL);
  gp__list_init(&s->all);
  s->nlive = 0;
  s->interrupts = 0;
  s->tid = 0;
  __atomic_store_n(&s->retired, 1, __ATOMIC_RELEASE);
  gp__lock(&sched_lock);
  s->retired_next = retired;
  retired = s;
  gp__unlock(&sched_lock);
  GP__RUNTIME_LEAVE();
  gp__tls.sched = NULL;
  gp__tls.foreign = 1; /* what it calls from now on passes through */
  gp__tls.setup = -1;  /* and never makes a scheduler again */
}

/* Makes the calling thread's scheduler (pool: one of GPATCH_CORES; with
 * main: the thread's running context becomes coroutine 0). Runs with the
 * re-entry guard up: what it calls back into passes straight to libc.
 * Returns 0 and sets *out, or a negative errno with *what naming the step
 * that failed. */
static int make_sched(struct gp__sched **out, const char **what, int with_main,
                      int pool)
{
  struct gp__sched *s;
  int err;

  if (!pool && with_main && (s = revive()) != NULL)
    goto made;
  s = gp__calloc(1, sizeof(*s));
  *what = "allocating the scheduler";
  if (s == NULL)
    return -ENOMEM;
  gp__list_init(&s->ready);
  gp__list_init(&s->all);
  gp__list_init(&s->inbox);
  gp__list_init(&s->spawnq);
  s->tid = gettid();
  gp__tp_sched_init(s);
  s->kick_fd = -1;
  if ((err = make_loop(s, what)) < 0)
    goto fail;
  *what = "allocating the hub and its stack";
  if ((err = make_coros(s, with_main)) < 0)
    goto fail; /* the loop's fds stay: they are few, and this is rare */
  *what = "registering the scheduler";
  gp__lock(&sched_lock);
  if (gp__nsched == GP__MAX_SCHEDS) {
    gp__unlock(&sched_lock);
    err = -EAGAIN;
    goto fail;
  }
  s->index = gp__nsched;
  __atomic_store_n(&gp__scheds[gp__nsched], s, __ATOMIC_RELEASE);
  __atomic_store_n(&gp__nsched, gp__nsched + 1, __ATOMIC_RELEASE);
  s->pool = pool;
  if (pool)
    __atomic_store_n(&pool_n, pool_n + 1, __ATOMIC_RELEASE);
  gp__unlock(&sched_lock);
made:
  gp__mt_need(); /* a scheduler on another thread: locked instructions */
  s->errno_at = &errno;
  gp__tls.current = s->current;
  gp__tls.sched = s;
  gp__tls.app = 1;
  gp__debug_thread_init(s);
  gp__sud_thread_init();
  *out = s;
  return 0;

fail:
  gp__free(s);
  return err;
}

/* A worker of the pool: a scheduler on a thread of its own, whose hub runs
 * on the thread's own stack for good. */
static void *worker_main(void *arg)
{
  struct gp__sched *s;
  const char *what;
  int err;

  (void)arg;
  /* Named at once, by itself (the starter may not name it: it is
   * detached, and may be gone already). */
  gp__real_pthread_setname_np(gp__real_pthread_self(), "gpatch-sched");
  gp__tls.setup = 1;
  GP__RUNTIME_ENTER();
  err = make_sched(&s, &what, 0, 1);
  GP__RUNTIME_LEAVE();
  gp__tls.setup = 0;
  __atomic_fetch_sub(&workers_pending, 1, __ATOMIC_RELEASE);
  if (err < 0) {
    gp__startup_worker_failed(what, err);
    return NULL;
  }
  hub_loop(s);
  return NULL;
}

/* Starts the pool's workers (GPATCH_CORES - 1), once; returns 0 when the
 * program is to run on one scheduler after all. Their OS threads block
 * every signal a program handles: the kernel gives process-directed
 * signals to the first thread, whose mask is the program's main thread's,
 * as unpatched. */
static int start_workers(void)
{
  static int alone; /* the first caller found the program must run alone */
  sigset_t all, old;
  pthread_attr_t a;

  if (__atomic_exchange_n(&workers_started, 1, __ATOMIC_ACQ_REL))
    return !__atomic_load_n(&alone, __ATOMIC_ACQUIRE);
  /* An allocator linked into the program keeps its thread-local state
   * among the program's, copied per coroutine: jemalloc so crashed with
   * several schedulers (core/tls.c). auto does not take that risk. */
  if (gp__config.cores_auto && gp__tls_own_malloc()) {
    __atomic_store_n(&alone, 1, __ATOMIC_RELEASE);
    gp__debug_out(2,
                  "gpatch: one scheduler, not GPATCH_CORES=auto's %u: "
                  "the program's malloc is linked into it, and its "
                  "thread-local state cannot be kept per OS thread "
                  "(GPATCH_CORES=N or GPATCH_TLS=thread overrides; see "
                  "README)\n",
                  gp__config.cores);
    return 0;
  }
  sigfillset(&all);
  for (int sig = 1; sig < NSIG; sig++)
    if (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL ||
        sig == SIGTRAP || sig == SIGSYS)
      sigdelset(&all, sig); /* faults stay the thread's own */
  if (__atomic_load_n(&gp__preempt_on, __ATOMIC_ACQUIRE))
    sigdelset(&all, GP__PREEMPT_SIGNAL); /* the monitor's (preempt.c) */
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  gp__real_pthread_sigmask(SIG_SETMASK, &all, &old);
  GP__RUNTIME_ENTER();
  for (unsigned i = 1; i < gp__config.cores; i++) {
    pthread_t t;
    __atomic_fetch_add(&workers_pending, 1, __ATOMIC_RELAXED);
    if (gp__real_pthread_create(&t, &a, worker_main, NULL) != 0) {
      __atomic_fetch_sub(&workers_pending, 1, __ATOMIC_RELAXED);
      gp__debug_out(2, "gpatch: could not start scheduler thread %u of %u\n",
                    i + 1, gp__config.cores);
      break;
    }
  }
  GP__RUNTIME_LEAVE();
  gp__real_pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&a);
  return 1;
}

struct gp__sched *gp__sched_place(void)
{
  static unsigned place_next; /* where the next scan starts */
  struct gp__sched *self = gp__tls.sched, *best = self;
  unsigned start;
  int min, n;

  if (gp__config.cores <= 1 || !self->pool || !start_workers())
    return self;
  /* The first thread the program makes would otherwise always stay with
   * its creator, the workers not being up yet: a thread that then computes
   * without a call (a pure-Python loop holding the GIL) would keep the
   * creator from ever running again. So the first placement waits for the
   * workers to be up (each takes well under a millisecond; at most 100 ms
   * in all, once). */
  for (int i = 0;
       i < 500 && __atomic_load_n(&workers_pending, __ATOMIC_ACQUIRE) > 0;
       i++) {
    struct timespec pause = {0, 200000};
    gp__real_nanosleep(&pause, NULL);
  }
  /* The creator counts as load where it runs (the first thread's own
   * coroutine is not counted in its scheduler's load), so on a tie the new
   * thread goes elsewhere, not beside a creator that is running; among
   * others equally loaded, the scan starts at a rotating place, so that
   * threads that end quickly do not all go to the first. */
  min = __atomic_load_n(&self->load, __ATOMIC_RELAXED) +
        (self->current == self->main);
  n = __atomic_load_n(&pool_n, __ATOMIC_ACQUIRE);
  start = __atomic_fetch_add(&place_next, 1, __ATOMIC_RELAXED);
  for (int i = 0; i < n; i++) {
    struct gp__sched *o =
        __atomic_load_n(&gp__scheds[(start + i) % n], __ATOMIC_ACQUIRE);
    int l;
    if (o == NULL || o == self)
      continue;
    l = __atomic_load_n(&o->load, __ATOMIC_RELAXED);
    if (l < min) {
      min = l;
      best = o;
    }
  }
  return best;
}

struct gp__sched *gp__sched_make(void)
{
  struct gp__sched *s = gp__tls.sched;
  const char *what;
  int err;

  if (s)
    return s;
  /* Re-entered while this thread makes its scheduler, or after that
   * failed: none; the caller passes through. */
  if (gp__tls.setup)
    return NULL;
  gp__tls.setup = 1;
  gp__runtime_init();
  /* The re-entry guard: whatever set-up calls back into (an allocator's
   * pthread mutexes, libuv's) passes straight through to libc. */
  GP__RUNTIME_ENTER();
  /* The first thread's scheduler is the pool's first; a real thread's own
   * (GPATCH_PATCH=-thread) is not in the pool. */
  err = make_sched(&s, &what, 1, gettid() == getpid() && gp__nsched == 0);
  if (err < 0) {
    GP__RUNTIME_LEAVE();
    gp__tls.setup = -1; /* never again on this thread: all or nothing */
    gp__startup_failed(what, err);
    return NULL;
  }
  if (s->main && s->pool && (gp__config.patch & GP__PATCH_THREAD))
    gp__coro_register_main(s->main);
  /* A real thread's is kept for the next one when the thread ends (after
   * its C++ thread_local destructors, registered later, run first). */
  if (!s->pool)
    gp__real___cxa_thread_atexit_impl(retire_at_exit, NULL, &__dso_handle);
  gp__debug_monitor_start(s);
  GP__RUNTIME_LEAVE();
  gp__tls.setup = 0;
  return s;
}

/* ---- fork ---- */

/* The runtime's locks are held by nobody across fork: in the child, only
 * the forking thread goes on, and a lock another thread held would stay
 * held for good. The scheduler set's lock and the stack pool's are taken
 * here; the others are reset in the child, whose structures lose every
 * waiter anyway. */
static void atfork_prepare(void)
{
  gp__lock(&sched_lock);
  gp__stack_fork_prepare();
  gp__tp_fork(gp__tls.sched, 1, 0);
}

static void atfork_parent(void)
{
  gp__tp_fork(gp__tls.sched, 0, 0);
  gp__stack_fork_done();
  gp__unlock(&sched_lock);
}

/* In the child of fork(): only the coroutine that called fork goes on, as
 * only the calling thread does, on its scheduler, now the only one. Its
 * epoll set, kick eventfd and libuv's loop were shared with the parent:
 * all are made anew, and every fd registration is forgotten (fds are
 * registered again on their next wait). */
static void atfork_child(void)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__list *l, *next;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = POLL_KICK};

  gp__mt_fork_child();
  gp__tp_fork(gp__tls.sched, 0, 1);
  gp__stack_fork_done();
  gp__lock_reset(&sched_lock);
  gp__wait_fork_child();
  gp__coro_fork_child(s ? s->current : NULL);
  retired = NULL; /* their loops are the parent's */
  if (s == NULL) {
    gp__nsched = pool_n = 0;
    gp__ownfd_release(&fork_hold);
    return;
  }
  for (l = s->all.next; l != &s->all; l = next) {
    struct gp__coro *co = GP__CONTAINER(l, struct gp__coro, all_link);
    next = l->next;
    if (co == s->current)
      continue;
    gp__list_remove(&co->all_link);
    gp__list_remove(&co->ready_link);
    co->state = GP__DEAD; /* gone with its thread; its memory is lost */
  }
  s->nlive = 1;
  s->load = 1;
  gp__list_init(&s->ready);
  gp__list_init(&s->inbox);
  gp__list_init(&s->spawnq);
  gp__lock_reset(&s->inbox_lock);
  gp__lock_reset(&s->spawn_lock);
  s->nready = s->nheap = s->nfdwait = s->nexternal = 0;
  s->ninbox = s->nspawn = s->sleeping = s->kicked = s->idle = 0;
  s->current->heap_idx = GP__NO_HEAP;
  s->current->posted = 0;
  gp__list_init(&s->current->post_link);
  memset(gp__scheds, 0, sizeof(gp__scheds));
  s->index = 0;
  s->pool = 1;
  gp__scheds[0] = s;
  gp__nsched = pool_n = 1;
  nidle = 0;
  workers_started = 0;
  gp__fd_forget_all();
  gp__ownfd_forget(s->loop.backend_fd);
  gp__ownfd_forget(s->loop.async_io_watcher.fd);
  GP__RUNTIME_ENTER();
  uv_loop_fork(&s->loop); /* under fork_hold */
  GP__RUNTIME_LEAVE();
  gp__ownfd_release(&fork_hold);
  note_loop_fds(s);
  s->tid = gettid();
  s->current->home_tid = s->tid;
  if (s->main == NULL && s->current->name[0])
    /* The thread was a worker's, named for it: it is the program's now. */
    gp__real_pthread_setname_np(gp__real_pthread_self(), s->current->name);
  /* The forking thread is the child's first, and only, thread. */
  s->main = s->current;
  s->main_ended = 0;
  gp__ownfd_forget(s->kick_fd);
  gp__real_close(s->kick_fd);
  s->kick_fd = gp__ownfd_move(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (s->kick_fd < 0 ||
      gp__poller_remake(&s->poller, uv_backend_fd(&s->loop)) != 0 ||
      gp__real_epoll_ctl(s->poller.epfd, EPOLL_CTL_ADD, s->kick_fd, &ev) != 0 ||
      (signal_fd >= 0 && add_signal_fd(s) != 0))
    GP__ASSERT(!"cannot remake the event loop after fork");
}

/* ---- what the rest asks ---- */

uint64_t gp__self_id(void)
{
  return gp__tls.sched ? gp__tls.sched->current->id + 1 : 0;
}

struct gp__coro *gp__coro_current(void)
{
  struct gp__sched *s = gp__sched_get();
  return s ? s->current : NULL;
}

int gp__sched_in_own_thread(void)
{
  struct gp__sched *s = gp__tls.sched;
  return s != NULL && s->main != NULL;
}

int gp__sched_alone(void)
{
  return __atomic_load_n(&gp__live, __ATOMIC_ACQUIRE) <= 1;
}

void gp__sched_stats(struct gp__stats *out)
{
  struct gp__sched *s = gp__tls.sched;
  memset(out, 0, sizeof(*out));
  if (s == NULL)
    return;
  out->switches = s->switches;
  out->live = s->nlive;
  out->ready = s->nready;
  out->fd_waits = s->nfdwait;
}
