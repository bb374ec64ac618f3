/* test_event.c: gp_event_t and gp_queue_t — waking, timeouts, FIFO order,
 * the ring buffer's growth, bounded queues, and many producers and
 * consumers. */
#include "unit.h"

#include "scheduler.h"

#include <time.h>

#define MS 1000000ull

static uint64_t switches(void)
{
  struct gp__stats st;
  gp__sched_stats(&st);
  return st.switches;
}

/* One coroutine waiting on an event. */
struct evwait {
  gp_event_t *ev;
  int64_t timeout;
  int r;
  int done;
};

static void *ev_waiter(void *arg)
{
  struct evwait *w = arg;
  w->r = gp_event_wait(w->ev, w->timeout);
  w->done = 1;
  return NULL;
}

static void test_event_basics(void **state)
{
  gp_event_t *ev;
  uint64_t sw, t0;

  assert_int_equal(gp_event_new(&ev), 0);
  assert_int_equal(gp_event_is_set(ev), 0);
  assert_int_equal(gp_event_wait(ev, 0), -ETIMEDOUT);
  t0 = mono_ns();
  assert_int_equal(gp_event_wait(ev, 20), -ETIMEDOUT);
  assert_true(mono_ns() - t0 >= 20 * MS);

  gp_event_set(ev);
  assert_int_equal(gp_event_is_set(ev), 1);
  sw = switches();
  assert_int_equal(gp_event_wait(ev, GP_FOREVER), 0);
  assert_int_equal(gp_event_wait(ev, 0), 0);
  assert_int_equal(switches(), sw); /* returned at once, no park */
  gp_event_set(ev);                 /* setting twice is harmless */
  assert_int_equal(gp_event_is_set(ev), 1);

  gp_event_clear(ev);
  assert_int_equal(gp_event_is_set(ev), 0);
  assert_int_equal(gp_event_wait(ev, 0), -ETIMEDOUT);
  gp_event_free(ev);
  gp_event_free(NULL);
}

static void test_event_wakes_all(void **state)
{
  gp_event_t *ev;
  struct evwait w[4];
  gp_coro_t *co[4];

  assert_int_equal(gp_event_new(&ev), 0);
  for (int i = 0; i < 4; i++) {
    w[i] = (struct evwait){ev, i == 3 ? 5000 : GP_FOREVER, 99, 0};
    assert_int_equal(gp_spawn(&co[i], ev_waiter, &w[i]), 0);
  }
  assert_int_equal(gp_sleep(10), 0);
  for (int i = 0; i < 4; i++)
    assert_int_equal(w[i].done, 0);
  gp_event_set(ev);
  /* Cleared again before they run: each was waiting when it was set, so
   * each is woken (gevent's semantics). */
  gp_event_clear(ev);
  assert_int_equal(gp_joinall(co, 4, NULL, 5000), 0);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(w[i].done, 1);
    assert_int_equal(w[i].r, 0);
  }

  /* A waiter that came after the clear keeps waiting. */
  w[0] = (struct evwait){ev, GP_FOREVER, 99, 0};
  assert_int_equal(gp_spawn(&co[0], ev_waiter, &w[0]), 0);
  assert_int_equal(gp_sleep(10), 0);
  assert_int_equal(w[0].done, 0);
  gp_event_set(ev);
  assert_int_equal(gp_join(co[0], NULL), 0);
  assert_int_equal(w[0].r, 0);
  gp_event_free(ev);
}

static void test_event_timeout_then_set(void **state)
{
  gp_event_t *ev;
  struct evwait a, b;
  gp_coro_t *ca, *cb;

  /* One waiter times out; the other, still there, is woken by the set. */
  assert_int_equal(gp_event_new(&ev), 0);
  a = (struct evwait){ev, 10, 99, 0};
  b = (struct evwait){ev, GP_FOREVER, 99, 0};
  assert_int_equal(gp_spawn(&ca, ev_waiter, &a), 0);
  assert_int_equal(gp_spawn(&cb, ev_waiter, &b), 0);
  assert_int_equal(gp_join(ca, NULL), 0);
  assert_int_equal(a.r, -ETIMEDOUT);
  assert_int_equal(b.done, 0);
  gp_event_set(ev);
  assert_int_equal(gp_join(cb, NULL), 0);
  assert_int_equal(b.r, 0);
  gp_event_free(ev);
}

