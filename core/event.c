/* event.c: gp_event_t (gevent.event.Event) and gp_queue_t
 * (gevent.queue.Queue), on wait queues. */
#define _GNU_SOURCE
#include "../include/gpatch.h"
#include "api.h"
#include "common.h"
#include "scheduler.h"
#include "wait.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct gp_event {
  int set;                  /* the flag */
  struct gp__waitq waiters; /* coroutines in gp_event_wait */
};

GP_EXPORT int gp_event_new(gp_event_t **ev)
{
  gp_event_t *e = calloc(1, sizeof(*e));
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
  free(ev);
}

GP_EXPORT void gp_event_set(gp_event_t *ev)
{
  ev->set = 1;
  gp__waitq_wake_all(&ev->waiters, 0);
}

GP_EXPORT void gp_event_clear(gp_event_t *ev)
{
  ev->set = 0;
}

GP_EXPORT int gp_event_is_set(const gp_event_t *ev)
{
  return ev->set;
}

GP_EXPORT int gp_event_wait(gp_event_t *ev, int64_t timeout_ms)
{
  if (ev->set)
    return 0;
  if (timeout_ms == 0)
    return -ETIMEDOUT;
  if (gp__sched_get() == NULL)
    return -ENOMEM;
  /* Woken by gp_event_set: the flag was set then, even if cleared since
   * (gevent's semantics: a set wakes everyone waiting at that moment). */
  return gp__api_err(gp__waitq_wait(&ev->waiters, gp__deadline_ms(timeout_ms),
                                    "event", ev));
}

struct gp_queue {
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
  gp_queue_t *p = calloc(1, sizeof(*p));
  if (p == NULL)
    return -ENOMEM;
  p->maxsize = maxsize;
  gp__waitq_init(&p->getters);
  gp__waitq_init(&p->putters);
  *q = p;
  return 0;
}

GP_EXPORT void gp_queue_free(gp_queue_t *q)
{
  if (q == NULL)
    return;
  GP__ASSERT(gp__waitq_empty(&q->getters) && gp__waitq_empty(&q->putters));
  free(q->items);
  free(q);
}

static int grow(gp_queue_t *q)
{
  size_t cap = q->cap ? q->cap * 2 : 16;
  void **items = malloc(cap * sizeof(*items));
  if (items == NULL)
    return -ENOMEM;
  for (size_t i = 0; i < q->count; i++)
    items[i] = q->items[(q->head + i) % q->cap];
  free(q->items);
  q->items = items;
  q->cap = cap;
  q->head = 0;
  return 0;
}

GP_EXPORT int gp_queue_put(gp_queue_t *q, void *item, int64_t timeout_ms)
{
  uint64_t deadline = GP__NEVER;
  int r;

  while (q->maxsize && q->count >= q->maxsize) {
    if (timeout_ms == 0)
      return -EAGAIN;
    if (deadline == GP__NEVER)
      deadline = gp__deadline_ms(timeout_ms);
    if (gp__sched_get() == NULL)
      return -ENOMEM;
    r = gp__waitq_wait(&q->putters, deadline, "queue put", q);
    if (r < 0)
      return gp__api_err(r);
  }
  if (q->count == q->cap && (r = grow(q)) < 0)
    return r;
  q->items[(q->head + q->count) % q->cap] = item;
  q->count++;
  gp__waitq_wake_one(&q->getters, 0);
  return 0;
}

GP_EXPORT int gp_queue_get(gp_queue_t *q, void **item, int64_t timeout_ms)
{
  uint64_t deadline = GP__NEVER;
  int r;

  while (q->count == 0) {
    if (timeout_ms == 0)
      return -EAGAIN;
    if (deadline == GP__NEVER)
      deadline = gp__deadline_ms(timeout_ms);
    if (gp__sched_get() == NULL)
      return -ENOMEM;
    r = gp__waitq_wait(&q->getters, deadline, "queue get", q);
    if (r < 0)
      return gp__api_err(r);
  }
  *item = q->items[q->head];
  q->head = (q->head + 1) % q->cap;
  q->count--;
  gp__waitq_wake_one(&q->putters, 0);
  /* Another getter may still find an item: pass the wake on. */
  if (q->count > 0)
    gp__waitq_wake_one(&q->getters, 0);
  return 0;
}

GP_EXPORT size_t gp_queue_size(const gp_queue_t *q)
{
  return q->count;
}
