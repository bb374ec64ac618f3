/* thread_create.c: the cost of pthread_create + pthread_join of a thread
 * that returns at once, one pair at a time.
 *
 * A plain pthreads program that knows nothing of libgpatch: scripts/
 * bench-threads runs it as it is and under LD_PRELOAD=libgpatch.so, where
 * each pair is a coroutine spawn and join. It warms up (stacks cached or
 * pooled), then times N pairs and prints one line:
 *   pairs=N ns_per_pair=X threads=T
 * where T is the process's OS threads (/proc/self/status) at the end.
 * Figures, not a test: the exit status is nonzero only when a create or a
 * join fails.
 *
 *   thread_create [pairs]    (default 100000) */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *trivial(void *arg)
{
  return arg;
}

/* Creates and joins n threads one after another. Returns 0, or -1. */
static int pairs(long n)
{
  for (long i = 0; i < n; i++) {
    pthread_t t;
    void *ret;
    int err = pthread_create(&t, NULL, trivial, (void *)(intptr_t)i);
    if (err != 0) {
      fprintf(stderr, "thread_create: pthread_create: %s\n", strerror(err));
      return -1;
    }
    if ((err = pthread_join(t, &ret)) != 0 || ret != (void *)(intptr_t)i) {
      fprintf(stderr, "thread_create: pthread_join: %s\n",
              err ? strerror(err) : "wrong value");
      return -1;
    }
  }
  return 0;
}

/* The process's OS threads, from /proc/self/status, or -1. */
static long os_threads(void)
{
  char line[256];
  long v = -1;
  FILE *f = fopen("/proc/self/status", "re");

  if (f == NULL)
    return -1;
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, "Threads:", 8) == 0) {
      v = strtol(line + 8, NULL, 10);
      break;
    }
  fclose(f);
  return v;
}

int main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 100000;
  uint64_t t0, t1;

  if (n <= 0) {
    fprintf(stderr, "usage: thread_create [pairs]\n");
    return 2;
  }
  if (pairs(n / 10 + 1) != 0)
    return 1;
  t0 = now_ns();
  if (pairs(n) != 0)
    return 1;
  t1 = now_ns();
  printf("pairs=%ld ns_per_pair=%.1f threads=%ld\n", n,
         (double)(t1 - t0) / (double)n, os_threads());
  return 0;
}
