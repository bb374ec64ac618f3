/* d_signal_runtime_threads: the runtime's own threads (libuv's threadpool,
 * started by a name lookup; the blocking monitor, started by
 * GPATCH_MAX_BLOCKING_MS, which the program sets and runs itself again)
 * must never take a process-directed signal. Main blocks SIGUSR1 and a
 * thread waits for it with sigwait, as servers do (mysqld with SIGTERM):
 * each kill(getpid(), SIGUSR1) must reach sigwait. A runtime thread with
 * SIGUSR1 unblocked would take one and die of it, with the process. */
#include "compat.h"

#include <netdb.h>
#include <semaphore.h>
#include <signal.h>

static sigset_t usr1;
static sem_t taken;
static int got;

static void *waiter(void *arg)
{
  for (int i = 0; i < 20; i++) {
    int sig;
    if (sigwait(&usr1, &sig) == 0 && sig == SIGUSR1)
      got++;
    sem_post(&taken); /* the next may come: none is merged with this one */
  }
  return arg;
}

int main(int argc, char **argv)
{
  struct addrinfo *res = NULL;
  pthread_t t;

  (void)argc;
  if (getenv("GPATCH_MAX_BLOCKING_MS") == NULL) {
    return rerun_with("GPATCH_MAX_BLOCKING_MS", "10000", argv);
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, NULL);
  /* A lookup the resolver must make (patched: on libuv's threadpool). */
  SAY("lookup: %s\n",
      getaddrinfo("localhost", "http", NULL, &res) == 0 ? "ok" : "failed");
  if (res)
    freeaddrinfo(res);
  sem_init(&taken, 0, 0);
  pthread_create(&t, NULL, waiter, NULL);
  for (int i = 0; i < 20; i++) {
    kill(getpid(), SIGUSR1);
    sem_wait(&taken);
  }
  pthread_join(t, NULL);
  SAY("sigwait got %d of 20\n", got);
  return 0;
}
