/* test_sched.c: the order coroutines run in, and time — the FIFO ready
 * queue, gp_sleep(0), timers, gp_timeout blocks — and waiting for fds. */
#include "unit.h"

#include "coro.h"
#include "fdtab.h"
#include "scheduler.h"
#include "wait.h"

#include <sys/epoll.h>
#include <time.h>

#define MS 1000000ull

static uint64_t switches(void)
{
  struct gp__stats st;
  gp__sched_stats(&st);
  return st.switches;
}

static size_t fd_waits(void)
{
  struct gp__stats st;
  gp__sched_stats(&st);
  return st.fd_waits;
}

/* A shared log of what coroutines did, as "a0 b0 …". */
static char logbuf[256];

static void log_step(char who, int step)
{
  size_t n = strlen(logbuf);
  snprintf(logbuf + n, sizeof(logbuf) - n, "%s%c%d", n ? " " : "", who, step);
}

/* A logger: the letter it logs as, and whether it yields between steps. */
struct logger {
  char who;
  int yield;
};

static void *logger_main(void *arg)
{
  struct logger *l = arg;
  for (int i = 0; i < 5; i++) {
    log_step(l->who, i);
    if (l->yield)
      gp_sleep(0);
  }
  return NULL;
}

static void run_loggers(int yield)
{
  struct logger l[3] = {{'a', yield}, {'b', yield}, {'c', yield}};
  gp_coro_t *co[3];

  logbuf[0] = '\0';
  for (int i = 0; i < 3; i++)
    assert_int_equal(gp_spawn(&co[i], logger_main, &l[i]), 0);
  assert_int_equal(gp_joinall(co, 3, NULL, GP_FOREVER), 0);
}

static void test_fifo_no_yield(void **state)
{
  run_loggers(0);
  assert_string_equal(logbuf, "a0 a1 a2 a3 a4 b0 b1 b2 b3 b4 c0 c1 c2 c3 c4");
}

static void test_fifo_interleave(void **state)
{
  run_loggers(1);
  assert_string_equal(logbuf, "a0 b0 c0 a1 b1 c1 a2 b2 c2 a3 b3 c3 a4 b4 c4");
}

/* Counts its turns until told to stop. */
struct spinner {
  int turns;
  int *stop;
};

static void *spinner_main(void *arg)
{
  struct spinner *sp = arg;
  while (!*sp->stop) {
    sp->turns++;
    gp_yield();
  }
  return NULL;
}

static void test_sleep0_runs_each_once(void **state)
{
  struct spinner sp[4];
  gp_coro_t *co[4];
  int stop = 0;

  for (int i = 0; i < 4; i++) {
    sp[i].turns = 0;
    sp[i].stop = &stop;
    assert_int_equal(gp_spawn(&co[i], spinner_main, &sp[i]), 0);
  }
  for (int round = 1; round <= 5; round++) {
    assert_int_equal(gp_sleep(0), 0);
    for (int i = 0; i < 4; i++)
      assert_int_equal(sp[i].turns, round);
  }
  /* gp_yield is the same thing. */
  assert_int_equal(gp_yield(), 0);
  for (int i = 0; i < 4; i++)
    assert_int_equal(sp[i].turns, 6);
  stop = 1;
  assert_int_equal(gp_joinall(co, 4, NULL, GP_FOREVER), 0);
  for (int i = 0; i < 4; i++)
    assert_int_equal(sp[i].turns, 6);

  /* With nothing else ready, gp_sleep(0) returns at once. */
  uint64_t t0 = mono_ns();
  assert_int_equal(gp_sleep(0), 0);
  assert_true(mono_ns() - t0 < 1000 * MS);
}

/* Sleeps its ms, then appends them to the order it finished in. */
struct timed {
  int ms;
  int *order;
  int *n;
};

static void *timed_main(void *arg)
{
  struct timed *t = arg;
  if (gp_sleep((uint64_t)t->ms) == 0)
    t->order[(*t->n)++] = t->ms;
  return NULL;
}

