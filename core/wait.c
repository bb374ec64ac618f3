/* wait.c: parking and waking, timers, sleep, yield and time slices, wait
 * queues, address waits, interruption by signals, cancellation, and
 * gp_timeout blocks.
 *
 * Everything here may meet other threads: a wait is ended by whoever
 * claims it (wait.h), containers have locks, and a coroutine of another
 * scheduler is made ready by posting it there (scheduler.h). What belongs
 * to one scheduler — its timer heap, its coroutines' states — is touched
 * only by that scheduler's thread. */
#define _GNU_SOURCE
#include "wait.h"
#include "mem.h"
#include "config.h"
#include "coro.h"
#include "real.h"
#include "scheduler.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

void gp__wait_init(struct gp__wait *w, void (*unlink)(struct gp__wait *w),
                   int flags, const char *what, const void *obj)
{
  w->co = gp__self();
  gp__list_init(&w->link);
  w->unlink = unlink;
  w->claimed = 0;
  w->result = 0;
  w->flags = flags;
  w->fd = -1;
  w->events = 0;
  w->exclusive = 0;
  w->parent = NULL;
  w->subs = NULL;
  w->nsubs = 0;
  w->next_wake = NULL;
  w->queue = NULL;
  w->what = what;
  w->obj = obj;
}

static int cancelable(const struct gp__wait *w)
{
  return !(w->flags & GP__WAIT_UNCANCELABLE);
}

/* ---- the timer heap of a scheduler: a binary min-heap of the coroutines
 * parked with a deadline, keyed by it ---- */

static int heap_less(struct gp__coro *a, struct gp__coro *b)
{
  return a->deadline < b->deadline;
}

static void heap_set(struct gp__sched *s, size_t i, struct gp__coro *co)
{
  s->heap[i] = co;
  co->heap_idx = i;
}

static void heap_up(struct gp__sched *s, size_t i)
{
  struct gp__coro *co = s->heap[i];
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!heap_less(co, s->heap[p]))
      break;
    heap_set(s, i, s->heap[p]);
    i = p;
  }
  heap_set(s, i, co);
}

static void heap_down(struct gp__sched *s, size_t i)
{
  struct gp__coro *co = s->heap[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= s->nheap)
      break;
    if (c + 1 < s->nheap && heap_less(s->heap[c + 1], s->heap[c]))
      c++;
    if (!heap_less(s->heap[c], co))
      break;
    heap_set(s, i, s->heap[c]);
    i = c;
  }
  heap_set(s, i, co);
}

/* Adds co, whose deadline is set. Returns 0 or -ENOMEM. */
static int heap_add(struct gp__sched *s, struct gp__coro *co)
{
  if (s->nheap == s->heap_cap) {
    size_t cap = s->heap_cap ? 2 * s->heap_cap : 64;
    struct gp__coro **h = gp__realloc(s->heap, cap * sizeof(*h));
    if (h == NULL)
      return -ENOMEM;
    s->heap = h;
    s->heap_cap = cap;
  }
  s->heap[s->nheap] = co;
  co->heap_idx = s->nheap++;
  heap_up(s, co->heap_idx);
  return 0;
}

static void heap_del(struct gp__sched *s, struct gp__coro *co)
{
  size_t i = co->heap_idx;
  struct gp__coro *last;

  if (i == GP__NO_HEAP)
    return;
  co->heap_idx = GP__NO_HEAP;
  last = s->heap[--s->nheap];
  if (i == s->nheap)
    return;
  heap_set(s, i, last);
  if (i > 0 && heap_less(last, s->heap[(i - 1) / 2]))
    heap_up(s, i);
  else
    heap_down(s, i);
}

uint64_t gp__timers_run(struct gp__sched *s, uint64_t now)
{
  while (s->nheap > 0) {
    struct gp__coro *co = s->heap[0];
    struct gp__wait *w = co->wait;
    if (co->deadline > now)
      return co->deadline - now;
    heap_del(s, co);
    if (w && co->state == GP__PARKED)
      gp__wait_end(w, co->park_block ? -GP__EXPIRED : -ETIMEDOUT);
  }
  return GP__NEVER;
}

/* ---- park and wake ---- */

