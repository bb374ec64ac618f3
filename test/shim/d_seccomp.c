/* d_seccomp: a process that confines itself with seccomp makes the system
 * calls it makes unpatched, and no others.
 *
 * - A child installs a filter that kills it on fcntl (sshd's
 *   pre-authentication sandbox allows no fcntl), then writes and reads a
 *   socket pair and a pipe it made before, and prints with stdio and
 *   dprintf to a copy of stdout: patched, the shim's
 *   first look at an fd (fcntl F_GETFL) killed it with SIGSYS, and every
 *   ssh login failed.
 * - A child enters strict mode with seccomp(2) through syscall(), where
 *   only read, write and exit are allowed, and writes to a pipe it made
 *   before: patched, the write's extra calls killed it.
 * - A child installs a filter that kills it on the epoll calls, then
 *   computes for 30 ms between uncontended mutex calls, as OpenSSL does
 *   under sshd's sandbox: patched, the time slice yielded to the
 *   scheduler, whose poll killed it with SIGSYS (every ssh login failed
 *   again).
 * - A child installs that filter, then makes a thread that waits in a pipe
 *   read until main writes, and signals main through a condition
 *   variable: patched, the thread was a coroutine whose read (passed
 *   straight through after the filter) stopped main for good, or, with
 *   more schedulers, their polls killed the child.
 * The parent prints how each child ended, and what came through. */
#include "compat.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

static void report(const char *what, pid_t pid)
{
  int st;
  waitpid(pid, &st, 0);
  if (WIFSIGNALED(st))
    printf("%s: the child died of signal %d\n", what, WTERMSIG(st));
  else
    printf("%s: the child exited %d\n", what, WEXITSTATUS(st));
}

static void filtered(void)
{
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fcntl, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};
  char buf[8] = {0}, pbuf[8] = {0};
  int sv[2], q[2], out;

  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || pipe(q) != 0 ||
      (out = dup(1)) < 0)
    _exit(2);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
    _exit(3);
  printf("filtered child: write %zd", write(sv[0], "ping", 4));
  printf(", read %zd '%s'\n", read(sv[1], buf, sizeof(buf) - 1), buf);
  fflush(stdout);
  /* fds made before the filter and first used after it */
  if (write(q[1], "pipe", 4) != 4 || read(q[0], pbuf, 4) != 4)
    _exit(4);
  dprintf(out, "filtered child: through a pipe '%s'\n", pbuf);
  _exit(0);
}

static void deny_epoll(void)
{
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_epoll_wait, 4, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_epoll_pwait, 3, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_epoll_pwait2, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_epoll_ctl, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
  };
  struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
    _exit(3);
}

static void no_epoll(void)
{
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  struct timespec t0, t;
  volatile unsigned long sum = 0;
  long calls = 0;

  deny_epoll();
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do {
    for (int i = 0; i < 20000; i++)
      sum += (unsigned long)i * i;
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    calls++;
    clock_gettime(CLOCK_MONOTONIC, &t);
  } while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec <
               30000000L ||
           calls < 256);
  printf("epoll filtered child: computed between lock calls\n");
  fflush(stdout);
  _exit(0);
}

static int q[2];
static pthread_mutex_t qm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qc = PTHREAD_COND_INITIALIZER;
static int qdone;

static void *reader(void *arg)
{
  char c;
  ssize_t n = read(q[0], &c, 1);
  (void)arg;
  pthread_mutex_lock(&qm);
  qdone = 1;
  pthread_cond_signal(&qc);
  pthread_mutex_unlock(&qm);
  return (void *)(intptr_t)n;
}

static void thread_after(void)
{
  pthread_t r;
  void *got;

  if (pipe(q) != 0)
    _exit(2);
  deny_epoll();
  if (pthread_create(&r, NULL, reader, NULL) != 0)
    _exit(4);
  usleep(20000); /* the reader waits in read */
  if (write(q[1], "x", 1) != 1)
    _exit(5);
  pthread_mutex_lock(&qm);
  while (!qdone)
    pthread_cond_wait(&qc, &qm);
  pthread_mutex_unlock(&qm);
  if (pthread_join(r, &got) != 0)
    _exit(6);
  printf("thread after the filter: read %ld byte, woke main\n",
         (long)(intptr_t)got);
  fflush(stdout);
  _exit(0);
}

static void strict(int out)
{
  static const char msg[] = "strict child: written in strict mode\n";
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL) != 0)
    _exit(3);
  if (write(out, msg, sizeof(msg) - 1) != (ssize_t)sizeof(msg) - 1)
    syscall(SYS_exit, 4);
  syscall(SYS_exit, 0); /* exit_group is not allowed */
}

int main(void)
{
  char buf[128];
  pid_t pid;
  int p[2];
  ssize_t n;

  fflush(stdout);
  if ((pid = fork()) == 0)
    filtered();
  report("fcntl filtered", pid);

  fflush(stdout);
  if ((pid = fork()) == 0)
    no_epoll();
  report("epoll filtered", pid);

  fflush(stdout);
  if ((pid = fork()) == 0)
    thread_after();
  report("a thread after the filter", pid);

  if (pipe(p) != 0)
    return 1;
  fflush(stdout);
  if ((pid = fork()) == 0)
    strict(p[1]);
  close(p[1]);
  report("strict mode", pid);
  n = read(p[0], buf, sizeof(buf) - 1);
  buf[n > 0 ? n : 0] = '\0';
  printf("from the strict child: %s", n > 0 ? buf : "nothing\n");
  return 0;
}
