/* d_thread_cancel: deferred cancellation of a thread blocked in a
 * cancellation point of the sync family (pthread_cond_wait — its mutex held
 * again when the cleanup handler runs —, sem_wait, pthread_join): the
 * join gets PTHREAD_CANCELED and the cleanup handler ran. Disabled
 * cancellation waits until enabled and a pthread_testcancel; a cancel that
 * comes before the thread first runs still lets it run to its first
 * cancellation point. An init routine of pthread_once cancelled leaves the
 * once as if never called. Blocking I/O and sleeps: d_thread_cancel_io. */
#include "compat.h"

#include <semaphore.h>

static sem_t ready, never, resume;
static pthread_mutex_t em = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static char log_[256];
static pthread_t forever;

static void note(void *s)
{
  strcat(log_, s);
  strcat(log_, " ");
}

/* In the cond_wait case: the mutex must be held by the canceled thread. */
static void cond_cleanup(void *p)
{
  int r = pthread_mutex_lock(&em); /* EDEADLK: it is ours */
  strcat(log_, r == EDEADLK ? "mutex-held " : "mutex-NOT-held ");
  pthread_mutex_unlock(&em);
}

static void *in_cond(void *p)
{
  pthread_mutex_lock(&em);
  pthread_cleanup_push(cond_cleanup, NULL);
  sem_post(&ready);
  for (;;)
    pthread_cond_wait(&cv, &em);
  pthread_cleanup_pop(0);
  return NULL;
}

static void *in_sem(void *p)
{
  pthread_cleanup_push(note, "sem-cleanup");
  sem_post(&ready);
  for (;;)
    sem_wait(&never);
  pthread_cleanup_pop(0);
  return NULL;
}

/* Cleanup handlers pushed in two frames, two in the outer one: the
 * innermost runs first. */
static __attribute__((noinline)) void nested_inner(void)
{
  pthread_cleanup_push(note, "inner");
  sem_post(&ready);
  for (;;)
    sem_wait(&never);
  pthread_cleanup_pop(0);
}

static void *nested(void *p)
{
  pthread_cleanup_push(note, "outer-1");
  pthread_cleanup_push(note, "outer-2");
  nested_inner();
  pthread_cleanup_pop(0);
  pthread_cleanup_pop(0);
  return p;
}

static void *blocks_forever(void *p)
{
  for (;;)
    sem_wait(&never);
  return NULL;
}

static void *in_join(void *p)
{
  pthread_cleanup_push(note, "join-cleanup");
  sem_post(&ready);
  pthread_join(forever, NULL);
  strcat(log_, "join-returned ");
  pthread_cleanup_pop(0);
  return NULL;
}

static void *disabled(void *p)
{
  int old = -1;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
  strcat(log_, old == PTHREAD_CANCEL_ENABLE ? "was-enabled " : "? ");
  pthread_cleanup_push(note, "disabled-cleanup");
  sem_post(&ready);
  while (sem_wait(&resume) != 0) /* main posts after canceling */
    ;
  usleep(10000); /* a cancellation point, disabled */
  pthread_testcancel();
  strcat(log_, "survived-while-disabled ");
  pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
  strcat(log_, old == PTHREAD_CANCEL_DISABLE ? "enabled " : "? ");
  pthread_testcancel();
  strcat(log_, "survived-testcancel ");
  pthread_cleanup_pop(0);
  return NULL;
}

static volatile int go;

#define EARLY_ROUNDS 300

static void *early(void *p)
{
  pthread_cleanup_push(note, "early-cleanup");
  strcat(log_, "early-ran ");
  while (!go)
    sched_yield(); /* not a cancellation point */
  pthread_testcancel();
  strcat(log_, "survived ");
  pthread_cleanup_pop(0);
  return NULL;
}

/* A cleanup handler that waits: the cancel that runs it does not end its
 * wait (glibc takes no cancel once the thread exits). Patched, its wait
 * failed at once with EINTR. */
static void cleanup_waits(void *arg)
{
  struct timespec abs;
  int r;

  abs_in(&abs, CLOCK_REALTIME, 20);
  r = sem_timedwait(&never, &abs);
  strcat(log_, r == 0               ? "waited:0 "
               : errno == ETIMEDOUT ? "waited:ETIMEDOUT "
               : errno == EINTR     ? "waited:EINTR "
                                    : "waited:other ");
  note(arg);
}

