/* mt.c: the switch from plain to locked instructions on the runtime's own
 * words (mt.h). */
#define _GNU_SOURCE
#include "mt.h"
#include "common.h"
#include "real.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

int gp__mt;
int gp__mt_ready;
unsigned gp__mt_busy;
__thread int gp__mt_role __attribute__((tls_model("initial-exec")));

/* The process in which a thread became the first one, 0 before: taking
 * it makes a thread the first (a fork's child, before gp__mt_fork_child,
 * still has its parent's, so its thread is alone). */
static pid_t first_pid;

static long membarrier_cmd(int cmd)
{
  if (gp__real_syscall == NULL)
    return -1; /* before the real functions are known: none */
  return gp__real_syscall(SYS_membarrier, cmd, 0, 0);
}

/* Whether this process may use the expedited barrier (registering for it,
 * once per process; again does no harm). */
static int barrier_usable(void)
{
#ifdef GP__TSAN
  return 0; /* it would not see the barrier's ordering */
#else
  return membarrier_cmd(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
#endif
}

static void pause_briefly(void)
{
  if (gp__real_sched_yield)
    gp__real_sched_yield();
}

/* Every running thread of the process passes a full barrier. */
static void barrier_all(void)
{
  if (barrier_usable() && membarrier_cmd(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
    return;
  if (membarrier_cmd(MEMBARRIER_CMD_GLOBAL) == 0)
    return;
  /* No barrier at all (the first thread became first before libc's
   * functions were known, on a kernel without membarrier): a store leaves
   * a CPU's buffer within microseconds; wait far longer. */
  for (int i = 0; i < 10000; i++)
    pause_briefly();
}

static void set_locked(void)
{
  __atomic_store_n(&gp__mt, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&gp__mt_ready, 1, __ATOMIC_RELEASE);
}

/* A thread other than the first: the switch, made once, by whoever comes
 * first; the others wait for it to be complete. */
static void switch_to_locked(void)
{
  /* In a fork's child, before gp__mt_fork_child, the first thread (and a
   * switch under way in the parent) stayed behind: this thread is alone. */
  int alone = getpid() != __atomic_load_n(&first_pid, __ATOMIC_ACQUIRE);

  if (__atomic_exchange_n(&gp__mt, 1, __ATOMIC_SEQ_CST) == 0 || alone) {
    barrier_all();
    while (!alone && __atomic_load_n(&gp__mt_busy, __ATOMIC_ACQUIRE) != 0)
      pause_briefly();
    __atomic_store_n(&gp__mt_ready, 1, __ATOMIC_RELEASE);
    return;
  }
  while (!__atomic_load_n(&gp__mt_ready, __ATOMIC_ACQUIRE))
    pause_briefly();
}

/* A thread's first word: the first thread to come is the first one. */
static void take_role(void)
{
  pid_t none = 0;

  if (gp__mt_role != 0)
    return;
  if (!__atomic_compare_exchange_n(&first_pid, &none, getpid(), 0,
                                   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    gp__mt_role = -1;
    return;
  }
  gp__mt_role = 1;
  /* Known unusable now: locked instructions from the start. Not known yet
   * (before libc's functions): the switch finds out. */
  if (gp__real_syscall != NULL && !barrier_usable())
    set_locked();
}

int gp__mt_slow(void)
{
  take_role();
  if (gp__mt_role == 1)
    return gp__mt_plain_begin();
  switch_to_locked();
  return 0;
}

void gp__mt_need_slow(void)
{
  take_role();
  if (gp__mt_role != 1)
    switch_to_locked();
}

void gp__mt_force(void)
{
  if (__atomic_load_n(&gp__mt_ready, __ATOMIC_ACQUIRE))
    return;
  take_role();
  if (gp__mt_role == 1)
    set_locked(); /* it is in no plain operation: at once */
  else
    switch_to_locked();
}

void gp__mt_fork_child(void)
{
  gp__mt_busy = 0; /* whatever the first thread was doing is gone */
  first_pid = getpid();
  if (__atomic_load_n(&gp__mt, __ATOMIC_RELAXED)) {
    gp__mt_ready = 1; /* a switch under way in the parent is complete */
    return;
  }
  gp__mt_role = 1;
}
