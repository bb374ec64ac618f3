/* d_thread_pshared: process-shared mutexes and condition variables in
 * MAP_SHARED memory, used by the threads of one process and by a forked
 * child, as fio's semaphores (a counter under a mutex and a condition
 * variable) are. They stay glibc's under the preload, and a real wait on
 * one stopped every coroutine of its OS thread: the thread that was to
 * unlock or signal never ran, and fio hung at start (always at cores 1).
 * A down waited for a thread's up, eight threads' ups, a mutex held across
 * sleeps by four threads, a broadcast to five waiters, timedwait's and
 * timedlock's ETIMEDOUT and EINVAL, and an up from a forked child. */
#include "compat.h"

#include <sys/mman.h>
#include <sys/wait.h>

#define EN(r) ((r) == 0 ? "0" : strerrorname_np(r))

struct shared {
  pthread_mutex_t m;
  pthread_cond_t c;
  int value, waiters, counter, gen;
};

static struct shared *sh;

static void up(void)
{
  pthread_mutex_lock(&sh->m);
  sh->value++;
  if (sh->waiters)
    pthread_cond_signal(&sh->c);
  pthread_mutex_unlock(&sh->m);
}

static void down(void)
{
  pthread_mutex_lock(&sh->m);
  while (sh->value == 0) {
    sh->waiters++;
    pthread_cond_wait(&sh->c, &sh->m);
    sh->waiters--;
  }
  sh->value--;
  pthread_mutex_unlock(&sh->m);
}

static void *up_later(void *arg)
{
  sleep_ms((long)(intptr_t)arg);
  up();
  return NULL;
}

/* Takes the mutex 100 times, holding it across a sleep now and then. */
static void *locker(void *arg)
{
  for (int i = 0; i < 100; i++) {
    pthread_mutex_lock(&sh->m);
    int c = sh->counter;
    if (i % 25 == 0)
      sleep_ms(2);
    sh->counter = c + 1;
    pthread_mutex_unlock(&sh->m);
  }
  return arg;
}

static void *hold(void *arg)
{
  pthread_mutex_lock(&sh->m);
  sleep_ms((long)(intptr_t)arg);
  pthread_mutex_unlock(&sh->m);
  return NULL;
}

static void *wait_gen(void *arg)
{
  pthread_mutex_lock(&sh->m);
  int my = sh->gen;
  sh->waiters++;
  while (sh->gen == my)
    pthread_cond_wait(&sh->c, &sh->m);
  sh->waiters--;
  pthread_mutex_unlock(&sh->m);
  return arg;
}

int main(void)
{
  pthread_mutexattr_t ma;
  pthread_condattr_t ca;
  struct task t[8];
  struct timespec abs;
  pid_t pid;
  int st = 0, r;

  setvbuf(stdout, NULL, _IOLBF, 0);
  sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED)
    return 2;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
  pthread_condattr_init(&ca);
  pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
  SAY("mutex init: %s\n", EN(pthread_mutex_init(&sh->m, &ma)));
  SAY("cond init: %s\n", EN(pthread_cond_init(&sh->c, &ca)));

  spawn(&t[0], up_later, (void *)20);
  down();
  SAY("down, a thread ups after 20 ms: ok\n");
  EXPECT("upper", join(&t[0]) == NULL);

  for (int i = 0; i < 8; i++)
    spawn(&t[i], up_later, (void *)(intptr_t)(5 + i));
  for (int i = 0; i < 8; i++)
    down();
  SAY("eight downs, eight threads up: value %d\n", sh->value);
  for (int i = 0; i < 8; i++)
    EXPECT("upper", join(&t[i]) == NULL);

  for (int i = 0; i < 4; i++)
    spawn(&t[i], locker, NULL);
  for (int i = 0; i < 4; i++)
    EXPECT("locker", join(&t[i]) == NULL);
  SAY("counter under the mutex: %d\n", sh->counter);

  for (int i = 0; i < 5; i++)
    spawn(&t[i], wait_gen, NULL);
  for (int waiting = 0; waiting < 5;) {
    sleep_ms(2);
    pthread_mutex_lock(&sh->m);
    waiting = sh->waiters;
    pthread_mutex_unlock(&sh->m);
  }
  pthread_mutex_lock(&sh->m);
  sh->gen++;
  SAY("broadcast: %s\n", EN(pthread_cond_broadcast(&sh->c)));
  pthread_mutex_unlock(&sh->m);
  for (int i = 0; i < 5; i++)
    EXPECT("waiter", join(&t[i]) == NULL);
  SAY("five waiters woken, %d left waiting\n", sh->waiters);

  pthread_mutex_lock(&sh->m);
  abs_in(&abs, CLOCK_REALTIME, 50);
  do
    r = pthread_cond_timedwait(&sh->c, &sh->m, &abs);
  while (r == 0); /* a wake-up with no signal is allowed */
  SAY("timedwait 50 ms: %s; deadline reached: %d; mutex held: %s\n", EN(r),
      reached(CLOCK_REALTIME, &abs), EN(pthread_mutex_trylock(&sh->m)));
  abs.tv_nsec = -1;
  SAY("timedwait, tv_nsec -1: %s\n",
      EN(pthread_cond_timedwait(&sh->c, &sh->m, &abs)));
  pthread_mutex_unlock(&sh->m);

  spawn(&t[0], hold, (void *)300);
  sleep_ms(20);
  abs_in(&abs, CLOCK_MONOTONIC, 50);
  r = pthread_mutex_clocklock(&sh->m, CLOCK_MONOTONIC, &abs);
  SAY("clocklock of a held mutex, 50 ms: %s; deadline reached: %d\n", EN(r),
      reached(CLOCK_MONOTONIC, &abs));
  abs.tv_nsec = 1000000000L;
  SAY("timedlock, tv_nsec 1e9: %s\n",
      EN(pthread_mutex_timedlock(&sh->m, &abs)));
  EXPECT("holder", join(&t[0]) == NULL);

  pid = fork();
  if (pid == 0) {
    sleep_ms(30);
    up();
    _exit(0);
  }
  spawn(&t[0], up_later, (void *)200); /* a thread of the parent lives */
  down();
  SAY("down, a child process ups: ok\n");
  waitpid(pid, &st, 0);
  SAY("child exit %d\n", WEXITSTATUS(st));
  EXPECT("upper", join(&t[0]) == NULL);
  down();
  SAY("down for the thread's up: ok\n");
  SAY("cond destroy: %s, mutex destroy: %s\n", EN(pthread_cond_destroy(&sh->c)),
      EN(pthread_mutex_destroy(&sh->m)));
  return compat_failures != 0;
}
