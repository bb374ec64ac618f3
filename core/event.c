/* event.c: gp_event_t (gevent.event.Event) and gp_queue_t
 * (gevent.queue.Queue), on wait queues. */
#define _GNU_SOURCE
#include "../include/gpatch.h"
#include "api.h"
#include "mem.h"
#include "common.h"
#include "scheduler.h"
#include "wait.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct gp_event {
  int set;                  /* the flag, under waiters' lock */
  struct gp__waitq waiters; /* coroutines in gp_event_wait */
};

GP_EXPORT int gp_event_new(gp_event_t **ev)
{
  gp_event_t *e = gp__calloc(1, sizeof(*e));
  if (e == NULL)
    return -ENOMEM;
  gp__waitq_init(&e->waiters);
  *ev = e;
  return 0;
}

GP_EXPORT void gp_event_free(gp_event_t *ev)
{
  if (ev)
    GP__ASSERT(gp__waitq_empty(&ev->waiters));
  gp__free(ev);
}

GP_EXPORT void gp_event_set(gp_event_t *ev)
{
  struct gp__wait *list;

  gp__lock(ev->waiters.lock);
  ev->set = 1;
  list = gp__waitq_take_locked(&ev->waiters, SIZE_MAX);
  gp__unlock(ev->waiters.lock);
  gp__wake_list(list, 0);
}

GP_EXPORT void gp_event_clear(gp_event_t *ev)
{
  gp__lock(ev->waiters.lock);
  ev->set = 0;
  gp__unlock(ev->waiters.lock);
}

GP_EXPORT int gp_event_is_set(const gp_event_t *ev)
{
  return __atomic_load_n(&ev->set, __ATOMIC_ACQUIRE);
}

GP_EXPORT int gp_event_wait(gp_event_t *ev, int64_t timeout_ms)
{
  if (__atomic_load_n(&ev->set, __ATOMIC_ACQUIRE))
    return 0;
  if (timeout_ms == 0)
    return -ETIMEDOUT;
  if (gp__sched_get() == NULL)
    return -ENOMEM;
  gp__lock(ev->waiters.lock);
  if (ev->set) {
    gp__unlock(ev->waiters.lock);
    return 0;
  }
  /* Woken by gp_event_set: the flag was set then, even if cleared since
   * (gevent's semantics: a set wakes everyone waiting at that moment). */
  return gp__api_err(gp__waitq_wait_locked(
      &ev->waiters, gp__deadline_ms(timeout_ms), "event", ev));
}

struct gp_queue {
  struct gp__lock lock;     /* guards the queue and both wait queues */
  void **items;             /* ring buffer */
  size_t cap;               /* its capacity */
  size_t head;              /* index of the oldest item */
  size_t count;             /* items held */
  size_t maxsize;           /* 0: unbounded */
  struct gp__waitq getters; /* coroutines waiting for an item */
  struct gp__waitq putters; /* coroutines waiting for room */
};

GP_EXPORT int gp_queue_new(gp_queue_t **q, size_t maxsize)
{
  gp_queue_t *p = gp__calloc(1, sizeof(*p));
  if (p == NULL)
    return -ENOMEM;
  p->maxsize = maxsize;
  gp__waitq_init_shared(&p->getters, &p->lock);
  gp__waitq_init_shared(&p->putters, &p->lock);
  *q = p;
  return 0;
}

GP_EXPORT void gp_queue_free(gp_queue_t *q)
{
  if (q == NULL)
    return;
  GP__ASSERT(gp__waitq_empty(&q->getters) && gp__waitq_empty(&q->putters));
  gp__free(q->items);
  gp__free(q);
}

static int grow(gp_queue_t *q)
{
  size_t cap = q->cap ? q->cap * 2 : 16;
  void **items = gp__malloc(cap * sizeof(*items));
  if (items == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < q->count; i++)
    items[i] = q->items[(q->head + i) % q->cap];
  gp__free(q->items);
  q->items = items;
  q->cap = cap;
  q->head = 0;
  return 0;
}

/* Waits on wq (q locked; it is locked again on return). Returns 0 or the
 * wait's error. */
static int queue_wait(gp_queue_t *q, struct gp__waitq *wq, uint64_t deadline,
                      const char *what)
{
  int r = gp__waitq_wait_locked(wq, deadline, what, q);
  gp__lock(&q->lock);
  return r;
}

GP_EXPORT int gp_queue_put(gp_queue_t *q, void *item, int64_t timeout_ms)
{
  uint64_t deadline = GP__NEVER;
  struct gp__wait *wake;
  int r;

  if (gp__sched_get() == NULL)
    return -ENOMEM;
  gp__lock(&q->lock);
  while (q->maxsize && q->count >= q->maxsize) {
    if (timeout_ms == 0) {
      gp__unlock(&q->lock);
      return -EAGAIN;
    }
    if (deadline == GP__NEVER)
      deadline = gp__deadline_ms(timeout_ms);
    if ((r = queue_wait(q, &q->putters, deadline, "queue put")) < 0) {
      gp__unlock(&q->lock);
      return gp__api_err(r);
    }
  }
  if (q->count == q->cap && (r = grow(q)) < 0) {
    gp__unlock(&q->lock);
    return r;
  }
  q->items[(q->head + q->count) % q->cap] = item;
  q->count++;
  wake = gp__waitq_take_locked(&q->getters, 1);
  gp__unlock(&q->lock);
  gp__wake_list(wake, 0);
  return 0;
}

GP_EXPORT int gp_queue_get(gp_queue_t *q, void **item, int64_t timeout_ms)
{
  uint64_t deadline = GP__NEVER;
  struct gp__wait *wake, *more = NULL;
  int r;

  if (gp__sched_get() == NULL)
    return -ENOMEM;
  gp__lock(&q->lock);
  while (q->count == 0) {
    if (timeout_ms == 0) {
      gp__unlock(&q->lock);
      return -EAGAIN;
    }
    if (deadline == GP__NEVER)
      deadline = gp__deadline_ms(timeout_ms);
    if ((r = queue_wait(q, &q->getters, deadline, "queue get")) < 0) {
      gp__unlock(&q->lock);
      return gp__api_err(r);
    }
  }
  *item = q->items[q->head];
  q->head = (q->head + 1) % q->cap;
  q->count--;
  wake = gp__waitq_take_locked(&q->putters, 1);
  /* Another getter may still find an item: pass the wake on. */
  if (q->count > 0)
    more = gp__waitq_take_locked(&q->getters, 1);
  gp__unlock(&q->lock);
  gp__wake_list(wake, 0);
  gp__wake_list(more, 0);
  return 0;
}

GP_EXPORT size_t gp_queue_size(const gp_queue_t *q)
{
  return __atomic_load_n(&q->count, __ATOMIC_ACQUIRE);
}
