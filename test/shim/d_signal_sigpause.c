/* d_signal_sigpause: sigpause, X/Open's (what <signal.h> names) and BSD's
 * (glibc's default symbol, and __sigpause), waits for a signal in the
 * calling thread only.
 *
 * A thread other than main blocks SIGUSR1, says it is ready, and pauses;
 * main then sends it SIGUSR1 with pthread_kill. Each pause returns -1 with
 * EINTR once the handler has run, with the thread's mask as before.
 * Patched, glibc's sigpause suspended the OS thread with glibc's own
 * sigsuspend: with one scheduler, main never ran again to send the signal.
 * Main's own sigpause, and bad signal numbers (EINVAL), are checked too. */
#include "compat.h"

#include <dlfcn.h>
#include <signal.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* glibc's, declared only without GNU extensions */
extern int __sigpause(int sig_or_mask, int is_sig);

static volatile sig_atomic_t caught;
static int ready[2];

static void on_sig(int sig)
{
  (void)sig;
  caught++;
}

static void said(const char *who, const char *what, int r)
{
  int e = errno;
  printf("%s: %s: %d %s, caught %d\n", who, what, r, r < 0 ? strerror(e) : "",
         (int)caught);
}

static void tell_ready(void)
{
  char c = 'r';
  if (write(ready[1], &c, 1) != 1)
    exit(1);
}

static void *pauser(void *arg)
{
  int (*bsd)(int) = arg;
  sigset_t usr1, now;

  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, NULL);
  tell_ready();
  said("thread", "sigpause(SIGUSR1)", sigpause(SIGUSR1));
  tell_ready();
  said("thread", "__sigpause(0, 0)", __sigpause(0, 0));
  tell_ready();
  said("thread", "BSD sigpause(0)", bsd(0));
  sigemptyset(&now);
  pthread_sigmask(SIG_BLOCK, NULL, &now);
  printf("thread: SIGUSR1 still blocked after: %d\n",
         sigismember(&now, SIGUSR1));
  return NULL;
}

int main(void)
{
  int (*bsd)(int) = (int (*)(int))dlsym(RTLD_DEFAULT, "sigpause");
  pthread_t t;
  sigset_t usr2;
  char c;

  setvbuf(stdout, NULL, _IONBF, 0);
  if (bsd == NULL || pipe(ready) != 0)
    return 1;
  signal(SIGUSR1, on_sig);
  signal(SIGUSR2, on_sig);
  pthread_create(&t, NULL, pauser, (void *)bsd);
  for (int i = 0; i < 3; i++) {
    if (read(ready[0], &c, 1) != 1)
      return 1;
    pthread_kill(t, SIGUSR1);
  }
  pthread_join(t, NULL);

  /* main: SIGUSR2 pending while blocked, taken by the pause */
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  sigprocmask(SIG_BLOCK, &usr2, NULL);
  raise(SIGUSR2);
  said("main", "sigpause(SIGUSR2)", sigpause(SIGUSR2));

  said("main", "sigpause(0)", sigpause(0));
  said("main", "sigpause(65)", sigpause(65));
  said("main", "__sigpause(-1, 1)", __sigpause(-1, 1));
  return 0;
}
