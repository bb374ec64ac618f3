/* d_fork_busy: fork while other threads make and end threads without
 * pause. Under GPATCH_CORES=4 those run on other schedulers' OS threads,
 * taking the runtime's locks (the stack pool's, the schedulers') as fork
 * happens; each child must still make a thread of its own and exit. */
#include "compat.h"

#include <sys/wait.h>

#define CHILDREN 100
#define CHURNERS 3

static volatile int stop;

static void *nothing(void *arg)
{
  return arg;
}

static void *churn(void *arg)
{
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) != 0 ||
        pthread_join(t, NULL) != 0)
      return (void *)1;
  }
  return arg;
}

int main(void)
{
  pthread_t churners[CHURNERS];
  int ok = 0, failed = 0;

  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 0; i < CHURNERS; i++)
    if (pthread_create(&churners[i], NULL, churn, NULL) != 0)
      return 2;
  for (int i = 0; i < CHILDREN; i++) {
    int st;
    pid_t pid = fork();
    if (pid == 0) {
      pthread_t t;
      void *r = NULL;
      if (pthread_create(&t, NULL, nothing, (void *)7) != 0 ||
          pthread_join(t, &r) != 0)
        _exit(3);
      _exit(r == (void *)7 ? 0 : 4);
    }
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
      return 5;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
      ok++;
    else
      failed++;
    if (i % 8 == 0)
      sched_yield(); /* the churners run between forks when patched */
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  for (int i = 0; i < CHURNERS; i++) {
    void *r;
    pthread_join(churners[i], &r);
    if (r != NULL)
      failed++;
  }
  SAY("%d children exited 0, %d failed\n", ok, failed);
  return failed != 0;
}
