/* d_thread_ended: the calls that take a pthread_t answer for a thread that
 * has ended and is not joined yet as glibc's do: pthread_sigqueue,
 * pthread_getschedparam, pthread_setschedparam, pthread_setschedprio and
 * pthread_getcpuclockid say ESRCH, the name calls ENOENT, and
 * pthread_kill says 0 whatever the signal number, but for the two glibc
 * keeps for itself (EINVAL). The runtime's answered 0 for all of them, as
 * if the thread still ran, and EINVAL for a bad number.
 *
 * A live thread (blocked in a read) and main: pthread_kill and
 * pthread_sigqueue of a bad or internal signal number say EINVAL, with no
 * signal sent. */
#include "compat.h"

#include <sched.h>
#include <signal.h>

static int gate[2];

static void *quick(void *arg)
{
  return arg;
}

static void *blocked(void *arg)
{
  char c;
  (void)arg;
  return read(gate[0], &c, 1) == 1 ? NULL : (void *)1;
}

/* Bad and internal signal numbers: glibc's SIGCANCEL and SIGSETXID are
 * 32 and 33 (SIGRTMIN is 34); 65 is NSIG. */
static const int bad_sigs[] = {-1, 32, 33, 65, 999};

static void bad_signals(const char *who, pthread_t th)
{
  union sigval v = {.sival_int = 1};
  for (size_t i = 0; i < sizeof bad_sigs / sizeof bad_sigs[0]; i++)
    printf("%s: pthread_kill %d: %s, pthread_sigqueue %d: %s\n", who,
           bad_sigs[i], strerror(pthread_kill(th, bad_sigs[i])), bad_sigs[i],
           strerror(pthread_sigqueue(th, bad_sigs[i], v)));
}

int main(void)
{
  union sigval v = {.sival_int = 7};
  struct sched_param sp = {0};
  pthread_t t;
  clockid_t clk;
  char name[32];
  int pol, i;

  setvbuf(stdout, NULL, _IONBF, 0);
  if (pipe(gate) != 0 || pthread_create(&t, NULL, blocked, NULL) != 0)
    return 1;
  bad_signals("live thread", t);
  bad_signals("main", pthread_self());
  if (write(gate[1], "x", 1) != 1 || pthread_join(t, NULL) != 0)
    return 1;

  if (pthread_create(&t, NULL, quick, NULL) != 0)
    return 1;
  /* Ended once a queued signal 0 finds no thread (glibc: once the kernel
   * has cleared its tid), within 10 s. */
  for (i = 0; i < 1000 && pthread_sigqueue(t, 0, v) == 0; i++)
    usleep(10000);
  printf("ended: %s\n", i < 1000 ? "yes" : "no, after 10 s");
  printf("pthread_sigqueue SIGUSR1: %s\n",
         strerror(pthread_sigqueue(t, SIGUSR1, v)));
  printf("pthread_getschedparam: %s\n",
         strerror(pthread_getschedparam(t, &pol, &sp)));
  printf("pthread_setschedparam: %s\n",
         strerror(pthread_setschedparam(t, SCHED_OTHER, &sp)));
  printf("pthread_setschedprio: %s\n", strerror(pthread_setschedprio(t, 0)));
  printf("pthread_getcpuclockid: %s\n",
         strerror(pthread_getcpuclockid(t, &clk)));
  printf("pthread_setname_np: %s\n", strerror(pthread_setname_np(t, "x")));
  printf("pthread_getname_np: %s\n",
         strerror(pthread_getname_np(t, name, sizeof name)));
  for (size_t k = 0; k < sizeof bad_sigs / sizeof bad_sigs[0]; k++)
    printf("pthread_kill %d: %s\n", bad_sigs[k],
           strerror(pthread_kill(t, bad_sigs[k])));
  printf("pthread_kill SIGUSR1: %s\n", strerror(pthread_kill(t, SIGUSR1)));
  printf("pthread_join: %s\n", strerror(pthread_join(t, NULL)));
  return 0;
}
