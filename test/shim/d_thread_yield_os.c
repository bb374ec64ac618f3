/* d_thread_yield_os: sched_yield gives up the OS thread when no other
 * thread of it is ready, as plain: other processes and threads on the CPU
 * get their turn. Patched, it switched only among the OS thread's own
 * threads, so with none ready it returned without a system call: an MPI
 * rank spinning on sched_yield, on a CPU shared with the rank it waited
 * for, held the CPU for the kernel's whole slice (Open MPI's allreduce
 * loop with 4 ranks on 2 CPUs: 2.7x plain's time).
 *
 * Two children count the sched_yield calls that reach the kernel: a
 * seccomp filter traps them (SIGSYS, whose handler counts them). One calls
 * it ten times alone; the other ten times while another thread waits in a
 * pipe read (made before the filter), then that thread and main take
 * turns through sched_yield (a count that is not printed: with another
 * ready, the call need not reach the kernel). */
#include "compat.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

static volatile sig_atomic_t trapped;
static int p[2];
static volatile int turn;

static void on_sys(int sig, siginfo_t *si, void *uc)
{
  (void)sig;
  (void)uc;
  if (si->si_syscall == SYS_sched_yield)
    trapped++;
}

static void *reader(void *arg)
{
  char c;
  (void)arg;
  return (void *)(intptr_t)read(p[0], &c, 1);
}

static void *taker(void *arg)
{
  (void)arg;
  for (int i = 0; i < 100; i++) {
    while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != 1)
      sched_yield();
    __atomic_store_n(&turn, 0, __ATOMIC_RELEASE);
  }
  return NULL;
}

static void yields(const char *what)
{
  int before = trapped;
  /* Its result is the trap's (-1, ENOSYS): the filter skips the call. */
  for (int i = 0; i < 10; i++)
    sched_yield();
  printf("%s: %d of 10 sched_yield calls reached the kernel\n", what,
         trapped - before);
}

static void trap_yields(void)
{
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sched_yield, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
  struct sigaction a;

  memset(&a, 0, sizeof(a));
  a.sa_sigaction = on_sys;
  a.sa_flags = SA_SIGINFO;
  if (sigaction(SIGSYS, &a, NULL) != 0 ||
      prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
    _exit(3);
}

static void alone(void)
{
  trap_yields();
  yields("alone");
  fflush(stdout);
  _exit(0);
}

static void beside(void)
{
  pthread_t r, t;
  void *got;

  if (pipe(p) != 0 || pthread_create(&r, NULL, reader, NULL) != 0)
    _exit(4);
  usleep(20000); /* the reader waits in read */
  trap_yields();
  yields("beside a thread waiting in read");
  if (write(p[1], "x", 1) != 1 || pthread_join(r, &got) != 0)
    _exit(5);
  printf("the reader read %ld byte\n", (long)(intptr_t)got);
  if (pthread_create(&t, NULL, taker, NULL) != 0)
    _exit(6);
  for (int i = 0; i < 100; i++) {
    __atomic_store_n(&turn, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != 0)
      sched_yield();
  }
  pthread_join(t, NULL);
  printf("100 turns taken through sched_yield\n");
  fflush(stdout);
  _exit(0);
}

static void run(void (*fn)(void))
{
  pid_t pid;
  int st;

  fflush(stdout);
  if ((pid = fork()) == 0)
    fn();
  waitpid(pid, &st, 0);
  if (WIFSIGNALED(st))
    printf("the child died of signal %d\n", WTERMSIG(st));
  else
    printf("the child exited %d\n", WEXITSTATUS(st));
}

int main(void)
{
  run(alone);
  run(beside);
  return 0;
}