int gp__park(struct gp__wait *w, uint64_t deadline)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__coro *co = s->current;
  int timed = 0;

  GP__ASSERT(!co->is_hub && w->co == co);
  co->park_block = 0;
  if (cancelable(w)) {
    if (__atomic_load_n(&co->cancel_pending, __ATOMIC_ACQUIRE) &&
        gp__wait_claim(w)) {
      __atomic_store_n(&co->cancel_pending, 0, __ATOMIC_RELAXED);
      w->unlink(w);
      return -ECANCELED;
    }
    if (co->block_deadline < deadline)
      deadline = co->block_deadline;
    co->park_block = deadline != GP__NEVER && deadline == co->block_deadline;
  }
  if (deadline != GP__NEVER) {
    if (deadline <= gp__now()) {
      if (gp__wait_claim(w)) {
        w->unlink(w);
        return co->park_block ? -GP__EXPIRED : -ETIMEDOUT;
      }
      /* Already woken: park to take the wake (it is on its way). */
    } else {
      co->deadline = deadline;
      timed = heap_add(s, co) == 0; /* no memory: no deadline */
    }
  }
  co->wait = w;
  co->state = GP__PARKED;
  gp__sched_suspend(s);
  if (timed)
    heap_del(s, co);
  co->wait = NULL;
  if (__atomic_load_n(&co->signal_due, __ATOMIC_ACQUIRE))
    gp__signal_due_hook(co); /* before the call it interrupted returns */
  return w->result;
}

void gp__wake(struct gp__wait *w, int result)
{
  struct gp__coro *co = w->co;

  w->result = result;
  gp__sched_resume(co);
}

int gp__wait_end(struct gp__wait *w, int result)
{
  if (!gp__wait_claim(w))
    return 0;
  w->unlink(w);
  gp__wake(w, result);
  return 1;
}

void gp__wake_list(struct gp__wait *first, int result)
{
  while (first) {
    struct gp__wait *next = first->next_wake; /* first is gone after */
    gp__wake(first, result);
    first = next;
  }
}

void gp__slice(void)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__coro *co;
  uint64_t now;

  if (s == NULL || (co = s->current) == NULL || co->is_hub ||
      gp__tls.locks_held > 0)
    return;
  if (co == gp__tls.handler_co &&
      (uintptr_t)__builtin_frame_address(0) < (uintptr_t)gp__tls.handler_frame)
    return; /* called from a signal handler: never switch in there */
  now = gp__now();
  if (co->slice_start == 0) {
    co->slice_start = now;
  } else if (now - co->slice_start >= GP__SLICE_NS) {
    /* Alone, a yield would only poll: system calls of the runtime's that a
     * process confined with seccomp may not allow (sshd's pre-authentication
     * child died of SIGSYS at its first slice in OpenSSL's locks). */
    if (gp__sched_alone()) {
      co->slice_start = now;
      return;
    }
    /* Not in a fork's child before the scheduler has been remade there:
     * fork handlers registered before it (libuv's writes to a pipe) would
     * let the parent's other coroutines run in the child. */
    if (gettid() != s->tid)
      return;
    /* gp__yield would take a pending cancel: the next wait will. */
    if (!__atomic_load_n(&co->cancel_pending, __ATOMIC_RELAXED))
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
  if (__atomic_load_n(&co->cancel_pending, __ATOMIC_ACQUIRE) &&
      __atomic_exchange_n(&co->cancel_pending, 0, __ATOMIC_ACQ_REL))
    return -ECANCELED;
  gp__sched_make_ready(s, co);
  gp__sched_suspend(s);
  if (__atomic_load_n(&co->signal_due, __ATOMIC_ACQUIRE))
    gp__signal_due_hook(co);
  return 0;
}

void gp__yield_cpu(void)
{
  struct gp__sched *s = gp__sched_get();
  /* An MPI rank spinning on sched_yield, on a CPU it shared with the rank
   * it waited for, held the CPU for the kernel's whole slice without it. */
  int none_ready = s == NULL || s->nready == 0;

  gp__yield();
  if (none_ready)
    gp__real_sched_yield();
}

static void sleep_unlink(struct gp__wait *w)
{
  (void)w; /* a sleep waits on nothing but its timer */
}

