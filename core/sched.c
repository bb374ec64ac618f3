/* sched.c: the scheduler of one thread and its hub.
 *
 * Coroutines switch only to the hub and the hub only to coroutines. The hub
 * runs the ready queue in rounds (each coroutine that was ready when the
 * round began runs once; one that yields goes to the next round), then polls:
 * without blocking while anything is ready, else until something can run.
 *
 * Polling is an epoll set of the runtime's own, holding the fds coroutines
 * wait on (edge-triggered, registered once, shared by every waiter) and the
 * backend fd of the private libuv loop, which owns timers and the threadpool.
 * libuv runs (UV_RUN_NOWAIT) only when its backend fd or a timer is due.
 * uv_poll_t is not used for fds: uv_poll_init turns O_NONBLOCK on, which must
 * never happen to an fd the process inherited, and libuv aborts the process
 * when a deferred epoll_ctl fails, which an fd closed behind the runtime's
 * back (fclose of an fdopen'ed socket) would cause. */
#define _GNU_SOURCE
#include "runtime.h"
#include "config.h"
#include "real.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <ucontext.h>
#include <pthread.h>
#include <unistd.h>

#ifdef GP__ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define GP__VALGRIND 1
#endif
#endif

__thread struct gp__tls gp__tls __attribute__((tls_model("initial-exec")));

/* The epoll data that marks the libuv backend fd. */
#define LOOP_TOKEN UINT64_MAX
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
  fprintf(stderr, "gpatch: internal error: %s at %s:%d\n", expr, file, line);
  abort();
}

uint64_t gp__now(void)
{
  return uv_hrtime();
}

uint64_t gp__deadline_ms(int64_t ms)
{
  if (ms < 0)
    return GP__NEVER;
  return gp__now() + (uint64_t)ms * 1000000u;
}

