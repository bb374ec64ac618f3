/* d_thread_fork: fork() from a thread other than main. In the child only
 * that thread exists (one OS thread, no trace of the others: a thread that
 * would wake in the meantime prints nothing there), pthread_self is the
 * same, new threads can be made, what the others waited on can be posted
 * (it wakes nobody); the child ends with _exit, or by its only
 * thread returning (status 0). The parent prints after waitpid. */
#include "compat.h"

#include <semaphore.h>
#include <sys/wait.h>

static sem_t stored, never, b_said;
static pthread_t a_handle;
static pid_t parent;

static void *child_thread(void *p)
{
  return (void *)5;
}

static void *b_fn(void *p)
{
  struct timespec abs;
  clock_gettime(CLOCK_REALTIME, &abs);
  abs.tv_nsec += 100000000L;
  abs.tv_sec += abs.tv_nsec / 1000000000L;
  abs.tv_nsec %= 1000000000L;
  while (sem_timedwait(&never, &abs) != 0 && errno == EINTR)
    ;
  SAY("B woke, in the parent: %d\n", getpid() == parent);
  sem_post(&b_said);
  return NULL;
}

static void *a_fn(void *how)
{
  int st = -1;
  while (sem_wait(&stored) != 0)
    ;
  pid_t pid = fork();
  if (pid == 0) {
    pthread_t th;
    void *ret = NULL;
    sleep_ms(300); /* B's wake-up time has passed */
    SAY("child: threads %d\n", os_threads());
    SAY("child: self is the forking thread's handle: %d\n",
        pthread_equal(pthread_self(), a_handle) != 0);
    SAY("child: create %d ", pthread_create(&th, NULL, child_thread, NULL));
    SAY("join %d ", pthread_join(th, &ret));
    SAY("value %ld\n", (long)ret);
    /* B waited on it in the parent: nothing is there to wake here. */
    SAY("child: post B's semaphore %d\n", sem_post(&never));
    if (how == NULL)
      _exit(5);
    return NULL; /* the last thread: the child exits 0 */
  }
  /* waitpid blocks the one OS thread under the preload (README): call it
   * once B has had its say. */
  while (sem_wait(&b_said) != 0)
    ;
  waitpid(pid, &st, 0);
  SAY("parent: child exited %d with %d\n", WIFEXITED(st), WEXITSTATUS(st));
  return NULL;
}

static void once(void *how)
{
  pthread_t a, b;
  pthread_create(&b, NULL, b_fn, NULL);
  pthread_create(&a, NULL, a_fn, how);
  a_handle = a;
  sem_post(&stored);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
}

int main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  parent = getpid();
  sem_init(&stored, 0, 0);
  sem_init(&never, 0, 0);
  sem_init(&b_said, 0, 0);
  SAY("-- child ends with _exit(5)\n");
  once(NULL);
  SAY("-- child's thread returns\n");
  once("return");
  return 0;
}
