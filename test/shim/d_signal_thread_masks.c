/* d_signal_thread_masks: a thread's signal mask is its own, whichever call
 * sets it, and sigpending shows what is pending for the caller.
 *
 * - A thread that blocks SIGUSR1 with sigprocmask (glibc's is
 *   pthread_sigmask, reached inside libc) does not block it for main: a
 *   signal sent to the process then runs main's handler. Patched, the call
 *   went to the OS thread the two share, and the handler never ran.
 * - sigprocmask's old mask is the thread's; a bad how is EINVAL.
 * - A signal sent with pthread_kill to a thread that blocks it is pending
 *   for that thread: its sigpending lists it, main's does not, and its
 *   sigwait takes it.
 * - sigpending(NULL) fails with EFAULT. */
#include "compat.h"

#include <signal.h>

static volatile sig_atomic_t caught;
static sigset_t usr1, usr2;
static int ready[2], go[2];

static void on_usr1(int sig)
{
  (void)sig;
  caught++;
}

static void *blocker(void *arg)
{
  sigset_t old, now;
  char c = 'r';
  (void)arg;
  sigprocmask(SIG_BLOCK, &usr1, &old);
  sigprocmask(SIG_BLOCK, NULL, &now);
  printf("blocker: SIGUSR1 blocked before %d, after %d\n",
         sigismember(&old, SIGUSR1), sigismember(&now, SIGUSR1));
  errno = 0;
  int r = sigprocmask(12345, &usr1, NULL);
  printf("blocker: sigprocmask with a bad how: %d, %s\n", r, strerror(errno));
  write(ready[1], &c, 1);
  read(go[0], &c, 1); /* main sends SIGUSR1 to the process meanwhile */
  return NULL;
}

static void *keeper(void *arg)
{
  sigset_t p;
  int sig = 0;
  char c = 'k';
  (void)arg;
  write(ready[1], &c, 1);
  read(go[0], &c, 1); /* main has sent SIGUSR2 to this thread */
  sigemptyset(&p);
  sigpending(&p);
  printf("keeper: SIGUSR2 pending for it: %d\n", sigismember(&p, SIGUSR2));
  sigwait(&usr2, &sig);
  printf("keeper: sigwait gave %s\n", sig == SIGUSR2 ? "SIGUSR2" : "other");
  sigemptyset(&p);
  sigpending(&p);
  printf("keeper: still pending after: %d\n", sigismember(&p, SIGUSR2));
  return NULL;
}

int main(void)
{
  pthread_t t;
  sigset_t p;
  char c;

  setvbuf(stdout, NULL, _IONBF, 0);
  signal(SIGUSR1, on_usr1);
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  if (pipe(ready) != 0 || pipe(go) != 0)
    return 1;

  pthread_create(&t, NULL, blocker, NULL);
  read(ready[0], &c, 1);
  kill(getpid(), SIGUSR1);
  for (int i = 0; i < 200 && !caught; i++)
    sleep_ms(5);
  printf("main: handler ran %d time(s)\n", (int)caught);
  write(go[1], "g", 1);
  pthread_join(t, NULL);

  pthread_sigmask(SIG_BLOCK, &usr2, NULL); /* keeper inherits it */
  pthread_create(&t, NULL, keeper, NULL);
  read(ready[0], &c, 1);
  pthread_kill(t, SIGUSR2);
  sigemptyset(&p);
  sigpending(&p);
  printf("main: SIGUSR2 pending for main: %d\n", sigismember(&p, SIGUSR2));
  write(go[1], "g", 1);
  pthread_join(t, NULL);

  sigset_t *none = NULL;
  __asm__("" : "+r"(none)); /* declared nonnull, yet NULL is EFAULT */
  errno = 0;
  int r = sigpending(none);
  printf("sigpending(NULL): %d, %s\n", r, strerror(errno));
  return 0;
}
