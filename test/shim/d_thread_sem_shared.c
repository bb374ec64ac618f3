/* d_thread_sem_shared: process-shared semaphores (sem_init with pshared 1
 * in MAP_SHARED memory, and sem_open's named ones, which multiprocessing's
 * locks are) waited on by one thread while another thread of the process,
 * or another process, posts. They stay the kernel's under the preload; the
 * wait must still let the other threads run: a post from a thread after
 * 20 ms, from a forked child after 30 ms while a thread of the parent
 * sleeps, sem_timedwait's ETIMEDOUT, sem_trywait's EAGAIN, and a named
 * semaphore used as a lock by two threads. */
#include "compat.h"

#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/wait.h>

static sem_t *sem;
static int counter;

static const char *res(int r)
{
  return r == 0 ? "0" : r == -1 ? strerrorname_np(errno) : "?";
}

static void *post_later(void *arg)
{
  sleep_ms((long)(intptr_t)arg);
  check_threads(1);
  return (void *)(intptr_t)sem_post(sem);
}

/* Takes the named semaphore as a lock 100 times, holding it across a
 * sleep now and then. */
static void *locker(void *arg)
{
  sem_t *lock = arg;
  for (int i = 0; i < 100; i++) {
    if (sem_wait(lock) != 0)
      return (void *)1;
    int c = counter;
    if (i % 25 == 0)
      sleep_ms(2);
    counter = c + 1;
    sem_post(lock);
  }
  return NULL;
}

int main(void)
{
  struct task t, u;
  struct timespec abs;
  char name[64];
  double t0;
  pid_t pid;
  int st = 0;

  sem = mmap(NULL, sizeof(*sem), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sem == MAP_FAILED || sem_init(sem, 1, 0) != 0)
    return 2;

  spawn(&t, post_later, (void *)20);
  SAY("wait, a thread posts: %s\n", res(sem_wait(sem)));
  EXPECT("poster", join(&t) == NULL);

  SAY("trywait at 0: %s\n", res(sem_trywait(sem)));

  spawn(&t, post_later, (void *)300);
  abs_in(&abs, CLOCK_REALTIME, 50);
  t0 = now_ms();
  SAY("timedwait 50 ms: %s\n", res(sem_timedwait(sem, &abs)));
  EXPECT("timedwait waited until its deadline", reached(CLOCK_REALTIME, &abs));
  EXPECT("timedwait did not wait for the post", now_ms() - t0 < 250);
  SAY("then wait for the post: %s\n", res(sem_wait(sem)));
  EXPECT("poster", join(&t) == NULL);

  pid = fork();
  if (pid == 0) {
    sleep_ms(30);
    sem_post(sem);
    _exit(0);
  }
  spawn(&t, post_later, (void *)200); /* a thread of the parent is alive */
  SAY("wait, a child process posts: %s\n", res(sem_wait(sem)));
  waitpid(pid, &st, 0);
  SAY("child exit %d\n", WEXITSTATUS(st));
  EXPECT("poster", join(&t) == NULL);
  SAY("wait for the thread's post: %s\n", res(sem_wait(sem)));

  snprintf(name, sizeof(name), "/gpatch-test-%d", (int)getpid());
  sem_t *lock = sem_open(name, O_CREAT | O_EXCL, 0600, 1);
  if (lock == SEM_FAILED)
    return 2;
  sem_unlink(name);
  spawn(&t, locker, lock);
  spawn(&u, locker, lock);
  EXPECT("locker 1", join(&t) == NULL);
  EXPECT("locker 2", join(&u) == NULL);
  SAY("counter under the named lock: %d\n", counter);
  sem_close(lock);
  return compat_failures != 0;
}
