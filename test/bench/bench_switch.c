/* bench_switch.c: the cost of one context switch.
 *
 * One switch is one gp__ctx_switch call (one jump_fcontext for Boost); a
 * ping-pong round trip between two contexts is two. Measured: the assembly
 * switch, the ucontext fallback, Boost.Context's fcontext when it is linked
 * (HAVE_BOOST_CONTEXT), and the full runtime path, gp_yield between two
 * coroutines, which goes through the hub (coroutine -> hub -> coroutine) and
 * whatever polling the hub does between rounds. Each figure is the best of
 * RUNS runs. These are figures, not a test: the exit status is 0 whatever
 * they are.
 *
 * BENCH_SCALE (a factor, default 1) scales every iteration count. */
#define _GNU_SOURCE
#include "gpatch.h"
#include "../../arch/arch.h"
#include "scheduler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* Runs per figure; the best one is kept. */
#define RUNS 5
/* Stack for the raw benchmarks' second context. */
#define STACK_SIZE (64 * 1024)

/* The asm/Boost ratio this project aims for. */
#define TARGET_RATIO 1.3

static double scale = 1.0;

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* An iteration count scaled by BENCH_SCALE, at least 1000. */
static long iters(long n)
{
  double v = (double)n * scale;
  return v < 1000 ? 1000 : (long)v;
}

static void *map_stack(void)
{
  void *p = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (p == MAP_FAILED) {
    perror("bench_switch: mmap");
    exit(1);
  }
  return p;
}

/* The raw switch: the calling context and one other, switching back and
 * forth. The other never ends; its stack is simply dropped afterwards. */
static struct gp__ctx main_ctx, peer_ctx;
static ucontext_t main_uc;

static void peer(void *arg)
{
  (void)arg;
  for (;;)
    gp__ctx_switch(&peer_ctx, &main_ctx);
}

/* Returns ns per switch for n switches with the mechanism gp__ctx_init
 * (use_ucontext) selects, best of RUNS. */
static double bench_ctx(int use_ucontext, long n)
{
  void *stack = map_stack();
  double best = 1e30;
  long rounds = n / 2;

  gp__ctx_init(use_ucontext);
  gp__ctx_adopt(&main_ctx, &main_uc);
  if (gp__ctx_make(&peer_ctx, stack, STACK_SIZE, peer, NULL) != 0) {
    fprintf(stderr, "bench_switch: gp__ctx_make failed\n");
    exit(1);
  }
  for (long i = 0; i < 1000; i++) /* warm up: first run, caches, TLB */
    gp__ctx_switch(&main_ctx, &peer_ctx);
  for (int r = 0; r < RUNS; r++) {
    uint64_t t0 = now_ns();
    for (long i = 0; i < rounds; i++)
      gp__ctx_switch(&main_ctx, &peer_ctx);
    double ns = (double)(now_ns() - t0) / (double)(2 * rounds);
    if (ns < best)
      best = ns;
  }
  munmap(stack, STACK_SIZE);
  return best;
}

#ifdef HAVE_BOOST_CONTEXT
/* Boost.Context's fcontext API; extern "C" in libboost_context. */
typedef void *fcontext_t;
typedef struct {
  fcontext_t fctx; /* the context that jumped here */
  void *data;      /* what it passed */
} transfer_t;
transfer_t jump_fcontext(fcontext_t const to, void *vp);
fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t));

static void boost_peer(transfer_t t)
{
  for (;;)
    t = jump_fcontext(t.fctx, NULL);
}

/* Returns ns per jump_fcontext for n jumps, best of RUNS. */
static double bench_boost(long n)
{
  char *stack = map_stack();
  transfer_t t;
  double best = 1e30;
  long rounds = n / 2;

  /* make_fcontext takes the top of the stack. */
  t.fctx = make_fcontext(stack + STACK_SIZE, STACK_SIZE, boost_peer);
  for (long i = 0; i < 1000; i++)
    t = jump_fcontext(t.fctx, NULL);
  for (int r = 0; r < RUNS; r++) {
    uint64_t t0 = now_ns();
    for (long i = 0; i < rounds; i++)
      t = jump_fcontext(t.fctx, NULL);
    double ns = (double)(now_ns() - t0) / (double)(2 * rounds);
    if (ns < best)
      best = ns;
  }
  munmap(stack, STACK_SIZE);
  return best;
}
#endif

/* The runtime path: ncoro coroutines that each call gp_yield k times. */
struct yield_result {
  double ns_per_yield;       /* wall time / total gp_yield calls */
  double ns_per_switch;      /* wall time / context switches counted */
  double switches_per_yield; /* how many switches one yield took */
  int used_asm;              /* the runtime ran on the assembly switch */
};

static long yield_k;

static void *yielder(void *arg)
{
  (void)arg;
  for (long i = 0; i < yield_k; i++)
    gp_yield();
  return NULL;
}

static struct yield_result bench_yield(int ncoro, long total)
{
  struct yield_result best = {1e30, 1e30, 0, 0};
  gp_coro_t **cos = calloc((size_t)ncoro, sizeof(*cos));

