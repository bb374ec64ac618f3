/* test_coro.c: the coroutine lifecycle through the public API — spawning,
 * ids and names, joining and its errors, detaching, killing, and errno
 * kept per coroutine. The internal structs (coro.h, scheduler.h) are looked at
 * only to see whether a coroutine has really been freed. */
#include "unit.h"

#include "coro.h"
#include "scheduler.h"

/* Nonzero when co is still in the registry of valid handles, i.e. not
 * reaped. */
static int registered(const gp_coro_t *co)
{
  return gp__coro_valid(co);
}

/* Nonzero when co's struct is in the scheduler's pool of free structs. */
static int pooled(const gp_coro_t *co)
{
  for (struct gp__coro *f = gp__tls.sched->free; f; f = f->free_next)
    if (f == co)
      return 1;
  return 0;
}

/* Increments *(int *)arg and returns arg. */
static void *count_up(void *arg)
{
  ++*(int *)arg;
  return arg;
}

/* Returns arg unchanged. */
static void *identity(void *arg)
{
  return arg;
}

/* Sleeps *(int *)arg milliseconds, then returns arg. */
static void *sleeper(void *arg)
{
  gp_sleep((uint64_t) * (int *)arg);
  return arg;
}

/* Records the caller's id into *(uint64_t *)arg. */
static void *record_id(void *arg)
{
  *(uint64_t *)arg = gp_id(NULL);
  return NULL;
}

/* Must run before anything else in this process touches the runtime: the
 * ids are per scheduler and count from its creation. */
