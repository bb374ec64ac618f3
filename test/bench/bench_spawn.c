/* bench_spawn.c: the cost of starting and finishing a coroutine, against a
 * real thread.
 *
 * gp_spawn + gp_join of a coroutine that returns at once, with the stack
 * pool warm (one at a time, and in batches of BATCH joined with gp_joinall),
 * against pthread_create + pthread_join of the same function. Each figure is
 * the best of its runs. These are figures, not a test: the exit status is 0
 * unless something fails outright.
 *
 * BENCH_SCALE (a factor, default 1) scales every iteration count. */
#define _GNU_SOURCE
#include "gpatch.h"
#include "scheduler.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Coroutines per batch in the gp_joinall case. */
#define BATCH 1000
/* What this project aims for, in ns per spawn + join. */
#define TARGET_NS 1000.0

static double scale = 1.0;

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* An iteration count scaled by BENCH_SCALE, at least min. */
static long iters(long n, long min)
{
  double v = (double)n * scale;
  return v < min ? min : (long)v;
}

static void die(const char *what, int err)
{
  fprintf(stderr, "bench_spawn: %s failed: %s\n", what, strerror(-err));
  exit(1);
}

static void *trivial(void *arg)
{
  return arg;
}

/* Spawns and joins n coroutines one at a time. Returns ns per pair and adds
 * the context switches it took to *switches. */
static double gp_one(long n, uint64_t *switches)
{
  struct gp__stats s0, s1;
  gp_coro_t *co;
  int err;

  gp__sched_stats(&s0);
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) {
    if ((err = gp_spawn(&co, trivial, NULL)) != 0)
      die("gp_spawn", err);
    if ((err = gp_join(co, NULL)) != 0)
      die("gp_join", err);
  }
  uint64_t dt = now_ns() - t0;
  gp__sched_stats(&s1);
  *switches = s1.switches - s0.switches;
  return (double)dt / (double)n;
}

/* Spawns BATCH coroutines, joins them all with gp_joinall, n / BATCH times.
 * Returns ns per coroutine. */
static double gp_batch(long n, uint64_t *switches)
{
  static gp_coro_t *cos[BATCH];
  struct gp__stats s0, s1;
  long rounds = n / BATCH;
  int err;

  gp__sched_stats(&s0);
  uint64_t t0 = now_ns();
  for (long r = 0; r < rounds; r++) {
    for (int i = 0; i < BATCH; i++)
      if ((err = gp_spawn(&cos[i], trivial, NULL)) != 0)
        die("gp_spawn", err);
    if ((err = gp_joinall(cos, BATCH, NULL, GP_FOREVER)) != 0)
      die("gp_joinall", err);
  }
  uint64_t dt = now_ns() - t0;
  gp__sched_stats(&s1);
  *switches = s1.switches - s0.switches;
  return (double)dt / (double)(rounds * BATCH);
}

/* pthread_create + pthread_join, n times, default attributes. Returns ns per
 * pair. */
static double pt_one(long n)
{
  pthread_t t;
  int err;

  uint64_t t0 = now_ns();
  for (long i = 0; i < n; i++) {
    if ((err = pthread_create(&t, NULL, trivial, NULL)) != 0)
      die("pthread_create", -err);
    if ((err = pthread_join(t, NULL)) != 0)
      die("pthread_join", -err);
  }
  return (double)(now_ns() - t0) / (double)n;
}

int main(void)
{
  const char *sc = getenv("BENCH_SCALE");
  long n_one, n_batch, n_pt;
  double one = 1e30, batch = 1e30, pt = 1e30;
  uint64_t sw_one = 0, sw_batch = 0, sw;

  if (sc && *sc) {
    scale = strtod(sc, NULL);
    if (!(scale > 0))
      scale = 1.0;
  }
  n_one = iters(1000000, 1000);
  n_batch = iters(1000000, BATCH) / BATCH * BATCH;
  n_pt = iters(100000, 100);

  /* Warm up: the scheduler, the hub, a batch of pooled stacks and structs
   * whose pages are already touched. */
  gp_batch(BATCH, &sw);
  gp_one(1000, &sw);

  for (int r = 0; r < 3; r++) {
    double v = gp_one(n_one, &sw);
    if (v < one) {
      one = v;
      sw_one = sw;
    }
    v = gp_batch(n_batch, &sw);
    if (v < batch) {
      batch = v;
      sw_batch = sw;
    }
  }
  pt_one(100); /* warm up: the first thread stack, the allocator */
  for (int r = 0; r < 3; r++) {
    double v = pt_one(n_pt);
    if (v < pt)
      pt = v;
  }

  printf("%-44s %10s %10s %10s\n", "spawn + join (best of 3)", "count",
         "ns each", "switches");
  printf("%-44s %10ld %10.1f %10.2f\n", "gp_spawn + gp_join, one at a time",
         n_one, one, (double)sw_one / (double)n_one);
  printf("%-44s %10ld %10.1f %10.2f\n", "gp_spawn x1000 + gp_joinall", n_batch,
         batch, (double)sw_batch / (double)n_batch);
  printf("%-44s %10ld %10.1f %10s\n", "pthread_create + pthread_join", n_pt, pt,
         "-");
  printf("\nratio pthread/gp (one at a time): %.1fx\n", pt / one);
  printf("ratio pthread/gp (batches):       %.1fx\n", pt / batch);
  printf("gp_spawn + gp_join one at a time: %.2f us (target <= %.1f us)\n",
         one / 1000.0, TARGET_NS / 1000.0);
  return 0;
}
