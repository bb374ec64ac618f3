/* d_thread_cancel_fexceptions: C built with -fexceptions (as some
 * distributions build everything): pthread_cleanup_push is then an object
 * with a cleanup function that the unwinding of pthread_exit and
 * pthread_cancel runs, as it runs variables' __attribute__((cleanup)).
 * Patched, the runtime's pthread_exit did not unwind, and neither ran. */
#include "compat.h"

#include <semaphore.h>

#ifndef __EXCEPTIONS
#error "built with -fexceptions (the Makefile gives it by this file's name)"
#endif

static char log_[256];
static sem_t ready;

static void note(void *what)
{
  strcat(log_, what);
  strcat(log_, " ");
}

static void local_done(const char **name)
{
  note((void *)*name);
}

#define LOCAL(name)                                                            \
  const char *name __attribute__((cleanup(local_done))) = #name

static void *exits(void *arg)
{
  pthread_cleanup_push(note, "exit-handler");
  LOCAL(exit_local);
  pthread_exit(arg);
  pthread_cleanup_pop(0);
  return NULL;
}

static void *blocks(void *arg)
{
  LOCAL(outer_local);
  pthread_cleanup_push(note, "cancel-handler");
  LOCAL(inner_local);
  sem_post(&ready);
  for (;;)
    sleep(10);
  pthread_cleanup_pop(0);
  return arg;
}

int main(void)
{
  pthread_t th;
  void *ret = NULL;

  sem_init(&ready, 0, 0);
  pthread_create(&th, NULL, exits, (void *)7);
  pthread_join(th, &ret);
  SAY("pthread_exit: %ld; %s\n", (long)ret, log_);

  log_[0] = '\0';
  pthread_create(&th, NULL, blocks, NULL);
  while (sem_wait(&ready) != 0)
    ;
  sleep_ms(20);
  pthread_cancel(th);
  pthread_join(th, &ret);
  SAY("pthread_cancel: %s; %s\n",
      ret == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "a value", log_);
  return 0;
}
