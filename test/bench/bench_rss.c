/* bench_rss.c: the memory an idle coroutine costs, against a real thread.
 *
 * Each case runs in a child process of its own, so that pooled stacks and
 * allocator state from one case do not flatter the next. The child reads
 * /proc/self/statm (resident pages) and counts the lines of /proc/self/maps
 * (VMAs) with the scheduler already set up, spawns N coroutines that each
 * block in gp_event_wait on one event (or N pthreads, default attributes,
 * that each block in pthread_cond_wait), reads both again once all are
 * blocked, then releases and joins them. For threads the kernel's own cost is
 * shown too: the growth of KernelStack in /proc/meminfo, memory that RSS does
 * not count (it is system-wide, so other activity on the machine adds
 * noise). Page tables (VmPTE) are counted apart, as the kernel keeps them
 * beside RSS, and so is the time from the first spawn until all N are
 * blocked. These are figures, not a test.
 *
 * Usage: bench_rss [N...] (default 10000 100000 coroutines; threads are
 * measured for the first N only). */
#define _GNU_SOURCE
#include "gpatch.h"
#include "config.h"
#include "stack.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* What one case measured. */
struct sample {
  long n;             /* coroutines or threads that were blocked */
  long rss_before;    /* resident pages before spawning */
  long rss_after;     /* resident pages with all N blocked */
  long vma_before;    /* lines of /proc/self/maps before */
  long vma_after;     /* and with all N blocked */
  long kstack_before; /* KernelStack in /proc/meminfo, KiB */
  long kstack_after;
  long pte_before; /* VmPTE of this process, KiB */
  long pte_after;
  double create_s;   /* from the first spawn until all N are blocked */
  int guard;         /* coroutines: enum gp__guard_kind of the stacks */
  size_t stack_size; /* coroutines: the default stack size, bytes */
  int ok;            /* nonzero when the case ran to the end */
};

static long page_kib;

/* Resident pages of this process (second field of /proc/self/statm). */
static long rss_pages(void)
{
  long size = 0, res = 0;
  FILE *f = fopen("/proc/self/statm", "re");
  if (f) {
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
      res = 0;
    fclose(f);
  }
  return res;
}

/* The number of VMAs (lines of /proc/self/maps). */
static long vma_count(void)
{
  long n = 0;
  int c;
  FILE *f = fopen("/proc/self/maps", "re");
  if (f == NULL)
    return -1;
  while ((c = getc_unlocked(f)) != EOF)
    n += c == '\n';
  fclose(f);
  return n;
}

/* The number of the first line of a /proc file that format ("VmPTE: %ld
 * kB") matches, in KiB, or -1. */
static long proc_kib(const char *path, const char *format)
{
  char line[256];
  long v = -1;
  FILE *f = fopen(path, "re");
  if (f == NULL)
    return -1;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, format, &v) == 1)
      break;
  fclose(f);
  return v;
}

/* VmPTE (page tables) of this process, in KiB, or -1. */
static long pte_kib(void)
{
  return proc_kib("/proc/self/status", "VmPTE: %ld kB");
}

