/* d_thread_keys: thread-specific data — a value per thread, destructors at
 * thread exit (with the value, not for NULL values, in key order, again
 * while they set values, up to PTHREAD_DESTRUCTOR_ITERATIONS rounds), key
 * deletion and re-creation. Output comes from one thread at a time. */
#include "compat.h"

#include <limits.h>
#include <semaphore.h>

#define EN(r) ((r) == 0 ? "0" : strerrorname_np(r))

static pthread_key_t ka, kb, kr;
static sem_t step[4], stepped[4];
static int a_runs, b_runs, r_runs;
static char log_[256];

static void destr_a(void *v)
{
  a_runs++;
  strcat(log_, "a:");
  strcat(log_, (const char *)v);
  strcat(log_, " ");
}

static void destr_b(void *v)
{
  b_runs++;
  strcat(log_, "b:");
  strcat(log_, (const char *)v);
  strcat(log_, " ");
}

/* Sets its own key again each time: runs once per round. */
static void destr_r(void *v)
{
  r_runs++;
  pthread_setspecific(kr, (char *)v + 1);
}

struct arg {
  int i;           /* which thread */
  const char *val; /* what it stores in ka */
  int seen_ok;     /* out: it saw only its own values */
};

static void *worker(void *p)
{
  struct arg *a = p;
  int ok = pthread_getspecific(ka) == NULL && pthread_getspecific(kb) == NULL;
  ok &= pthread_setspecific(ka, a->val) == 0;
  if (a->i == 0)
    ok &= pthread_setspecific(kb, "B0") == 0; /* the others leave kb NULL */
  /* Every thread holds its value while the others set theirs. */
  sem_post(&stepped[a->i]);
  while (sem_wait(&step[a->i]) != 0)
    ;
  ok &= pthread_getspecific(ka) == a->val;
  a->seen_ok = ok;
  return NULL;
}

static void *rounds(void *p)
{
  static char buf[64];
  pthread_setspecific(kr, buf);
  return NULL;
}

static void *getter(void *p)
{
  return pthread_getspecific(*(pthread_key_t *)p);
}

int main(void)
{
  pthread_t th[4];
  struct arg args[4];
  static const char *vals[4] = {"v0", "v1", "v2", "v3"};
  void *ret;

  setvbuf(stdout, NULL, _IOLBF, 0);
  SAY("create ka: %s\n", EN(pthread_key_create(&ka, destr_a)));
  SAY("create kb: %s\n", EN(pthread_key_create(&kb, destr_b)));
  SAY("main's value before set: %p\n", pthread_getspecific(ka));
  SAY("main sets ka: %s\n", EN(pthread_setspecific(ka, "main")));
  for (int i = 0; i < 4; i++) {
    sem_init(&step[i], 0, 0);
    sem_init(&stepped[i], 0, 0);
    args[i] = (struct arg){i, vals[i], 0};
    pthread_create(&th[i], NULL, worker, &args[i]);
  }
  for (int i = 0; i < 4; i++)
    sem_wait(&stepped[i]);
  /* One at a time, so that the destructors' log is in a known order. */
  for (int i = 0; i < 4; i++) {
    sem_post(&step[i]);
    pthread_join(th[i], NULL);
    SAY("thread %d saw only its own values: %d; destructors: %s\n", i,
        args[i].seen_ok, log_);
    log_[0] = '\0';
  }
  SAY("destructor runs: a %d, b %d (none for NULL values)\n", a_runs, b_runs);
  SAY("main's value after: %s\n", (const char *)pthread_getspecific(ka));

  /* Rounds: a destructor that sets its key again runs again, up to the
   * limit. */
  SAY("create kr: %s\n", EN(pthread_key_create(&kr, destr_r)));
  pthread_create(&th[0], NULL, rounds, NULL);
  pthread_join(th[0], NULL);
  SAY("re-setting destructor ran %d times (PTHREAD_DESTRUCTOR_ITERATIONS "
      "%d)\n",
      r_runs, PTHREAD_DESTRUCTOR_ITERATIONS);

  /* Deleting a key: no destructor for it later; a new key starts empty. */
  pthread_create(&th[0], NULL, worker, &args[0]);
  sem_wait(&stepped[0]);
  SAY("delete ka: %s\n", EN(pthread_key_delete(ka)));
  SAY("delete kb: %s\n", EN(pthread_key_delete(kb)));
  pthread_key_t knew;
  SAY("create a new key: %s\n", EN(pthread_key_create(&knew, destr_a)));
  SAY("main's value of the new key: %p\n", pthread_getspecific(knew));
  pthread_create(&th[1], NULL, getter, &knew);
  pthread_join(th[1], &ret);
  SAY("a new thread's value of it: %p\n", ret);
  a_runs = b_runs = 0;
  sem_post(&step[0]);
  pthread_join(th[0], NULL);
  SAY("destructors after delete: a %d, b %d\n", a_runs, b_runs);
  static char x[] = "x";
  int r = pthread_setspecific(knew, x);
  SAY("setspecific on the new key: %s, get back: %d\n", EN(r),
      pthread_getspecific(knew) == x);
  SAY("delete it: %s\n", EN(pthread_key_delete(knew)));
  pthread_key_t none;
  SAY("create without destructor: %s\n", EN(pthread_key_create(&none, NULL)));
  r = pthread_setspecific(none, &none);
  SAY("set/get: %s %d\n", EN(r), pthread_getspecific(none) == &none);
  pthread_key_delete(none);
  return 0;
}
