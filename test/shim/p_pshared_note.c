/* p_pshared_note (patched only): a process-shared object that glibc's own
 * wait serves (an rwlock, a recursive mutex), taken while other threads
 * live, stops its OS thread's other coroutines while it waits; the runtime
 * says so on stderr, once. It says nothing for a normal process-shared
 * mutex and condition variable (taken by tries), nor for a program with
 * one thread. The program re-runs itself for each case and reads the
 * child's stderr. */
#include "compat.h"

static void *idle(void *arg)
{
  sleep_ms(50);
  return arg;
}

/* The child: twice (the note is said once), the object of the case taken
 * and given back, with a thread alive ("lone": none). */
static int child(const char *what)
{
  pthread_rwlockattr_t ra;
  pthread_rwlock_t rw;
  pthread_mutexattr_t ma;
  pthread_mutex_t m;
  pthread_condattr_t ca;
  pthread_cond_t c;
  struct timespec abs;
  pthread_t t;
  int lone = strcmp(what, "lone") == 0;

  pthread_rwlockattr_init(&ra);
  pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED);
  pthread_rwlock_init(&rw, &ra);
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
  if (strcmp(what, "recursive") == 0)
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&m, &ma);
  pthread_condattr_init(&ca);
  pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
  pthread_cond_init(&c, &ca);
  if (!lone && pthread_create(&t, NULL, idle, NULL) != 0)
    return 2;
  for (int round = 0; round < 2; round++) {
    if (strcmp(what, "rwlock") == 0 || lone) {
      pthread_rwlock_wrlock(&rw);
      pthread_rwlock_unlock(&rw);
    }
    if (strcmp(what, "rwlock") != 0) {
      pthread_mutex_lock(&m);
      abs_in(&abs, CLOCK_REALTIME, 1);
      pthread_cond_timedwait(&c, &m, &abs);
      pthread_mutex_unlock(&m);
    }
  }
  if (!lone)
    pthread_join(t, NULL);
  return 0;
}

/* One case: whether the note must be there (once) or not at all. */
static int check(const char *what, int want)
{
  const char *set[] = {"GPATCH_CORES=1", NULL};
  return check_note(what, set, "wait on a process-shared", want, what);
}

int main(int argc, char **argv)
{
  int fails = 0;

  if (argc > 1)
    return child(argv[1]);
  if (!patched()) {
    fprintf(stderr, "not patched\n");
    return 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  fails += check("rwlock", 1);
  fails += check("recursive", 1);
  fails += check("normal", 0);
  fails += check("lone", 0);
  return fails ? 1 : 0;
}