static void *tests_then_waits(void *p)
{
  pthread_cleanup_push(cleanup_waits, "testcancel-cleanup");
  sem_post(&ready);
  while (!go)
    sched_yield(); /* not a cancellation point */
  pthread_testcancel();
  pthread_cleanup_pop(0);
  return p;
}

static void run(const char *name, void *(*fn)(void *))
{
  pthread_t th;
  void *ret = NULL;
  int r;

  log_[0] = '\0';
  pthread_create(&th, NULL, fn, NULL);
  while (sem_wait(&ready) != 0)
    ;
  sleep_ms(30); /* it is blocked by now */
  r = pthread_cancel(th);
  pthread_join(th, &ret);
  SAY("%s: cancel %d; joined %s; %s\n", name, r,
      ret == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "a value", log_);
}

/* An init routine of pthread_once cancelled in its sleep: the once is as
 * if never called, and the next call runs the routine again (patched, the
 * next call waited for good on the cancelled one). */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_calls;

static void once_init(void)
{
  if (++once_calls == 1) {
    sem_post(&ready);
    sleep_ms(10000); /* a cancellation point */
  }
}

static void *run_once(void *arg)
{
  pthread_once(&once, once_init);
  return arg;
}

int main(void)
{
  pthread_t th;
  void *ret = NULL;
  int r;

  setvbuf(stdout, NULL, _IOLBF, 0);
  sem_init(&ready, 0, 0);
  sem_init(&never, 0, 0);
  sem_init(&resume, 0, 0);
  run("cond_wait", in_cond);
  SAY("mutex free after: %d\n", pthread_mutex_trylock(&em) == 0);
  pthread_mutex_unlock(&em);
  run("sem_wait", in_sem);
  run("nested", nested);
  pthread_create(&forever, NULL, blocks_forever, NULL);
  run("join", in_join);

  /* Disabled, then enabled. */
  log_[0] = '\0';
  pthread_create(&th, NULL, disabled, NULL);
  while (sem_wait(&ready) != 0)
    ;
  sleep_ms(20);
  r = pthread_cancel(th);
  sem_post(&resume);
  pthread_join(th, &ret);
  SAY("disabled: cancel %d; joined %s; %s\n", r,
      ret == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "a value", log_);

  /* Canceled before it first ran. */
  log_[0] = '\0';
  go = 0;
  pthread_create(&th, NULL, early, NULL);
  r = pthread_cancel(th);
  go = 1;
  pthread_join(th, &ret);
  SAY("before it ran: cancel %d; joined %s; %s\n", r,
      ret == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "a value", log_);

  /* Its cleanup handler waits. */
  log_[0] = '\0';
  go = 0;
  pthread_create(&th, NULL, tests_then_waits, NULL);
  while (sem_wait(&ready) != 0)
    ;
  r = pthread_cancel(th);
  go = 1;
  pthread_join(th, &ret);
  SAY("cleanup waits: cancel %d; joined %s; %s\n", r,
      ret == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "a value", log_);

  /* The same, many times: each thread is joined and the next one made at
   * once. With GPATCH_CORES above 1 the cancel goes to the scheduler the
   * thread was placed on, which may not have taken it from its inbox yet
   * when the thread (run there or by another scheduler) has ended, been
   * joined, and its record been reused. */
  r = 0;
  for (int i = 0; i < EARLY_ROUNDS; i++) {
    log_[0] = '\0';
    go = 0;
    pthread_create(&th, NULL, early, NULL);
    pthread_cancel(th);
    go = 1;
    pthread_join(th, &ret);
    r += ret == PTHREAD_CANCELED;
  }
  SAY("before it ran, %d times: %d PTHREAD_CANCELED\n", EARLY_ROUNDS, r);

  /* Canceling a thread that finished (not yet joined). */
  pthread_create(&th, NULL, blocks_forever, NULL);
  pthread_cancel(forever);
  pthread_join(forever, &ret);
  SAY("the thread blocked forever: joined %s\n",
      ret == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "a value");
  pthread_cancel(th);
  pthread_join(th, NULL);

  pthread_create(&th, NULL, run_once, NULL);
  sem_wait(&ready);
  pthread_cancel(th);
  pthread_join(th, &ret);
  SAY("once's init cancelled: joined %s\n",
      ret == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "a value");
  pthread_once(&once, once_init);
  SAY("once again: init ran %d times\n", once_calls);
  return 0;
}
