/* d_signal_suspend: pause and sigsuspend wait for a handler while the
 * other threads go on, and return -1 with EINTR once one has run; the
 * mask sigsuspend sets holds only for the wait. They were not interposed:
 * a thread in them held its OS thread, so with one scheduler the worker
 * that was to send the signal never ran (lbzip2 hung, and so did
 * stress-ng's sem and mutex stressors). Main and another thread each wait
 * for a signal sent by a thread, and for one already pending; then the
 * other thread unblocks a signal sent to it while blocked, whose handler
 * runs then. */
#include "compat.h"

#include <signal.h>

static int handled[NSIG];
static pthread_t main_thread;

static void on_signal(int sig)
{
  __atomic_fetch_add(&handled[sig], 1, __ATOMIC_RELAXED);
}

static const char *result(int r, int err)
{
  return r == -1 && err == EINTR ? "-1 EINTR" : "something else";
}

static int blocked(int sig)
{
  sigset_t cur;
  pthread_sigmask(SIG_BLOCK, NULL, &cur);
  return sigismember(&cur, sig);
}

/* Prints, then has the signal sent: to the process, or to main. */
static void *sender(void *arg)
{
  int to_main = arg != NULL;
  sleep_ms(100);
  printf("sender runs while main waits\n");
  fflush(stdout);
  if (to_main)
    pthread_kill(main_thread, SIGUSR2);
  else
    kill(getpid(), SIGUSR1);
  return NULL;
}

/* A thread other than main: in sigsuspend until main sends it SIGUSR1,
 * then once more with SIGUSR2, which main sent while it was blocked. */
static void *other(void *arg)
{
  sigset_t none, one;
  int r, e;
  (void)arg;
  sigemptyset(&none);
  sigemptyset(&one);
  sigaddset(&one, SIGUSR1);
  r = sigsuspend(&none);
  e = errno;
  printf("other: sigsuspend gave %s, SIGUSR1 handled %d, blocked again %d\n",
         result(r, e), handled[SIGUSR1], blocked(SIGUSR1));
  sleep_ms(200); /* main sends SIGUSR2, which it blocks, meanwhile */
  printf("other: SIGUSR2 handled %d before its sigsuspend\n", handled[SIGUSR2]);
  r = sigsuspend(&none);
  e = errno;
  printf("other: sigsuspend gave %s at once, SIGUSR2 handled %d\n",
         result(r, e), handled[SIGUSR2]);
  sleep_ms(200); /* main sends SIGUSR1, which it blocks, meanwhile */
  r = handled[SIGUSR1];
  pthread_sigmask(SIG_UNBLOCK, &one, NULL);
  printf("other: unblocking SIGUSR1 ran its handler %d time(s)\n",
         handled[SIGUSR1] - r);
  return NULL;
}

int main(void)
{
  pthread_t t;
  sigset_t usr, none;
  int r, e;

  main_thread = pthread_self();
  signal(SIGUSR1, on_signal);
  signal(SIGUSR2, on_signal);
  sigemptyset(&none);
  sigemptyset(&usr);
  sigaddset(&usr, SIGUSR1);
  sigaddset(&usr, SIGUSR2);

  /* pause in main; a thread signals the process. */
  pthread_create(&t, NULL, sender, NULL);
  r = pause();
  e = errno;
  pthread_join(t, NULL);
  printf("main: pause gave %s, SIGUSR1 handled %d\n", result(r, e),
         handled[SIGUSR1]);

  /* sigsuspend in main with both blocked outside it; a thread signals
   * main itself. */
  pthread_sigmask(SIG_BLOCK, &usr, NULL);
  pthread_create(&t, NULL, sender, (void *)1);
  r = sigsuspend(&none);
  e = errno;
  pthread_join(t, NULL);
  printf("main: sigsuspend gave %s, SIGUSR2 handled %d, blocked again %d\n",
         result(r, e), handled[SIGUSR2], blocked(SIGUSR2));

  /* One pending already: sigsuspend returns at once. */
  raise(SIGUSR1);
  printf("main: SIGUSR1 handled %d while blocked\n", handled[SIGUSR1]);
  r = sigsuspend(&none);
  e = errno;
  printf("main: sigsuspend gave %s at once, SIGUSR1 handled %d\n", result(r, e),
         handled[SIGUSR1]);

  /* Another thread (it starts with both blocked, as main has them). */
  pthread_create(&t, NULL, other, NULL);
  sleep_ms(100);
  pthread_kill(t, SIGUSR1);
  sleep_ms(100);
  pthread_kill(t, SIGUSR2);
  sleep_ms(200);
  pthread_kill(t, SIGUSR1);
  pthread_join(t, NULL);
  return 0;
}