  if (cos == NULL)
    exit(1);
  yield_k = total / ncoro;
  for (int r = 0; r < RUNS + 1; r++) { /* the first run warms up */
    struct gp__stats s0, s1;
    gp__sched_stats(&s0);
    uint64_t t0 = now_ns();
    for (int i = 0; i < ncoro; i++)
      if (gp_spawn(&cos[i], yielder, NULL) != 0)
        exit(1);
    if (gp_joinall(cos, (size_t)ncoro, NULL, GP_FOREVER) != 0)
      exit(1);
    uint64_t dt = now_ns() - t0;
    gp__sched_stats(&s1);
    double yields = (double)yield_k * ncoro;
    double sw = (double)(s1.switches - s0.switches);
    if (r > 0 && dt / yields < best.ns_per_yield) {
      best.ns_per_yield = dt / yields;
      best.ns_per_switch = dt / sw;
      best.switches_per_yield = sw / yields;
      best.used_asm = gp__ctx_use_asm;
    }
  }
  free(cos);
  return best;
}

/* The gp_yield cases: coroutines, and total yields per context kind. The
 * counts keep each run near 100 ms here (syscalls cost ~1 us in this VM). */
static const struct {
  int ncoro;  /* coroutines yielding in turn */
  long n_asm; /* total gp_yield calls with the assembly switch */
  long n_uc;  /* total gp_yield calls with the ucontext fallback */
} yield_cases[2] = {
    {2, 500000, 100000},
    {100, 2000000, 100000},
};

/* Runs the runtime benchmarks in a child process, so that the mechanism the
 * runtime picks at start-up (GPATCH_CONTEXT) can differ per measurement.
 * Fills res[i] for yield_cases[i]. Returns 0 or -1. */
static int yield_in_child(const char *context, struct yield_result res[2])
{
  int p[2];
  pid_t pid;
  int status;
  int uc = strcmp(context, "ucontext") == 0;

  if (pipe(p) != 0)
    return -1;
  pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    close(p[0]);
    setenv("GPATCH_CONTEXT", context, 1);
    for (int i = 0; i < 2; i++)
      res[i] =
          bench_yield(yield_cases[i].ncoro,
                      iters(uc ? yield_cases[i].n_uc : yield_cases[i].n_asm));
    if (write(p[1], res, 2 * sizeof(*res)) != (ssize_t)(2 * sizeof(*res)))
      _exit(1);
    _exit(0);
  }
  close(p[1]);
  ssize_t n = read(p[0], res, 2 * sizeof(*res));
  close(p[0]);
  waitpid(pid, &status, 0);
  return n == (ssize_t)(2 * sizeof(*res)) && WIFEXITED(status) &&
                 WEXITSTATUS(status) == 0
             ? 0
             : -1;
}

/* Prints the gp_yield rows of one context kind. */
static void print_yield(const char *context, int ok,
                        const struct yield_result res[2])
{
  int uc = strcmp(context, "ucontext") == 0;
  for (int i = 0; i < 2; i++) {
    char label[64];
    long n = iters(uc ? yield_cases[i].n_uc : yield_cases[i].n_asm);
    snprintf(label, sizeof(label), "gp_yield, %s, %d coroutines",
             ok && res[i].used_asm ? "asm" : "ucontext", yield_cases[i].ncoro);
    if (ok)
      printf("%-44s %12ld %10.2f %10.2f\n", label, n, res[i].ns_per_yield,
             res[i].ns_per_switch);
    else
      printf("%-44s %12s %10s\n", label, "-", "failed");
  }
}

int main(void)
{
  const char *sc = getenv("BENCH_SCALE");
  struct yield_result ya[2], yu[2];
  long n_fast, n_uc;

  if (sc && *sc) {
    scale = strtod(sc, NULL);
    if (!(scale > 0))
      scale = 1.0;
  }
  n_fast = iters(10000000);
  n_uc = iters(200000);

  double asm_ns = bench_ctx(0, n_fast);
  int have_asm = gp__ctx_use_asm;
  double uc_ns = bench_ctx(1, n_uc);
#ifdef HAVE_BOOST_CONTEXT
  double boost_ns = bench_boost(n_fast);
#endif
  int ya_ok = yield_in_child("asm", ya) == 0;
  int yu_ok = yield_in_child("ucontext", yu) == 0;

  printf("%-44s %12s %10s\n", "context switch (best of 5)", "switches",
         "ns/switch");
  if (have_asm)
    printf("%-44s %12ld %10.2f\n", "gp__ctx_switch, asm", n_fast, asm_ns);
  else
    printf("%-44s %12s %10s\n", "gp__ctx_switch, asm", "-", "not built");
  printf("%-44s %12ld %10.2f\n", "gp__ctx_switch, ucontext", n_uc, uc_ns);
#ifdef HAVE_BOOST_CONTEXT
  printf("%-44s %12ld %10.2f\n", "boost jump_fcontext", n_fast, boost_ns);
#else
  printf("%-44s %12s %10s\n", "boost jump_fcontext", "-", "not linked");
#endif
  printf("\n%-44s %12s %10s %10s\n", "runtime gp_yield (via the hub)", "yields",
         "ns/yield", "ns/switch");
  print_yield("asm", ya_ok, ya);
  print_yield("ucontext", yu_ok, yu);
  if (ya_ok)
    printf("(one gp_yield = %.2f switches, coroutine -> hub -> next, plus "
           "the hub's\n bookkeeping and its polling between rounds)\n",
           ya[0].switches_per_yield);

  printf("\n");
#ifdef HAVE_BOOST_CONTEXT
  if (have_asm)
    printf("ratio asm/boost: %.2fx (target <= %.1fx)\n", asm_ns / boost_ns,
           TARGET_RATIO);
#endif
  if (have_asm)
    printf("ratio ucontext/asm: %.1fx\n", uc_ns / asm_ns);
  return 0;
}