static void run_timers(const int ms[3], int order[3], uint64_t *elapsed)
{
  struct timed t[3];
  gp_coro_t *co[3];
  int n = 0;
  uint64_t t0 = mono_ns();

  for (int i = 0; i < 3; i++) {
    t[i] = (struct timed){ms[i], order, &n};
    assert_int_equal(gp_spawn(&co[i], timed_main, &t[i]), 0);
  }
  assert_int_equal(gp_joinall(co, 3, NULL, GP_FOREVER), 0);
  *elapsed = mono_ns() - t0;
  assert_int_equal(n, 3);
}

static void test_timers_order(void **state)
{
  /* 50 ms apart: the three start a little apart too (whole milliseconds
   * under valgrind, on a busy machine) */
  const int ms[3] = {150, 50, 100};
  int order[3] = {0};
  uint64_t elapsed;

  run_timers(ms, order, &elapsed);
  assert_int_equal(order[0], 50);
  assert_int_equal(order[1], 100);
  assert_int_equal(order[2], 150);
  assert_true(elapsed >= 150 * MS);
  assert_true(elapsed < 2000 * MS);
}

/* Sleeps long enough that running them one after another (900 ms) is told
 * apart from running them together (300 ms) with a wide margin. */
static void test_timers_concurrent(void **state)
{
  const int ms[3] = {300, 100, 200};
  int order[3] = {0};
  uint64_t elapsed;

  run_timers(ms, order, &elapsed);
  assert_int_equal(order[0], 100);
  assert_int_equal(order[1], 200);
  assert_int_equal(order[2], 300);
  assert_true(elapsed >= 300 * MS);
  assert_true(elapsed < 550 * MS);
}

/* Short sleeps, each checked against the clock on its own. */
static void *short_sleeps(void *arg)
{
  int *early = arg;
  for (int i = 0; i < 30; i++) {
    uint64_t ms = 1 + (uint64_t)(i % 3), t0 = mono_ns();
    if (gp_sleep(ms) != 0 || mono_ns() - t0 < ms * MS)
      ++*early;
  }
  return NULL;
}

static void test_sleep_never_early(void **state)
{
  gp_coro_t *co[3];
  int early = 0;

  /* Some in coroutines side by side, some in main. */
  for (int i = 0; i < 3; i++)
    assert_int_equal(gp_spawn(&co[i], short_sleeps, &early), 0);
  for (int i = 0; i < 60; i++) {
    uint64_t ms = 1 + (uint64_t)(i % 3), t0 = mono_ns();
    assert_int_equal(gp_sleep(ms), 0);
    assert_true(mono_ns() - t0 >= ms * MS);
  }
  assert_int_equal(gp_joinall(co, 3, NULL, GP_FOREVER), 0);
  assert_int_equal(early, 0);
}

/* Sleeps *(int *)arg milliseconds, then returns arg. */
static void *sleep_ms(void *arg)
{
  gp_sleep((uint64_t) * (int *)arg);
  return arg;
}

/* One sleep started late in a millisecond, while another coroutine keeps
 * the hub from polling until just after the next millisecond begins: libuv
 * counts its timers in whole milliseconds, and would call the timer due
 * then, most of a millisecond early. */
struct phase {
  uint64_t t0;      /* when the sleep began */
  uint64_t elapsed; /* how long it took */
  int r;            /* what it returned */
};

static void *phase_sleeper(void *arg)
{
  struct phase *p = arg;
  while (mono_ns() % MS < 700000)
    ; /* spin to late in the millisecond */
  p->t0 = mono_ns();
  p->r = gp_sleep(1);
  p->elapsed = mono_ns() - p->t0;
  return NULL;
}

static void *phase_spinner(void *arg)
{
  struct phase *p = arg;
  uint64_t until = (p->t0 / MS + 1) * MS + 100000;
  while (mono_ns() < until)
    ; /* keep the hub from polling until after the boundary */
  return NULL;
}

