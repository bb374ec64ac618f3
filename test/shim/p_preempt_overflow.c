/* p_preempt_overflow (patched only): a thread whose stack is all but full
 * when the preemption signal comes is reported as an overflow.
 *
 * The kernel writes a signal's frame below the stack pointer; when there
 * is no room (the guard lies there), it sends a SIGSEGV of its own, with
 * no fault address, in the signal's place. The runtime took that for a
 * fault of the program's and the process died with no word (siege with
 * GPATCH_STACK_SIZE=256K on a busy machine, 1 run in 30).
 *
 * The program runs itself again with GPATCH_STACK_SIZE=64K: a thread fills
 * its stack to a few hundred bytes from the bottom and spins there, while
 * main sleeps; the monitor's SIGURG cannot be delivered. The child must die
 * of SIGSEGV and say that the thread overflowed its 64 KiB stack. */
#include "compat.h"

#include <alloca.h>
#include <signal.h>

static volatile int spin = 1;

static void *fill(void *arg)
{
  pthread_attr_t a;
  void *lo;
  size_t size;
  char here, *p;

  (void)arg;
  pthread_getattr_np(pthread_self(), &a);
  pthread_attr_getstack(&a, &lo, &size);
  pthread_attr_destroy(&a);
  /* Leave about 512 bytes between the stack pointer and the stack's
   * bottom, less than any signal frame. */
  p = alloca((size_t)(&here - (char *)lo) - 512);
  p[0] = 1;
  while (spin)
    __asm__ volatile("" ::"r"(p) : "memory");
  return NULL;
}

int main(int argc, char **argv)
{
  char err[4096];
  int pfd[2], st;
  ssize_t n;
  pid_t pid;

  if (argc > 1) {
    pthread_t th;
    pthread_create(&th, NULL, fill, NULL);
    sleep(10); /* main waits: the thread has company, and is preempted */
    return 0;
  }
  if (pipe(pfd) != 0)
    return 1;
  if ((pid = fork()) == 0) {
    dup2(pfd[1], 2);
    setenv("GPATCH_STACK_SIZE", "64K", 1);
    setenv("GPATCH_CORES", "1", 1);
    execl("/proc/self/exe", argv[0], "child", (char *)0);
    _exit(127);
  }
  close(pfd[1]);
  n = read(pfd[0], err, sizeof(err) - 1);
  err[n > 0 ? n : 0] = '\0';
  waitpid(pid, &st, 0);
  printf("child: %s, stderr: %s",
         WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exited", err);
  return !(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV &&
           strstr(err, "overflowed its 64 KiB stack") != NULL);
}
