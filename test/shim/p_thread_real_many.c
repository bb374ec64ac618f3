/* p_thread_real_many: real threads (GPATCH_PATCH=-thread) each get a
 * scheduler of their own, and a thread that ended leaves its scheduler to
 * the next one. 300 threads one after another, then rounds of 16 at once,
 * some ending by pthread_exit, one with a signal stack of its own, and a
 * key destructor that sleeps after the runtime let the thread go: every
 * thread can spawn and join coroutines (it has a scheduler: the 64th did
 * not, and ran unpatched), the process's fds stay as many as after the
 * first round, and the runtime says nothing on stderr (it reported each
 * ended thread's scheduler as a coroutine that never yields). */
#include "compat.h"

#include <sys/syscall.h>

#define SEQUENTIAL 300
#define AT_ONCE    16
#define ROUNDS     6

static pthread_key_t key;
static int done; /* threads that have finished their work */

static void *nap(void *arg)
{
  sleep_ms((int)(intptr_t)arg);
  return arg;
}

/* After the thread's scheduler is gone: the sleep is glibc's. */
static void late(void *arg)
{
  (void)arg;
  usleep(1000);
}

/* Two coroutines that sleep at once; 0 when both ran, else 1. */
static int two_naps(void)
{
  gp_coro_t *a, *b;
  void *ra, *rb;

  if (gp_current() == NULL || gp_spawn(&a, nap, (void *)(intptr_t)2) != 0)
    return 1;
  if (gp_spawn(&b, nap, (void *)(intptr_t)3) != 0)
    return 1;
  if (gp_join(a, &ra) != 0 || gp_join(b, &rb) != 0)
    return 1;
  return ra == (void *)(intptr_t)2 && rb == (void *)(intptr_t)3 ? 0 : 1;
}

static void *worker(void *arg)
{
  long i = (long)(intptr_t)arg;
  int r = two_naps();

  pthread_setspecific(key, (void *)1);
  __atomic_fetch_add(&done, 1, __ATOMIC_RELEASE);
  if (i % 3 == 1)
    pthread_exit((void *)(intptr_t)r);
  return (void *)(intptr_t)r;
}

/* With a signal stack of its own, which the runtime must leave alone. */
static void *own_altstack(void *arg)
{
  static char mem[64 * 1024];
  stack_t ss = {.ss_sp = mem, .ss_size = sizeof(mem)}, now;
  int r;

  (void)arg;
  if (sigaltstack(&ss, NULL) != 0)
    return (void *)1;
  r = two_naps();
  if (sigaltstack(NULL, &now) != 0 || now.ss_sp != mem)
    r = 1;
  __atomic_fetch_add(&done, 1, __ATOMIC_RELEASE);
  return (void *)(intptr_t)r;
}

/* The open fds, the runtime's among them: asked of the kernel itself, as
 * the program's own listings and probes leave those out. */
static int fds(void)
{
  int n = 0;
  for (int fd = 0; fd < 4096; fd++)
    n += syscall(SYS_fcntl, fd, F_GETFD) != -1;
  return n;
}

/* Joins t once it has said it is done: a patched sleep meanwhile, not
 * glibc's join, which would hold the main thread's scheduler for as long
 * (the monitor reports that). */
static int join_after(pthread_t t, int *count, int want, void **r)
{
  while (__atomic_load_n(count, __ATOMIC_ACQUIRE) < want)
    usleep(500);
  return pthread_join(t, r);
}

static int run(void)
{
  pthread_t t[AT_ONCE];
  int bad = 0, fds_start = fds(), per_sched = 0, most;
  void *r;

  if (pthread_key_create(&key, late) != 0)
    return 2;
  for (long i = 0; i < SEQUENTIAL; i++) {
    if (pthread_create(&t[0], NULL, worker, (void *)(intptr_t)i) != 0 ||
        join_after(t[0], &done, (int)i + 1, &r) != 0)
      return 2;
    bad += r != NULL;
    if (i == 0)
      per_sched = fds() - fds_start; /* the fds of one scheduler */
  }
  for (int round = 0; round < ROUNDS; round++) {
    int base = __atomic_load_n(&done, __ATOMIC_ACQUIRE);
    for (long i = 0; i < AT_ONCE; i++)
      if (pthread_create(&t[i], NULL, i == 5 ? own_altstack : worker,
                         (void *)(intptr_t)i) != 0)
        return 2;
    for (int i = 0; i < AT_ONCE; i++) {
      if (join_after(t[i], &done, base + AT_ONCE, &r) != 0)
        return 2;
      bad += r != NULL;
    }
  }
  usleep(300000); /* the monitor would report the ended threads by now */
  /* As many schedulers as threads ran at once, at most: not one per
   * thread made. */
  most = fds_start + per_sched * (AT_ONCE + 1);
  printf("threads without a working scheduler: %d\n", bad);
  printf("fds: %d before any thread, %d per scheduler, %d at the end "
         "(at most %d)\n",
         fds_start, per_sched, fds(), most);
  return bad != 0 || per_sched <= 0 || fds() > most;
}

int main(int argc, char **argv)
{
  const char *set[] = {"GPATCH_PATCH=-thread", "GPATCH_MAX_BLOCKING_MS=50",
                       NULL};
  char out[4096], err[4096];
  int rc;

  if (argc > 1) {
    must_reach_end();
    return main_done(run());
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  rc = rerun_self("run", set, out, sizeof(out), err, sizeof(err));
  printf("%s", out);
  EXPECT("every real thread had a scheduler, no fd was lost", rc == 0);
  if (strstr(err, "gpatch:"))
    printf("stderr: %s\n", err);
  EXPECT("the runtime said nothing", strstr(err, "gpatch:") == NULL);
  return compat_failures != 0;
}