int gp__sleep_until(uint64_t deadline, int interruptible)
{
  struct gp__wait w;
  int r;

  gp__wait_init(&w, sleep_unlink, interruptible ? GP__WAIT_INTERRUPTIBLE : 0,
                "sleep", NULL);
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

void gp__waitq_init_shared(struct gp__waitq *q, struct gp__lock *lock)
{
  q->lock = lock;
  gp__list_init(&q->waiters);
}

void gp__waitq_init(struct gp__waitq *q)
{
  gp__lock_reset(&q->own);
  gp__waitq_init_shared(q, &q->own);
}

static void waitq_unlink(struct gp__wait *w)
{
  struct gp__waitq *q = w->queue;
  gp__lock(q->lock);
  gp__list_remove(&w->link);
  gp__unlock(q->lock);
}

int gp__waitq_wait_locked(struct gp__waitq *q, uint64_t deadline,
                          const char *what, const void *obj)
{
  struct gp__wait w;
  gp__wait_init(&w, waitq_unlink, 0, what, obj);
  w.queue = q;
  gp__list_push_back(&q->waiters, &w.link);
  gp__unlock(q->lock);
  return gp__park(&w, deadline);
}

struct gp__wait *gp__waitq_take_locked(struct gp__waitq *q, size_t n)
{
  struct gp__wait *first = NULL, **tail = &first;
  struct gp__list *l, *next;

  for (l = q->waiters.next; l != &q->waiters && n > 0; l = next) {
    struct gp__wait *w = GP__CONTAINER(l, struct gp__wait, link);
    next = l->next;
    if (!gp__wait_claim(w))
      continue; /* its deadline or a cancel ends it: they unlink it */
    gp__list_remove(&w->link);
    w->next_wake = NULL;
    *tail = w;
    tail = &w->next_wake;
    n--;
  }
  return first;
}

size_t gp__waitq_wake(struct gp__waitq *q, size_t n, int result)
{
  struct gp__wait *list, *w;
  size_t k = 0;

  gp__lock(q->lock);
  list = gp__waitq_take_locked(q, n);
  gp__unlock(q->lock);
  for (w = list; w; w = w->next_wake)
    k++;
  gp__wake_list(list, result);
  return k;
}

int gp__waitq_empty(struct gp__waitq *q)
{
  int e;
  gp__lock(q->lock);
  e = gp__list_empty(&q->waiters);
  gp__unlock(q->lock);
  return e;
}

/* ---- address waits ----
 *
 * The pthread and semaphore emulation keeps every object's state in the
 * object's own bytes, in glibc's layout, so the program's static
 * initializers and sizes stay valid. The coroutines waiting on an object
 * are kept here instead, in a table of wait queues keyed by the object's
 * address; threads without a scheduler wait in the kernel on the same
 * word, counted per bucket so that a wake knows to call the kernel. */

/* Buckets of the table; a power of two. */
#define NBUCKETS 4096

static struct bucket {
  struct gp__lock lock;    /* guards waiters */
  struct gp__list waiters; /* struct gp__wait of coroutines */
  int kwaiters;            /* atomic: threads waiting in the kernel */
} buckets[NBUCKETS];

static struct bucket *bucket(const void *addr)
{
  uintptr_t a = (uintptr_t)addr;
  return &buckets[((a >> 2) ^ (a >> 14)) & (NBUCKETS - 1)];
}

/* Locks b; its list is made on first use (the table may be used by a
 * library's constructor, before any of the runtime's has run). */
static void bucket_lock(struct bucket *b)
{
  gp__lock(&b->lock);
  if (b->waiters.next == NULL)
    gp__list_init(&b->waiters);
}

static void addr_unlink(struct gp__wait *w)
{
  struct bucket *b = bucket(w->obj);
  bucket_lock(b);
  gp__list_remove(&w->link);
  gp__unlock(&b->lock);
}

/* A thread without a scheduler waits in the kernel. */
static int addr_wait_kernel(const uint32_t *addr, uint32_t val,
                            uint64_t deadline)
{
  struct bucket *b = bucket(addr);
  struct timespec ts, *tp = NULL;
  long r;

  if (deadline != GP__NEVER) {
    uint64_t now = gp__now(), left = deadline > now ? deadline - now : 0;
    ts.tv_sec = (time_t)(left / 1000000000u);
    ts.tv_nsec = (long)(left % 1000000000u);
    tp = &ts;
  }
  __atomic_fetch_add(&b->kwaiters, 1, __ATOMIC_SEQ_CST);
  r = gp__real_syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tp, NULL, 0);
  __atomic_fetch_sub(&b->kwaiters, 1, __ATOMIC_RELAXED);
  if (r == 0)
    return 0;
  return errno == EAGAIN ? -EAGAIN : -errno;
}

