/* test_helper.c: blocking calls on helper threads (core/helper.c) — the
 * call runs on another thread with every signal blocked while other
 * coroutines run; a wait that ends first (a kill) leaves the call to end
 * on its own and release its argument; idle helpers are pooled and
 * trimmed; a fork's child starts without any. */
#include "unit.h"

#include "fdtab.h"
#include "helper.h"
#include "scheduler.h"
#include "wait.h"

#include <dirent.h>
#include <pthread.h>
#include <sys/syscall.h>

/* The threads of this process named as helpers. */
static int helpers(void)
{
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  int n = 0;

  assert_non_null(d);
  while ((e = readdir(d)) != NULL) {
    char path[300], name[32] = "";
    FILE *f;
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
    if ((f = fopen(path, "re")) == NULL)
      continue;
    if (fgets(name, sizeof(name), f) &&
        strncmp(name, GP__HELPER_NAME, strlen(GP__HELPER_NAME)) == 0)
      n++;
    fclose(f);
  }
  closedir(d);
  return n;
}

/* A call: what it saw, and a pipe it may block on. */
struct job {
  pid_t tid;       /* the thread it ran on */
  int all_blocked; /* every signal was blocked there */
  int rfd;         /* >= 0: block reading it first */
  int *released;   /* set by release() */
};

static void job_fn(void *arg)
{
  struct job *j = arg;
  sigset_t m;
  char c;

  j->tid = gettid();
  pthread_sigmask(SIG_SETMASK, NULL, &m);
  j->all_blocked = sigismember(&m, SIGINT) && sigismember(&m, SIGTERM) &&
                   sigismember(&m, SIGUSR1) && sigismember(&m, SIGCHLD);
  if (j->rfd >= 0)
    (void)!read(j->rfd, &c, 1);
}

static void job_release(void *arg)
{
  struct job *j = arg;
  __atomic_store_n(j->released, 1, __ATOMIC_RELEASE);
  free(j);
}

static volatile int ticks, stop;

static void *ticker(void *arg)
{
  (void)arg;
  while (!stop) {
    gp_sleep(1);
    ticks++;
  }
  return NULL;
}

static int wp; /* the pipe the writer writes */

/* Writes the pipe once the ticker has ticked. */
static void *writer(void *arg)
{
  (void)arg;
  while (ticks < 3)
    gp_sleep(1);
  (void)!write(wp, "x", 1);
  return NULL;
}

static void test_helper_runs(void **state)
{
  struct job j = {.rfd = -1};
  gp_coro_t *t, *w;
  int p[2];

  (void)state;
  assert_int_equal(pipe(p), 0);
  j.rfd = p[0];
  wp = p[1];
  stop = 0;
  ticks = 0;
  assert_int_equal(gp_spawn(&t, ticker, NULL), 0);
  /* The call blocks on the pipe that the writer writes only once the
   * ticker has ticked: it returns only if coroutines ran meanwhile. */
  assert_int_equal(gp_spawn(&w, writer, NULL), 0);
  assert_int_equal(gp__helper_call(job_fn, &j, job_release, 1), 0);
  assert_int_equal(gp_join(w, NULL), 0);
  stop = 1;
  assert_int_equal(gp_join(t, NULL), 0);
  assert_true(ticks >= 3);
  assert_int_not_equal(j.tid, gettid());
  assert_true(j.all_blocked);
  assert_true(helpers() >= 1);
  close(p[0]);
  close(p[1]);
}

/* A coroutine that makes the call of arg and records what it returned. */
struct caller {
  struct job *job;
  int r;
};

static void *call_main(void *arg)
{
  struct caller *c = arg;
  c->r = gp__helper_call(job_fn, c->job, job_release, 1);
  return NULL;
}

static void test_helper_abandoned(void **state)
{
  struct caller c;
  gp_coro_t *co;
  int p[2], released = 0;

  (void)state;
  assert_int_equal(pipe(p), 0);
  c.job = calloc(1, sizeof(*c.job));
  c.job->rfd = p[0];
  c.job->released = &released;
  assert_int_equal(gp_spawn(&co, call_main, &c), 0);
  gp_yield(); /* it hands the call over and parks */
  assert_int_equal(gp_kill(co), 0);
  assert_int_equal(gp_join(co, NULL), 0);
  assert_int_equal(c.r, -ECANCELED);
  assert_int_equal(__atomic_load_n(&released, __ATOMIC_ACQUIRE), 0);
  /* The call still blocks; once it can end, it releases its argument. */
  assert_int_equal(write(p[1], "x", 1), 1);
  for (int i = 0; i < 10000 && !__atomic_load_n(&released, __ATOMIC_ACQUIRE);
       i++)
    gp_sleep(1);
  assert_int_equal(__atomic_load_n(&released, __ATOMIC_ACQUIRE), 1);

  /* The helper went back to the pool: the next call works. */
  {
    struct job j = {.rfd = -1};
    assert_int_equal(gp__helper_call(job_fn, &j, job_release, 1), 0);
    assert_true(j.all_blocked);
  }
  close(p[0]);
  close(p[1]);
}

static void test_helper_pool(void **state)
{
  enum { N = 8 };
  struct caller c[N];
  gp_coro_t *co[N];
  int p[2], before, peak;

  (void)state;
  assert_int_equal(pipe(p), 0);
  before = helpers();
  for (int i = 0; i < N; i++) {
    c[i].job = calloc(1, sizeof(*c[i].job));
    c[i].job->rfd = p[0];
    assert_int_equal(gp_spawn(&co[i], call_main, &c[i]), 0);
  }
  gp_yield(); /* all N calls block on the pipe, each on its own helper */
  peak = helpers();
  assert_true(peak >= N);
  for (int i = 0; i < N; i++)
    assert_int_equal(write(p[1], "x", 1), 1);
  assert_int_equal(gp_joinall(co, N, NULL, GP_FOREVER), 0);
  for (int i = 0; i < N; i++) {
    assert_int_equal(c[i].r, 0);
    free(c[i].job);
  }
  /* Idle helpers beyond the pool's few were told to exit. */
  for (int i = 0; i < 10000 && helpers() > 4; i++)
    gp_sleep(1);
  assert_true(helpers() <= 4);
  /* Calls one after another reuse them. */
  for (int i = 0; i < 50; i++) {
    struct job j = {.rfd = -1};
    assert_int_equal(gp__helper_call(job_fn, &j, job_release, 1), 0);
  }
  assert_true(helpers() <= (before > 4 ? before : 4));
  close(p[0]);
  close(p[1]);
}

static void test_helper_fork(void **state)
{
  struct job j = {.rfd = -1};
  pid_t pid;
  int st;

  (void)state;
  assert_int_equal(gp__helper_call(job_fn, &j, job_release, 1), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    struct job k = {.rfd = -1};
    /* No helper thread came along; a call makes a new one. */
    if (helpers() != 0)
      _exit(1);
    if (gp__helper_call(job_fn, &k, job_release, 1) != 0 || k.tid == gettid() ||
        !k.all_blocked)
      _exit(2);
    _exit(helpers() == 1 ? 0 : 3);
  }
  assert_int_equal(waitpid(pid, &st, 0), pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_helper_runs),
      cmocka_unit_test(test_helper_abandoned),
      cmocka_unit_test(test_helper_pool),
      cmocka_unit_test(test_helper_fork),
  };
  gp__sched_get();
  return cmocka_run_group_tests(tests, NULL, NULL);
}
