/* test_mn.c: the runtime on several schedulers (GPATCH_CORES=4): placement
 * and stealing of coroutines that have not started, wakes across
 * schedulers through events, queues, address waits and joins, cancels and
 * deadlines of coroutines on other schedulers, and coroutines that never
 * move once started. Built with ThreadSanitizer by make check-tsan. */
#include "unit.h"

#include "coro.h"
#include "scheduler.h"
#include "wait.h"

#define CORES 4

/* Spawns fn(arg) on the least loaded scheduler, as pthread_create does. */
static gp_coro_t *place(void *(*fn)(void *), void *arg)
{
  struct gp__spawn_opts o = {.place = 1};
  struct gp__coro *co;
  assert_int_equal(gp__coro_spawn(&co, fn, arg, &o), 0);
  return co;
}

/* Notes the scheduler it ran on, and checks it stays there. */
struct where {
  int sched;   /* index of the scheduler at the start */
  int moved;   /* it was seen on another later */
  long *count; /* incremented atomically */
};

static void *note(void *arg)
{
  struct where *w = arg;
  w->sched = gp__tls.sched->index;
  for (int i = 0; i < 20; i++) {
    gp_yield();
    if (gp__tls.sched->index != w->sched)
      w->moved = 1;
  }
  __atomic_fetch_add(w->count, 1, __ATOMIC_RELAXED);
  return NULL;
}

static void test_placement(void **state)
{
  enum { N = 64 };
  static struct where w[N];
  gp_coro_t *co[N];
  long count = 0;
  int used[GP__MAX_SCHEDS] = {0}, distinct = 0;

  (void)state;
  /* The first placement starts the workers; they register as they come
   * up (placement uses those there are). */
  w[0].count = &count;
  co[0] = place(note, &w[0]);
  assert_int_equal(gp_join(co[0], NULL), 0);
  for (int waited = 0;
       __atomic_load_n(&gp__nsched, __ATOMIC_ACQUIRE) < CORES && waited < 5000;
       waited++)
    assert_int_equal(gp_sleep(1), 0);
  assert_int_equal(__atomic_load_n(&gp__nsched, __ATOMIC_ACQUIRE), CORES);
  count = 0;
  for (int i = 0; i < N; i++) {
    w[i].count = &count;
    co[i] = place(note, &w[i]);
  }
  assert_int_equal(gp_joinall(co, N, NULL, 10000), 0);
  assert_int_equal(count, N);
  for (int i = 0; i < N; i++) {
    assert_int_equal(w[i].moved, 0);
    if (!used[w[i].sched]++)
      distinct++;
  }
  assert_true(distinct >= 2); /* the least loaded took them, not main's */
}

/* An event set on one scheduler wakes waiters on the others. */
struct evarg {
  gp_event_t *ev;
  int r;
  int sched;
};

static void *ev_wait(void *arg)
{
  struct evarg *a = arg;
  a->sched = gp__tls.sched->index;
  a->r = gp_event_wait(a->ev, 10000);
  return NULL;
}

static void test_event_across(void **state)
{
  enum { N = 16 };
  struct evarg a[N];
  gp_coro_t *co[N];
  gp_event_t *ev;

  (void)state;
  assert_int_equal(gp_event_new(&ev), 0);
  for (int i = 0; i < N; i++) {
    a[i].ev = ev;
    a[i].r = 1;
    co[i] = place(ev_wait, &a[i]);
  }
  assert_int_equal(gp_sleep(20), 0); /* all of them wait by now */
  gp_event_set(ev);
  assert_int_equal(gp_joinall(co, N, NULL, 10000), 0);
  for (int i = 0; i < N; i++)
    assert_int_equal(a[i].r, 0);
  gp_event_free(ev);
}

/* Producers and consumers of one queue on different schedulers. */
struct qarg {
  gp_queue_t *q;
  long n;   /* items to move */
  long sum; /* what a consumer got */
};

static void *q_put(void *arg)
{
  struct qarg *a = arg;
  for (long i = 1; i <= a->n; i++)
    assert_int_equal(gp_queue_put(a->q, (void *)i, GP_FOREVER), 0);
  return NULL;
}

