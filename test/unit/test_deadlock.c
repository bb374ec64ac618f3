/* test_deadlock.c: when nothing can ever run again the runtime says so —
 * a report of every coroutine, what it waits on and where — then aborts,
 * or hangs with GPATCH_ON_DEADLOCK=hang. A pending timer is not a deadlock,
 * nor is a wait a thread the runtime does not own may end.
 *
 * Every scenario runs in a child process: this process never starts the
 * runtime, so each child begins with a fresh one (and reads the environment
 * it was given). */
#include "unit.h"

#include <poll.h>
#include <pthread.h>
#include <time.h>

/* Keeps the compiler from turning the waits below into tail calls, which
 * would take their callers' frames off the backtrace. */
volatile int deadlock_sink;

/* The waiting functions are extern and noinline so that libunwind finds
 * their names in the symbol table and the report shows them. */
__attribute__((noinline)) void *deadlock_event_waiter(void *arg)
{
  deadlock_sink = gp_event_wait(arg, GP_FOREVER);
  return NULL;
}

__attribute__((noinline)) void *deadlock_joiner(void *arg)
{
  deadlock_sink = gp_join(arg, NULL);
  return NULL;
}

__attribute__((noinline)) int deadlock_main_wait(gp_event_t *ev)
{
  int r = gp_event_wait(ev, GP_FOREVER);
  deadlock_sink = r;
  return r;
}

/* Main waits on an event nobody sets; coroutine 1 ("ev-waiter") on another;
 * coroutine 2 ("joiner") for coroutine 1 to finish. Returns (as the exit
 * status) only if the runtime failed to notice. */
static int three_blocked(void *arg)
{
  gp_event_t *mine, *theirs;
  gp_spawn_opts_t o;
  gp_coro_t *waiter, *joiner;

  if (arg)
    setenv("GPATCH_ON_DEADLOCK", (const char *)arg, 1);
  if (gp_event_new(&mine) || gp_event_new(&theirs))
    return 10;
  memset(&o, 0, sizeof(o));
  o.name = "ev-waiter";
  if (gp_spawn_ex(&waiter, &o, deadlock_event_waiter, theirs) != 0)
    return 11;
  o.name = "joiner";
  if (gp_spawn_ex(&joiner, &o, deadlock_joiner, waiter) != 0)
    return 12;
  deadlock_main_wait(mine);
  return 13;
}

/* Checks the report in err. */
static void check_report(const char *err)
{
  assert_non_null(strstr(err, "gpatch: deadlock"));
  assert_non_null(strstr(err, "3 coroutines are blocked"));
  assert_non_null(strstr(err, "coroutine 0 'main': waiting on event 0x"));
  assert_non_null(strstr(err, "coroutine 1 'ev-waiter': waiting on event 0x"));
  assert_non_null(
      strstr(err, "coroutine 2 'joiner': waiting on join of coroutine 1"));
  /* Each coroutine's backtrace, in the order of the report. */
  const char *m = strstr(err, "'main'"), *w = strstr(err, "'ev-waiter'"),
             *j = strstr(err, "'joiner'");
  const char *bm = strstr(err, "deadlock_main_wait+0x");
  const char *bw = strstr(err, "deadlock_event_waiter+0x");
  const char *bj = strstr(err, "deadlock_joiner+0x");
  assert_non_null(bm);
  assert_non_null(bw);
  assert_non_null(bj);
  assert_true(m < bm && bm < w);
  assert_true(w < bw && bw < j);
  assert_true(j < bj);
  /* Each stack goes through the runtime's park, above the test's frame. */
  const char *pm = strstr(m, "gp__park+0x"), *pw = strstr(w, "gp__park+0x"),
             *pj = strstr(j, "gp__park+0x");
  assert_true(pm && pm < bm);
  assert_true(pw && pw < bw);
  assert_true(pj && pj < bj);
}

static void test_deadlock_aborts(void **state)
{
  struct child_result res;

  assert_int_equal(run_child(three_blocked, NULL, &res), 0);
  if (!WIFSIGNALED(res.status))
    fail_msg("child exited with %d, stderr:\n%s", WEXITSTATUS(res.status),
             res.err);
  assert_int_equal(WTERMSIG(res.status), SIGABRT);
  check_report(res.err);
}

/* The explicit default behaves the same. */
static void test_deadlock_abort_explicit(void **state)
{
  struct child_result res;

  assert_int_equal(run_child(three_blocked, "abort", &res), 0);
  assert_true(WIFSIGNALED(res.status));
  assert_int_equal(WTERMSIG(res.status), SIGABRT);
  check_report(res.err);
}

