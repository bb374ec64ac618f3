/* scheduler.c: the scheduler of one thread and its hub.
 *
 * The hub runs the ready queue in rounds (each coroutine that was ready
 * when the round began runs once; one that yields goes to the next round),
 * then polls: without blocking while anything is ready, else until
 * something can run.
 *
 * Polling is the poller's epoll set (poller.h), holding the fds coroutines
 * wait on and the backend fd of the private libuv loop, which owns timers
 * and the threadpool. libuv runs (UV_RUN_NOWAIT) only when its backend fd
 * or a timer is due. uv_poll_t is not used for fds: uv_poll_init turns
 * O_NONBLOCK on, which must never happen to an fd the process inherited,
 * and libuv aborts the process when a deferred epoll_ctl fails, which an fd
 * closed behind the runtime's back (fclose of an fdopen'ed socket) would
 * cause. */
#define _GNU_SOURCE
#include "scheduler.h"
#include "config.h"
#include "coro.h"
#include "debug.h"
#include "fdtab.h"
#include "real.h"
#include "startup.h"
#include "tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef GP__ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef GP__VALGRIND
#include <valgrind/valgrind.h>
#endif

__thread struct gp__tls gp__tls __attribute__((tls_model("initial-exec")));

/* Events taken from epoll per call. */
#define MAX_EVENTS 256
/* Cold stacks given back to the kernel per idle moment of the hub. */
#define TRIM_BATCH 256
/* While coroutines are ready, the hub polls without blocking at most this
 * often. A round of one or two coroutines (a create and its join, a lock
 * handed back and forth) would otherwise spend most of its time in that
 * epoll_wait; fd readiness is seen at most this much later. */
#define BUSY_POLL_NS 20000

void gp__assert_fail(const char *expr, const char *file, int line)
{
  gp__debug_out(2, "gpatch: internal error: %s at %s:%d\n", expr, file, line);
  abort();
}

/* Switches from the running coroutine to `to`. Returns when something
 * switches back. errno belongs to each coroutine: saved and restored here. */
