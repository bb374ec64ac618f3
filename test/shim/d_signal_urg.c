/* d_signal_urg: a program that catches SIGURG gets every SIGURG, though
 * the runtime preempts with that signal while the program leaves it at its
 * default action.
 *
 * Main makes a thread first (the runtime's preemption is in force from
 * then on), reads SIGURG's action (the default, as it never set one), then
 * installs a handler: from then on SIGURG is the program's. It sends
 * SIGURG to itself with raise, to the process with kill, and to a thread
 * that sleeps in poll with pthread_kill (whose poll then ends with EINTR,
 * the handler not having SA_RESTART); the handler counts each, in the
 * thread it was meant for. A SIGURG sent before the handler, while the
 * action is the default, is ignored. Then main blocks SIGURG and a thread
 * waits for it in sigwait: a SIGURG sent to the process is its. */
#include "compat.h"

#include <poll.h>
#include <signal.h>

static volatile sig_atomic_t in_main, in_thread;
static pthread_t main_th;
static int ready[2];

static void on_urg(int sig)
{
  (void)sig;
  if (pthread_equal(pthread_self(), main_th))
    in_main++;
  else
    in_thread++;
}

static void *idle(void *arg)
{
  return arg;
}

static void *sleeper(void *arg)
{
  char c = 'r';
  int r;
  (void)arg;
  write(ready[1], &c, 1);
  errno = 0;
  r = poll(NULL, 0, 5000);
  printf("sleeper: poll %d (%s), handler ran here %d time(s)\n", r,
         r < 0 ? strerror(errno) : "-", (int)in_thread);
  return NULL;
}

static sigset_t urg;

static void *waiter(void *arg)
{
  char c = 'r';
  int sig = 0, r;
  (void)arg;
  write(ready[1], &c, 1);
  r = sigwait(&urg, &sig);
  printf("waiter: sigwait %d, signal %s\n", r,
         sig == SIGURG ? "SIGURG" : "other");
  return NULL;
}

int main(void)
{
  struct sigaction a, old;
  pthread_t th;
  char c;

  alarm(20);
  main_th = pthread_self();
  pthread_create(&th, NULL, idle, NULL);
  pthread_join(th, NULL);

  sigaction(SIGURG, NULL, &old);
  printf("SIGURG action before: %s\n",
         old.sa_handler == SIG_DFL ? "default" : "other");
  raise(SIGURG); /* ignored: its default action */
  printf("after a SIGURG at its default action: still here\n");

  memset(&a, 0, sizeof(a));
  a.sa_handler = on_urg;
  sigemptyset(&a.sa_mask);
  sigaction(SIGURG, &a, &old);
  printf("old action: %s\n", old.sa_handler == SIG_DFL ? "default" : "other");
  sigaction(SIGURG, NULL, &old);
  printf("action now: %s\n",
         old.sa_handler == on_urg ? "the handler" : "other");

  raise(SIGURG);
  printf("after raise: main %d\n", (int)in_main);
  kill(getpid(), SIGURG);
  printf("after kill: main %d\n", (int)in_main);

  pipe(ready);
  pthread_create(&th, NULL, sleeper, NULL);
  read(ready[0], &c, 1);
  usleep(100000); /* it is in its poll */
  pthread_kill(th, SIGURG);
  pthread_join(th, NULL);
  printf("total: main %d, thread %d\n", (int)in_main, (int)in_thread);

  /* Blocked by main, waited for by a thread: a SIGURG sent to the process
   * goes to the thread's sigwait (the schedulers' OS threads block it
   * again, once the program catches it). */
  sigemptyset(&urg);
  sigaddset(&urg, SIGURG);
  pthread_sigmask(SIG_BLOCK, &urg, NULL);
  pthread_create(&th, NULL, waiter, NULL);
  read(ready[0], &c, 1);
  usleep(100000); /* it is in its sigwait */
  kill(getpid(), SIGURG);
  pthread_join(th, NULL);
  printf("handler ran: main %d, thread %d\n", (int)in_main, (int)in_thread);
  return 0;
}