void gp__runtime_init(void)
{
  static int done;
  if (__atomic_load_n(&done, __ATOMIC_ACQUIRE))
    return;
  gp__real_init();
  gp__config_init();
  gp__ctx_init(gp__config.use_ucontext);
  __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
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

/* For a coroutine's first run (called on its new stack). */
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

/* Switches to the hub for good: the caller is dead. */
_Noreturn void gp__sched_leave_dead(struct gp__sched *s)
{
  switch_to(s, s->hub);
  GP__ASSERT(!"a dead coroutine was resumed");
  abort();
}

void gp__coro_release(struct gp__sched *s, struct gp__coro *co);

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

/* One poll of the epoll set; blocks only when nothing is ready. */
static void poll_once(struct gp__sched *s)
{
  struct epoll_event ev[MAX_EVENTS];
  int timeout = 0, n, run_loop = 0;

  if (s->nready > 0 && gp__now() - s->last_poll < BUSY_POLL_NS) {
    if (loop_due(s)) {
      GP__RUNTIME_ENTER();
      uv_run(&s->loop, UV_RUN_NOWAIT);
      GP__RUNTIME_LEAVE();
    }
    return;
  }
  if (s->nready == 0) {
    int alive;
    GP__RUNTIME_ENTER();
    alive = uv_loop_alive(&s->loop);
    if (alive) {
      uv_update_time(&s->loop);
      timeout = uv_backend_timeout(&s->loop);
    } else {
      timeout = -1; /* only an fd or a signal can wake anyone now */
    }
    GP__RUNTIME_LEAVE();
    if (!alive && s->nfdwait == 0 && s->nexternal == 0)
      deadlock(s);
  }
  if (timeout != 0 && gp__stack_trim(TRIM_BATCH) > 0)
    timeout = 0; /* more may be left: look again before sleeping */
  s->in_poll = timeout != 0;
  n = gp__real_epoll_wait(s->epfd, ev, MAX_EVENTS, timeout);
  s->in_poll = 0;
  s->last_poll = gp__now();
  if (n < 0) {
    if (errno == EINTR)
      gp__sched_interrupt(s);
    n = 0;
  }
  for (int i = 0; i < n; i++) {
    if (ev[i].data.u64 == LOOP_TOKEN)
      run_loop = 1;
    else
      gp__fd_ready(s, (int)ev[i].data.u64, ev[i].events);
  }
  if (run_loop || loop_due(s)) {
    GP__RUNTIME_ENTER();
    uv_run(&s->loop, UV_RUN_NOWAIT);
    GP__RUNTIME_LEAVE();
  }
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

void gp__coro_init_struct(struct gp__sched *s, struct gp__coro *co);
static void atfork_child(void);

struct gp__sched *gp__sched_get(void)
{
  struct gp__sched *s = gp__tls.sched;
  struct epoll_event ev;
  struct gp__stack *st;

  if (s)
    return s;
  gp__runtime_init();
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return NULL;
  gp__list_init(&s->ready);
  gp__list_init(&s->all);
  s->tid = gettid();
  s->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (s->epfd < 0)
    goto fail_sched;
  gp__debug_report_uv();
  GP__RUNTIME_ENTER();
  if (uv_loop_init(&s->loop) != 0) {
    GP__RUNTIME_LEAVE();
    goto fail_epoll;
  }
  GP__RUNTIME_LEAVE();
  memset(&ev, 0, sizeof(ev));
  ev.events = EPOLLIN;
  ev.data.u64 = LOOP_TOKEN;
  if (gp__real_epoll_ctl(s->epfd, EPOLL_CTL_ADD, uv_backend_fd(&s->loop),
                         &ev) != 0)
    goto fail_loop;

  s->main = calloc(1, sizeof(*s->main));
  s->main_uc = calloc(1, sizeof(ucontext_t));
  s->hub = calloc(1, sizeof(*s->hub));
  if (!s->main || !s->main_uc || !s->hub)
    goto fail_structs;
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
    goto fail_structs;
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

  gp__tls.sched = s;
  gp__tls.app = 1;
  {
    static int once;
    if (!__atomic_exchange_n(&once, 1, __ATOMIC_ACQ_REL))
      pthread_atfork(NULL, NULL, atfork_child);
  }
  gp__debug_thread_init(s);
  gp__debug_monitor_start(s);
  return s;

fail_structs:
  free(s->main);
  free(s->main_uc);
  free(s->hub);
fail_loop:
  GP__RUNTIME_ENTER();
  uv_loop_close(&s->loop);
  GP__RUNTIME_LEAVE();
fail_epoll:
  gp__real_close(s->epfd);
fail_sched:
  free(s);
  return NULL;
}

/* In the child of fork(): only the coroutine that called fork goes on, as
 * only the calling thread does. The epoll set and libuv's loop were shared
 * with the parent: both are made anew, and every fd registration is
 * forgotten (fds are registered again on their next wait). */
static void atfork_child(void)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__list *l, *next;
  struct epoll_event ev;

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
  gp__real_close(s->epfd);
  s->epfd = epoll_create1(EPOLL_CLOEXEC);
  uv_loop_fork(&s->loop);
  GP__RUNTIME_LEAVE();
  s->tid = gettid();
  memset(&ev, 0, sizeof(ev));
  ev.events = EPOLLIN;
  ev.data.u64 = LOOP_TOKEN;
  if (s->epfd < 0 || gp__real_epoll_ctl(s->epfd, EPOLL_CTL_ADD,
                                        uv_backend_fd(&s->loop), &ev) != 0)
    GP__ASSERT(!"cannot remake the event loop after fork");
}

struct gp__coro *gp__coro_current(void)
{
  struct gp__sched *s = gp__sched_get();
  return s ? s->current : NULL;
}

static void timer_cb(uv_timer_t *t)
{
  struct gp__coro *co = GP__CONTAINER(t, struct gp__coro, timer);
  struct gp__wait *w = co->wait;
  uint64_t now = gp__now();

  if (w == NULL || co->state != GP__PARKED)
    return;
  if (now < co->park_deadline) {
    /* libuv counts whole milliseconds from a cached time: it may fire a
     * little early. Never wake before the deadline. */
    uint64_t ms = (co->park_deadline - now + 999999) / 1000000;
    uv_timer_start(t, timer_cb, ms, 0);
    return;
  }
  if (co->park_deadline == co->block_deadline && !w->uncancelable)
    co->block_expired = 1;
  w->unlink(w);
  gp__wake(w, -ETIMEDOUT);
}

int gp__park(struct gp__wait *w, uint64_t deadline)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__coro *co = s->current;
  int timed = 0;

  GP__ASSERT(!co->is_hub);
  w->co = co; /* unlink callbacks may need it, even without parking */
  /* An uncancelable wait (a lock, a lookup writing into the caller's
   * buffers) keeps its own deadline but ignores kills and gp_timeout. */
  if (!w->uncancelable) {
    if (co->cancel_pending) {
      co->cancel_pending = 0;
      w->unlink(w);
      return -ECANCELED;
    }
    if (co->block_deadline < deadline)
      deadline = co->block_deadline;
  }
  if (deadline != GP__NEVER) {
    uint64_t now = gp__now();
    if (deadline <= now) {
      if (deadline == co->block_deadline && !w->uncancelable)
        co->block_expired = 1;
      w->unlink(w);
      return -ETIMEDOUT;
    }
    co->park_deadline = deadline;
    GP__RUNTIME_ENTER();
    uv_update_time(&s->loop);
    uv_timer_start(&co->timer, timer_cb, (deadline - now + 999999) / 1000000,
                   0);
    GP__RUNTIME_LEAVE();
    timed = 1;
  }
  w->result = 0;
  co->wait = w;
  co->state = GP__PARKED;
  switch_to(s, s->hub);
  if (timed) {
    GP__RUNTIME_ENTER();
    uv_timer_stop(&co->timer);
    GP__RUNTIME_LEAVE();
  }
  co->wait = NULL;
  return w->result;
}

