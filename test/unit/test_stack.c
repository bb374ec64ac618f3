/* test_stack.c: coroutine stacks (core/stack.c) and what depends on them —
 * pooling, sizes, guards, the overflow report, the canary fallback, and
 * 100,000 coroutines alive at once under the default vm.max_map_count.
 *
 * Whatever depends on the GPATCH_* environment or must die runs in a child
 * that re-executes this binary (`test_stack --child NAME`): the child starts
 * with a fresh runtime that reads the environment set for it at its first
 * runtime call, and with the default signal dispositions rather than
 * cmocka's. Tests that only need a fault run in a plain forked child. */
#include "unit.h"

#include "../../core/config.h"
#include "../../core/coro.h"
#include "../../core/scheduler.h"
#include "../../core/stack.h"

#include <limits.h>
#include <sys/mman.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define KIB           1024
#define MANY          100000
#define MANY_VALGRIND 2000
/* ASan unpoisons a whole stack's shadow when a coroutine starts: 100,000
 * stacks of 8 MiB would commit ~100 GiB of shadow. */
#if defined(__SANITIZE_ADDRESS__)
#define MANY_HERE 2000
#else
#define MANY_HERE MANY
#endif
#define MAX_MAP_COUNT 65530

/* This binary, for children that re-execute it. */
static char self[PATH_MAX];

static size_t page(void)
{
  return (size_t)sysconf(_SC_PAGESIZE);
}

static size_t default_size(void)
{
  gp__config_init(); /* glibc's default thread stack, or GPATCH_STACK_SIZE */
  return (gp__config.stack_size + page() - 1) & ~(page() - 1);
}