static void test_queue_fifo(void **state)
{
  gp_queue_t *q;
  void *item;

  assert_int_equal(gp_queue_new(&q, 0), 0);
  assert_int_equal(gp_queue_size(q), 0);
  for (uintptr_t i = 1; i <= 10; i++) {
    assert_int_equal(gp_queue_put(q, (void *)i, 0), 0);
    assert_int_equal(gp_queue_size(q), i);
  }
  for (uintptr_t i = 1; i <= 10; i++) {
    assert_int_equal(gp_queue_get(q, &item, 0), 0);
    assert_ptr_equal(item, (void *)i);
    assert_int_equal(gp_queue_size(q), 10 - i);
  }
  /* NULL is an item like any other. */
  assert_int_equal(gp_queue_put(q, NULL, 0), 0);
  item = &item;
  assert_int_equal(gp_queue_get(q, &item, 0), 0);
  assert_null(item);
  gp_queue_free(q);
  gp_queue_free(NULL);
}

static void test_queue_growth(void **state)
{
  gp_queue_t *q;
  void *item;
  uintptr_t next_put = 1, next_get = 1;

  assert_int_equal(gp_queue_new(&q, 0), 0);
  /* Move the head along so that the ring wraps before it grows. */
  for (int i = 0; i < 10; i++)
    assert_int_equal(gp_queue_put(q, (void *)next_put++, 0), 0);
  for (int i = 0; i < 8; i++) {
    assert_int_equal(gp_queue_get(q, &item, 0), 0);
    assert_ptr_equal(item, (void *)next_get++);
  }
  /* 2 held at the end of a 16-slot ring; 14 more fill it, wrapped. */
  for (int i = 0; i < 14; i++)
    assert_int_equal(gp_queue_put(q, (void *)next_put++, 0), 0);
  assert_int_equal(gp_queue_size(q), 16);
  /* Past 16: it grows, and the wrapped items keep their order. */
  for (int i = 0; i < 100; i++)
    assert_int_equal(gp_queue_put(q, (void *)next_put++, 0), 0);
  assert_int_equal(gp_queue_size(q), 116);
  /* Interleave again at the larger size, wrapping it a few times. */
  for (int round = 0; round < 50; round++) {
    for (int i = 0; i < 7; i++) {
      assert_int_equal(gp_queue_get(q, &item, 0), 0);
      assert_ptr_equal(item, (void *)next_get++);
    }
    for (int i = 0; i < 9; i++)
      assert_int_equal(gp_queue_put(q, (void *)next_put++, 0), 0);
  }
  assert_int_equal(gp_queue_size(q), next_put - next_get);
  while (gp_queue_size(q) > 0) {
    assert_int_equal(gp_queue_get(q, &item, 0), 0);
    assert_ptr_equal(item, (void *)next_get++);
  }
  assert_int_equal(next_get, next_put);
  assert_int_equal(gp_queue_get(q, &item, 0), -EAGAIN);
  gp_queue_free(q);

  /* A queue freed with items in it just drops them. */
  assert_int_equal(gp_queue_new(&q, 0), 0);
  for (uintptr_t i = 0; i < 40; i++)
    assert_int_equal(gp_queue_put(q, (void *)i, 0), 0);
  gp_queue_free(q);
}

static void test_queue_get_empty(void **state)
{
  gp_queue_t *q;
  void *item = &item;
  uint64_t t0;

  assert_int_equal(gp_queue_new(&q, 0), 0);
  assert_int_equal(gp_queue_get(q, &item, 0), -EAGAIN);
  t0 = mono_ns();
  assert_int_equal(gp_queue_get(q, &item, 20), -ETIMEDOUT);
  assert_true(mono_ns() - t0 >= 20 * MS);
  assert_true(mono_ns() - t0 < 1000 * MS);
  assert_ptr_equal(item, &item); /* untouched */
  assert_int_equal(gp_queue_size(q), 0);
  gp_queue_free(q); /* the timed-out getter is gone from its wait queue */
}