static void *q_get(void *arg)
{
  struct qarg *a = arg;
  for (long i = 0; i < a->n; i++) {
    void *item;
    assert_int_equal(gp_queue_get(a->q, &item, GP_FOREVER), 0);
    a->sum += (long)item;
  }
  return NULL;
}

static void test_queue_across(void **state)
{
  enum { PAIRS = 3, ITEMS = 20000 };
  struct qarg a[2 * PAIRS];
  gp_coro_t *co[2 * PAIRS];
  gp_queue_t *q;
  long sum = 0;

  (void)state;
  assert_int_equal(gp_queue_new(&q, 4), 0);
  for (int i = 0; i < 2 * PAIRS; i++) {
    a[i].q = q;
    a[i].n = ITEMS;
    a[i].sum = 0;
    co[i] = place(i % 2 ? q_get : q_put, &a[i]);
  }
  assert_int_equal(gp_joinall(co, 2 * PAIRS, NULL, 60000), 0);
  for (int i = 1; i < 2 * PAIRS; i += 2)
    sum += a[i].sum;
  assert_int_equal(sum, (long)PAIRS * ITEMS * (ITEMS + 1) / 2);
  gp_queue_free(q);
}

/* Two coroutines hand a turn back and forth through an address wait. */
static uint32_t turn;

static void *ping(void *arg)
{
  uint32_t me = (uint32_t)(uintptr_t)arg;
  for (int i = 0; i < 5000; i++) {
    uint32_t t;
    while ((t = __atomic_load_n(&turn, __ATOMIC_ACQUIRE)) != me)
      gp__addr_wait(&turn, t, GP__NEVER, "turn", GP__WAIT_UNCANCELABLE);
    __atomic_store_n(&turn, !me, __ATOMIC_RELEASE);
    gp__addr_wake(&turn, 1);
  }
  return NULL;
}

static void test_addr_across(void **state)
{
  gp_coro_t *co[2];
  (void)state;
  turn = 0;
  co[0] = place(ping, (void *)0);
  co[1] = place(ping, (void *)1);
  assert_int_equal(gp_joinall(co, 2, NULL, 60000), 0);
}

/* A coroutine parked on another scheduler: a kill ends its wait; its own
 * deadline ends another's, there. */
static void *sleeper(void *arg)
{
  return (void *)(intptr_t)gp_sleep((uint64_t)(uintptr_t)arg);
}

static void test_cancel_and_deadline_across(void **state)
{
  gp_coro_t *a, *b;
  void *ra, *rb;

  (void)state;
  a = place(sleeper, (void *)(uintptr_t)60000);
  b = place(sleeper, (void *)(uintptr_t)30);
  assert_int_equal(gp_sleep(10), 0);
  assert_int_equal(gp_kill(a), 0);
  assert_int_equal(gp_join(a, &ra), 0);
  assert_int_equal(gp_join(b, &rb), 0);
  assert_int_equal((intptr_t)ra, -ECANCELED);
  assert_int_equal((intptr_t)rb, 0);
}

/* Joins across schedulers: each joins one placed elsewhere. */
static void *joined(void *arg)
{
  gp_yield();
  return arg;
}

static void *joiner(void *arg)
{
  void *r = NULL;
  gp_coro_t *co = place(joined, arg);
  assert_int_equal(gp_join(co, &r), 0);
  return r;
}

static void test_join_across(void **state)
{
  enum { N = 200 };
  gp_coro_t *co[N];
  void *r[N];

  (void)state;
  for (long i = 0; i < N; i++)
    co[i] = place(joiner, (void *)i);
  assert_int_equal(gp_joinall(co, N, r, 30000), 0);
  for (long i = 0; i < N; i++)
    assert_ptr_equal(r[i], (void *)i);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_placement),
      cmocka_unit_test(test_event_across),
      cmocka_unit_test(test_queue_across),
      cmocka_unit_test(test_addr_across),
      cmocka_unit_test(test_cancel_and_deadline_across),
      cmocka_unit_test(test_join_across),
  };
  setenv("GPATCH_CORES", "4", 1); /* read once, at the first call */
  return cmocka_run_group_tests(tests, NULL, NULL);
}