int gp__addr_wait(const uint32_t *addr, uint32_t val, uint64_t deadline,
                  const char *what, int flags)
{
  struct gp__coro *co = gp__self();
  struct bucket *b = bucket(addr);
  struct gp__wait w;

  /* After a lone thread's seccomp filter it stays the one coroutine, and
   * its hub's poll is a call the filter may kill: it waits as the real
   * threads made after it do (shim/process.c). */
  if (co == NULL || co->is_hub || (flags & GP__WAIT_THREAD) ||
      __atomic_load_n(&gp__config.sandbox_real_threads, __ATOMIC_RELAXED))
    return addr_wait_kernel(addr, val, deadline);
  gp__wait_init(&w, addr_unlink, flags, what, addr);
  bucket_lock(b);
  if (__atomic_load_n(addr, __ATOMIC_SEQ_CST) != val) {
    gp__unlock(&b->lock);
    return -EAGAIN;
  }
  gp__list_push_back(&b->waiters, &w.link);
  gp__unlock(&b->lock);
  return gp__park(&w, deadline);
}

size_t gp__addr_wake(const uint32_t *addr, size_t n)
{
  struct bucket *b = bucket(addr);
  struct gp__wait *first = NULL, **tail = &first;
  struct gp__list *l, *next;
  size_t woken = 0;

  bucket_lock(b);
  for (l = b->waiters.next; l != &b->waiters && woken < n; l = next) {
    struct gp__wait *w = GP__CONTAINER(l, struct gp__wait, link);
    next = l->next;
    if (w->obj != addr || !gp__wait_claim(w))
      continue;
    gp__list_remove(&w->link);
    w->next_wake = NULL;
    *tail = w;
    tail = &w->next_wake;
    woken++;
  }
  gp__unlock(&b->lock);
  gp__wake_list(first, 0);
  if (woken < n && __atomic_load_n(&b->kwaiters, __ATOMIC_SEQ_CST) > 0) {
    long r = gp__real_syscall(
        SYS_futex, addr, FUTEX_WAKE_PRIVATE,
        (int)(n - woken > INT32_MAX ? INT32_MAX : n - woken), NULL, NULL, 0);
    if (r > 0)
      woken += (size_t)r;
  }
  return woken;
}

int gp__addr_has_waiters(const uint32_t *addr)
{
  struct bucket *b = bucket(addr);
  struct gp__list *l;
  int found = 0;

  /* The bucket's count of threads in the kernel names no address: one
   * waiting on another word of the bucket is not addr's. */
  bucket_lock(b);
  for (l = b->waiters.next; !found && l != &b->waiters; l = l->next)
    found = GP__CONTAINER(l, struct gp__wait, link)->obj == addr;
  gp__unlock(&b->lock);
  return found;
}

/* The table's lists, empty; in a fork's child every waiter is gone with its
 * thread (the caller of fork was running, not waiting), so a later unlock
 * or post must not wake it. */
void gp__wait_fork_child(void)
{
  for (size_t i = 0; i < NBUCKETS; i++) {
    gp__lock_reset(&buckets[i].lock);
    gp__list_init(&buckets[i].waiters);
    buckets[i].kwaiters = 0;
  }
}

/* ---- interruption, cancellation, the end of the others ---- */

static int interruptible_parked(const struct gp__coro *co)
{
  return co->state == GP__PARKED && co->wait &&
         (co->wait->flags & GP__WAIT_INTERRUPTIBLE);
}

/* On co's own scheduler: ends its wait with -EINTR if a signal would. */
static int interrupt_here(struct gp__coro *co)
{
  return interruptible_parked(co) && gp__wait_end(co->wait, -EINTR);
}

/* On co's own scheduler: acts on a pending cancel if co waits where a
 * cancel ends the wait. */
static void cancel_here(struct gp__coro *co)
{
  struct gp__wait *w = co->wait;
  if (co->state == GP__PARKED && w && cancelable(w) &&
      __atomic_load_n(&co->cancel_pending, __ATOMIC_ACQUIRE) &&
      gp__wait_claim(w)) {
    __atomic_store_n(&co->cancel_pending, 0, __ATOMIC_RELAXED);
    w->unlink(w);
    gp__wake(w, -ECANCELED);
  }
}