/* KernelStack of the machine, in KiB, or -1. */
static long kernel_stack_kib(void)
{
  return proc_kib("/proc/meminfo", "KernelStack: %ld kB");
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void before(struct sample *s)
{
  s->kstack_before = kernel_stack_kib();
  s->vma_before = vma_count();
  s->pte_before = pte_kib();
  s->rss_before = rss_pages();
  s->create_s = now_s();
}

static void after(struct sample *s)
{
  s->create_s = now_s() - s->create_s;
  s->rss_after = rss_pages();
  s->pte_after = pte_kib();
  s->vma_after = vma_count();
  s->kstack_after = kernel_stack_kib();
}

static gp_event_t *go_event;

static void *coro_idle(void *arg)
{
  (void)arg;
  gp_event_wait(go_event, GP_FOREVER);
  return NULL;
}

/* N coroutines blocked on one event. */
static void case_coro(struct sample *s)
{
  gp_coro_t **cos = malloc((size_t)s->n * sizeof(*cos));
  int err;

  if (cos == NULL || gp_event_new(&go_event) != 0)
    return;
  memset(cos, 0, (size_t)s->n * sizeof(*cos)); /* resident before, too */
  gp_yield(); /* the scheduler and its hub exist before the baseline */
  before(s);
  for (long i = 0; i < s->n; i++)
    if ((err = gp_spawn(&cos[i], coro_idle, NULL)) != 0) {
      fprintf(stderr, "bench_rss: gp_spawn #%ld: %s\n", i, strerror(-err));
      return;
    }
  gp_yield(); /* every coroutine runs once and blocks */
  after(s);
  s->guard = gp__stack_guard_kind();
  s->stack_size = gp__config.stack_size;
  gp_event_set(go_event);
  if (gp_joinall(cos, (size_t)s->n, NULL, GP_FOREVER) != 0)
    return;
  gp_event_free(go_event);
  free(cos);
  s->ok = 1;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t arrived = PTHREAD_COND_INITIALIZER;
static pthread_cond_t go_cond = PTHREAD_COND_INITIALIZER;
static long nwaiting;
static int go;

static void *thread_idle(void *arg)
{
  (void)arg;
  pthread_mutex_lock(&mu);
  nwaiting++;
  pthread_cond_signal(&arrived);
  while (!go)
    pthread_cond_wait(&go_cond, &mu);
  pthread_mutex_unlock(&mu);
  return NULL;
}

/* N real threads blocked on one condition variable. */
static void case_thread(struct sample *s)
{
  pthread_t *ts = malloc((size_t)s->n * sizeof(*ts));
  long made = 0;
  int err = 0;

  if (ts == NULL)
    return;
  memset(ts, 0, (size_t)s->n * sizeof(*ts));
  before(s);
  for (; made < s->n; made++)
    if ((err = pthread_create(&ts[made], NULL, thread_idle, NULL)) != 0) {
      fprintf(stderr, "bench_rss: pthread_create #%ld: %s\n", made,
              strerror(err));
      break;
    }
  pthread_mutex_lock(&mu);
  while (nwaiting < made)
    pthread_cond_wait(&arrived, &mu);
  pthread_mutex_unlock(&mu);
  after(s);
  pthread_mutex_lock(&mu);
  go = 1;
  pthread_cond_broadcast(&go_cond);
  pthread_mutex_unlock(&mu);
  for (long i = 0; i < made; i++)
    pthread_join(ts[i], NULL);
  free(ts);
  s->ok = err == 0;
}

/* Runs one case in a child process and returns what it measured. */
static struct sample run_case(void (*fn)(struct sample *), long n)
{
  struct sample s = {.n = n};
  int p[2], status;
  pid_t pid;

  if (pipe(p) != 0)
    return s;
  fflush(stdout);
  pid = fork();
  if (pid < 0)
    return s;
  if (pid == 0) {
    close(p[0]);
    fn(&s);
    if (write(p[1], &s, sizeof(s)) != (ssize_t)sizeof(s))
      _exit(1);
    _exit(0);
  }
  close(p[1]);
  if (read(p[0], &s, sizeof(s)) != (ssize_t)sizeof(s))
    s.ok = 0;
  close(p[0]);
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    s.ok = 0;
  return s;
}

static double kib_each(const struct sample *s)
{
  return (double)(s->rss_after - s->rss_before) * (double)page_kib /
         (double)s->n;
}

static double pte_each(const struct sample *s)
{
  return (double)(s->pte_after - s->pte_before) / (double)s->n;
}

static void print_row(const char *what, const struct sample *s)
{
  char label[64];
  snprintf(label, sizeof(label), "%s, N=%ld", what, s->n);
  if (!s->ok) {
    printf("%-36s %s\n", label, "failed");
    return;
  }
  printf("%-36s %10ld %10.2f %8.2f %8.2f %8ld %8ld\n", label,
         (s->rss_after - s->rss_before) * page_kib, kib_each(s), pte_each(s),
         s->create_s * 1e6 / (double)s->n, s->vma_before, s->vma_after);
}

int main(int argc, char **argv)
{
  long ns[8] = {10000, 100000};
  int nn = 2;
  struct sample co[8], th;

  if (argc > 1) {
    nn = 0;
    for (int i = 1; i < argc && nn < 8; i++)
      if ((ns[nn] = atol(argv[i])) > 0)
        nn++;
    if (nn == 0) {
      fprintf(stderr, "usage: bench_rss [N...]\n");
      return 2;
    }
  }
  page_kib = sysconf(_SC_PAGESIZE) / 1024;
  for (int i = 0; i < nn; i++)
    co[i] = run_case(case_coro, ns[i]);
  th = run_case(case_thread, ns[0]);

  printf("%-36s %10s %10s %8s %8s %8s %8s\n", "idle, blocked", "RSS KiB",
         "KiB each", "PTE KiB", "create", "VMAs", "VMAs");
  printf("%-36s %10s %10s %8s %8s %8s %8s\n", "", "(growth)", "", "each",
         "us each", "before", "with N");
  for (int i = 0; i < nn; i++)
    print_row("coroutines (gp_event_wait)", &co[i]);
  print_row("pthreads (pthread_cond_wait)", &th);
  if (th.ok && th.kstack_before >= 0) {
    long k = th.kstack_after - th.kstack_before;
    printf("%-36s %10ld %10.2f            (KernelStack growth, not in RSS)\n",
           "  + kernel stacks of the threads", k, (double)k / (double)th.n);
  }
  {
    static const char *guards[] = {"MADV_GUARD_INSTALL", "mprotect", "canary"};
    pthread_attr_t a;
    size_t tsize = 0;
    pthread_attr_init(&a);
    pthread_attr_getstacksize(&a, &tsize);
    pthread_attr_destroy(&a);
    printf("(coroutine stacks %zu KiB, guard %s; pthread stacks %zu KiB)\n",
           co[0].stack_size / 1024,
           co[0].ok && co[0].guard >= 0 && co[0].guard <= 2
               ? guards[co[0].guard]
               : "?",
           tsize / 1024);
  }
  printf("\n");
  if (th.ok && co[0].ok && kib_each(&co[0]) > 0) {
    printf("ratio pthread/coroutine RSS at N=%ld: %.1fx\n", th.n,
           kib_each(&th) / kib_each(&co[0]));
    if (th.kstack_before >= 0)
      printf("ratio with kernel stacks:           %.1fx\n",
             (kib_each(&th) +
              (double)(th.kstack_after - th.kstack_before) / (double)th.n) /
                 kib_each(&co[0]));
    if (th.kstack_before >= 0 && th.pte_before >= 0 && co[0].pte_before >= 0)
      printf("ratio with kernel stacks and page tables: %.1fx\n",
             (kib_each(&th) + pte_each(&th) +
              (double)(th.kstack_after - th.kstack_before) / (double)th.n) /
                 (kib_each(&co[0]) + pte_each(&co[0])));
  }
  return 0;
}
