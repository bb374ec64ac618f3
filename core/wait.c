/* wait.c: parking and waking, timers, sleep, yield and time slices, wait
 * queues, address waits, interruption by signals, cancellation, and
 * gp_timeout blocks. */
#define _GNU_SOURCE
#include "wait.h"
#include "coro.h"
#include "scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

void gp__wait_init(struct gp__wait *w, void (*unlink)(struct gp__wait *w),
                   int flags, const char *what, const void *obj)
{
  w->co = NULL;
  gp__list_init(&w->link);
  w->unlink = unlink;
  w->result = 0;
  w->flags = flags;
  w->fd = -1;
  w->events = 0;
  w->parent = NULL;
  w->subs = NULL;
  w->nsubs = 0;
  w->what = what;
  w->obj = obj;
}

static int cancelable(const struct gp__wait *w)
{
  return !(w->flags & GP__WAIT_UNCANCELABLE);
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
  gp__wait_end(w, co->park_block ? -GP__EXPIRED : -ETIMEDOUT);
}

int gp__park(struct gp__wait *w, uint64_t deadline)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__coro *co = s->current;
  int timed = 0;

  GP__ASSERT(!co->is_hub);
  w->co = co; /* unlink callbacks may need it, even without parking */
  co->park_block = 0;
  if (cancelable(w)) {
    if (co->cancel_pending) {
      co->cancel_pending = 0;
      w->unlink(w);
      return -ECANCELED;
    }
    if (co->block_deadline < deadline)
      deadline = co->block_deadline;
    co->park_block = deadline != GP__NEVER && deadline == co->block_deadline;
  }
  if (deadline != GP__NEVER) {
    uint64_t now = gp__now();
    if (deadline <= now) {
      w->unlink(w);
      return co->park_block ? -GP__EXPIRED : -ETIMEDOUT;
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
  gp__sched_suspend(s);
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

  GP__ASSERT(co->state == GP__PARKED && co->wait == w);
  w->result = result;
  gp__sched_make_ready(co->sched, co);
}

void gp__wait_end(struct gp__wait *w, int result)
{
  w->unlink(w);
  gp__wake(w, result);
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
    /* Not in a fork's child before the scheduler has been remade there:
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
  gp__sched_make_ready(s, co);
  gp__sched_suspend(s);
  return 0;
}

static void sleep_unlink(struct gp__wait *w)
{
  (void)w; /* a sleep waits on nothing but its timer */
}

int gp__sleep_until(uint64_t deadline, int interruptible)
{
  struct gp__wait w;
  int r;

  gp__wait_init(&w, sleep_unlink,
                interruptible ? GP__WAIT_INTERRUPTIBLE : 0, "sleep", NULL);
  if (deadline == GP__NEVER) {
    /* Only a signal or a cancel ends this: count it as external. */
    gp__tls.sched->nexternal++;
    r = gp__park(&w, deadline);
    gp__tls.sched->nexternal--;
    return r;
  }
  r = gp__park(&w, deadline);
  return r == -ETIMEDOUT ? 0 : r; /* the sleep's own deadline: its end */
}

/* ---- wait queues ---- */

void gp__waitq_init(struct gp__waitq *q)
{
  gp__list_init(&q->waiters);
}

static void waitq_unlink(struct gp__wait *w)
{
  gp__list_remove(&w->link);
}

int gp__waitq_wait(struct gp__waitq *q, uint64_t deadline, const char *what,
                   const void *obj)
{
  struct gp__wait w;
  gp__wait_init(&w, waitq_unlink, 0, what, obj);
  gp__list_push_back(&q->waiters, &w.link);
  return gp__park(&w, deadline);
}

int gp__waitq_wake_one(struct gp__waitq *q, int result)
{
  struct gp__list *l = gp__list_pop_front(&q->waiters);
  if (l == NULL)
    return 0;
  gp__wake(GP__CONTAINER(l, struct gp__wait, link), result);
  return 1;
}

size_t gp__waitq_wake_all(struct gp__waitq *q, int result)
{
  size_t n = 0;
  while (gp__waitq_wake_one(q, result))
    n++;
  return n;
}

int gp__waitq_empty(const struct gp__waitq *q)
{
  return gp__list_empty(&q->waiters);
}

/* ---- address waits ----
 *
 * The pthread and semaphore emulation keeps every object's state in the
 * object's own bytes, in glibc's layout, so the program's static
 * initializers and sizes stay valid. The coroutines waiting on an object
 * are kept here instead, in a table of wait queues keyed by the object's
 * address. */

/* Buckets of the table; a power of two. */
#define NBUCKETS 4096

static struct gp__list buckets[NBUCKETS];

static struct gp__list *bucket(const void *addr)
{
  uintptr_t a = (uintptr_t)addr;
  struct gp__list *b = &buckets[((a >> 3) ^ (a >> 15)) & (NBUCKETS - 1)];
  if (b->next == NULL)
    gp__list_init(b);
  return b;
}

static void addr_unlink(struct gp__wait *w)
{
  gp__list_remove(&w->link);
}

int gp__addr_wait(const void *addr, uint64_t deadline, const char *what,
                  int flags)
{
  struct gp__wait w;
  gp__wait_init(&w, addr_unlink, flags, what, addr);
  gp__list_push_back(bucket(addr), &w.link);
  return gp__park(&w, deadline);
}

size_t gp__addr_wake(const void *addr, size_t n, int result)
{
  struct gp__list *b = bucket(addr), *l, *next;
  size_t woken = 0;

  for (l = b->next; l != b && woken < n; l = next) {
    struct gp__wait *w = GP__CONTAINER(l, struct gp__wait, link);
    next = l->next;
    if (w->obj != addr)
      continue;
    gp__list_remove(&w->link);
    gp__wake(w, result);
    woken++;
  }
  return woken;
}

int gp__addr_has_waiters(const void *addr)
{
  struct gp__list *b = bucket(addr), *l;
  for (l = b->next; l != b; l = l->next)
    if (GP__CONTAINER(l, struct gp__wait, link)->obj == addr)
      return 1;
  return 0;
}

/* In the child of fork(): every coroutine that waited on an address is gone
 * with its thread (the caller of fork was running, not waiting), so its
 * wait must not be woken by a later unlock or post. */
static void addr_atfork_child(void)
{
  for (size_t i = 0; i < NBUCKETS; i++)
    if (buckets[i].next != NULL)
      gp__list_init(&buckets[i]);
}

__attribute__((constructor)) static void wait_ctor(void)
{
  pthread_atfork(NULL, NULL, addr_atfork_child);
}

/* ---- interruption, cancellation, the end of the others ---- */

static int interruptible_parked(const struct gp__coro *co)
{
  return co->state == GP__PARKED && co->wait &&
         (co->wait->flags & GP__WAIT_INTERRUPTIBLE);
}

int gp__coro_interrupt(struct gp__coro *co)
{
  if (!interruptible_parked(co))
    return 0;
  gp__wait_end(co->wait, -EINTR);
  return 1;
}

/* Unpatched, the kernel gives a process-directed signal to the main thread
 * whenever that thread does not block it (the OS thread's mask is main's),
 * so only main's call is interrupted: other threads' calls go on, even when
 * main waits where a signal does not interrupt (a join, a lock). Only once
 * main has ended (pthread_exit, waiting for the others to finish) does the
 * signal go to another thread. */
int gp__interrupt_one(struct gp__sched *s)
{
  struct gp__list *l;

  if (!s->main_ended)
    return gp__coro_interrupt(s->main);
  for (l = s->all.next; l != &s->all; l = l->next) {
    struct gp__coro *co = GP__CONTAINER(l, struct gp__coro, all_link);
    if (co != s->main && gp__coro_interrupt(co))
      return 1;
  }
  return 0;
}

int gp__coro_cancel(struct gp__coro *co)
{
  if (co->state == GP__DEAD)
    return 0;
  if (co->state == GP__PARKED && cancelable(co->wait)) {
    gp__wait_end(co->wait, -ECANCELED);
    return 0;
  }
  co->cancel_pending = 1;
  return 0;
}

int gp__coro_kill(struct gp__coro *co)
{
  if (co->state != GP__DEAD && !co->started) {
    co->canceled = 1;
    return 0;
  }
  return gp__coro_cancel(co);
}

void gp__wait_others(void)
{
  struct gp__sched *s = gp__tls.sched;

  s->main_ended = 1;
  while (s->nlive > 1) /* each exit wakes this (coro.c) */
    gp__addr_wait(&s->nlive, GP__NEVER, "the other threads",
                  GP__WAIT_UNCANCELABLE);
}

void gp__handler_enter(struct gp__handler_mark *saved, void *frame)
{
  saved->frame = gp__tls.handler_frame;
  saved->co = gp__tls.handler_co;
  gp__tls.handler_frame = frame;
  gp__tls.handler_co = gp__self();
}

void gp__handler_leave(const struct gp__handler_mark *saved)
{
  gp__tls.handler_frame = saved->frame;
  gp__tls.handler_co = saved->co;
}

/* ---- gp_timeout blocks ---- */

void gp__block_begin(uint64_t deadline, uint64_t *saved)
{
  struct gp__coro *co = gp__coro_current();

  *saved = co ? co->block_deadline : GP__NEVER;
  if (co && deadline < co->block_deadline)
    co->block_deadline = deadline;
}

void gp__block_end(uint64_t saved)
{
  struct gp__coro *co = gp__coro_current();
  if (co)
    co->block_deadline = saved;
}