static void test_sleep_never_early_phase(void **state)
{
  for (int i = 0; i < 30; i++) {
    struct phase p = {0, 0, 99};
    gp_coro_t *co[2];
    assert_int_equal(gp_spawn(&co[0], phase_sleeper, &p), 0);
    assert_int_equal(gp_spawn(&co[1], phase_spinner, &p), 0);
    assert_int_equal(gp_joinall(co, 2, NULL, GP_FOREVER), 0);
    assert_int_equal(p.r, 0);
    if (p.elapsed < MS)
      fail_msg("a 1 ms sleep took %llu ns", (unsigned long long)p.elapsed);
  }
}

static void test_timeout_block(void **state)
{
  gp_event_t *ev;
  gp_timeout_t t;
  uint64_t t0;

  assert_int_equal(gp_event_new(&ev), 0);
  t0 = mono_ns();
  gp_timeout_begin(&t, 20);
  assert_int_equal(gp_event_wait(ev, GP_FOREVER), -ETIMEDOUT);
  /* Once expired, further waits in the block fail at once. */
  assert_int_equal(gp_sleep(1000), -ETIMEDOUT);
  assert_int_equal(gp_timeout_end(&t), 1);
  assert_true(mono_ns() - t0 >= 20 * MS);
  assert_true(mono_ns() - t0 < 1000 * MS);

  /* A join is cut by a block, too, and the coroutine stays joinable. */
  gp_coro_t *co;
  int ms = 60;
  void *ret = NULL;
  assert_int_equal(gp_spawn(&co, sleep_ms, &ms), 0);
  gp_timeout_begin(&t, 20);
  assert_int_equal(gp_join(co, &ret), -ETIMEDOUT);
  assert_int_equal(gp_timeout_end(&t), 1);
  assert_null(ret);
  assert_int_equal(gp_join(co, &ret), 0);
  assert_ptr_equal(ret, &ms);
  gp_event_free(ev);
}

static void test_timeout_nested(void **state)
{
  gp_event_t *ev;
  gp_timeout_t outer, inner;
  uint64_t t0;

  assert_int_equal(gp_event_new(&ev), 0);

  /* Outer 20 ms, inner 1000 ms: the earlier deadline wins. */
  t0 = mono_ns();
  gp_timeout_begin(&outer, 20);
  gp_timeout_begin(&inner, 1000);
  assert_int_equal(gp_event_wait(ev, GP_FOREVER), -ETIMEDOUT);
  assert_true(mono_ns() - t0 >= 20 * MS);
  assert_true(mono_ns() - t0 < 500 * MS);
  assert_int_equal(gp_timeout_end(&inner), 0);
  /* Back in the outer block, whose deadline has passed: waits fail. */
  assert_int_equal(gp_sleep(1000), -ETIMEDOUT);
  assert_true(mono_ns() - t0 < 500 * MS);
  assert_int_equal(gp_timeout_end(&outer), 1);

  /* An inner block that ends first gives the outer deadline back. */
  t0 = mono_ns();
  gp_timeout_begin(&outer, 40);
  gp_timeout_begin(&inner, 1000);
  assert_int_equal(gp_timeout_end(&inner), 0);
  assert_int_equal(gp_event_wait(ev, GP_FOREVER), -ETIMEDOUT);
  assert_true(mono_ns() - t0 >= 40 * MS);
  assert_true(mono_ns() - t0 < 500 * MS);
  assert_int_equal(gp_timeout_end(&outer), 1);

  /* Outer 1000 ms, inner 20 ms: the inner one expires, and after its end
   * the outer block lets waits run their own length again. */
  t0 = mono_ns();
  gp_timeout_begin(&outer, 1000);
  gp_timeout_begin(&inner, 20);
  assert_int_equal(gp_event_wait(ev, GP_FOREVER), -ETIMEDOUT);
  assert_true(mono_ns() - t0 >= 20 * MS);
  assert_int_equal(gp_timeout_end(&inner), 1);
  uint64_t t1 = mono_ns();
  assert_int_equal(gp_sleep(30), 0);
  assert_true(mono_ns() - t1 >= 30 * MS);
  assert_int_equal(gp_event_wait(ev, 10), -ETIMEDOUT);
  assert_int_equal(gp_timeout_end(&outer), 0);
  assert_true(mono_ns() - t0 < 900 * MS);
  assert_int_equal(gp_current()->block_deadline, GP__NEVER);

  /* GP_FOREVER sets no deadline. */
  gp_timeout_begin(&outer, GP_FOREVER);
  assert_int_equal(gp_event_wait(ev, 10), -ETIMEDOUT);
  assert_int_equal(gp_timeout_end(&outer), 0);
  gp_event_free(ev);
}