/* Puts the items 1..n into a queue, counting as it goes. */
struct putter {
  gp_queue_t *q;
  int n;
  int done; /* puts completed */
  int r;    /* the last put's result */
};

static void *putter_main(void *arg)
{
  struct putter *p = arg;
  for (int i = 1; i <= p->n; i++) {
    p->r = gp_queue_put(p->q, (void *)(uintptr_t)i, GP_FOREVER);
    if (p->r != 0)
      break;
    p->done++;
  }
  return NULL;
}

/* Gets one item from a queue, waiting as long as needed. */
struct getter {
  gp_queue_t *q;
  void *item;
  int r;
  int done;
};

static void *getter_main(void *arg)
{
  struct getter *g = arg;
  g->r = gp_queue_get(g->q, &g->item, GP_FOREVER);
  g->done = 1;
  return NULL;
}

static void test_queue_bounded(void **state)
{
  gp_queue_t *q;
  struct putter p;
  gp_coro_t *co;
  void *item;
  uint64_t t0;

  assert_int_equal(gp_queue_new(&q, 2), 0);
  p = (struct putter){q, 3, 0, 0};
  assert_int_equal(gp_spawn(&co, putter_main, &p), 0);
  assert_int_equal(gp_sleep(10), 0);
  assert_int_equal(p.done, 2); /* the third put waits */
  assert_int_equal(gp_queue_size(q), 2);
  assert_int_equal(gp_queue_put(q, (void *)99, 0), -EAGAIN);
  t0 = mono_ns();
  assert_int_equal(gp_queue_put(q, (void *)99, 20), -ETIMEDOUT);
  assert_true(mono_ns() - t0 >= 20 * MS);
  assert_int_equal(p.done, 2);

  assert_int_equal(gp_queue_get(q, &item, 0), 0);
  assert_ptr_equal(item, (void *)1);
  assert_int_equal(p.done, 2); /* woken, not yet run */
  assert_int_equal(gp_join(co, NULL), 0);
  assert_int_equal(p.done, 3);
  assert_int_equal(p.r, 0);
  assert_int_equal(gp_queue_size(q), 2);
  assert_int_equal(gp_queue_get(q, &item, 0), 0);
  assert_ptr_equal(item, (void *)2);
  assert_int_equal(gp_queue_get(q, &item, 0), 0);
  assert_ptr_equal(item, (void *)3);

  /* A waiting getter is handed the next put at once. */
  struct getter g = {q, NULL, 99, 0};
  assert_int_equal(gp_spawn(&co, getter_main, &g), 0);
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(g.done, 0);
  assert_int_equal(gp_queue_put(q, (void *)7, 0), 0);
  assert_int_equal(gp_join(co, NULL), 0);
  assert_int_equal(g.r, 0);
  assert_ptr_equal(g.item, (void *)7);
  assert_int_equal(gp_queue_size(q), 0);
  gp_queue_free(q);
}

/* Several getters parked at once: each put wakes one, all get an item. */
static void test_queue_many_getters(void **state)
{
  gp_queue_t *q;
  struct getter g[5];
  gp_coro_t *co[5];
  int seen[5] = {0};

  assert_int_equal(gp_queue_new(&q, 0), 0);
  for (int i = 0; i < 5; i++) {
    g[i] = (struct getter){q, NULL, 99, 0};
    assert_int_equal(gp_spawn(&co[i], getter_main, &g[i]), 0);
  }
  assert_int_equal(gp_yield(), 0);
  for (uintptr_t i = 0; i < 5; i++)
    assert_int_equal(gp_queue_put(q, (void *)(i + 1), 0), 0);
  assert_int_equal(gp_joinall(co, 5, NULL, 5000), 0);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(g[i].r, 0);
    /* FIFO on both sides: the first to wait gets the first item. */
    assert_ptr_equal(g[i].item, (void *)(uintptr_t)(i + 1));
    seen[(uintptr_t)g[i].item - 1]++;
  }
  for (int i = 0; i < 5; i++)
    assert_int_equal(seen[i], 1);
  gp_queue_free(q);
}

#define PRODUCERS    4
#define CONSUMERS    3
#define PER_PRODUCER 2500
#define ITEMS        (PRODUCERS * PER_PRODUCER)

