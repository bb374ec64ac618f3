/* sleepers.c: the second seed program. Two workers each do five steps and
 * sleep a random fraction of a second between them — with plain libc
 * nanosleep(), not a gp_ call. Under libgpatch the sleep parks only the
 * worker that sleeps, so the workers interleave and the whole run takes as
 * long as the slower worker, not the sum of both.
 *
 * The sleeps are random but seeded (argv[1], default 1) so that runs can be
 * compared. */
#include <gpatch.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct worker {
  const char *name; /* printed on each step */
  unsigned seed;    /* rand_r state */
  long slept_ms;    /* total sleep requested */
};

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double start;

static void *work(void *arg)
{
  struct worker *w = arg;
  for (int i = 0; i < 5; i++) {
    long ms = 10 + rand_r(&w->seed) % 90; /* 10..99 ms */
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL); /* a plain libc call, patched */
    w->slept_ms += ms;
    printf("%6.0f ms  %s step %d (slept %ld ms)\n", now_ms() - start, w->name,
           i, ms);
  }
  return NULL;
}

int main(int argc, char **argv)
{
  unsigned seed = argc > 1 ? (unsigned)atoi(argv[1]) : 1;
  struct worker w[2] = {{"foo", seed, 0}, {"bar", seed * 7919 + 1, 0}};
  gp_coro_t *co[2];
  double took;

  setvbuf(stdout, NULL, _IOLBF, 0);
  start = now_ms();
  for (int i = 0; i < 2; i++)
    if (gp_spawn(&co[i], work, &w[i]) < 0)
      return 1;
  if (gp_joinall(co, 2, NULL, GP_FOREVER) < 0)
    return 1;
  took = now_ms() - start;
  printf("foo slept %ld ms, bar slept %ld ms; the run took %.0f ms "
         "(the longer of the two, not their sum of %ld)\n",
         w[0].slept_ms, w[1].slept_ms, took, w[0].slept_ms + w[1].slept_ms);
  return 0;
}
