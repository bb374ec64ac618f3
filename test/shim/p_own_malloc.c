/* p_own_malloc (patched only): a program whose malloc is linked into it.
 * Such an allocator's thread-local state is copied per coroutine with the
 * program's, which is not safe across OS threads (README, Limitations), so
 * GPATCH_CORES=auto (the default) runs it on one scheduler and says so on
 * stderr once, at its first thread; GPATCH_CORES=2, the user's explicit
 * choice, gives it two and says nothing. The program re-runs itself for
 * each setting and looks at the scheduler threads (gpatch-sched) while
 * its thread runs, and at what the runtime wrote on stderr. With
 * GPATCH_TLS=thread each thread's TLS is its own, the allocator's included:
 * auto then gives it every CPU. */
#include "compat.h"

#include <sched.h>

static void own_malloc_enter(void)
{
}
static void own_malloc_leave(void)
{
}
#include "own_malloc.h"

/* ---- the check ---- */

static int sched_comm(const char *comm)
{
  return strncmp(comm, "gpatch-sched", 12) == 0;
}

static void *thread(void *arg)
{
  char *p = malloc(100);
  (void)arg;
  sleep_ms(50); /* the workers, if any, are up by now */
  if (p)
    strcpy(p, "ok");
  return p;
}

/* The child: makes one thread and prints how many workers ran meanwhile. */
static int child(void)
{
  pthread_t t;
  void *r = NULL;
  int n;

  if (pthread_create(&t, NULL, thread, NULL) != 0)
    return 2;
  sleep_ms(20);
  n = count_tasks(sched_comm); /* the runtime's scheduler threads */
  pthread_join(t, &r);
  printf("workers %d, thread %s\n", n, r ? (char *)r : "(null)");
  return 0;
}

/* Runs this program as the child with GPATCH_CORES=cores (NULL: unset,
 * the default) and GPATCH_TLS=tls (NULL: copy, the default); its stdout
 * and stderr in out and err. Returns its exit status. */
static int run(const char *cores, const char *tls, char *out, size_t outsz,
               char *err, size_t errsz)
{
  char cv[64], tv[64];
  const char *set[3] = {NULL, NULL, NULL};
  int n = 0;

  if (cores) {
    snprintf(cv, sizeof(cv), "GPATCH_CORES=%s", cores);
    set[n++] = cv;
  }
  if (tls) {
    snprintf(tv, sizeof(tv), "GPATCH_TLS=%s", tls);
    set[n++] = tv;
  }
  return rerun_self("child", set, out, outsz, err, errsz);
}

int main(int argc, char **argv)
{
  static const char word[] = "gpatch: one scheduler, not GPATCH_CORES=auto's";
  char out[512], err[2048], want[64];
  cpu_set_t set;
  int rc, fails = 0;

  if (argc > 1)
    return child();
  if (!patched()) {
    fprintf(stderr, "not patched\n");
    return 1;
  }
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) < 2) {
    printf("skipped: one CPU, where auto is one scheduler anyway\n");
    return 0;
  }
  rc = run("auto", NULL, out, sizeof(out), err, sizeof(err));
  if (rc != 0 || strcmp(out, "workers 0, thread ok\n") != 0 ||
      occurrences(err, word) != 1) {
    printf("FAIL auto: exit %d, stdout '%s', stderr '%s'\n", rc, out, err);
    fails++;
  } else {
    printf("ok: auto runs it on one scheduler and says so once\n");
  }
  rc = run("2", NULL, out, sizeof(out), err, sizeof(err));
  if (rc != 0 || strcmp(out, "workers 1, thread ok\n") != 0 ||
      strstr(err, "gpatch:") != NULL) {
    printf("FAIL GPATCH_CORES=2: exit %d, stdout '%s', stderr '%s'\n", rc, out,
           err);
    fails++;
  } else {
    printf("ok: GPATCH_CORES=2 gives it two schedulers, without a word\n");
  }
  /* With a thread pointer per thread its allocator's state is its own. */
  rc = run("auto", "thread", out, sizeof(out), err, sizeof(err));
  snprintf(want, sizeof(want), "workers %d, thread ok\n", CPU_COUNT(&set) - 1);
  if (rc != 0 || strcmp(out, want) != 0 || strstr(err, "gpatch:") != NULL) {
    printf("FAIL auto with GPATCH_TLS=thread: exit %d, stdout '%s', "
           "stderr '%s'\n",
           rc, out, err);
    fails++;
  } else {
    printf("ok: auto with GPATCH_TLS=thread runs it on every CPU\n");
  }
  return fails ? 1 : 0;
}