static void test_timeout_unexpired(void **state)
{
  gp_event_t *ev;
  gp_timeout_t t;
  uint64_t t0;

  assert_int_equal(gp_event_new(&ev), 0);
  gp_timeout_begin(&t, 30);
  assert_int_equal(gp_sleep(5), 0);
  assert_int_equal(gp_timeout_end(&t), 0);
  assert_int_equal(gp_current()->block_deadline, GP__NEVER);

  /* Waits after the block run their full length, past its old deadline. */
  t0 = mono_ns();
  assert_int_equal(gp_sleep(60), 0);
  assert_true(mono_ns() - t0 >= 60 * MS);
  t0 = mono_ns();
  assert_int_equal(gp_event_wait(ev, 50), -ETIMEDOUT);
  assert_true(mono_ns() - t0 >= 50 * MS);
  gp_event_free(ev);
}

/* A coroutine's block is its own: another's deadline does not cut it. */
static void *wait_in_block(void *arg)
{
  gp_timeout_t t;
  intptr_t r;
  gp_timeout_begin(&t, 20);
  r = gp_sleep(10000);
  return (void *)(intptr_t)(r == -ETIMEDOUT && gp_timeout_end(&t) == 1);
}

static void test_timeout_per_coroutine(void **state)
{
  gp_coro_t *co;
  void *ret;
  uint64_t t0 = mono_ns();

  assert_int_equal(gp_spawn(&co, wait_in_block, NULL), 0);
  assert_int_equal(gp_sleep(60), 0); /* main has no block: full length */
  assert_true(mono_ns() - t0 >= 60 * MS);
  assert_int_equal(gp_join(co, &ret), 0);
  assert_ptr_equal(ret, (void *)1);
}

/* Waits for fd readability; stores the result. */
struct fdwait {
  int fd;
  int r;
  int done;
};

static void *fd_reader(void *arg)
{
  struct fdwait *w = arg;
  w->r = gp_wait_fd(w->fd, GP_READABLE, GP_FOREVER);
  w->done = 1;
  return NULL;
}

static void *fd_writer(void *arg)
{
  int fd = *(int *)arg;
  gp_sleep(5);
  return (void *)(intptr_t)write(fd, "x", 1);
}

static void test_wait_fd_pipe(void **state)
{
  int p[2];
  struct fdwait w = {0};
  gp_coro_t *rd, *wr;
  void *ret;
  char c;

  assert_int_equal(pipe(p), 0);
  w.fd = p[0];
  assert_int_equal(gp_spawn(&rd, fd_reader, &w), 0);
  assert_int_equal(gp_spawn(&wr, fd_writer, &p[1]), 0);
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(w.done, 0); /* parked on the empty pipe */
  assert_int_equal(gp_join(rd, NULL), 0);
  assert_int_equal(w.r, GP_READABLE);
  assert_int_equal(gp_join(wr, &ret), 0);
  assert_int_equal((intptr_t)ret, 1);
  assert_int_equal(read(p[0], &c, 1), 1);

  /* Again on the same (now registered) fd: a new write wakes a new wait. */
  memset(&w, 0, sizeof(w));
  w.fd = p[0];
  assert_int_equal(gp_spawn(&rd, fd_reader, &w), 0);
  assert_int_equal(gp_spawn(&wr, fd_writer, &p[1]), 0);
  assert_int_equal(gp_joinall((gp_coro_t *[]){rd, wr}, 2, NULL, 5000), 0);
  assert_int_equal(w.r, GP_READABLE);

  /* A pipe's write end is writable; both asked, one seen. */
  assert_int_equal(gp_wait_fd(p[1], GP_WRITABLE, 0), GP_WRITABLE);
  assert_int_equal(gp_wait_fd(p[1], GP_READABLE | GP_WRITABLE, 0), GP_WRITABLE);
  assert_int_equal(gp_wait_fd(p[1], 0, 0), -EINVAL);
  assert_int_equal(gp_wait_fd(p[1], 4, 0), -EINVAL);
  gp__fd_forget(p[0]);
  gp__fd_forget(p[1]);
  close(p[0]);
  close(p[1]);
}