static void test_ids(void **state)
{
  gp_coro_t *co[3];
  uint64_t seen[3] = {99, 99, 99};

  assert_null(gp__tls.sched); /* this test must be the first one */
  assert_int_equal(gp_id(NULL), 0);
  assert_int_equal(gp_id(gp_current()), 0);
  assert_string_equal(gp_name(NULL), "main");
  for (int i = 0; i < 3; i++)
    assert_int_equal(gp_spawn(&co[i], record_id, &seen[i]), 0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(gp_id(co[i]), (uint64_t)i + 1);
  for (int i = 0; i < 3; i++)
    assert_int_equal(gp_join(co[i], NULL), 0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(seen[i], (uint64_t)i + 1);
  assert_int_equal(gp_id(NULL), 0);
}

static void test_spawn_runs_on_wait(void **state)
{
  gp_coro_t *co;
  int ran = 0;
  void *ret = NULL;

  assert_int_equal(gp_spawn(&co, count_up, &ran), 0);
  assert_int_equal(ran, 0); /* not before the spawner waits */
  assert_int_equal(gp_join(co, &ret), 0);
  assert_int_equal(ran, 1);
  assert_ptr_equal(ret, &ran);

  /* A yield is enough to let it run, too. */
  ran = 0;
  assert_int_equal(gp_spawn(&co, count_up, &ran), 0);
  assert_int_equal(ran, 0);
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(ran, 1);
  assert_int_equal(gp_join(co, NULL), 0);
  assert_int_equal(ran, 1);
}

static void test_spawn_errors(void **state)
{
  gp_coro_t *co = NULL;
  assert_int_equal(gp_spawn(&co, NULL, NULL), -EINVAL);
  assert_null(co);
  assert_int_equal(gp_join(NULL, NULL), -EINVAL);
  assert_int_equal(gp_detach(NULL), -EINVAL);
  assert_int_equal(gp_kill(NULL), -EINVAL);
}

static void test_return_value(void **state)
{
  gp_coro_t *co[4];
  void *ret;

  for (uintptr_t i = 0; i < 4; i++)
    assert_int_equal(gp_spawn(&co[i], identity, (void *)(i * 1000 + 7)), 0);
  /* Joined out of order: each value belongs to its own coroutine. */
  for (int i = 3; i >= 0; i--) {
    assert_int_equal(gp_join(co[i], &ret), 0);
    assert_ptr_equal(ret, (void *)((uintptr_t)i * 1000 + 7));
  }
}

/* Uses about 700 KiB of its stack, more than the 256 KiB default has. */
static void *deep(void *arg)
{
  volatile char big[700 * 1024];
  memset((char *)big, 0x5a, sizeof(big));
  return (void *)(uintptr_t)(big[0] + big[sizeof(big) - 1]);
}

static void *name_of_self(void *arg)
{
  return (void *)gp_name(NULL);
}

static void test_spawn_ex(void **state)
{
  gp_spawn_opts_t o;
  gp_coro_t *co;
  void *ret;

  memset(&o, 0, sizeof(o));
  o.name = "worker";
  o.stack_size = 1024 * 1024;
  assert_int_equal(gp_spawn_ex(&co, &o, deep, NULL), 0);
  assert_string_equal(gp_name(co), "worker");
  assert_non_null(co->stack);
  assert_true(co->stack->size >= 1024 * 1024);
  assert_int_equal(gp_join(co, &ret), 0);
  assert_ptr_equal(ret, (void *)(uintptr_t)(0x5a + 0x5a));

  /* The name is copied and cut at 15 characters. */
  char buf[32];
  strcpy(buf, "a-very-long-coroutine-name");
  o.name = buf;
  o.stack_size = 0;
  assert_int_equal(gp_spawn_ex(&co, &o, name_of_self, NULL), 0);
  memset(buf, 'x', sizeof(buf) - 1);
  assert_string_equal(gp_name(co), "a-very-long-cor");
  assert_int_equal(gp_join(co, &ret), 0);
  assert_string_equal((const char *)ret, "a-very-long-cor");

  /* Options may be NULL; no name is "". */
  assert_int_equal(gp_spawn_ex(&co, NULL, identity, NULL), 0);
  assert_string_equal(gp_name(co), "");
  assert_int_equal(gp_join(co, NULL), 0);
}

static void *current_and_name(void *arg)
{
  gp_coro_t **out = arg;
  *out = gp_current();
  gp_set_name(NULL, "renamed");
  return (void *)gp_name(NULL);
}

static void test_current_and_names(void **state)
{
  gp_coro_t *co, *seen = NULL, *me = gp_current();
  void *ret;

  assert_non_null(me);
  assert_int_equal(gp_spawn(&co, current_and_name, &seen), 0);
  assert_int_equal(gp_set_name(co, "before"), 0);
  assert_string_equal(gp_name(co), "before");
  assert_int_equal(gp_yield(), 0);
  assert_ptr_equal(seen, co);
  assert_ptr_not_equal(seen, me);
  assert_string_equal(gp_name(co), "renamed");
  assert_ptr_equal(gp_current(), me);
  assert_int_equal(gp_join(co, &ret), 0);
  assert_string_equal((const char *)ret, "renamed");

  assert_int_equal(gp_set_name(NULL, NULL), -EINVAL);
  assert_int_equal(gp_set_name(NULL, "0123456789abcdefghij"), 0);
  assert_string_equal(gp_name(NULL), "0123456789abcde");
  assert_int_equal(gp_set_name(NULL, "main"), 0);
  assert_string_equal(gp_name(NULL), "main");
}

static void test_detach(void **state)
{
  gp_spawn_opts_t o;
  gp_coro_t *co;
  int ran = 0, ms = 20;

  /* Detached at spawn: not joinable, freed as soon as it finishes. */
  memset(&o, 0, sizeof(o));
  o.detached = 1;
  assert_int_equal(gp_spawn_ex(&co, &o, sleeper, &ms), 0);
  assert_int_equal(gp_join(co, NULL), -EINVAL);
  assert_int_equal(gp_join_timeout(co, NULL, 0), -EINVAL);
  assert_int_equal(gp_detach(co), -EINVAL);
  assert_true(registered(co));
  /* It finishes after its 20 ms sleep: wait for that, not for a fixed time
   * (valgrind makes everything slower). */
  for (int waited = 0; registered(co) && waited < 5000; waited += 10)
    assert_int_equal(gp_sleep(10), 0);
  assert_false(registered(co));
  assert_true(pooled(co));

  /* Detached with gp_detach while it is still to run. */
  assert_int_equal(gp_spawn(&co, count_up, &ran), 0);
  assert_int_equal(gp_detach(co), 0);
  assert_int_equal(gp_join(co, NULL), -EINVAL);
  assert_true(registered(co));
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(ran, 1);
  assert_false(registered(co));
  assert_true(pooled(co));

  /* Detached after it has finished: freed at once. */
  assert_int_equal(gp_spawn(&co, count_up, &ran), 0);
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(ran, 2);
  assert_true(registered(co));
  assert_int_equal(gp_detach(co), 0);
  assert_false(registered(co));
  assert_true(pooled(co));

  /* Spawned with a NULL handle: detached, and it still runs. */
  assert_int_equal(gp_spawn(NULL, count_up, &ran), 0);
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(ran, 3);
}

/* Joins the coroutine at arg; returns the result as a pointer-sized int. */
static void *joiner(void *arg)
{
  void *ret = NULL;
  int r = gp_join(arg, &ret);
  return (void *)(intptr_t)(r == 0 ? (intptr_t)ret : r);
}

static void *join_self(void *arg)
{
  return (void *)(intptr_t)gp_join(gp_current(), NULL);
}

static void test_join_errors(void **state)
{
  gp_coro_t *t, *j, *self;
  int ms = 30;
  void *ret;

  /* A coroutine cannot join itself: main, nor a spawned one. */
  assert_int_equal(gp_join(gp_current(), NULL), -EDEADLK);
  assert_int_equal(gp_spawn(&self, join_self, NULL), 0);
  assert_int_equal(gp_join(self, &ret), 0);
  assert_int_equal((intptr_t)ret, -EDEADLK);
  /* The same when nobody else is joining it at the time. */
  assert_int_equal(gp_spawn(&self, join_self, NULL), 0);
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(self->state, GP__DEAD);
  assert_int_equal(gp_join(self, &ret), 0);
  assert_int_equal((intptr_t)ret, -EDEADLK);

  /* A second join while the first waits is refused; the first succeeds. */
  assert_int_equal(gp_spawn(&t, sleeper, &ms), 0);
  assert_int_equal(gp_spawn(&j, joiner, t), 0);
  assert_int_equal(gp_yield(), 0); /* t sleeps, j waits for it */
  assert_int_equal(gp_join(t, NULL), -EINVAL);
  assert_int_equal(gp_join_timeout(t, NULL, 10), -EINVAL);
  assert_true(registered(t));
  assert_int_equal(gp_join(j, &ret), 0);
  assert_ptr_equal(ret, &ms); /* what t returned, through j */
  assert_false(registered(t));
}

static void test_join_timeout(void **state)
{
  gp_coro_t *co;
  int ms = 60;
  void *ret = NULL;
  uint64_t t0 = gp__now();

  assert_int_equal(gp_spawn(&co, sleeper, &ms), 0);
  assert_int_equal(gp_join_timeout(co, &ret, 0), -ETIMEDOUT);
  assert_int_equal(gp_join_timeout(co, &ret, 15), -ETIMEDOUT);
  assert_true(gp__now() - t0 >= 15 * 1000000ull);
  assert_null(ret);
  assert_true(registered(co));
  /* Still joinable, by anyone. */
  assert_int_equal(gp_join_timeout(co, &ret, 5000), 0);
  assert_ptr_equal(ret, &ms);
  assert_true(gp__now() - t0 >= 60 * 1000000ull);
  assert_false(registered(co));
}

static void test_joinall(void **state)
{
  gp_coro_t *co[4];
  int ms[4] = {40, 10, 30, 20};
  void *rets[4] = {0};

  for (int i = 0; i < 4; i++)
    assert_int_equal(gp_spawn(&co[i], sleeper, &ms[i]), 0);
  assert_int_equal(gp_joinall(co, 4, rets, 5000), 0);
  for (int i = 0; i < 4; i++) {
    assert_ptr_equal(rets[i], &ms[i]);
    assert_false(registered(co[i]));
  }

  /* On a timeout none is reaped, even those that have finished. */
  ms[0] = 1000; /* alive past the wait below, however slow */
  ms[1] = 1;
  for (int i = 0; i < 4; i++) {
    rets[i] = NULL;
    assert_int_equal(gp_spawn(&co[i], sleeper, &ms[i]), 0);
  }
  /* co[1] finishes first (under valgrind, after some sleeps) */
  for (int waited = 0; co[1]->state != GP__DEAD && waited < 40; waited++)
    assert_int_equal(gp_sleep(10), 0);
  assert_int_equal(co[1]->state, GP__DEAD);
  assert_int_equal(gp_joinall(co, 4, rets, 20), -ETIMEDOUT);
  for (int i = 0; i < 4; i++) {
    assert_null(rets[i]);
    assert_true(registered(co[i]));
  }
  assert_int_equal(co[1]->state, GP__DEAD);
  /* They stay joinable, one by one or all together. */
  assert_int_equal(gp_join(co[1], &rets[1]), 0);
  assert_ptr_equal(rets[1], &ms[1]);
  assert_int_equal(gp_joinall(co, 1, NULL, GP_FOREVER), 0);
  assert_false(registered(co[0]));
  assert_int_equal(gp_joinall(co + 2, 2, rets + 2, GP_FOREVER), 0);
  assert_ptr_equal(rets[2], &ms[2]);
  assert_ptr_equal(rets[3], &ms[3]);

  /* Bad arguments. */
  assert_int_equal(gp_joinall(NULL, 1, NULL, 0), -EINVAL);
  assert_int_equal(gp_joinall(NULL, 0, NULL, 0), 0);
}

static void test_kill_not_started(void **state)
{
  gp_coro_t *co;
  int ran = 0;
  void *ret = NULL;

  assert_int_equal(gp_spawn(&co, count_up, &ran), 0);
  assert_int_equal(gp_kill(co), 0);
  assert_int_equal(gp_join(co, &ret), 0);
  assert_ptr_equal(ret, GP_CANCELED);
  assert_int_equal(ran, 0);

  /* A killed coroutine that never ran still lets the others run. */
  gp_coro_t *a, *b;
  assert_int_equal(gp_spawn(&a, count_up, &ran), 0);
  assert_int_equal(gp_spawn(&b, count_up, &ran), 0);
  assert_int_equal(gp_kill(a), 0);
  assert_int_equal(gp_join(a, &ret), 0);
  assert_ptr_equal(ret, GP_CANCELED);
  assert_int_equal(gp_join(b, &ret), 0);
  assert_ptr_equal(ret, &ran);
  assert_int_equal(ran, 1);
}

/* What the kill tests' coroutines saw. */
struct killee {
  int step;       /* how far it got */
  int r1, r2;     /* the results of its waits */
  gp_event_t *ev; /* what it waits on, when not sleeping */
};

static void *sleep_long(void *arg)
{
  struct killee *k = arg;
  k->step = 1;
  k->r1 = gp_sleep(10000);
  k->step = 2;
  k->r2 = gp_sleep(1); /* the kill is spent: this wait is normal */
  k->step = 3;
  return arg;
}

static void *wait_event(void *arg)
{
  struct killee *k = arg;
  k->step = 1;
  k->r1 = gp_event_wait(k->ev, GP_FOREVER);
  k->step = 2;
  return arg;
}

static void test_kill_parked(void **state)
{
  struct killee k = {0};
  gp_coro_t *co;
  void *ret;
  uint64_t t0 = gp__now();

  assert_int_equal(gp_spawn(&co, sleep_long, &k), 0);
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(k.step, 1);
  assert_int_equal(gp_kill(co), 0);
  assert_int_equal(gp_join(co, &ret), 0);
  assert_ptr_equal(ret, &k);
  assert_int_equal(k.r1, -ECANCELED);
  assert_int_equal(k.r2, 0);
  assert_int_equal(k.step, 3);
  assert_true(gp__now() - t0 < 5000 * 1000000ull); /* not the full sleep */

  memset(&k, 0, sizeof(k));
  assert_int_equal(gp_event_new(&k.ev), 0);
  assert_int_equal(gp_spawn(&co, wait_event, &k), 0);
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(k.step, 1);
  assert_int_equal(gp_kill(co), 0);
  assert_int_equal(gp_join(co, NULL), 0);
  assert_int_equal(k.r1, -ECANCELED);
  assert_int_equal(k.step, 2);
  assert_false(gp_event_is_set(k.ev));
  gp_event_free(k.ev); /* nobody waits on it any more */
}

static void *yield_then_sleep(void *arg)
{
  struct killee *k = arg;
  k->step = 1;
  k->r1 = gp_yield();
  k->step = 2;
  k->r2 = gp_sleep(10000);
  k->step = 3;
  return arg;
}

static void *kill_self(void *arg)
{
  struct killee *k = arg;
  gp_kill(gp_current());
  k->step = 1; /* a kill does not stop the running coroutine at once */
  k->r1 = gp_sleep(10000);
  k->step = 2;
  k->r2 = gp_sleep(1);
  return arg;
}

static void test_kill_ready_or_running(void **state)
{
  struct killee k = {0};
  gp_coro_t *co;

  /* Ready (it yielded and waits for its turn): the yield completes, the
   * next wait fails. */
  assert_int_equal(gp_spawn(&co, yield_then_sleep, &k), 0);
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(k.step, 1);
  assert_int_equal(co->state, GP__READY);
  assert_int_equal(gp_kill(co), 0);
  assert_int_equal(gp_join_timeout(co, NULL, 5000), 0);
  assert_int_equal(k.r1, 0);
  assert_int_equal(k.r2, -ECANCELED);
  assert_int_equal(k.step, 3);

  /* Running: it kills itself, and its next wait fails. */
  memset(&k, 0, sizeof(k));
  assert_int_equal(gp_spawn(&co, kill_self, &k), 0);
  assert_int_equal(gp_join_timeout(co, NULL, 5000), 0);
  assert_int_equal(k.step, 2);
  assert_int_equal(k.r1, -ECANCELED);
  assert_int_equal(k.r2, 0);

  /* A finished, unjoined coroutine: the kill changes nothing. */
  void *ret;
  assert_int_equal(gp_spawn(&co, identity, &k), 0);
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(gp_kill(co), 0);
  assert_int_equal(gp_join(co, &ret), 0);
  assert_ptr_equal(ret, &k);
}

/* Sets errno to the value at arg, yields, and reports what errno then is. */
static void *errno_keeper(void *arg)
{
  int want = *(int *)arg;
  errno = want;
  gp_yield();
  gp_sleep(1);
  gp_yield();
  return (void *)(intptr_t)errno;
}

static void test_errno_per_coroutine(void **state)
{
  gp_coro_t *a, *b;
  int ea = EPIPE, eb = ENOENT;
  void *ra, *rb;

  assert_int_equal(gp_spawn(&a, errno_keeper, &ea), 0);
  assert_int_equal(gp_spawn(&b, errno_keeper, &eb), 0);
  errno = EMFILE;
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(errno, EMFILE);
  assert_int_equal(gp_join(a, &ra), 0);
  assert_int_equal(errno, EMFILE);
  assert_int_equal(gp_join(b, &rb), 0);
  assert_int_equal(errno, EMFILE);
  assert_int_equal((intptr_t)ra, EPIPE);
  assert_int_equal((intptr_t)rb, ENOENT);
}

/* A reaped coroutine's struct waits in the pool, entered in the registry
 * but not a valid handle, and the next spawn takes it: valid again, for
 * the new coroutine (as a pthread_t is reused). */
static void test_handle_reuse(void **state)
{
  gp_coro_t *a, *b;
  int ran = 0;
  (void)state;

  assert_int_equal(gp_spawn(&a, count_up, &ran), 0);
  assert_int_equal(gp_join(a, NULL), 0);
  assert_false(registered(a));
  assert_true(pooled(a));
  assert_int_equal(gp_spawn(&b, count_up, &ran), 0);
  assert_ptr_equal(b, a); /* the pool gives its last struct first */
  assert_false(pooled(b));
  assert_true(registered(b));
  assert_int_equal(gp_join(b, NULL), 0);
  assert_int_equal(ran, 2);
  assert_false(registered(b));
}

/* Past a peak of threads the pool keeps 1024 structs and frees the rest,
 * out of the registry (whose lookups walk what it holds). */
static void test_pool_bound(void **state)
{
  enum { N = 1100 };
  static gp_coro_t *co[N];
  int ran = 0;
  size_t n = 0;
  (void)state;

  for (int i = 0; i < N; i++)
    assert_int_equal(gp_spawn(&co[i], count_up, &ran), 0);
  assert_int_equal(gp_joinall(co, N, NULL, GP_FOREVER), 0);
  assert_int_equal(ran, N);
  for (struct gp__coro *f = gp__tls.sched->free; f; f = f->free_next)
    n++;
  assert_int_equal(n, gp__tls.sched->nfree);
  assert_true(n <= 1024);
  for (int i = 0; i < N; i++)
    assert_false(registered(co[i]));
}

/* In a fork's child only the forking coroutine's handle stays valid, and
 * spawns there reuse the pool. (Not under ThreadSanitizer, which does not
 * follow fibers into a fork's child.) */
static void test_handle_fork(void **state)
{
  gp_coro_t *pooled_one, *sleeping, *child;
  int ran = 0, ms = 60000, status;
  pid_t pid;
  (void)state;

  assert_int_equal(gp_spawn(&sleeping, sleeper, &ms), 0);
  assert_int_equal(gp_yield(), 0); /* now parked in its sleep */
  assert_int_equal(gp_spawn(&pooled_one, count_up, &ran), 0);
  assert_int_equal(gp_join(pooled_one, NULL), 0);
  assert_true(pooled(pooled_one));
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    /* exit statuses: which check failed */
    if (registered(sleeping))
      _exit(10); /* gone with its thread */
    if (gp_spawn(&child, count_up, &ran) != 0)
      _exit(11);
    if (child != pooled_one || !registered(child))
      _exit(12); /* from the pool, and valid */
    if (gp_join(child, NULL) != 0 || ran != 2 || registered(child))
      _exit(13);
    _exit(0);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_true(registered(sleeping));
  assert_int_equal(gp_kill(sleeping), 0);
  assert_int_equal(gp_join(sleeping, NULL), 0);
  assert_false(registered(sleeping));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ids), /* first: it needs a fresh scheduler */
      cmocka_unit_test(test_spawn_runs_on_wait),
      cmocka_unit_test(test_spawn_errors),
      cmocka_unit_test(test_return_value),
      cmocka_unit_test(test_spawn_ex),
      cmocka_unit_test(test_current_and_names),
      cmocka_unit_test(test_detach),
      cmocka_unit_test(test_handle_reuse),
      cmocka_unit_test(test_pool_bound),
#ifndef GP__TSAN
      cmocka_unit_test(test_handle_fork),
#endif
      cmocka_unit_test(test_join_errors),
      cmocka_unit_test(test_join_timeout),
      cmocka_unit_test(test_joinall),
      cmocka_unit_test(test_kill_not_started),
      cmocka_unit_test(test_kill_parked),
      cmocka_unit_test(test_kill_ready_or_running),
      cmocka_unit_test(test_errno_per_coroutine),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
