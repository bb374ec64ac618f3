/* d_thread_cancel_io: deferred cancellation of a thread blocked in sleep(),
 * nanosleep(), read() on a pipe, poll(): the join gets PTHREAD_CANCELED and
 * the cleanup handler ran. A join that does not end within 5 s says so
 * instead of hanging. */
#include "compat.h"

#include <poll.h>
#include <semaphore.h>

static sem_t ready;
static int pipefd[2];
static char log_[256];

static void note(void *s)
{
  strcat(log_, s);
  strcat(log_, " ");
}

static void *in_sleep(void *p)
{
  pthread_cleanup_push(note, "sleep-cleanup");
  sem_post(&ready);
  for (;;)
    if (sleep(100) != 0)
      strcat(log_, "sleep-returned ");
  pthread_cleanup_pop(0);
  return NULL;
}

static void *in_nanosleep(void *p)
{
  struct timespec ts = {100, 0};
  pthread_cleanup_push(note, "nanosleep-cleanup");
  sem_post(&ready);
  for (;;)
    if (nanosleep(&ts, NULL) != 0)
      strcat(log_, "nanosleep-returned ");
  pthread_cleanup_pop(0);
  return NULL;
}

static void *in_read(void *p)
{
  char c;
  pthread_cleanup_push(note, "read-cleanup");
  sem_post(&ready);
  for (;;)
    if (read(pipefd[0], &c, 1) != 1)
      strcat(log_, "read-returned ");
  pthread_cleanup_pop(0);
  return NULL;
}

static void *in_poll(void *p)
{
  struct pollfd pfd = {pipefd[0], POLLIN, 0};
  pthread_cleanup_push(note, "poll-cleanup");
  sem_post(&ready);
  for (;;)
    if (poll(&pfd, 1, -1) != 1)
      strcat(log_, "poll-returned ");
  pthread_cleanup_pop(0);
  return NULL;
}

static void run(const char *name, void *(*fn)(void *))
{
  pthread_t th;
  struct timespec abs;
  void *ret = NULL;
  int r, j;

  log_[0] = '\0';
  pthread_create(&th, NULL, fn, NULL);
  while (sem_wait(&ready) != 0)
    ;
  sleep_ms(30); /* it is blocked by now */
  r = pthread_cancel(th);
  clock_gettime(CLOCK_REALTIME, &abs);
  abs.tv_sec += 5;
  j = pthread_timedjoin_np(th, &ret, &abs);
  if (j != 0)
    SAY("%s: cancel %d; join: %s; %s\n", name, r, strerrorname_np(j), log_);
  else
    SAY("%s: cancel %d; joined %s; %s\n", name, r,
        ret == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "a value", log_);
}

int main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  sem_init(&ready, 0, 0);
  if (pipe(pipefd) != 0)
    return 1;
  run("sleep", in_sleep);
  run("nanosleep", in_nanosleep);
  run("read", in_read);
  run("poll", in_poll);
  return 0;
}