static void test_wait_fd_timeout(void **state)
{
  int p[2];
  uint64_t t0;

  assert_int_equal(pipe(p), 0);
  t0 = mono_ns();
  assert_int_equal(gp_wait_fd(p[0], GP_READABLE, 20), -ETIMEDOUT);
  assert_true(mono_ns() - t0 >= 20 * MS);
  assert_true(mono_ns() - t0 < 1000 * MS);
  assert_int_equal(gp_wait_fd(p[0], GP_READABLE, 0), -ETIMEDOUT);
  assert_int_equal(fd_waits(), 0);

  /* A timeout block cuts an fd wait, too. */
  gp_timeout_t t;
  gp_timeout_begin(&t, 20);
  assert_int_equal(gp_wait_fd(p[0], GP_READABLE, GP_FOREVER), -ETIMEDOUT);
  assert_int_equal(gp_timeout_end(&t), 1);
  assert_int_equal(fd_waits(), 0);
  gp__fd_forget(p[0]);
  close(p[0]);
  close(p[1]);
}

/* Kills itself, then waits for the fd at arg. */
static void *fd_wait_killed(void *arg)
{
  struct fdwait *w = arg;
  gp_kill(gp_current());
  w->r = gp_wait_fd(w->fd, GP_READABLE, GP_FOREVER);
  w->done = 1;
  return NULL;
}

static void test_wait_fd_killed(void **state)
{
  int p[2];
  struct fdwait w = {0};
  gp_coro_t *co;

  assert_int_equal(pipe(p), 0);

  /* Killed while parked on the fd. */
  w.fd = p[0];
  assert_int_equal(gp_spawn(&co, fd_reader, &w), 0);
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(fd_waits(), 1);
  assert_int_equal(gp_kill(co), 0);
  assert_int_equal(fd_waits(), 0);
  assert_int_equal(gp_join(co, NULL), 0);
  assert_int_equal(w.r, -ECANCELED);

  /* Killed before it waits: the wait fails without parking. */
  memset(&w, 0, sizeof(w));
  w.fd = p[0];
  assert_int_equal(gp_spawn(&co, fd_wait_killed, &w), 0);
  assert_int_equal(gp_join(co, NULL), 0);
  assert_int_equal(w.done, 1);
  assert_int_equal(w.r, -ECANCELED);
  assert_int_equal(fd_waits(), 0);

  /* The fd still works for the next waiter. */
  memset(&w, 0, sizeof(w));
  w.fd = p[0];
  assert_int_equal(gp_spawn(&co, fd_reader, &w), 0);
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(write(p[1], "x", 1), 1);
  assert_int_equal(gp_join(co, NULL), 0);
  assert_int_equal(w.r, GP_READABLE);
  gp__fd_forget(p[0]);
  close(p[0]);
  close(p[1]);
}

