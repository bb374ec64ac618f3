/* d_thread_sem: POSIX semaphores — sem_init's value, post and wait across
 * threads, trywait's EAGAIN, timedwait's ETIMEDOUT and EINVAL (in errno),
 * clockwait on CLOCK_MONOTONIC, getvalue, and a process-shared semaphore
 * in MAP_SHARED memory used by a parent and its forked child (it stays a
 * real one under the preload). */
#include "compat.h"

#include <limits.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define EN(r) ((r) == 0 ? "0" : strerrorname_np(r))

static sem_t s, items, done;

/* -1 with errno's name, or 0. */
static const char *res(int r)
{
  return r == 0 ? "0" : r == -1 ? strerrorname_np(errno) : "?";
}

static void *consumer(void *p)
{
  long got = 0;
  for (int i = 0; i < 50; i++) {
    while (sem_wait(&items) != 0)
      ;
    got++;
  }
  sem_post(&done);
  return (void *)got;
}

static void *poster(void *p)
{
  sleep_ms(30);
  sem_post(p);
  return NULL;
}

int main(void)
{
  pthread_t th[2];
  struct timespec abs;
  int v = -1, r;
  void *ret;

  setvbuf(stdout, NULL, _IOLBF, 0);
  SAY("sem_init 3: %s\n", res(sem_init(&s, 0, 3)));
  sem_getvalue(&s, &v);
  SAY("value: %d\n", v);
  SAY("trywait x3: %s ", res(sem_trywait(&s)));
  SAY("%s ", res(sem_trywait(&s)));
  SAY("%s\n", res(sem_trywait(&s)));
  errno = 0;
  SAY("trywait at 0: %s\n", res(sem_trywait(&s)));
  sem_getvalue(&s, &v);
  SAY("value: %d\n", v);
  SAY("sem_init SEM_VALUE_MAX+1: %s\n",
      res(sem_init(&done, 0, (unsigned)SEM_VALUE_MAX + 1)));

  /* Across threads. */
  sem_init(&items, 0, 0);
  sem_init(&done, 0, 0);
  pthread_create(&th[0], NULL, consumer, NULL);
  for (int i = 0; i < 50; i++) {
    sem_post(&items);
    if (i % 7 == 0)
      sched_yield();
  }
  while (sem_wait(&done) != 0)
    ;
  pthread_join(th[0], &ret);
  sem_getvalue(&items, &v);
  SAY("consumer got %ld; value left %d\n", (long)ret, v);

  /* A waiter woken by a post from another thread. */
  pthread_create(&th[0], NULL, poster, &s);
  r = sem_wait(&s);
  SAY("sem_wait woken by another thread's post: %s\n", res(r));
  pthread_join(th[0], NULL);

  /* Timeouts. */
  abs_in(&abs, CLOCK_REALTIME, 100);
  r = sem_timedwait(&s, &abs);
  SAY("timedwait: %s; not early: %d\n", res(r), reached(CLOCK_REALTIME, &abs));
  abs_in(&abs, CLOCK_MONOTONIC, 100);
  r = sem_clockwait(&s, CLOCK_MONOTONIC, &abs);
  SAY("clockwait monotonic: %s; not early: %d\n", res(r),
      reached(CLOCK_MONOTONIC, &abs));
  abs_in(&abs, CLOCK_REALTIME, 0);
  abs.tv_sec -= 1;
  SAY("timedwait, time passed: %s\n", res(sem_timedwait(&s, &abs)));
  abs.tv_nsec = 1000000000L;
  SAY("timedwait, tv_nsec 1e9: %s\n", res(sem_timedwait(&s, &abs)));
  sem_post(&s);
  SAY("timedwait, tv_nsec 1e9, value 1: %s\n", res(sem_timedwait(&s, &abs)));
  abs.tv_nsec = -1;
  SAY("timedwait, tv_nsec -1: %s\n", res(sem_timedwait(&s, &abs)));
  abs_in(&abs, CLOCK_MONOTONIC, 10);
  SAY("clockwait, bad clock: %s\n",
      res(sem_clockwait(&s, CLOCK_PROCESS_CPUTIME_ID, &abs)));
  abs_in(&abs, CLOCK_REALTIME, 5000);
  pthread_create(&th[0], NULL, poster, &s);
  SAY("timedwait woken by a post: %s\n", res(sem_timedwait(&s, &abs)));
  pthread_join(th[0], NULL);
  abs_in(&abs, CLOCK_MONOTONIC, 5000);
  pthread_create(&th[0], NULL, poster, &s);
  SAY("clockwait woken by a post: %s\n",
      res(sem_clockwait(&s, CLOCK_MONOTONIC, &abs)));
  pthread_join(th[0], NULL);
  sem_getvalue(&s, &v);
  SAY("value: %d\n", v);
  SAY("sem_destroy: %s\n", res(sem_destroy(&s)));

  /* Process-shared, between a parent and its forked child. */
  sem_t *ps = mmap(NULL, 2 * sizeof(sem_t), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (ps == MAP_FAILED)
    return 1;
  SAY("sem_init shared: %s %s\n", res(sem_init(&ps[0], 1, 0)),
      res(sem_init(&ps[1], 1, 0)));
  pid_t pid = fork();
  if (pid == 0) {
    int ok = sem_wait(&ps[0]) == 0; /* the parent's post */
    ok &= sem_post(&ps[1]) == 0;    /* back */
    abs_in(&abs, CLOCK_REALTIME, 50);
    ok &= sem_timedwait(&ps[0], &abs) == -1 && errno == ETIMEDOUT;
    ok &= sem_wait(&ps[0]) == 0;
    _exit(ok ? 0 : 1);
  }
  sleep_ms(30); /* the child is waiting */
  SAY("parent posts: %s\n", res(sem_post(&ps[0])));
  SAY("parent waits for the child's post: %s\n", res(sem_wait(&ps[1])));
  sleep_ms(100); /* the child's timedwait ends */
  sem_post(&ps[0]);
  int st = -1;
  waitpid(pid, &st, 0);
  SAY("child: exited %d, status %d\n", WIFEXITED(st), WEXITSTATUS(st));
  sem_getvalue(&ps[0], &v);
  SAY("shared value: %d\n", v);
  sem_destroy(&ps[0]);
  sem_destroy(&ps[1]);
  return 0;
}
