/* d_thread_sched: the calls that take a pthread_t to read or set a
 * thread's scheduling, CPU set and CPU clock, or to queue it a signal,
 * work on a thread of the runtime as on a real one: same results, same
 * errors. glibc's own read the thread's struct pthread, which a thread's
 * handle is not: pthread_getschedparam(pthread_self()) in main hung in a
 * lock word it found there (rsyslogd at start), and in a thread it said
 * ESRCH.
 *
 * Each of main, a thread on itself, and main on that thread: policy and
 * priority read back; SCHED_OTHER at priority 0 set again; a bad policy
 * and a bad priority give EINVAL; the CPU set is the process's, set again
 * as it is, and an empty one is EINVAL; the CPU clock can be read; a
 * queued signal runs the handler. */
#include "compat.h"

#include <sched.h>
#include <signal.h>

static volatile sig_atomic_t handled;
static int ready[2], done[2];

static void on_usr1(int sig)
{
  (void)sig;
  handled++;
}

static void check(const char *who, pthread_t th)
{
  struct sched_param sp = {0}, bad = {.sched_priority = 5};
  cpu_set_t cs, all, none;
  clockid_t clk;
  struct timespec ts;
  int pol = -1, r;

  r = pthread_getschedparam(th, &pol, &sp);
  printf("%s: getschedparam %s, policy %s, priority %d\n", who, strerror(r),
         pol == SCHED_OTHER ? "SCHED_OTHER" : "other", sp.sched_priority);
  r = pthread_setschedparam(th, SCHED_OTHER, &sp);
  printf("%s: setschedparam SCHED_OTHER 0: %s\n", who, strerror(r));
  r = pthread_setschedparam(th, 12345, &sp);
  printf("%s: setschedparam policy 12345: %s\n", who, strerror(r));
  r = pthread_setschedparam(th, SCHED_OTHER, &bad);
  printf("%s: setschedparam SCHED_OTHER 5: %s\n", who, strerror(r));
  r = pthread_setschedprio(th, 0);
  printf("%s: setschedprio 0: %s\n", who, strerror(r));

  CPU_ZERO(&cs);
  sched_getaffinity(0, sizeof(all), &all);
  r = pthread_getaffinity_np(th, sizeof(cs), &cs);
  printf("%s: getaffinity %s, the process's set %d\n", who, strerror(r),
         CPU_EQUAL(&cs, &all));
  r = pthread_setaffinity_np(th, sizeof(cs), &cs);
  printf("%s: setaffinity as it is: %s\n", who, strerror(r));
  CPU_ZERO(&none);
  r = pthread_setaffinity_np(th, sizeof(none), &none);
  printf("%s: setaffinity empty: %s\n", who, strerror(r));

  r = pthread_getcpuclockid(th, &clk);
  printf("%s: getcpuclockid %s, clock_gettime %d\n", who, strerror(r),
         r == 0 ? clock_gettime(clk, &ts) : -2);
}

static void *thread(void *arg)
{
  char c = 'r';
  (void)arg;
  check("thread on itself", pthread_self());
  write(ready[1], &c, 1);
  read(done[0], &c, 1);
  return NULL;
}

int main(void)
{
  struct sigaction a;
  union sigval v = {.sival_int = 7};
  pthread_t th;
  char c = 'd';
  int r;

  alarm(20);
  memset(&a, 0, sizeof(a));
  a.sa_handler = on_usr1;
  sigaction(SIGUSR1, &a, NULL);
  pipe(ready);
  pipe(done);

  check("main before threads", pthread_self());
  pthread_create(&th, NULL, thread, NULL);
  read(ready[0], &c, 1);
  check("main on the thread", th);
  check("main", pthread_self());

  r = pthread_sigqueue(pthread_self(), SIGUSR1, v);
  printf("sigqueue to main: %s, handled %d\n", strerror(r), (int)handled);
  r = pthread_sigqueue(th, SIGUSR1, v);
  c = 'd';
  write(done[1], &c, 1);
  pthread_join(th, NULL);
  printf("sigqueue to the thread: %s, handled %d\n", strerror(r), (int)handled);
  return 0;
}