static void test_wait_fd_many_waiters(void **state)
{
  int p[2];
  struct fdwait w[4];
  gp_coro_t *co[4];

  assert_int_equal(pipe(p), 0);
  for (int i = 0; i < 4; i++) {
    w[i] = (struct fdwait){p[0], 0, 0};
    assert_int_equal(gp_spawn(&co[i], fd_reader, &w[i]), 0);
  }
  assert_int_equal(gp_yield(), 0);
  for (int i = 0; i < 4; i++)
    assert_int_equal(w[i].done, 0);
  assert_int_equal(fd_waits(), 4);
  assert_int_equal(write(p[1], "x", 1), 1);
  assert_int_equal(gp_joinall(co, 4, NULL, 5000), 0);
  for (int i = 0; i < 4; i++)
    assert_int_equal(w[i].r, GP_READABLE);
  assert_int_equal(fd_waits(), 0);
  gp__fd_forget(p[0]);
  close(p[0]);
  close(p[1]);
}

static void test_wait_fd_already_ready(void **state)
{
  int p[2];
  uint64_t sw;

  assert_int_equal(pipe(p), 0);
  assert_int_equal(write(p[1], "x", 1), 1);
  sw = switches();
  assert_int_equal(gp_wait_fd(p[0], GP_READABLE, GP_FOREVER), GP_READABLE);
  assert_int_equal(gp_wait_fd(p[0], GP_READABLE, 0), GP_READABLE);
  assert_int_equal(switches(), sw); /* no switch: it never parked */

  /* A closed write end: the read end reports readable (EOF). */
  char c;
  assert_int_equal(read(p[0], &c, 1), 1);
  close(p[1]);
  assert_int_equal(gp_wait_fd(p[0], GP_READABLE, GP_FOREVER), GP_READABLE);
  assert_int_equal(switches(), sw);
  close(p[0]);
}

static void test_fd_forget(void **state)
{
  int p[2], q[2];
  struct fdwait w = {0};
  gp_coro_t *rd, *wr;

  assert_int_equal(pipe(p), 0);
  w.fd = p[0];
  assert_int_equal(gp_spawn(&rd, fd_reader, &w), 0);
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(w.done, 0);
  gp__fd_forget(p[0]); /* what the shim's close does first */
  assert_int_equal(fd_waits(), 0);
  assert_int_equal(gp_join(rd, NULL), 0);
  assert_int_equal(w.r, -EBADF);
  close(p[0]);
  close(p[1]);

  /* The same numbers again, a new pipe: waits on it work. */
  assert_int_equal(pipe(q), 0);
  assert_int_equal(q[0], p[0]);
  memset(&w, 0, sizeof(w));
  w.fd = q[0];
  assert_int_equal(gp_spawn(&rd, fd_reader, &w), 0);
  assert_int_equal(gp_spawn(&wr, fd_writer, &q[1]), 0);
  assert_int_equal(gp_joinall((gp_coro_t *[]){rd, wr}, 2, NULL, 5000), 0);
  assert_int_equal(w.r, GP_READABLE);
  gp__fd_forget(q[0]);
  close(q[0]);
  close(q[1]);
}

static void test_wait_fd_regular_file(void **state)
{
  char path[] = "/tmp/gpatch-test-XXXXXX";
  int fd = mkstemp(path);
  uint64_t sw;

  assert_true(fd >= 0);
  unlink(path);
  sw = switches();
  assert_int_equal(gp_wait_fd(fd, GP_READABLE, GP_FOREVER), GP_READABLE);
  assert_int_equal(gp_wait_fd(fd, GP_WRITABLE, GP_FOREVER), GP_WRITABLE);
  assert_int_equal(gp_wait_fd(fd, GP_READABLE | GP_WRITABLE, GP_FOREVER),
                   GP_READABLE | GP_WRITABLE);
  /* The internal wait (which does not look first) does not park either:
   * epoll refuses regular files, and they are always ready. */
  assert_int_equal(gp__wait_fd(fd, EPOLLIN, GP__NEVER, 0), EPOLLIN);
  assert_int_equal(gp__wait_fd(fd, EPOLLOUT, GP__NEVER, 0), EPOLLOUT);
  assert_int_equal(switches(), sw);
  gp__fd_forget(fd);
  close(fd);
}

/* Time slices (gp__slice). */

static void busy_ms(int ms)
{
  uint64_t t0 = gp__now();
  while (gp__now() - t0 < (uint64_t)ms * 1000000u)
    ;
}