void gp__wait_posted(struct gp__coro *co, int posted)
{
  if (posted & GP__POST_READY)
    gp__sched_make_ready(co->sched, co);
  if (posted & GP__POST_CANCEL)
    cancel_here(co);
  if ((posted & GP__POST_INTERRUPT) && !interrupt_here(co) &&
      __atomic_load_n(&co->signal_due, __ATOMIC_ACQUIRE))
    gp__signal_due_hook(co); /* it no longer waits: for it, now */
}

static void no_due_hook(struct gp__coro *co)
{
  gp__coro_due_clear(co);
}

void (*gp__signal_due_hook)(struct gp__coro *co) = no_due_hook;

void gp__coro_due_clear(struct gp__coro *co)
{
  __atomic_store_n(&co->signal_due, 0, __ATOMIC_RELEASE);
}

int gp__coro_interrupt_due(struct gp__coro *co)
{
  if (co->sched != gp__tls.sched) {
    /* A look: its hub makes sure (gp__wait_posted). */
    if (__atomic_load_n(&co->state, __ATOMIC_RELAXED) != GP__PARKED)
      return 0;
    __atomic_store_n(&co->signal_due, 1, __ATOMIC_RELEASE);
    gp__sched_post(co, GP__POST_INTERRUPT);
    return 1;
  }
  if (!interruptible_parked(co))
    return 0;
  __atomic_store_n(&co->signal_due, 1, __ATOMIC_RELEASE);
  return interrupt_here(co);
}

int gp__coro_interrupt(struct gp__coro *co)
{
  if (co->sched != gp__tls.sched) {
    gp__sched_post(co, GP__POST_INTERRUPT);
    return 1;
  }
  return interrupt_here(co);
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

  if (s->main && !s->main_ended)
    return interrupt_here(s->main);
  for (l = s->all.next; l != &s->all; l = l->next) {
    struct gp__coro *co = GP__CONTAINER(l, struct gp__coro, all_link);
    if (co != s->main && interrupt_here(co))
      return 1;
  }
  return 0;
}

int gp__coro_cancel(struct gp__coro *co)
{
  __atomic_store_n(&co->cancel_pending, 1, __ATOMIC_RELEASE);
  if (co->sched != gp__tls.sched)
    gp__sched_post(co, GP__POST_CANCEL);
  else
    cancel_here(co);
  return 0;
}

int gp__coro_kill(struct gp__coro *co)
{
  /* Not started yet: it never runs (coro.c looks at canceled first);
   * started: the cancel ends its next wait. */
  __atomic_store_n(&co->canceled, 1, __ATOMIC_RELEASE);
  return gp__coro_cancel(co);
}

void gp__coro_cancel_drop(struct gp__coro *co)
{
  __atomic_store_n(&co->cancel_pending, 0, __ATOMIC_RELEASE);
}

void gp__wait_others(void)
{
  struct gp__sched *s = gp__tls.sched;

  s->main_ended = 1;
  /* From a thread other than the first, the exits' plain decrements would
   * not order against this store: locked instructions from now (mt.h). */
  gp__mt_need();
  __atomic_store_n(&gp__live_waited, 1, __ATOMIC_SEQ_CST);
  for (;;) {
    uint32_t live = __atomic_load_n(&gp__live, __ATOMIC_SEQ_CST);
    if (live <= 1)
      return;
    /* Each exit wakes this (coro.c). */
    gp__addr_wait(&gp__live, live, GP__NEVER, "the other threads",
                  GP__WAIT_UNCANCELABLE);
  }
}

/* ---- signal handlers, gp_timeout blocks ---- */

void gp__interrupt_note(void)
{
  struct gp__sched *s = gp__tls.sched;
  if (s == NULL)
    return;
  /* main itself runs, and is in no call: plain, nothing is interrupted.
   * (Once main has ended, the signal goes to another thread, which the
   * hub picks.) */
  if (s->current == s->main && !s->main_ended && !s->main_suspended)
    return;
  __atomic_fetch_add(&s->interrupts, 1, __ATOMIC_RELAXED);
}

void gp__suspend_main_begin(void)
{
  /* A handler from here on (one let through by the mask it sets next,
   * before it parks, included) counts, and ends the park: main is in a
   * call now. */
  gp__tls.sched->main_suspended = 1;
}

int gp__suspend_main(int ran)
{
  int r = ran ? -EINTR : gp__sleep_until(GP__NEVER, 1);
  gp__tls.sched->main_suspended = 0;
  return r;
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