/* Shared state of the producer/consumer test. */
struct pc {
  gp_queue_t *q;
  int seen[ITEMS];    /* deliveries of each item */
  int order_errors;   /* a producer's items out of order */
  int errors;         /* failed puts or gets */
  int got[CONSUMERS]; /* items each consumer took */
};

/* A producer: its index and the shared state. */
struct prod {
  struct pc *pc;
  int index;
};

static void *producer(void *arg)
{
  struct prod *p = arg;
  for (int i = 0; i < PER_PRODUCER; i++) {
    uintptr_t item = (uintptr_t)p->index * PER_PRODUCER + (uintptr_t)i + 1;
    if (gp_queue_put(p->pc->q, (void *)item, GP_FOREVER) != 0)
      p->pc->errors++;
    if (i % 7 == p->index)
      gp_yield(); /* vary the interleaving */
  }
  return NULL;
}

static void *consumer(void *arg)
{
  struct prod *c = arg;
  struct pc *pc = c->pc;
  uintptr_t last[PRODUCERS] = {0};
  void *item;

  for (;;) {
    if (gp_queue_get(pc->q, &item, GP_FOREVER) != 0) {
      pc->errors++;
      break;
    }
    if (item == NULL)
      break; /* the end */
    uintptr_t v = (uintptr_t)item - 1;
    if (v >= ITEMS) {
      pc->errors++;
      continue;
    }
    pc->seen[v]++;
    pc->got[c->index]++;
    /* Each consumer sees each producer's items in increasing order. */
    if ((uintptr_t)item <= last[v / PER_PRODUCER])
      pc->order_errors++;
    last[v / PER_PRODUCER] = (uintptr_t)item;
    if (v % 5 == (uintptr_t)c->index)
      gp_yield();
  }
  return NULL;
}

static void run_producers_consumers(size_t maxsize)
{
  static struct pc pc;
  struct prod prods[PRODUCERS], cons[CONSUMERS];
  gp_coro_t *pco[PRODUCERS], *cco[CONSUMERS];

  memset(&pc, 0, sizeof(pc));
  assert_int_equal(gp_queue_new(&pc.q, maxsize), 0);
  for (int i = 0; i < CONSUMERS; i++) {
    cons[i] = (struct prod){&pc, i};
    assert_int_equal(gp_spawn(&cco[i], consumer, &cons[i]), 0);
  }
  for (int i = 0; i < PRODUCERS; i++) {
    prods[i] = (struct prod){&pc, i};
    assert_int_equal(gp_spawn(&pco[i], producer, &prods[i]), 0);
  }
  assert_int_equal(gp_joinall(pco, PRODUCERS, NULL, 30000), 0);
  for (int i = 0; i < CONSUMERS; i++)
    assert_int_equal(gp_queue_put(pc.q, NULL, GP_FOREVER), 0);
  assert_int_equal(gp_joinall(cco, CONSUMERS, NULL, 30000), 0);

  assert_int_equal(pc.errors, 0);
  assert_int_equal(pc.order_errors, 0);
  for (int i = 0; i < ITEMS; i++)
    if (pc.seen[i] != 1)
      fail_msg("item %d delivered %d times", i + 1, pc.seen[i]);
  int total = 0;
  for (int i = 0; i < CONSUMERS; i++) {
    assert_true(pc.got[i] > 0); /* every consumer took part */
    total += pc.got[i];
  }
  assert_int_equal(total, ITEMS);
  assert_int_equal(gp_queue_size(pc.q), 0);
  gp_queue_free(pc.q);
}

static void test_producers_consumers_bounded(void **state)
{
  run_producers_consumers(8);
}

static void test_producers_consumers_unbounded(void **state)
{
  run_producers_consumers(0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_event_basics),
      cmocka_unit_test(test_event_wakes_all),
      cmocka_unit_test(test_event_timeout_then_set),
      cmocka_unit_test(test_queue_fifo),
      cmocka_unit_test(test_queue_growth),
      cmocka_unit_test(test_queue_get_empty),
      cmocka_unit_test(test_queue_bounded),
      cmocka_unit_test(test_queue_many_getters),
      cmocka_unit_test(test_producers_consumers_bounded),
      cmocka_unit_test(test_producers_consumers_unbounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