static int slice_other_ran;

static void *slice_other(void *arg)
{
  (void)arg;
  slice_other_ran = 1;
  return NULL;
}

/* Spins through gp__slice for 10 ms; returns how many times it did. */
static void *slice_spinner(void *arg)
{
  uintptr_t calls = 0;
  uint64_t t0 = gp__now();
  (void)arg;
  while (gp__now() - t0 < 10000000u && !slice_other_ran) {
    gp__slice();
    calls++;
  }
  return (void *)calls;
}

/* A coroutine that keeps calling gp__slice without waiting gives way once
 * its slice is over: the other one gets to run before it stops. */
static void test_slice_yields(void **state)
{
  gp_coro_t *spin, *other;
  void *r;
  (void)state;
  slice_other_ran = 0;
  assert_int_equal(gp_spawn(&spin, slice_spinner, NULL), 0);
  assert_int_equal(gp_spawn(&other, slice_other, NULL), 0);
  assert_int_equal(gp_join(spin, &r), 0);
  assert_true(slice_other_ran);
  assert_int_equal(gp_join(other, NULL), 0);
}

static volatile int slice_killed;

/* Spins past its slice, is killed meanwhile, spins again past its slice,
 * then sleeps: the kill must end that sleep, not be used up by a slice. */
static void *slice_victim(void *arg)
{
  (void)arg;
  gp__slice();
  busy_ms(3);
  gp__slice(); /* yields: main kills it */
  GP__ASSERT(slice_killed);
  gp__slice();
  busy_ms(3);
  gp__slice(); /* its slice is over again, with the kill pending */
  return (void *)(intptr_t)gp_sleep(200);
}

static void test_slice_keeps_kill(void **state)
{
  gp_coro_t *co;
  void *r;
  (void)state;
  slice_killed = 0;
  assert_int_equal(gp_spawn(&co, slice_victim, NULL), 0);
  gp_yield(); /* it runs until its slice yields */
  assert_int_equal(gp_kill(co), 0);
  slice_killed = 1;
  assert_int_equal(gp_join(co, &r), 0);
  assert_int_equal((int)(intptr_t)r, -ECANCELED);
}

static void test_wait_fd_bad(void **state)
{
  int fd = dup(0);

  assert_true(fd >= 0);
  close(fd); /* a number known to be closed */
  assert_int_equal(gp_wait_fd(fd, GP_READABLE, GP_FOREVER), -EBADF);
  assert_int_equal(gp_wait_fd(fd, GP_WRITABLE, 10), -EBADF);
  assert_int_equal(gp_wait_fd(-1, GP_READABLE, GP_FOREVER), -EBADF);
  assert_int_equal(gp__wait_fd(fd, EPOLLIN, GP__NEVER, 0), -EBADF);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fifo_no_yield),
      cmocka_unit_test(test_fifo_interleave),
      cmocka_unit_test(test_sleep0_runs_each_once),
      cmocka_unit_test(test_timers_order),
      cmocka_unit_test(test_timers_concurrent),
      cmocka_unit_test(test_sleep_never_early),
      cmocka_unit_test(test_sleep_never_early_phase),
      cmocka_unit_test(test_timeout_block),
      cmocka_unit_test(test_timeout_nested),
      cmocka_unit_test(test_timeout_unexpired),
      cmocka_unit_test(test_timeout_per_coroutine),
      cmocka_unit_test(test_wait_fd_pipe),
      cmocka_unit_test(test_wait_fd_timeout),
      cmocka_unit_test(test_wait_fd_killed),
      cmocka_unit_test(test_wait_fd_many_waiters),
      cmocka_unit_test(test_wait_fd_already_ready),
      cmocka_unit_test(test_fd_forget),
      cmocka_unit_test(test_wait_fd_regular_file),
      cmocka_unit_test(test_wait_fd_bad),
      cmocka_unit_test(test_slice_yields),
      cmocka_unit_test(test_slice_keeps_kill),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
