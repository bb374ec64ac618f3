/* d_thread_basic: pthread_create and join, stack sizes, detached threads,
 * tryjoin/timedjoin/clockjoin, self and equal, once, sched_yield, thread
 * names, pthread_kill(th, 0) and __libc_single_threaded, with plain
 * pthread calls: real threads plain, coroutines preloaded. Every outcome
 * is printed, so both runs must agree on each return value. */
#include "compat.h"

#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/single_threaded.h>

#define EN(r) ((r) == 0 ? "0" : strerrorname_np(r))

static sem_t go;   /* releases a thread parked in blocked() */
static sem_t done; /* posted by detached threads as they finish */

static void *ret_arg(void *arg)
{
  return arg;
}

static void *blocked(void *arg)
{
  while (sem_wait(&go) != 0)
    ;
  return arg;
}

static void *blocked_detached(void *arg)
{
  while (sem_wait(&go) != 0)
    ;
  sem_post(&done);
  return arg;
}

static pthread_t seen_self;
static void *self_fn(void *arg)
{
  seen_self = pthread_self();
  return (void *)(intptr_t)pthread_join(pthread_self(), NULL);
}

/* Reports its stack's size and whether a local lies inside it. */
static void *stack_fn(void *arg)
{
  volatile char big[16 * 1024];
  pthread_attr_t a;
  size_t size = 0;
  void *lo = NULL;

  memset((char *)big, 1, sizeof(big));
  if (pthread_getattr_np(pthread_self(), &a) != 0)
    return (void *)1;
  pthread_attr_getstack(&a, &lo, &size);
  pthread_attr_destroy(&a);
  *(size_t *)arg = size;
  if ((char *)big < (char *)lo || (char *)big >= (char *)lo + size)
    return (void *)2;
  return (void *)(intptr_t)big[100];
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs, once_done;
static pthread_barrier_t once_bar;

static void once_init(void)
{
  once_runs++;
  sched_yield(); /* let the others arrive while it runs */
  usleep(10000);
  once_done = 1;
}

static void *once_fn(void *arg)
{
  pthread_barrier_wait(&once_bar);
  pthread_once(&once, once_init);
  return (void *)(intptr_t)once_done; /* init finished before once returned */
}

static void *name_fn(void *arg)
{
  char buf[16] = "";
  int r = pthread_getname_np(pthread_self(), buf, sizeof(buf));
  while (sem_wait(&go) != 0)
    ;
  if (r == 0)
    r = pthread_getname_np(pthread_self(), buf, sizeof(buf));
  SAY("name seen by the thread itself: %s %s\n", EN(r), buf);
  return NULL;
}

int main(void)
{
  pthread_t th, th2;
  pthread_attr_t attr;
  void *ret = NULL;
  int r;
  struct timespec abs;

  setvbuf(stdout, NULL, _IOLBF, 0);
  sem_init(&go, 0, 0);
  sem_init(&done, 0, 0);

  /* create and join; glibc's pthread_create clears __libc_single_threaded,
   * by which libstdc++ chooses atomic reference counts (it stayed 1 with
   * one scheduler, which made no OS thread) */
  r = pthread_create(&th, NULL, ret_arg, (void *)42);
  SAY("create: %s, single-threaded after %d\n", EN(r),
      (int)__libc_single_threaded);
  r = pthread_join(th, &ret);
  SAY("join: %s, value %ld\n", EN(r), (long)(intptr_t)ret);
  r = pthread_join(pthread_self(), NULL);
  SAY("join self (main): %s\n", EN(r));
  pthread_create(&th, NULL, self_fn, NULL);
  pthread_join(th, &ret);
  SAY("join self (thread): %s\n", EN((int)(intptr_t)ret));
  SAY("self in the thread equals the creator's handle: %d\n",
      pthread_equal(seen_self, th) != 0);
  SAY("equal(self, self): %d\n",
      pthread_equal(pthread_self(), pthread_self()) != 0);
  pthread_create(&th, NULL, blocked, NULL);
  SAY("equal(other, self): %d\n", pthread_equal(th, pthread_self()) != 0);
  SAY("kill(live, 0): %s\n", EN(pthread_kill(th, 0)));
  sem_post(&go);
  pthread_join(th, NULL);
  SAY("sched_yield: %d\n", sched_yield());

  /* stack size */
  for (size_t want = 64 * 1024; want <= 1024 * 1024; want *= 16) {
    size_t got = 0;
    pthread_attr_init(&attr);
    r = pthread_attr_setstacksize(&attr, want);
    SAY("setstacksize %zu KiB: %s\n", want / 1024, EN(r));
    r = pthread_create(&th, &attr, stack_fn, &got);
    pthread_attr_destroy(&attr);
    SAY("create with it: %s\n", EN(r));
    pthread_join(th, &ret);
    SAY("it ran: %ld; getattr_np stack >= asked: %d\n", (long)(intptr_t)ret,
        got >= want);
  }

  /* detached threads */
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  r = pthread_create(&th, &attr, blocked_detached, NULL);
  pthread_attr_destroy(&attr);
  SAY("create detached: %s\n", EN(r));
  SAY("join detached: %s\n", EN(pthread_join(th, NULL)));
  SAY("detach detached: %s\n", EN(pthread_detach(th)));
  sem_post(&go);
  sem_wait(&done);
  pthread_create(&th, NULL, blocked_detached, NULL);
  SAY("pthread_detach: %s\n", EN(pthread_detach(th)));
  SAY("join after detach: %s\n", EN(pthread_join(th, NULL)));
  SAY("tryjoin after detach: %s\n", EN(pthread_tryjoin_np(th, NULL)));
  sem_post(&go);
  sem_wait(&done);
  SAY("detached thread finished\n");

  /* tryjoin, timedjoin, clockjoin */
  pthread_create(&th, NULL, blocked, (void *)7);
  SAY("tryjoin running: %s\n", EN(pthread_tryjoin_np(th, NULL)));
  sem_post(&go);
  while ((r = pthread_tryjoin_np(th, &ret)) == EBUSY)
    usleep(1000);
  SAY("tryjoin finished: %s, value %ld\n", EN(r), (long)(intptr_t)ret);

  pthread_create(&th, NULL, blocked, (void *)8);
  abs_in(&abs, CLOCK_REALTIME, 50);
  r = pthread_timedjoin_np(th, &ret, &abs);
  SAY("timedjoin running: %s; waited until the time: %d\n", EN(r),
      reached(CLOCK_REALTIME, &abs));
  sem_post(&go);
  abs_in(&abs, CLOCK_REALTIME, 5000);
  ret = NULL;
  r = pthread_timedjoin_np(th, &ret, &abs);
  SAY("timedjoin finishing: %s, value %ld\n", EN(r), (long)(intptr_t)ret);

  pthread_create(&th, NULL, blocked, (void *)9);
  abs_in(&abs, CLOCK_MONOTONIC, 50);
  r = pthread_clockjoin_np(th, &ret, CLOCK_MONOTONIC, &abs);
  SAY("clockjoin monotonic running: %s; waited until the time: %d\n", EN(r),
      reached(CLOCK_MONOTONIC, &abs));
  sem_post(&go);
  abs_in(&abs, CLOCK_MONOTONIC, 5000);
  ret = NULL;
  r = pthread_clockjoin_np(th, &ret, CLOCK_MONOTONIC, &abs);
  SAY("clockjoin finishing: %s, value %ld\n", EN(r), (long)(intptr_t)ret);

  /* once, with 5 threads racing */
  pthread_t ot[5];
  int all_done = 1;
  pthread_barrier_init(&once_bar, NULL, 5);
  for (int i = 0; i < 5; i++)
    pthread_create(&ot[i], NULL, once_fn, NULL);
  for (int i = 0; i < 5; i++) {
    pthread_join(ot[i], &ret);
    all_done &= ret == (void *)1;
  }
  SAY("once: init ran %d time(s); done before each once returned: %d\n",
      once_runs, all_done);
  pthread_once(&once, once_init);
  SAY("once again: init ran %d time(s)\n", once_runs);
  pthread_barrier_destroy(&once_bar);

  /* names */
  char mainname[16] = "", buf[16] = "";
  r = pthread_getname_np(pthread_self(), mainname, sizeof(mainname));
  SAY("getname main: %s %s\n", EN(r), mainname);
  pthread_create(&th, NULL, name_fn, NULL);
  r = pthread_getname_np(th, buf, sizeof(buf));
  SAY("a new thread has its creator's name: %s %d\n", EN(r),
      strcmp(buf, mainname) == 0);
  SAY("setname 15 chars: %s\n", EN(pthread_setname_np(th, "fifteen-chars-x")));
  r = pthread_getname_np(th, buf, sizeof(buf));
  SAY("getname: %s %s\n", EN(r), buf);
  SAY("setname 16 chars: %s\n", EN(pthread_setname_np(th, "sixteen-chars-xx")));
  SAY("setname worker-1: %s\n", EN(pthread_setname_np(th, "worker-1")));
  r = pthread_getname_np(th, buf, sizeof(buf));
  SAY("getname: %s %s\n", EN(r), buf);
  r = pthread_getname_np(th, buf, 9);
  SAY("getname into 9 bytes: %s\n", EN(r));
  sem_post(&go);
  pthread_join(th, NULL);
  SAY("setname main: %s\n", EN(pthread_setname_np(pthread_self(), "main-x")));
  r = pthread_getname_np(pthread_self(), buf, sizeof(buf));
  SAY("getname main: %s %s\n", EN(r), buf);
  pthread_create(&th2, NULL, name_fn, NULL);
  r = pthread_getname_np(th2, buf, sizeof(buf));
  SAY("a thread made after that: %s %s\n", EN(r), buf);
  sem_post(&go);
  pthread_join(th2, NULL);
  pthread_setname_np(pthread_self(), mainname);
  return 0;
}
