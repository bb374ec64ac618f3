/* d_thread_exit: pthread_exit's value reaches the joiner; cleanup handlers
 * run innermost first on pthread_exit and on pthread_cleanup_pop(1), not on
 * pop(0) nor on a plain return; pthread_exit in main waits for the other
 * threads and the process exits 0; exit() from another thread ends the
 * process with its status. The last two run in forked children. */
#include "compat.h"

#include <sys/wait.h>

static char log_[128];

static void note(void *s)
{
  strcat(log_, s);
  strcat(log_, " ");
}

static void *exits_with(void *p)
{
  pthread_exit(p);
  return NULL;
}

static void deeper(void)
{
  pthread_cleanup_push(note, "inner");
  pthread_exit((void *)7);
  pthread_cleanup_pop(0);
}

static void *nested(void *p)
{
  pthread_cleanup_push(note, "outer");
  pthread_cleanup_push(note, "middle");
  deeper();
  pthread_cleanup_pop(0);
  pthread_cleanup_pop(0);
  return NULL;
}

static void *pops(void *p)
{
  pthread_cleanup_push(note, "a");
  pthread_cleanup_push(note, "b");
  pthread_cleanup_push(note, "c");
  pthread_cleanup_pop(1); /* runs c */
  pthread_cleanup_pop(0); /* b not run */
  pthread_cleanup_pop(1); /* runs a */
  return (void *)3;
}

static void *returns(void *p)
{
  pthread_cleanup_push(note, "never");
  if (p)
    return p; /* a return does not run cleanup handlers (glibc) */
  pthread_cleanup_pop(0);
  return NULL;
}

static void *late(void *p)
{
  sleep_ms(100);
  SAY("child: the other thread finished its work\n");
  return NULL;
}

static void *quitter(void *p)
{
  sleep_ms(20);
  exit(7);
}

static void *locker(void *m)
{
  pthread_mutex_lock(m);
  return NULL;
}

static void say_main(void *p)
{
  SAY("child: main's cleanup handler ran\n");
}

static void show_status(const char *what, int st)
{
  if (WIFEXITED(st))
    SAY("%s: exit status %d\n", what, WEXITSTATUS(st));
  else
    SAY("%s: killed by signal %d\n", what, WTERMSIG(st));
}

int main(void)
{
  pthread_t th;
  void *ret = NULL;
  int st = -1;
  pid_t pid;

  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_create(&th, NULL, exits_with, (void *)42);
  pthread_join(th, &ret);
  SAY("pthread_exit value: %ld\n", (long)ret);

  pthread_create(&th, NULL, nested, NULL);
  pthread_join(th, &ret);
  SAY("nested cleanups: %s; value %ld\n", log_, (long)ret);
  log_[0] = '\0';
  pthread_create(&th, NULL, pops, NULL);
  pthread_join(th, &ret);
  SAY("pops: %s; value %ld\n", log_, (long)ret);
  log_[0] = '\0';
  pthread_create(&th, NULL, returns, (void *)5);
  pthread_join(th, &ret);
  SAY("return: '%s'; value %ld\n", log_, (long)ret);

  /* pthread_exit in main: the process lives until the others are done. */
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    pthread_create(&th, NULL, late, NULL);
    pthread_cleanup_push(say_main, NULL);
    pthread_exit(NULL);
    pthread_cleanup_pop(0);
  }
  waitpid(pid, &st, 0);
  show_status("pthread_exit in main", st);

  /* exit() from a thread ends the whole process with its status. */
  pid = fork();
  if (pid == 0) {
    pthread_create(&th, NULL, quitter, NULL);
    pthread_join(th, NULL);
    SAY("child: join returned\n"); /* never */
    _exit(1);
  }
  waitpid(pid, &st, 0);
  show_status("exit(7) from a thread", st);

  /* A thread blocked elsewhere does not hold up exit(). */
  pid = fork();
  if (pid == 0) {
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);
    pthread_create(&th, NULL, locker, &m);
    sleep_ms(20);
    exit(3);
  }
  waitpid(pid, &st, 0);
  show_status("exit(3) with a blocked thread", st);
  return 0;
}