/* Nonzero when this kernel has MADV_GUARD_INSTALL (Linux 6.13+). */
static int kernel_has_madv_guard(void)
{
  char *p = mmap(NULL, 2 * page(), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  int ok;
  if (p == MAP_FAILED)
    return 0;
  ok = madvise(p, page(), MADV_GUARD_INSTALL) == 0;
  munmap(p, 2 * page());
  return ok;
}

static const char *kind_name(int kind)
{
  switch (kind) {
  case GP__GUARD_MADVISE:
    return "madvise";
  case GP__GUARD_MPROTECT:
    return "mprotect";
  default:
    return "canary";
  }
}

/* The number of mappings (VMAs) of this process. */
static long count_maps(void)
{
  FILE *f = fopen("/proc/self/maps", "r");
  long n = 0;
  int c;
  if (f == NULL)
    return -1;
  while ((c = fgetc(f)) != EOF)
    n += c == '\n';
  fclose(f);
  return n;
}

/* Children. */

/* What a re-executed child is to do. */
struct spec {
  const char *name; /* the scenario, see child_main() */
  int no_madv;      /* set GPATCH_NO_MADV_GUARD=1 first */
};

/* In the forked child: set the environment, then become a fresh process
 * running the scenario. */
static int exec_self(void *arg)
{
  const struct spec *sp = arg;

  if (sp->no_madv)
    setenv("GPATCH_NO_MADV_GUARD", "1", 1);
  else
    unsetenv("GPATCH_NO_MADV_GUARD");
  unsetenv("GPATCH_STACK_SIZE");
  execl(self, self, "--child", sp->name, (char *)NULL);
  fprintf(stderr, "cannot execute %s: %s\n", self, strerror(errno));
  return 127;
}

static void run_scenario(const char *name, int no_madv,
                         struct child_result *res)
{
  struct spec sp = {name, no_madv};
  fflush(NULL);
  assert_int_equal(run_child(exec_self, &sp, res), 0);
}

/* Shows what a child wrote when it did not end as expected. */
static void show_child(const char *what, const struct child_result *res)
{
  print_message("child '%s' status 0x%x; its stderr:\n%s\n", what, res->status,
                res->err);
}

static size_t count_substr(const char *hay, const char *needle)
{
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
    n++;
  return n;
}

/* Pooling and sizes. */

static void test_pool_reuse(void **state)
{
  struct gp__stack *a, *b, *c;
  struct gp__stack_stats s0, s1;

  (void)state;
  assert_int_equal(gp__stack_get(&a, default_size()), 0);
  gp__stack_stats(&s0);
  gp__stack_put(a);
  gp__stack_stats(&s1);
  assert_int_equal(s1.pooled, s0.pooled + 1);
  assert_int_equal(gp__stack_get(&b, default_size()), 0);
  assert_ptr_equal(b, a); /* the stack just returned comes back */
  assert_ptr_equal(b->lo, a->lo);
  gp__stack_stats(&s1);
  assert_int_equal(s1.pooled, s0.pooled);
  assert_int_equal(s1.mapped, s0.mapped); /* nothing new was mapped */
  assert_int_equal(gp__stack_get(&c, default_size()), 0);
  assert_ptr_not_equal(c, b); /* a stack in use is never handed out */
  assert_true(c->lo + c->size <= b->guard || b->lo + b->size <= c->guard);
  gp__stack_put(c);
  gp__stack_put(b);
}

/* 1 when the page holding addr is resident. */
static int resident(const void *addr)
{
  long pg = sysconf(_SC_PAGESIZE);
  unsigned char v = 0;
  void *page = (void *)((uintptr_t)addr & ~(uintptr_t)(pg - 1));
  assert_int_equal(mincore(page, (size_t)pg, &v), 0);
  return v & 1;
}

/* A stack from a newly mapped slab has its top page in memory already (it
 * is touched before its guard is installed) and nothing else. */
static void test_fresh_top_resident(void **state)
{
  struct gp__stack *st[200];
  struct gp__stack_stats s0, s1;
  int n = 0;

  (void)state;
  gp__stack_stats(&s0);
  do { /* until a new slab is mapped */
    assert_true(n < 200);
    assert_int_equal(gp__stack_get(&st[n], default_size()), 0);
    gp__stack_stats(&s1);
  } while (s1.mapped == s0.mapped && ++n);
  /* The ordering is done only for MADV_GUARD_INSTALL guards. */
  if (st[n]->kind == GP__GUARD_MADVISE) {
    assert_true(resident(st[n]->lo + st[n]->size - 1));
    assert_false(resident(st[n]->lo + st[n]->size / 2));
  }
  for (int i = n; i >= 0; i--)
    gp__stack_put(st[i]);
  if (st[n]->kind != GP__GUARD_MADVISE)
    skip();
}

static void test_sizes_rounded(void **state)
{
  struct gp__stack *st;

  (void)state;
  /* A size just under the default is the default, from a slab. */
  assert_int_equal(gp__stack_get(&st, default_size() - 100), 0);
  assert_int_equal(st->size, default_size());
  assert_int_equal(st->own_mapping, 0);
  assert_int_equal((uintptr_t)st->lo % page(), 0);
  gp__stack_put(st);

  /* Odd sizes round up to whole pages and get a mapping of their own. */
  assert_int_equal(gp__stack_get(&st, 100000), 0);
  assert_int_equal(st->size, (100000 + page() - 1) / page() * page());
  assert_int_equal(st->own_mapping, 1);
  assert_int_equal((uintptr_t)st->lo % page(), 0);
  assert_ptr_equal(st->guard + st->guard_size, st->lo);
  memset(st->lo, 0xa5, st->size); /* every byte is usable */
  gp__stack_put(st);

  assert_int_equal(gp__stack_get(&st, 1), 0);
  assert_int_equal(st->size, page());
  assert_int_equal(st->own_mapping, 1);
  gp__stack_put(st);
}

static void test_odd_sizes_pooled(void **state)
{
  struct gp__stack *a, *b, *c, *d;

  (void)state;
  assert_int_equal(gp__stack_get(&a, 192 * KIB), 0);
  assert_int_equal(a->own_mapping, 1);
  gp__stack_put(a);
  /* The same odd size comes back from the pool, */
  assert_int_equal(gp__stack_get(&b, 192 * KIB), 0);
  assert_ptr_equal(b, a);
  /* another odd size does not take it, */
  gp__stack_put(b);
  assert_int_equal(gp__stack_get(&c, 320 * KIB), 0);
  assert_ptr_not_equal(c, a);
  assert_int_equal(c->size, 320 * KIB);
  assert_int_equal(c->own_mapping, 1);
  /* and neither does the default size. */
  assert_int_equal(gp__stack_get(&d, default_size()), 0);
  assert_ptr_not_equal(d, a);
  assert_int_equal(d->own_mapping, 0);
  gp__stack_put(d);
  gp__stack_put(c);
}

static void test_guard_hit(void **state)
{
  struct gp__stack *st;

  (void)state;
  assert_int_equal(gp__stack_get(&st, default_size()), 0);
  assert_int_equal(st->canary, 0);
  assert_ptr_equal(st->guard + st->guard_size, st->lo);
  assert_true(st->guard_size >= page());
  assert_true(gp__stack_guard_hit(st, st->lo - 1));
  assert_true(gp__stack_guard_hit(st, st->guard));
  assert_false(gp__stack_guard_hit(st, st->lo));
  assert_false(gp__stack_guard_hit(st, st->lo + st->size - 1));
  assert_false(gp__stack_guard_hit(st, st->guard - 1));
  /* Without a canary, the lowest word is the program's to use. */
  st->lo[0] = 0x5a;
  assert_false(gp__stack_canary_dead(st));
  gp__stack_put(st);
}

/* The SIGSEGV the kernel sends with no address when a signal's frame
 * finds no room below the stack pointer counts as the stack's overflow
 * with the pointer near the bottom, in the guard, or below the stack (a
 * frame larger than the stack moved it there), and not with the pointer
 * well inside the stack. */
static void test_overflow_no_address(void **state)
{
  struct gp__stack *st;
  uintptr_t lo;

  (void)state;
  assert_int_equal(gp__stack_get(&st, default_size()), 0);
  lo = (uintptr_t)st->lo;
  assert_true(gp__stack_overflow_hit(st, NULL, lo + 512));
  assert_true(gp__stack_overflow_hit(st, NULL, lo - 8));
  assert_true(
      gp__stack_overflow_hit(st, NULL, lo - st->guard_size - 144 * KIB));
  assert_false(gp__stack_overflow_hit(st, NULL, lo + st->size / 2));
  assert_false(gp__stack_overflow_hit(st, NULL, lo - ((uintptr_t)1 << 30)));
  assert_false(gp__stack_overflow_hit(st, NULL, 0));
  gp__stack_put(st);
}

/* The guard really faults: a write just below a stack kills a child. */

struct fault {
  size_t size; /* the stack size to get */
};

static int write_below(void *arg)
{
  struct fault *f = arg;
  struct gp__stack *st;

  signal(SIGSEGV, SIG_DFL); /* cmocka's handler would catch it */
  if (gp__stack_get(&st, f->size) != 0)
    return 2;
  st->lo[0] = 1; /* the stack itself is fine */
  st->lo[st->size - 1] = 1;
  fprintf(stderr, "writing below a %s-guarded stack\n", kind_name(st->kind));
  *(volatile char *)(st->lo - 1) = 1;
  return 3; /* not reached when the guard works */
}

static void check_guard_faults(size_t size)
{
  struct fault f = {size};
  struct child_result res;
  char want[64];

  if (RUNNING_ON_VALGRIND)
    print_message("the child's SIGSEGV that valgrind reports next is the "
                  "one this test expects\n");
  assert_int_equal(run_child(write_below, &f, &res), 0);
  if (!WIFSIGNALED(res.status) || WTERMSIG(res.status) != SIGSEGV)
    show_child("write below", &res);
  assert_true(WIFSIGNALED(res.status));
  assert_int_equal(WTERMSIG(res.status), SIGSEGV);
  snprintf(want, sizeof(want), "below a %s-guarded stack",
           kernel_has_madv_guard() ? "madvise" : "mprotect");
  assert_non_null(strstr(res.err, want));
}

static void test_guard_faults_default(void **state)
{
  (void)state;
  check_guard_faults(default_size());
}

static void test_guard_faults_odd(void **state)
{
  (void)state;
  check_guard_faults(100 * KIB);
}

/* Stack overflow in a coroutine: reported, then death by SIGSEGV. */

static volatile int never; /* keeps the recursion from looking infinite */

static __attribute__((noinline)) int recurse(int depth)
{
  volatile char buf[256];
  buf[0] = (char)depth;
  if (never)
    return 0;
  return recurse(depth + 1) + buf[0];
}

static void *overflow_main(void *arg)
{
  struct gp__coro *me = gp_current();
  (void)arg;
  fprintf(stderr, "child: coroutine %llu on a %s guard\n",
          (unsigned long long)gp_id(NULL), kind_name(me->stack->kind));
  return (void *)(intptr_t)recurse(0);
}

/* A frame far bigger than the guard (siege's threads keep ~400 KiB of
 * locals): the stack pointer goes 512 KiB below the stack, past the guard,
 * and the first touch faults there. To be sure it faults, the test makes
 * that page inaccessible first (or finds it unmapped), then moves the stack
 * pointer into it, as a big frame would. */
static void *far_main(void *arg)
{
  struct gp__coro *me = gp_current();
  uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
  char *target = (char *)(((uintptr_t)me->stack->lo - 512 * KIB) & ~(pg - 1));
  (void)arg;
  if (mprotect(target, pg, PROT_NONE) != 0 && errno != ENOMEM)
    return (void *)2; /* neither made inaccessible nor unmapped */
  fprintf(stderr, "child: coroutine %llu on a %s guard\n",
          (unsigned long long)gp_id(NULL), kind_name(me->stack->kind));
#if defined(__x86_64__)
  __asm__ volatile("mov %0, %%rsp\n\tmovq $0, (%%rsp)"
                   :
                   : "r"(target + pg / 2)
                   : "memory");
#endif
  return NULL;
}

/* Child: overflow a coroutine stack of kib KiB (0: the default) with fn
 * (overflow_main: deep recursion; far_main: a frame past the guard). */
static int child_overflow(size_t kib, void *(*fn)(void *))
{
  gp_spawn_opts_t o = {.stack_size = kib * KIB};
  gp_coro_t *co;
  void *ret;

  if (gp_spawn_ex(&co, &o, fn, NULL) != 0)
    return 2;
  gp_join(co, &ret);
  return 3; /* not reached: the overflow kills the process */
}

/* How the runtime's report ends. ASan installs its own SIGSEGV handler: a
 * fault on a guard is then the program's handler's to take (ASan ends the
 * process its own way); a canary is found at a switch, not by a fault. */
static const char *overflow_tail(const char *kind)
{
#if defined(__SANITIZE_ADDRESS__)
  if (strcmp(kind, "canary") != 0)
    return "the program's SIGSEGV handler takes it";
#endif
  (void)kind;
  return "set GPATCH_STACK_SIZE";
}

/* Checks a child died of an overflow of coroutine N's kib KiB stack, with a
 * guard of the kind expected, and said so. */
static void expect_overflow(const struct child_result *res, const char *kind,
                            unsigned kib)
{
  unsigned long long id;
  char got_kind[16], want[128];
  const char *marker = strstr(res->err, "child: coroutine ");

  if (marker == NULL)
    show_child("overflow", res);
  assert_non_null(marker);
  assert_int_equal(
      sscanf(marker, "child: coroutine %llu on a %15s guard", &id, got_kind),
      2);
  assert_string_equal(got_kind, kind);
  snprintf(want, sizeof(want),
           "coroutine %llu overflowed its %u KiB stack; %s\n", id, kib,
           overflow_tail(kind));
  if (strstr(res->err, want) == NULL)
    show_child("overflow", res);
  assert_non_null(strstr(res->err, want));
  assert_int_equal(count_substr(res->err, "overflowed"), 1);
#if !defined(__SANITIZE_ADDRESS__)
  assert_true(WIFSIGNALED(res->status));
  assert_int_equal(WTERMSIG(res->status), SIGSEGV);
#else
  assert_false(WIFEXITED(res->status) && WEXITSTATUS(res->status) == 0);
#endif /* ASan: whichever way ASan ends it */
}

static void test_overflow_default(void **state)
{
  struct child_result res;
  (void)state;
  run_scenario("overflow", 0, &res);
  expect_overflow(&res, kernel_has_madv_guard() ? "madvise" : "mprotect",
                  (unsigned)(default_size() / KIB));
}

static void test_overflow_mprotect(void **state)
{
  struct child_result res;
  (void)state;
  run_scenario("overflow", 1, &res);
  expect_overflow(&res, "mprotect", (unsigned)(default_size() / KIB));
}

static void test_overflow_far(void **state)
{
  struct child_result res;
  (void)state;
#if !defined(__x86_64__)
  skip(); /* the test moves the stack pointer with x86_64 assembly */
#endif
  run_scenario("overflow-far", 0, &res);
  expect_overflow(&res, kernel_has_madv_guard() ? "madvise" : "mprotect", 128);
}

static void test_overflow_stack_size(void **state)
{
  struct child_result res;
  (void)state;
  run_scenario("overflow-128", 0, &res);
  expect_overflow(&res, kernel_has_madv_guard() ? "madvise" : "mprotect", 128);
  run_scenario("overflow-128", 1, &res);
  expect_overflow(&res, "mprotect", 128);
}

/* The canary fallback. With GPATCH_NO_MADV_GUARD=1, stacks get mprotect
 * guards while the budget derived from vm.max_map_count lasts, then a
 * canary: taking stacks until one has a canary reaches it honestly. */

/* The stacks take_until_canary() holds, so that they can be given back. */
static struct gp__stack **taken;
static size_t ntaken;

/* Takes default stacks until one is canary-guarded; returns it, and the
 * first one taken in *first. The others stay taken until give_back(). */
static struct gp__stack *take_until_canary(struct gp__stack **first)
{
  struct gp__stack *st = NULL;
  size_t max = 2 * MAX_MAP_COUNT;

  *first = NULL;
  taken = calloc(max, sizeof(*taken));
  if (taken == NULL)
    return NULL;
  for (ntaken = 0; ntaken < max;) {
    if (gp__stack_get(&st, default_size()) != 0)
      return NULL;
    taken[ntaken++] = st;
    if (*first == NULL)
      *first = st;
    if (st->canary)
      return st;
  }
  return NULL;
}

/* Returns every stack take_until_canary() took, except the last one. */
static void give_back(void)
{
  for (size_t i = 0; i + 1 < ntaken; i++)
    gp__stack_put(taken[i]);
  free(taken);
  taken = NULL;
  ntaken = 0;
}

/* Child (cmocka): the canary and guard-hit predicates on real stacks. */
static void child_canary_unit(void **state)
{
  struct gp__stack *first, *st, *again;
  struct gp__stack_stats stats;

  (void)state;
  assert_non_null(gp_current()); /* the runtime reads the environment */
  assert_int_equal(gp__config.no_madv_guard, 1);
  st = take_until_canary(&first);
  assert_non_null(st);
  assert_int_equal(first->kind, GP__GUARD_MPROTECT);
  assert_int_equal(st->kind, GP__GUARD_CANARY);
  assert_int_equal(gp__stack_guard_kind(), GP__GUARD_CANARY);
  gp__stack_stats(&stats);
  assert_true(stats.guarded_mprotect > 0);
  assert_true(stats.canary > 0);
  assert_true(count_maps() < MAX_MAP_COUNT);

  /* A fresh canary stack is intact; overflow hits its lowest page. */
  assert_false(gp__stack_canary_dead(st));
  assert_true(gp__stack_guard_hit(st, st->lo));
  assert_true(gp__stack_guard_hit(st, st->lo + page() - 1));
  assert_false(gp__stack_guard_hit(st, st->lo + page()));
  assert_true(gp__stack_guard_hit(st, st->lo - 1));
  assert_false(gp__stack_guard_hit(st, st->lo + st->size - 1));
  /* Writing over the lowest word kills the canary... */
  st->lo[3] = (char)(st->lo[3] ^ 0x40);
  assert_true(gp__stack_canary_dead(st));
  /* ...and returning the stack to the pool sets it again. */
  gp__stack_put(st);
  assert_int_equal(gp__stack_get(&again, default_size()), 0);
  assert_ptr_equal(again, st);
  assert_false(gp__stack_canary_dead(again));

  /* An mprotect-guarded stack has no canary: its lowest word is usable. */
  first->lo[0] = 0x11;
  assert_false(gp__stack_canary_dead(first));
  assert_false(gp__stack_guard_hit(first, first->lo));
  assert_true(gp__stack_guard_hit(first, first->lo - 1));
  gp__stack_put(again);
  give_back();
}

static void test_canary_unit(void **state)
{
  struct child_result res;
  (void)state;
  run_scenario("canary-unit", 1, &res);
  if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
    show_child("canary-unit", &res);
  assert_true(WIFEXITED(res.status));
  assert_int_equal(WEXITSTATUS(res.status), 0);
  /* The fallback is announced, once. */
  assert_int_equal(count_substr(res.err, "checked with a canary"), 1);
}

/* Overflow on a canary-guarded stack is caught when the coroutine next
 * switches. The recursion goes about 16 KiB past the stack's lowest byte
 * (into the unprotected guard region), returns, and the coroutine yields. */

#define CANARY_FRAME 1024

static __attribute__((noinline)) int recurse_to(char *limit)
{
  volatile char buf[CANARY_FRAME];
  for (size_t i = 0; i < sizeof(buf); i++)
    buf[i] = (char)i;
  if ((char *)buf > limit)
    return recurse_to(limit) + buf[1];
  return buf[2];
}

static void *canary_victim(void *arg)
{
  struct gp__coro *me = gp_current();
  (void)arg;
  fprintf(stderr, "child: coroutine %llu on a %s guard\n",
          (unsigned long long)gp_id(NULL), kind_name(me->stack->kind));
  recurse_to(me->stack->lo - 16 * KIB);
  gp_yield(); /* the switch finds the canary dead */
  fprintf(stderr, "child: the overflow went unnoticed\n");
  return NULL;
}

/* Child: the canary catches an overflow. */
static int child_canary_overflow(void)
{
  struct gp__stack *first, *st;
  gp_coro_t *co;

  gp_current(); /* the runtime reads the environment */
  st = take_until_canary(&first);
  if (st == NULL)
    return 2;
  gp__stack_put(st); /* the next coroutine gets it */
  if (gp_spawn(&co, canary_victim, NULL) != 0)
    return 3;
  gp_join(co, NULL);
  return 4;
}

static void test_canary_overflow(void **state)
{
  struct child_result res;
  (void)state;
  run_scenario("canary-overflow", 1, &res);
  expect_overflow(&res, "canary", (unsigned)(default_size() / KIB));
}

/* 100,000 coroutines alive at once, each parked on one event. */

static struct {
  gp_event_t *ev;   /* what they all wait for */
  size_t started;   /* coroutines that have run */
  size_t off_stack; /* coroutines not running on their own stack */
} many;

static void *waiter(void *arg)
{
  struct gp__stack *st = gp_current()->stack;
  char *frame = __builtin_frame_address(0);

  many.started++;
  if (st == NULL || frame < st->lo || frame >= st->lo + st->size)
    many.off_stack++;
  if (gp_event_wait(many.ev, GP_FOREVER) != 0)
    return NULL;
  return (void *)((uintptr_t)arg * 3 + 1);
}

static void run_many(size_t n, int fallback)
{
  gp_coro_t **cos = calloc(n, sizeof(*cos));
  void **rets = calloc(n, sizeof(*rets));
  struct gp__stats s0, s1;
  struct gp__stack_stats ss;
  size_t bad = 0;
  long maps;

  assert_non_null(cos);
  assert_non_null(rets);
  memset(&many, 0, sizeof(many));
  assert_non_null(gp_current());
  assert_int_equal(gp_event_new(&many.ev), 0);
  gp__sched_stats(&s0);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(gp_spawn(&cos[i], waiter, (void *)(uintptr_t)i), 0);
  /* One round: every coroutine runs and parks on the event. */
  assert_int_equal(gp_yield(), 0);
  assert_int_equal(many.started, n);
  assert_int_equal(many.off_stack, 0);
  gp__sched_stats(&s1);
  assert_int_equal(s1.live, s0.live + n);
  assert_int_equal(s1.ready, 0);

  maps = count_maps();
  gp__stack_stats(&ss);
  print_message("%zu coroutines alive: %ld mappings; stacks: %zu mapped, "
                "%zu mprotect-guarded, %zu canary\n",
                n, maps, ss.mapped, ss.guarded_mprotect, ss.canary);
  assert_true(maps > 0 && maps < MAX_MAP_COUNT);
  if (!fallback && !gp__config.no_madv_guard && kernel_has_madv_guard()) {
    /* Far fewer: slabs, not a mapping or two per stack. */
    assert_true((size_t)maps < n / 10 + 1000);
    assert_int_equal(ss.canary, 0);
  }
  if (fallback) {
    assert_true(ss.guarded_mprotect > 0);
    assert_true(ss.canary > 0); /* the canary carried the rest */
    assert_true(ss.guarded_mprotect + ss.canary >= n);
  }

  gp_event_set(many.ev);
  assert_int_equal(gp_joinall(cos, n, rets, GP_FOREVER), 0);
  for (size_t i = 0; i < n; i++)
    bad += rets[i] != (void *)((uintptr_t)i * 3 + 1);
  assert_int_equal(bad, 0);
  gp__sched_stats(&s1);
  assert_int_equal(s1.live, s0.live);
  gp_event_free(many.ev);
  free(cos);
  free(rets);
}

static void test_many(void **state)
{
  size_t n = MANY_HERE;
  (void)state;
  if (RUNNING_ON_VALGRIND) {
    n = MANY_VALGRIND;
    print_message("under valgrind: %d coroutines instead of %d\n",
                  MANY_VALGRIND, MANY);
  }
  run_many(n, 0);
}

/* Child (cmocka): 100,000 with GPATCH_NO_MADV_GUARD=1. A re-executed child
 * runs natively even when the parent runs under valgrind. */
static void child_many_fallback(void **state)
{
  (void)state;
  assert_non_null(gp_current());
  assert_int_equal(gp__config.no_madv_guard, 1);
  run_many(MANY, 1);
}

static void test_many_fallback(void **state)
{
  struct child_result res;
  (void)state;
#if defined(__SANITIZE_ADDRESS__)
  /* It needs more stacks than the map budget allows: too many for ASan's
   * shadow (see MANY_HERE). */
  skip();
#endif
  run_scenario("many-fallback", 1, &res);
  if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
    show_child("many-fallback", &res);
  assert_true(WIFEXITED(res.status));
  assert_int_equal(WEXITSTATUS(res.status), 0);
  assert_int_equal(count_substr(res.err, "checked with a canary"), 1);
}

/* A re-executed child: runs the scenario name. */
static int child_main(const char *name)
{
  if (strcmp(name, "overflow") == 0)
    return child_overflow(0, overflow_main);
  if (strcmp(name, "overflow-128") == 0)
    return child_overflow(128, overflow_main);
  if (strcmp(name, "overflow-far") == 0)
    return child_overflow(128, far_main);
  if (strcmp(name, "canary-overflow") == 0)
    return child_canary_overflow();
  if (strcmp(name, "canary-unit") == 0) {
    const struct CMUnitTest t[] = {cmocka_unit_test(child_canary_unit)};
    return cmocka_run_group_tests_name("child canary-unit", t, NULL, NULL);
  }
  if (strcmp(name, "many-fallback") == 0) {
    const struct CMUnitTest t[] = {cmocka_unit_test(child_many_fallback)};
    return cmocka_run_group_tests_name("child many-fallback", t, NULL, NULL);
  }
  fprintf(stderr, "unknown child scenario %s\n", name);
  return 2;
}

int main(int argc, char **argv)
{
  unit_self(self, sizeof(self), argv[0]);
  if (argc == 3 && strcmp(argv[1], "--child") == 0)
    return child_main(argv[2]);

  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pool_reuse),
      cmocka_unit_test(test_fresh_top_resident),
      cmocka_unit_test(test_sizes_rounded),
      cmocka_unit_test(test_odd_sizes_pooled),
      cmocka_unit_test(test_guard_hit),
      cmocka_unit_test(test_overflow_no_address),
      cmocka_unit_test(test_guard_faults_default),
      cmocka_unit_test(test_guard_faults_odd),
      cmocka_unit_test(test_overflow_default),
      cmocka_unit_test(test_overflow_mprotect),
      cmocka_unit_test(test_overflow_stack_size),
      cmocka_unit_test(test_overflow_far),
      cmocka_unit_test(test_canary_unit),
      cmocka_unit_test(test_canary_overflow),
      cmocka_unit_test(test_many),
      cmocka_unit_test(test_many_fallback),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
