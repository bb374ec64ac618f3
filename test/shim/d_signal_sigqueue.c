/* d_signal_sigqueue: pthread_sigqueue's value and code reach the handler
 * (SA_SIGINFO), as glibc sends them: SI_QUEUE, the sender's pid, the
 * value. From main to a thread waiting in a read, from that thread to main
 * waiting in a read, and from a thread to itself. The runtime sent them as
 * pthread_kill does: SI_USER and no value.
 *
 * Each handler run notes its code, value and pid by the value's number. */
#include "compat.h"

#include <signal.h>

enum { TO_THREAD, TO_MAIN, TO_SELF, CASES };
static const char *const names[] = {"main to a waiting thread",
                                    "a thread to main, waiting",
                                    "a thread to itself"};

static volatile sig_atomic_t runs[CASES], codes[CASES], pids_ours[CASES];
static int to_thread[2], to_main[2];
static pthread_t main_thread;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
  int k = si->si_value.sival_int;
  (void)sig;
  (void)uc;
  if (k < 0 || k >= CASES)
    return;
  runs[k]++;
  codes[k] = si->si_code;
  pids_ours[k] = si->si_pid == getpid();
}

static void *thread(void *arg)
{
  union sigval v;
  char c;
  (void)arg;
  /* main queues TO_THREAD while this waits; then "go" */
  if (read(to_thread[0], &c, 1) != 1)
    return (void *)1;
  v.sival_int = TO_SELF;
  if (pthread_sigqueue(pthread_self(), SIGUSR1, v) != 0)
    return (void *)1;
  usleep(100000); /* main waits in its read */
  v.sival_int = TO_MAIN;
  if (pthread_sigqueue(main_thread, SIGUSR1, v) != 0)
    return (void *)1;
  usleep(100000);
  return write(to_main[1], "d", 1) == 1 ? NULL : (void *)1;
}

int main(void)
{
  struct sigaction sa;
  union sigval v = {.sival_int = TO_THREAD};
  pthread_t t;
  void *ret;
  char c;

  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  main_thread = pthread_self();
  if (pipe(to_thread) != 0 || pipe(to_main) != 0 ||
      pthread_create(&t, NULL, thread, NULL) != 0)
    return 1;
  usleep(100000); /* the thread waits in its read */
  if (pthread_sigqueue(t, SIGUSR1, v) != 0 || write(to_thread[1], "g", 1) != 1)
    return 1;
  if (read(to_main[0], &c, 1) != 1 || pthread_join(t, &ret) != 0 || ret != NULL)
    return 1;
  for (int k = 0; k < CASES; k++)
    printf("%s: %d run%s, %s, pid %s\n", names[k], (int)runs[k],
           runs[k] == 1 ? "" : "s",
           codes[k] == SI_QUEUE   ? "SI_QUEUE"
           : codes[k] == SI_USER  ? "SI_USER"
           : codes[k] == SI_TKILL ? "SI_TKILL"
                                  : "another code",
           pids_ours[k] ? "ours" : "another");
  return 0;
}