void gp__wake(struct gp__wait *w, int result)
{
  struct gp__coro *co = w->co;
  struct gp__sched *s = co->sched;

  GP__ASSERT(co->state == GP__PARKED && co->wait == w);
  w->result = result;
  co->state = GP__READY;
  gp__list_push_back(&s->ready, &co->ready_link);
  s->nready++;
}

void gp__slice(void)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__coro *co;
  uint64_t now;

  if (s == NULL || (co = s->current) == NULL || co->is_hub)
    return;
  if (co == gp__tls.handler_co &&
      (uintptr_t)__builtin_frame_address(0) <
          (uintptr_t)gp__tls.handler_frame)
    return; /* called from a signal handler: never switch in there */
  now = gp__now();
  if (co->slice_start == 0) {
    co->slice_start = now;
  } else if (now - co->slice_start >= GP__SLICE_NS) {
    /* Not in a fork's child before atfork_child has remade the scheduler:
     * fork handlers registered before it (libuv's writes to a pipe) would
     * let the parent's other coroutines run in the child. */
    if (gettid() != s->tid)
      return;
    if (!co->cancel_pending) /* gp__yield would take it: the wait will */
      gp__yield();
  }
}

int gp__yield(void)
{
  struct gp__sched *s = gp__sched_get();
  struct gp__coro *co;

  if (s == NULL)
    return 0;
  co = s->current;
  if (co->cancel_pending) {
    co->cancel_pending = 0;
    return -ECANCELED;
  }
  co->state = GP__READY;
  gp__list_push_back(&s->ready, &co->ready_link);
  s->nready++;
  switch_to(s, s->hub);
  return 0;
}

static void sleep_unlink(struct gp__wait *w)
{
  (void)w; /* a sleep waits on nothing but its timer */
}

int gp__sleep_until(uint64_t deadline, int interruptible)
{
  struct gp__wait w = {.unlink = sleep_unlink, .fd = -1, .what = "sleep",
                       .interruptible = interruptible};
  int r;

  gp__list_init(&w.link);
  if (deadline == GP__NEVER) {
    /* Only a signal or a cancel ends this: count it as external. */
    gp__tls.sched->nexternal++;
    r = gp__park(&w, deadline);
    gp__tls.sched->nexternal--;
    return r;
  }
  r = gp__park(&w, deadline);
  if (r == -ETIMEDOUT && !gp__tls.sched->current->block_expired)
    return 0; /* the sleep's own deadline: a normal end */
  return r;
}

static int interruptible_parked(struct gp__coro *co)
{
  return co->state == GP__PARKED && co->wait && co->wait->interruptible;
}

/* Unpatched, the kernel gives a process-directed signal to the main thread
 * whenever that thread does not block it (the OS thread's mask is main's),
 * so only main's call is interrupted: other threads' calls go on, even when
 * main waits where a signal does not interrupt (a join, a lock). Only once
 * main has ended (pthread_exit, waiting for the others to finish) does the
 * signal go to another thread. */
int gp__sched_interrupt(struct gp__sched *s)
{
  struct gp__coro *m = s->main, *target = NULL;
  int main_ended = m->state == GP__PARKED && m->wait &&
                   m->wait->obj == &s->nlive; /* thread.c: pthread_exit */
  struct gp__list *l;

  if (!main_ended)
    target = interruptible_parked(m) ? m : NULL;
  for (l = s->all.next; main_ended && l != &s->all; l = l->next) {
    struct gp__coro *co = GP__CONTAINER(l, struct gp__coro, all_link);
    if (co != m && interruptible_parked(co)) {
      target = co;
      break;
    }
  }
  if (target == NULL)
    return 0;
  target->wait->unlink(target->wait);
  gp__wake(target->wait, -EINTR);
  return 1;
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