static uint64_t mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_deadlock_hang(void **state)
{
  static char err[8192];
  size_t n = 0;
  int p[2], status;
  pid_t pid;
  uint64_t start;

  assert_int_equal(pipe(p), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    dup2(p[1], 2);
    close(p[1]);
    _exit(three_blocked("hang")); /* sets the variable before any call */
  }
  close(p[1]);

  /* Wait for the whole report (generously: valgrind is slow), ... */
  start = mono_ms();
  while (strstr(err, "deadlock_joiner+0x") == NULL &&
         mono_ms() - start < 30000) {
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    ssize_t r;
    if (poll(&pfd, 1, 100) <= 0)
      continue;
    r = read(p[0], err + n, sizeof(err) - 1 - n);
    if (r <= 0)
      break; /* the child died: checked below */
    n += (size_t)r;
    err[n] = '\0';
  }
  /* ... then see that the child stays alive rather than aborting. */
  usleep(300 * 1000);
  assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
  assert_int_equal(kill(pid, SIGKILL), 0);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  close(p[0]);
  assert_true(WIFSIGNALED(status));
  assert_int_equal(WTERMSIG(status), SIGKILL);
  check_report(err);
}

/* Main, alone, waits on an event nobody can set. */
static int main_alone(void *arg)
{
  gp_event_t *ev;
  if (gp_event_new(&ev))
    return 10;
  deadlock_main_wait(ev);
  return 11;
}

static void test_deadlock_main_alone(void **state)
{
  struct child_result res;

  assert_int_equal(run_child(main_alone, NULL, &res), 0);
  assert_true(WIFSIGNALED(res.status));
  assert_int_equal(WTERMSIG(res.status), SIGABRT);
  assert_non_null(strstr(res.err, "gpatch: deadlock: 1 coroutine is blocked"));
  assert_non_null(strstr(res.err, "coroutine 0 'main': waiting on event"));
  assert_non_null(strstr(res.err, "deadlock_main_wait+0x"));
}

static void *sleep_then_set(void *arg)
{
  gp_sleep(50);
  gp_event_set(arg);
  return (void *)42;
}

/* Pending timers: main joins a coroutine that sleeps, and waits on an
 * event that only a sleeping coroutine will set. Neither is a deadlock. */
static int timer_pending(void *arg)
{
  gp_coro_t *co;
  gp_event_t *ev;
  void *ret = NULL;

  if (gp_event_new(&ev))
    return 10;
  if (gp_spawn(&co, sleep_then_set, ev) != 0)
    return 11;
  if (gp_join(co, &ret) != 0 || ret != (void *)42)
    return 12;
  gp_event_clear(ev);
  if (gp_spawn(&co, sleep_then_set, ev) != 0)
    return 13;
  if (gp_event_wait(ev, GP_FOREVER) != 0)
    return 14;
  if (gp_join(co, NULL) != 0)
    return 15;
  /* Main sleeping with nothing else alive is no deadlock either. */
  if (gp_sleep(20) != 0)
    return 16;
  return 0;
}

static void test_timer_is_not_deadlock(void **state)
{
  struct child_result res;

  assert_int_equal(run_child(timer_pending, NULL, &res), 0);
  if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
    fail_msg("child status 0x%x, stderr:\n%s", res.status, res.err);
  assert_null(strstr(res.err, "deadlock"));
}

/* A thread the runtime does not own sets the event main waits on, 400 ms
 * later (past the runtime's grace): all coroutines are blocked meanwhile,
 * but the thread may end the wait, so it is no deadlock. Once the thread
 * is gone, main waits on an event nobody can set: that one is. */
static void *foreign_setter(void *arg)
{
  usleep(400 * 1000);
  gp_event_set(arg);
  return NULL;
}

static int foreign_thread(void *arg)
{
  gp_event_t *ev, *never;
  pthread_t t;

  (void)arg;
  if (gp_event_new(&ev) || gp_event_new(&never))
    return 10;
  if (pthread_create(&t, NULL, foreign_setter, ev) != 0)
    return 11;
  if (gp_event_wait(ev, GP_FOREVER) != 0)
    return 12;
  if (pthread_join(t, NULL) != 0)
    return 13;
  fprintf(stderr, "woken by the thread\n");
  deadlock_main_wait(never);
  return 14;
}

static void test_foreign_thread_is_not_deadlock(void **state)
{
  struct child_result res;

  assert_int_equal(run_child(foreign_thread, NULL, &res), 0);
  if (!WIFSIGNALED(res.status))
    fail_msg("child exited with %d, stderr:\n%s", WEXITSTATUS(res.status),
             res.err);
  assert_int_equal(WTERMSIG(res.status), SIGABRT);
  /* woken first, reported after */
  assert_non_null(strstr(res.err, "woken by the thread\ngpatch: deadlock: 1 "
                                  "coroutine is blocked"));
  assert_non_null(strstr(res.err, "deadlock_main_wait+0x"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_deadlock_aborts),
      cmocka_unit_test(test_deadlock_abort_explicit),
      cmocka_unit_test(test_deadlock_hang),
      cmocka_unit_test(test_deadlock_main_alone),
      cmocka_unit_test(test_timer_is_not_deadlock),
      cmocka_unit_test(test_foreign_thread_is_not_deadlock),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
