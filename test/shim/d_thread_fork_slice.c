/* d_thread_fork_slice: fork() from a thread whose time slice has run out
 * (it computed for 5 ms since its last call that might have waited) while
 * main, just woken by it, waits for the CPU. The fork handlers of the
 * libraries (libuv's writes to a pipe) run in the child before the runtime
 * has remade its scheduler there: no coroutine switch may happen in them,
 * or main would run in the child too and print there. */
#include "compat.h"

#include <poll.h>
#include <semaphore.h>
#include <sys/wait.h>

static sem_t go;
static pid_t parent;
static int child_exit = -1; /* printed by main after the join: main's own
                               line comes first whatever the timing */

static void *forker(void *arg)
{
  struct pollfd p = {.fd = -1};
  double t0;
  int st = -1;
  pid_t pid;

  (void)arg;
  poll(&p, 1, 0); /* a call that does not wait: the slice starts */
  sem_post(&go);  /* main can run */
  t0 = now_ms();
  while (now_ms() - t0 < 5)
    ; /* compute */
  pid = fork();
  if (pid == 0)
    _exit(3);
  waitpid(pid, &st, 0);
  child_exit = WEXITSTATUS(st);
  return NULL;
}

int main(void)
{
  struct task t;

  setvbuf(stdout, NULL, _IOLBF, 0);
  parent = getpid();
  sem_init(&go, 0, 0);
  spawn(&t, forker, NULL);
  while (sem_wait(&go) != 0)
    ;
  SAY("main: woken, in the %s\n", getpid() == parent ? "parent" : "child");
  EXPECT("forker", join(&t) == NULL);
  SAY("parent: child exit %d\n", child_exit);
  return compat_failures != 0;
}