static void switch_to(struct gp__sched *s, struct gp__coro *to)
{
  struct gp__coro *from = s->current;

  from->saved_errno = errno;
  from->slice_start = 0;
  if (from->stack && gp__stack_canary_dead(from->stack))
    gp__debug_overflow(from); /* does not return */
  gp__tls_switch(s, to);
  s->prev = from;
  s->current = to;
  s->switches++;
#ifdef GP__ASAN
  __sanitizer_start_switch_fiber(
      from->state == GP__DEAD ? NULL : &from->asan_fake_stack,
      to->stack ? (const void *)to->stack->lo : to->asan_bottom,
      to->stack ? to->stack->size : to->asan_size);
#endif
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
  errno = from->saved_errno;
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
static void deadlock(struct gp__sched *s)
{
  char title[160];
  snprintf(title, sizeof(title),
           "gpatch: deadlock: %zu coroutine%s blocked and nothing can wake "
           "%s (no fd, timer or other thread is pending)",
           s->nlive, s->nlive == 1 ? " is" : "s are",
           s->nlive == 1 ? "it" : "them");
  gp__debug_dump(s, 2, title);
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
  uv_run(&s->loop, UV_RUN_NOWAIT);
  GP__RUNTIME_LEAVE();
}

/* Nonzero when libuv has something to run now (a due timer, a pending
 * callback). libuv says 0 also when it has nothing at all: that is not due. */
static int loop_due(struct gp__sched *s)
{
  int t = 1;
  GP__RUNTIME_ENTER();
  if (uv_loop_alive(&s->loop)) {
    uv_update_time(&s->loop);
    t = uv_backend_timeout(&s->loop);
  }
  GP__RUNTIME_LEAVE();
  return t == 0;
}

/* How long the hub may block in the poller: 0 while anything is ready,
 * else until libuv's next timer (-1: none). Reports a deadlock when
 * nothing at all can make a coroutine ready. */
static int poll_timeout(struct gp__sched *s)
{
  int timeout = -1, alive;

  if (s->nready > 0)
    return 0;
  GP__RUNTIME_ENTER();
  alive = uv_loop_alive(&s->loop);
  if (alive) {
    uv_update_time(&s->loop);
    timeout = uv_backend_timeout(&s->loop);
  }
  GP__RUNTIME_LEAVE();
  /* Without libuv, only an fd or a signal can wake anyone now. */
  if (!alive && s->nfdwait == 0 && s->nexternal == 0)
    deadlock(s);
  return timeout;
}

/* One poll of the epoll set; blocks only when nothing is ready. */
static void poll_once(struct gp__sched *s)
{
  struct epoll_event ev[MAX_EVENTS];
  int timeout, n, loop = 0;

  if (s->nready > 0 && gp__now() - s->last_poll < BUSY_POLL_NS) {
    if (loop_due(s))
      run_loop(s);
    return;
  }
  timeout = poll_timeout(s);
  if (timeout != 0 && gp__stack_trim(TRIM_BATCH) > 0)
    timeout = 0; /* more may be left: look again before sleeping */
  s->in_poll = timeout != 0;
  n = gp__poller_wait(&s->poller, ev, MAX_EVENTS, timeout);
  s->in_poll = 0;
  s->last_poll = gp__now();
  if (n == -EINTR)
    gp__interrupt_one(s);
  for (int i = 0; i < n; i++) {
    if (ev[i].data.u64 == GP__POLL_LOOP)
      loop = 1;
    else
      gp__fd_ready(s, ev[i].data.u64, ev[i].events);
  }
  if (loop || loop_due(s))
    run_loop(s);
}

static void hub_main(void *arg)
{
  struct gp__sched *s = arg;
  gp__sched_started(s);
  for (;;) {
    run_round(s);
    poll_once(s);
  }
}

static void atfork_child(void);

/* Makes the thread's running context coroutine 0 (main) and the hub, on
 * a stack of its own. Returns 0 or -ENOMEM. */
static int make_coros(struct gp__sched *s)
{
  struct gp__stack *st;

  s->main = calloc(1, sizeof(*s->main));
  s->main_uc = calloc(1, sizeof(ucontext_t));
  s->hub = calloc(1, sizeof(*s->hub));
  if (!s->main || !s->main_uc || !s->hub)
    goto fail;
  gp__coro_init_struct(s, s->main);
  s->main->magic = GP__CORO_MAGIC;
  gp__ctx_adopt(&s->main->ctx, s->main_uc);
  s->main->state = GP__RUNNING;
  s->main->started = 1;
  strcpy(s->main->name, "main");
  gp__list_push_back(&s->all, &s->main->all_link);
  s->nlive = 1;
  s->current = s->main;

  gp__coro_init_struct(s, s->hub);
  s->hub->is_hub = 1;
  strcpy(s->hub->name, "hub");
  if (gp__stack_get(&st, gp__config.stack_size) < 0)
    goto fail;
  s->hub->stack = st;
  gp__ctx_make(&s->hub->ctx, st->lo, st->size, hub_main, s);
#ifdef GP__VALGRIND
  /* Like every coroutine's: without it valgrind takes a switch to the hub
   * for a stack frame of its neighbour in the slab, and marks the hub's
   * saved frame undefined. */
  s->hub->vg_stack_id = VALGRIND_STACK_REGISTER(st->lo, st->lo + st->size);
#endif
  s->hub->state = GP__RUNNING;
  s->hub->started = 1;
  return 0;

fail:
  free(s->main);
  free(s->main_uc);
  free(s->hub);
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

/* Makes the scheduler of this thread. Returns 0 and sets *out, or a
 * negative errno with *what naming the step that failed. */
static int make_sched(struct gp__sched **out, const char **what)
{
  struct gp__sched *s = calloc(1, sizeof(*s));
  int err;

  *what = "allocating the scheduler";
  if (s == NULL)
    return -ENOMEM;
  gp__list_init(&s->ready);
  gp__list_init(&s->all);
  s->tid = gettid();
  *what = "epoll_create1";
  if ((err = gp__poller_init(&s->poller)) < 0)
    goto fail_sched;
  gp__debug_report_uv();
  *what = "opening the fds of libuv's loop";
  if ((err = fds_free(3)) < 0)
    goto fail_poller;
  *what = "uv_loop_init";
  if ((err = uv_loop_init(&s->loop)) != 0)
    goto fail_poller;
  *what = "adding libuv's fd to the epoll set";
  if ((err = gp__poller_add_loop(&s->poller, uv_backend_fd(&s->loop))) < 0)
    goto fail_loop;
  *what = "allocating the hub and its stack";
  if ((err = make_coros(s)) < 0)
    goto fail_loop;
  *out = s;
  return 0;

fail_loop:
  uv_loop_close(&s->loop);
fail_poller:
  gp__real_close(s->poller.epfd);
fail_sched:
  free(s);
  return err;
}

struct gp__sched *gp__sched_get(void)
{
  struct gp__sched *s = gp__tls.sched;
  static int once;
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
  err = make_sched(&s, &what);
  if (err < 0) {
    GP__RUNTIME_LEAVE();
    gp__tls.setup = -1; /* never again on this thread: all or nothing */
    gp__startup_failed(what, err);
    return NULL;
  }
  gp__tls.sched = s;
  gp__tls.app = 1;
  if (!__atomic_exchange_n(&once, 1, __ATOMIC_ACQ_REL))
    pthread_atfork(NULL, NULL, atfork_child);
  gp__debug_thread_init(s);
  gp__debug_monitor_start(s);
  GP__RUNTIME_LEAVE();
  gp__tls.setup = 0;
  return s;
}

/* In the child of fork(): only the coroutine that called fork goes on, as
 * only the calling thread does. The epoll set and libuv's loop were shared
 * with the parent: both are made anew, and every fd registration is
 * forgotten (fds are registered again on their next wait). */
static void atfork_child(void)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__list *l, *next;

  if (s == NULL)
    return;
  GP__RUNTIME_ENTER();
  for (l = s->all.next; l != &s->all; l = next) {
    struct gp__coro *co = GP__CONTAINER(l, struct gp__coro, all_link);
    next = l->next;
    if (co == s->current)
      continue;
    uv_timer_stop(&co->timer);
    gp__list_remove(&co->all_link);
    gp__list_remove(&co->ready_link);
    if (co->state != GP__DEAD)
      s->nlive--;
    co->state = GP__DEAD; /* gone with its thread; its memory is lost */
  }
  gp__list_init(&s->ready);
  s->nready = 0;
  s->nfdwait = 0;
  s->nexternal = 0;
  gp__fd_forget_all();
  uv_loop_fork(&s->loop);
  GP__RUNTIME_LEAVE();
  s->tid = gettid();
  if (gp__poller_remake(&s->poller, uv_backend_fd(&s->loop)) != 0)
    GP__ASSERT(!"cannot remake the event loop after fork");
}

struct gp__coro *gp__self(void)
{
  return gp__tls.sched ? gp__tls.sched->current : NULL;
}

struct gp__coro *gp__coro_current(void)
{
  struct gp__sched *s = gp__sched_get();
  return s ? s->current : NULL;
}

int gp__sched_alone(void)
{
  struct gp__sched *s = gp__tls.sched;
  return s == NULL || s->nlive <= 1;
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
