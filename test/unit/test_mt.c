/* test_mt.c: the runtime's own words with plain instructions while one OS
 * thread uses them, and the switch to locked instructions when a second
 * one comes (core/mt.h): the first thread stays plain while alone; a
 * second thread that takes the same spinlock and claims the same waits
 * while the first is at it, mid-run, loses no increment and wins no claim
 * twice. Each race runs in a child of its own: the switch is once per
 * process. */
#include "unit.h"

#include "common.h"
#include "mt.h"
#include "wait.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>

/* Whether this kernel (and valgrind, when under it) has the barrier the
 * plain mode needs: without it the runtime is locked from the start. */
static int have_barrier(void)
{
  long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  return cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED);
}

static void test_plain_while_alone(void **state)
{
  static struct gp__lock l;
  struct gp__wait w = {0};

  (void)state;
  gp__lock(&l);
  gp__unlock(&l);
  assert_int_equal(gp__mt_role, 1); /* the first to come */
  assert_true(gp__wait_claim(&w));
  assert_false(gp__wait_claim(&w)); /* once */
  assert_int_equal(__atomic_load_n(&gp__mt_busy, __ATOMIC_RELAXED), 0);
  if (have_barrier()) {
    assert_int_equal(gp__mt, 0);
    assert_int_equal(gp__mt_ready, 0);
  } else {
    print_message("no membarrier here: locked from the start\n");
    assert_int_equal(gp__mt_ready, 1);
  }
}

enum { ROUNDS = 200000, WAITS = 100000, RACES = 24 };

static struct gp__lock count_lock;
static long count;
static struct gp__wait *waits;
static long won[2];

/* ROUNDS increments under the lock, and a claim of every wait, counting
 * those it won. */
static void *racer(void *arg)
{
  int me = (int)(intptr_t)arg;
  for (long i = 0; i < ROUNDS; i++) {
    gp__lock(&count_lock);
    count++;
    gp__unlock(&count_lock);
    if (i < WAITS && gp__wait_claim(&waits[me ? WAITS - 1 - i : i]))
      won[me]++;
  }
  return NULL;
}

/* In a child: the first thread races with a second it starts while it is
 * in its plain loop. Exits 0 when every operation is accounted for. */
static void race_child(void)
{
  pthread_t t;
  int bad = 0;

  gp__mt_fork_child(); /* this thread is the child's first */
  waits = calloc(WAITS, sizeof(*waits));
  if (waits == NULL)
    _exit(2);
  gp__lock(&count_lock); /* plain: the first thread, alone */
  gp__unlock(&count_lock);
  if (have_barrier() && gp__mt != 0)
    bad |= 4;
  for (long i = 0; i < ROUNDS / 4; i++) {
    gp__lock(&count_lock);
    count++;
    gp__unlock(&count_lock);
  }
  if (pthread_create(&t, NULL, racer, (void *)1) != 0)
    _exit(3);
  racer((void *)0);
  pthread_join(t, NULL);
  if (count != ROUNDS / 4 + 2L * ROUNDS)
    bad |= 8;
  if (won[0] + won[1] != WAITS)
    bad |= 16;
  if (!gp__mt || !gp__mt_ready || gp__mt_busy != 0)
    bad |= 32;
  _exit(bad);
}

static void test_switch_under_race(void **state)
{
  int races = RUNNING_ON_VALGRIND ? 2 : RACES;

  (void)state;
  for (int i = 0; i < races; i++) {
    int st;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
      race_child();
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != 0)
      print_message("race %d: child exit %d\n", i, WEXITSTATUS(st));
    assert_int_equal(WEXITSTATUS(st), 0);
  }
}

/* A second thread in this process, then: locked for good. */
static void *touch(void *arg)
{
  gp__lock(&count_lock);
  gp__unlock(&count_lock);
  return arg;
}

static void test_second_thread_switches(void **state)
{
  pthread_t t;
  struct gp__wait w = {0};

  (void)state;
  assert_int_equal(pthread_create(&t, NULL, touch, NULL), 0);
  assert_int_equal(pthread_join(t, NULL), 0);
  assert_int_equal(gp__mt, 1);
  assert_int_equal(gp__mt_ready, 1);
  assert_true(gp__wait_claim(&w));
  assert_false(gp__wait_claim(&w));
  assert_int_equal(gp__mt_busy, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_while_alone),
      cmocka_unit_test(test_switch_under_race),
      cmocka_unit_test(test_second_thread_switches),
  };
  gp__runtime_init(); /* libc's functions, for membarrier */
  return cmocka_run_group_tests(tests, NULL, NULL);
}
