/* d_signal_kill_sigwait: pthread_kill of a signal the target blocks and
 * waits for in sigwait reaches it, wherever it runs (pbzip2's end). With
 * several schedulers the signal went to the sender's OS thread, where the
 * target's sigwait, on another, never saw it: the join hung. Four waiters,
 * so that some run away from main; each is sent its own signal (and the
 * fds a patched sigwait watches never take a number the program's next
 * open would get: one took fd 1 from pbzip2 once it closed stdout). Then one
 * signal that its target blocks but does not wait for stays pending for it,
 * without interrupting its wait for the other. */
#include "compat.h"

#include <signal.h>

#define WAITERS 4

static sigset_t set;

static void *waiter(void *arg)
{
  int sig = 0, r = sigwait(&set, &sig);
  (void)arg;
  return (void *)(intptr_t)(r == 0 ? sig : -r);
}

/* Waits for SIGUSR1 alone while SIGUSR2, blocked too, is sent first: that
 * one stays pending for it (no EINTR), and a later sigwait takes it. */
static void *picky(void *arg)
{
  sigset_t one;
  siginfo_t si;
  int first, second = 0;
  (void)arg;
  sigemptyset(&one);
  sigaddset(&one, SIGUSR1);
  first = sigwaitinfo(&one, &si);
  printf("picky: sigwaitinfo gave %s (code %s, from this process %d)\n",
         first == SIGUSR1 ? "SIGUSR1" : "something else",
         si.si_code == SI_USER ? "SI_USER" : "other", si.si_pid == getpid());
  sigwait(&set, &second);
  printf("picky: then sigwait gave %s\n",
         second == SIGUSR2 ? "SIGUSR2" : "something else");
  return NULL;
}

int main(void)
{
  pthread_t t[WAITERS];
  static const int sigs[WAITERS] = {SIGUSR1, SIGUSR2, SIGUSR1, SIGUSR2};

  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* the waiters inherit it */
  for (int i = 0; i < WAITERS; i++)
    pthread_create(&t[i], NULL, waiter, NULL); /* placed anywhere */
  /* all in sigwait by now; a sigwait makes no fd of the program's */
  sleep_ms(100);
  int fd = open("/dev/null", O_RDONLY);
  printf("an open while they wait gets fd %d\n", fd);
  close(fd);
  for (int i = 0; i < WAITERS; i++) {
    void *got;
    int r = pthread_kill(t[i], sigs[i]);
    pthread_join(t[i], &got);
    printf("waiter %d: pthread_kill %d, sigwait gave %s\n", i, r,
           (intptr_t)got == SIGUSR1   ? "SIGUSR1"
           : (intptr_t)got == SIGUSR2 ? "SIGUSR2"
                                      : "something else");
  }
  pthread_t p;
  pthread_create(&p, NULL, picky, NULL);
  sleep_ms(100);
  pthread_kill(p, SIGUSR2);
  sleep_ms(100);
  pthread_kill(p, SIGUSR1);
  pthread_join(p, NULL);
  return 0;
}
