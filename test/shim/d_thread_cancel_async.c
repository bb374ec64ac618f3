/* d_thread_cancel_async: PTHREAD_CANCEL_ASYNCHRONOUS. A thread that
 * computes without a call is ended by pthread_cancel, its cleanup handler
 * run, and its join gets PTHREAD_CANCELED; a thread that cancels itself
 * ends in pthread_cancel; a cancel made while cancelability was disabled,
 * or deferred, acts as pthread_setcancelstate or pthread_setcanceltype
 * makes it asynchronous and enabled, before they return; a thread that went
 * back to deferred is not ended until its pthread_testcancel. A cleanup
 * handler that waits, run by an asynchronous cancel, waits out its
 * timeout (a deferred one: d_thread_cancel). Before, the
 * runtime took asynchronous as deferred: the computing thread was never
 * ended (the join hung), and the others went on past the call; and a
 * cleanup handler's wait failed at once with EINTR. */
#include "compat.h"

#include <semaphore.h>

static char log_[512];
static volatile int started, canceled, stop;
static volatile unsigned long spins;

static void note(void *s)
{
  strcat(log_, s);
  strcat(log_, " ");
}

/* A cleanup handler that waits: the cancel that runs it does not end its
 * wait (glibc takes no cancel once the thread exits). */
static void waits(void *arg)
{
  sem_t never;
  struct timespec abs;
  int r;

  sem_init(&never, 0, 0);
  abs_in(&abs, CLOCK_REALTIME, 20);
  r = sem_timedwait(&never, &abs);
  note(r == 0               ? "waited:0"
       : errno == ETIMEDOUT ? "waited:ETIMEDOUT"
       : errno == EINTR     ? "waited:EINTR"
                            : "waited:other");
  note(arg);
}

static void wait_for(volatile int *flag)
{
  while (!*flag)
    sched_yield();
}

/* Computes without a call until an asynchronous cancel ends it. */
static void compute_forever(void (*cleanup)(void *), void *arg)
{
  pthread_cleanup_push(cleanup, arg);
  pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
  started = 1;
  for (;;)
    spins++;
  pthread_cleanup_pop(0);
}

static void *computes(void *arg)
{
  compute_forever(note, "spin-cleanup");
  return arg;
}

static void *computes_then_waits(void *arg)
{
  compute_forever(waits, "async");
  return arg;
}

static void *self(void *arg)
{
  pthread_cleanup_push(note, "self-cleanup");
  pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
  pthread_cancel(pthread_self());
  note("self-after-cancel");
  pthread_cleanup_pop(0);
  return arg;
}

static void *enables(void *arg)
{
  int old = -1;

  pthread_cleanup_push(note, "enable-cleanup");
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
  pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
  started = 1;
  wait_for(&canceled);
  while (!stop) /* a computation, cancelability disabled */
    spins++;
  note("survived-disabled");
  pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
  note("enable-returned");
  pthread_cleanup_pop(0);
  return arg;
}

static void *types(void *arg)
{
  pthread_cleanup_push(note, "type-cleanup");
  started = 1;
  wait_for(&canceled);
  note("before-type");
  pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
  note("type-returned");
  pthread_cleanup_pop(0);
  return arg;
}

static void *back_to_deferred(void *arg)
{
  pthread_cleanup_push(note, "deferred-cleanup");
  pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
  pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
  started = 1;
  while (!stop) /* no cancellation point: the cancel waits */
    spins++;
  note("reached-testcancel");
  pthread_testcancel();
  note("testcancel-returned");
  pthread_cleanup_pop(0);
  return arg;
}

static void run(const char *name, void *(*fn)(void *), int cancel_it)
{
  pthread_t th;
  void *ret = NULL;

  log_[0] = 0;
  started = canceled = stop = 0;
  if (pthread_create(&th, NULL, fn, NULL) != 0)
    abort();
  if (cancel_it) {
    wait_for(&started);
    sleep_ms(30); /* it computes meanwhile */
    printf("%s: cancel %d", name, pthread_cancel(th));
    canceled = 1;
    sleep_ms(30);
    stop = 1;
  } else {
    printf("%s:", name);
  }
  printf(" join %d", pthread_join(th, &ret));
  SAY(" canceled %s; %s\n", ret == PTHREAD_CANCELED ? "yes" : "no", log_);
}

int main(void)
{
  alarm(30);
  run("computing", computes, 1);
  run("self", self, 0);
  run("enabled later", enables, 1);
  run("made asynchronous later", types, 1);
  run("back to deferred", back_to_deferred, 1);
  run("cleanup waits, asynchronous", computes_then_waits, 1);
  return 0;
}
