/* test_switch.c: the context switch of arch/, for both mechanisms (the
 * assembly switch and the ucontext fallback), on stacks this file maps
 * itself. It uses nothing but arch/ and libc, so that scripts/aarch64-check
 * can cross-compile it with arch/ alone and run it under qemu.
 *
 * Every test exists twice: *_asm runs with gp__ctx_init(0) (skipped when the
 * assembly was not built, make CONTEXT=ucontext), *_ucontext with
 * gp__ctx_init(1). Failures seen on a coroutine's stack are recorded and
 * asserted on the thread's own stack, where cmocka's longjmp belongs. */
#include "unit.h"

#include "../../arch/arch.h"

#include <fenv.h>
#include <sys/mman.h>
#include <ucontext.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#ifdef HAVE_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

/* A guard region below every test stack, so that an overflow faults. */
#define GUARD (64 * 1024)

/* One context under test, with the stack it runs on. */
struct tctx {
  struct gp__ctx ctx; /* the context itself */
  ucontext_t uc;      /* the fallback's storage for an adopted context */
  char *map;          /* the mapping, guard included; NULL when adopted */
  size_t map_size;    /* its size */
  char *lo;           /* the usable stack: [lo, lo + size) */
  size_t size;        /* its size; 0 until known for an adopted stack */
  unsigned vg_id;     /* valgrind's id for the registered stack */
  void *asan_fake;    /* AddressSanitizer's fake stack while away */
};

/* The running context and the one switched away from last. */
static struct tctx *cur, *prev;

/* AddressSanitizer must know about every switch; these do nothing
 * otherwise. */
static void note_start(struct tctx *from, struct tctx *to, int last)
{
#ifdef HAVE_ASAN
  __sanitizer_start_switch_fiber(last ? NULL : &from->asan_fake, to->lo,
                                 to->size);
#else
  (void)from, (void)to, (void)last;
#endif
  prev = from;
  cur = to;
}

static void note_finish(void *fake)
{
#ifdef HAVE_ASAN
  const void *bottom;
  size_t size;
  __sanitizer_finish_switch_fiber(fake, &bottom, &size);
  if (prev && prev->size == 0) {
    prev->lo = (char *)bottom;
    prev->size = size;
  }
#else
  (void)fake;
#endif
}

/* Switches from the running context to `to`; returns when something
 * switches back. */
static void sw(struct tctx *to)
{
  struct tctx *from = cur;
  note_start(from, to, 0);
  gp__ctx_switch(&from->ctx, &to->ctx);
  note_finish(from->asan_fake);
}

/* The last switch away from a context that is never resumed. */
static void sw_last(struct tctx *to)
{
  struct tctx *from = cur;
  note_start(from, to, 1);
  gp__ctx_switch(&from->ctx, &to->ctx);
  abort(); /* never resumed */
}

/* What every entry function calls first. */
static void entered(void)
{
  note_finish(NULL);
}

/* Makes t the running context: the thread's own stack. */
static void ctx_adopt(struct tctx *t)
{
  memset(t, 0, sizeof(*t));
  gp__ctx_adopt(&t->ctx, &t->uc);
  cur = t;
  prev = NULL;
}

/* Maps a stack of size bytes (a guard below it) and makes fn(arg) start on
 * it. */
static void ctx_new(struct tctx *t, size_t size, gp__ctx_fn fn, void *arg)
{
  memset(t, 0, sizeof(*t));
  t->map_size = GUARD + size;
  t->map = mmap(NULL, t->map_size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  assert_true(t->map != MAP_FAILED);
  assert_int_equal(mprotect(t->map, GUARD, PROT_NONE), 0);
  t->lo = t->map + GUARD;
  t->size = size;
#ifdef HAVE_VALGRIND
  t->vg_id = VALGRIND_STACK_REGISTER(t->lo, t->lo + size);
#endif
  assert_int_equal(gp__ctx_make(&t->ctx, t->lo, size, fn, arg), 0);
}

/* Unmaps the stack of a context that will not run again. */
static void ctx_free(struct tctx *t)
{
#ifdef HAVE_VALGRIND
  VALGRIND_STACK_DEREGISTER(t->vg_id);
#endif
#ifdef HAVE_ASAN
  /* Frames abandoned on the stack leave poisoned shadow behind. */
  __asan_unpoison_memory_region(t->lo, t->size);
#endif
  assert_int_equal(munmap(t->map, t->map_size), 0);
  t->map = NULL;
}

static void use_asm(void)
{
  if (!GP__HAVE_ASM)
    skip(); /* built with CONTEXT=ucontext */
  assert_int_equal(gp__ctx_init(0), 0);
  assert_int_equal(gp__ctx_use_asm, 1);
}

static void use_ucontext(void)
{
  assert_int_equal(gp__ctx_init(1), 0);
  assert_int_equal(gp__ctx_use_asm, 0);
}

/* Defines test_<name>_asm and test_<name>_ucontext from <name>(void). */
#define BOTH(name)                                                             \
  static void test_##name##_asm(void **state)                                  \
  {                                                                            \
    (void)state;                                                               \
    use_asm();                                                                 \
    name();                                                                    \
  }                                                                            \
  static void test_##name##_ucontext(void **state)                             \
  {                                                                            \
    (void)state;                                                               \
    use_ucontext();                                                            \
    name();                                                                    \
  }
#define BOTH_TESTS(name)                                                       \
  cmocka_unit_test(test_##name##_asm), cmocka_unit_test(test_##name##_ucontext)

static struct tctx main_ctx;

/* Ping-pong: values in shared memory and in each side's locals survive many
 * switches. */

#define PP_ROUNDS 100000

struct pp {
  struct tctx co;           /* the coroutine */
  volatile uint64_t value;  /* passed back and forth */
  volatile uint64_t co_sum; /* the coroutine's running local checksum */
  int bad;                  /* mismatches the coroutine saw */
};

static uint64_t mix(uint64_t x, uint64_t i)
{
  return x * 6364136223846793005ULL + i;
}

static void pp_entry(void *arg)
{
  struct pp *p = arg;
  uint64_t sum = 17; /* lives on this stack across every switch */

  entered();
  for (uint64_t i = 0;; i++) {
    if (p->value != 2 * i)
      p->bad++;
    p->value = 2 * i + 1;
    sum = mix(sum, i);
    p->co_sum = sum;
    sw(&main_ctx);
  }
}

static void pingpong(void)
{
  static struct pp p;
  uint64_t sum = 17, mine = 99;
  size_t bad = 0;

  memset(&p, 0, sizeof(p));
  ctx_adopt(&main_ctx);
  ctx_new(&p.co, 64 * 1024, pp_entry, &p);
  for (uint64_t i = 0; i < PP_ROUNDS; i++) {
    uint64_t before = mine;
    p.value = 2 * i;
    sw(&p.co);
    sum = mix(sum, i);
    bad += p.value != 2 * i + 1;
    bad += p.co_sum != sum;
    bad += mine != before;
    mine = mix(mine, i + 3);
  }
  assert_int_equal(bad, 0);
  assert_int_equal(p.bad, 0);
  assert_true(p.co_sum == sum);
  ctx_free(&p.co);
}
BOTH(pingpong)

/* A ring: each context switches straight to the next one, not back to the
 * thread's own context. */

#define RING        8
#define RING_ROUNDS 2000

struct ring {
  struct tctx co[RING]; /* the contexts, in switch order */
  int trace[RING];      /* who ran, in this round */
  int n;                /* entries in trace */
  int bad;              /* wrong arguments seen */
};
static struct ring ring;

static void ring_entry(void *arg)
{
  int me = (int)(intptr_t)arg;

  entered();
  if (&ring.co[me] != cur)
    ring.bad++;
  for (;;) {
    ring.trace[ring.n++] = me;
    sw(me == RING - 1 ? &main_ctx : &ring.co[me + 1]);
  }
}

static void ring_switch(void)
{
  memset(&ring, 0, sizeof(ring));
  ctx_adopt(&main_ctx);
  for (int i = 0; i < RING; i++)
    ctx_new(&ring.co[i], 32 * 1024, ring_entry, (void *)(intptr_t)i);
  for (int r = 0; r < RING_ROUNDS; r++) {
    ring.n = 0;
    sw(&ring.co[0]);
    assert_int_equal(ring.n, RING);
    for (int i = 0; i < RING; i++)
      assert_int_equal(ring.trace[i], i);
  }
  assert_int_equal(ring.bad, 0);
  for (int i = 0; i < RING; i++)
    ctx_free(&ring.co[i]);
}
BOTH(ring_switch)

/* Entry: the argument arrives intact, the function runs on the stack it was
 * given, and the stack is 16-byte aligned as the ABI requires at a call. */

#define MAGIC ((void *)(uintptr_t)0xfedcba9876543210ULL)

struct entry {
  struct tctx co;        /* the coroutine */
  void *arg;             /* what the entry function received */
  uintptr_t frame;       /* its frame address */
  uintptr_t cfa;         /* its canonical frame address */
  uintptr_t inner_frame; /* the frame address of a function it calls */
  int runs;              /* times the entry function began */
};
static struct entry entry;

/* A function called from the entry: its frame must be aligned too. On
 * x86_64 an aligned SSE store into a local faults if it is not. */
static __attribute__((noinline)) uintptr_t inner_frame(void)
{
#if defined(__x86_64__)
  __m128 v;
  __asm__ volatile("xorps %%xmm0, %%xmm0\n\tmovaps %%xmm0, %0"
                   : "=m"(v)
                   :
                   : "xmm0");
  __asm__ volatile("" : : "m"(v));
#endif
  return (uintptr_t)__builtin_frame_address(0);
}

static void entry_fn(void *arg)
{
  entered();
  entry.runs++;
  entry.arg = arg;
  entry.frame = (uintptr_t)__builtin_frame_address(0);
  entry.cfa = (uintptr_t)__builtin_dwarf_cfa();
  entry.inner_frame = inner_frame();
  sw_last(&main_ctx);
}

static void entry_args(void)
{
  uintptr_t lo, hi;

  memset(&entry, 0, sizeof(entry));
  ctx_adopt(&main_ctx);
  ctx_new(&entry.co, 64 * 1024, entry_fn, MAGIC);
  assert_int_equal(entry.runs, 0); /* nothing runs before the switch */
  sw(&entry.co);
  assert_int_equal(entry.runs, 1);
  assert_ptr_equal(entry.arg, MAGIC);
  lo = (uintptr_t)entry.co.lo;
  hi = lo + entry.co.size;
  assert_true(entry.frame > lo && entry.frame < hi);
  assert_true(entry.inner_frame > lo && entry.inner_frame < entry.frame);
  assert_int_equal(entry.cfa & 15, 0);
  assert_int_equal(entry.frame & 15, 0);
  assert_int_equal(entry.inner_frame & 15, 0);
  ctx_free(&entry.co);
}
BOTH(entry_args)

/* The same with the stack's top not 16-byte aligned: the switch aligns. */
static void entry_unaligned_top(void)
{
  struct tctx *t = &entry.co;

  memset(&entry, 0, sizeof(entry));
  ctx_adopt(&main_ctx);
  t->map_size = GUARD + 64 * 1024;
  t->map = mmap(NULL, t->map_size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  assert_true(t->map != MAP_FAILED);
  t->lo = t->map + GUARD;
  t->size = 64 * 1024 - 40; /* the top is 8 mod 16 */
#ifdef HAVE_VALGRIND
  t->vg_id = VALGRIND_STACK_REGISTER(t->lo, t->lo + t->size);
#endif
  assert_int_equal(gp__ctx_make(&t->ctx, t->lo, t->size, entry_fn, t), 0);
  sw(t);
  assert_int_equal(entry.runs, 1);
  assert_ptr_equal(entry.arg, t);
  assert_true(entry.frame < (uintptr_t)t->lo + t->size);
  assert_int_equal(entry.cfa & 15, 0);
  assert_int_equal(entry.frame & 15, 0);
  assert_int_equal(entry.inner_frame & 15, 0);
  ctx_free(t);
}
BOTH(entry_unaligned_top)

/* A stack too small for the first frame is refused. */
static void too_small(void)
{
  static char buf[1024] __attribute__((aligned(16)));
  struct gp__ctx ctx;
  assert_int_equal(gp__ctx_make(&ctx, buf, sizeof(buf), entry_fn, NULL),
                   -EINVAL);
}
BOTH(too_small)

/* Callee-saved registers: probe() (assembly, below) loads seed + k into
 * every callee-saved register, calls sw(a0, a1) and returns a bit mask of
 * the registers that came back changed. Both sides run probe() with
 * different seeds, so a register the switch does not keep arrives holding
 * the other side's value. */

#if defined(__x86_64__)
/* Bits: rbx, rbp, r12, r13, r14, r15. */
__asm__(".text\n"
        ".p2align 4\n"
        ".type probe, @function\n"
        "probe:\n"
        "  pushq %rbp\n"
        "  pushq %rbx\n"
        "  pushq %r12\n"
        "  pushq %r13\n"
        "  pushq %r14\n"
        "  pushq %r15\n"
        "  pushq %rcx\n" /* the seed; rsp is now 16-byte aligned */
        "  movq %rdi, %rax\n"
        "  movq %rsi, %rdi\n"
        "  movq %rdx, %rsi\n"
        "  leaq 1(%rcx), %rbx\n"
        "  leaq 2(%rcx), %rbp\n"
        "  leaq 3(%rcx), %r12\n"
        "  leaq 4(%rcx), %r13\n"
        "  leaq 5(%rcx), %r14\n"
        "  leaq 6(%rcx), %r15\n"
        "  callq *%rax\n"
        "  movq (%rsp), %rcx\n"
        "  xorl %eax, %eax\n"
        "  leaq 1(%rcx), %rdx\n cmpq %rdx, %rbx\n je 1f\n orl $1, %eax\n1:\n"
        "  leaq 2(%rcx), %rdx\n cmpq %rdx, %rbp\n je 1f\n orl $2, %eax\n1:\n"
        "  leaq 3(%rcx), %rdx\n cmpq %rdx, %r12\n je 1f\n orl $4, %eax\n1:\n"
        "  leaq 4(%rcx), %rdx\n cmpq %rdx, %r13\n je 1f\n orl $8, %eax\n1:\n"
        "  leaq 5(%rcx), %rdx\n cmpq %rdx, %r14\n je 1f\n orl $16, %eax\n1:\n"
        "  leaq 6(%rcx), %rdx\n cmpq %rdx, %r15\n je 1f\n orl $32, %eax\n1:\n"
        "  addq $8, %rsp\n"
        "  popq %r15\n"
        "  popq %r14\n"
        "  popq %r13\n"
        "  popq %r12\n"
        "  popq %rbx\n"
        "  popq %rbp\n"
        "  ret\n"
        ".size probe, .-probe\n");
#define HAVE_PROBE 1
#elif defined(__aarch64__)
/* Bits 0-10: x19-x29; bits 11-18: d8-d15. */
__asm__(".text\n"
        ".p2align 4\n"
        ".type probe, %function\n"
        "probe:\n"
        "  stp x29, x30, [sp, #-176]!\n"
        "  stp x19, x20, [sp, #16]\n"
        "  stp x21, x22, [sp, #32]\n"
        "  stp x23, x24, [sp, #48]\n"
        "  stp x25, x26, [sp, #64]\n"
        "  stp x27, x28, [sp, #80]\n"
        "  stp d8, d9, [sp, #96]\n"
        "  stp d10, d11, [sp, #112]\n"
        "  stp d12, d13, [sp, #128]\n"
        "  stp d14, d15, [sp, #144]\n"
        "  str x3, [sp, #160]\n"
        "  mov x9, x0\n"
        "  mov x0, x1\n"
        "  mov x1, x2\n"
        "  .irp n,19,20,21,22,23,24,25,26,27,28,29\n"
        "  add x\\n, x3, #(\\n - 18)\n"
        "  .endr\n"
        "  .irp n,8,9,10,11,12,13,14,15\n"
        "  add x10, x3, #(\\n + 4)\n"
        "  fmov d\\n, x10\n"
        "  .endr\n"
        "  blr x9\n"
        "  ldr x3, [sp, #160]\n"
        "  mov w0, #0\n"
        "  .irp n,19,20,21,22,23,24,25,26,27,28,29\n"
        "  add x10, x3, #(\\n - 18)\n"
        "  cmp x\\n, x10\n"
        "  cset w11, ne\n"
        "  orr w0, w0, w11, lsl #(\\n - 19)\n"
        "  .endr\n"
        "  .irp n,8,9,10,11,12,13,14,15\n"
        "  add x10, x3, #(\\n + 4)\n"
        "  fmov x12, d\\n\n"
        "  cmp x12, x10\n"
        "  cset w11, ne\n"
        "  orr w0, w0, w11, lsl #(\\n + 3)\n"
        "  .endr\n"
        "  ldp x19, x20, [sp, #16]\n"
        "  ldp x21, x22, [sp, #32]\n"
        "  ldp x23, x24, [sp, #48]\n"
        "  ldp x25, x26, [sp, #64]\n"
        "  ldp x27, x28, [sp, #80]\n"
        "  ldp d8, d9, [sp, #96]\n"
        "  ldp d10, d11, [sp, #112]\n"
        "  ldp d12, d13, [sp, #128]\n"
        "  ldp d14, d15, [sp, #144]\n"
        "  ldp x29, x30, [sp], #176\n"
        "  ret\n"
        ".size probe, .-probe\n");
#define HAVE_PROBE 1
#endif

#ifdef HAVE_PROBE
unsigned probe(void *fn, void *a0, void *a1, uint64_t seed) __asm__("probe")
    __attribute__((visibility("hidden")));

/* Switches from the running context to `to` inside probe(): the switch
 * function is called from assembly with every callee-saved register
 * loaded. Returns probe()'s mask. */
static unsigned probe_sw(struct tctx *to, uint64_t seed)
{
  struct tctx *from = cur;
  unsigned r;

  note_start(from, to, 0);
#if GP__HAVE_ASM
  if (gp__ctx_use_asm)
    r = probe((void *)gp__ctx_switch_asm, &from->ctx.sp, to->ctx.sp, seed);
  else
#endif
    r = probe((void *)gp__ctx_switch_uc, &from->ctx, &to->ctx, seed);
  note_finish(from->asan_fake);
  return r;
}

#define SEED_MAIN    0x5a5a000000000000ULL
#define SEED_CO      0xa5a5000000000000ULL
#define PROBE_ROUNDS 1000

struct regs {
  struct tctx co; /* the coroutine */
  unsigned mask;  /* registers the coroutine found changed, OR'ed */
  int rounds;     /* rounds the coroutine completed */
};
static struct regs regs;

static void regs_entry(void *arg)
{
  entered();
  for (uint64_t i = 0;; i++) {
    regs.mask |= probe_sw(&main_ctx, SEED_CO + (i << 8));
    regs.rounds++;
  }
}

static void callee_saved(void)
{
  unsigned mask = 0;

  memset(&regs, 0, sizeof(regs));
  ctx_adopt(&main_ctx);
  ctx_new(&regs.co, 64 * 1024, regs_entry, NULL);
  for (uint64_t i = 0; i < PROBE_ROUNDS; i++)
    mask |= probe_sw(&regs.co, SEED_MAIN + (i << 8));
  assert_int_equal(mask, 0);
  assert_int_equal(regs.mask, 0);
  assert_int_equal(regs.rounds, PROBE_ROUNDS - 1);
  ctx_free(&regs.co);
}
#else
static void callee_saved(void)
{
  skip(); /* no probe for this CPU */
}
#endif
BOTH(callee_saved)

/* Floating-point control state belongs to each context. */

/* The rounding mode as arithmetic shows it (SSE on x86_64). */
static int observed_rounding(void)
{
  volatile double one = 1.0, three = 3.0, ten = 10.0;
  double third = one / three, mthird = -one / three, tenth = one / ten;
  uint64_t a, b, c;

  /* 1/3 lies just above a double, 1/10 just below one. */
  memcpy(&a, &third, 8);
  memcpy(&b, &mthird, 8);
  memcpy(&c, &tenth, 8);
  if (a == 0x3fd5555555555556ULL)
    return FE_UPWARD;
  if (b == 0xbfd5555555555556ULL)
    return FE_DOWNWARD;
  if (c == 0x3fb999999999999aULL)
    return FE_TONEAREST;
  return FE_TOWARDZERO;
}

/* Valgrind keeps the rounding mode but computes as if to nearest: there
 * only the registers are compared (fegetround, and control_registers). */
#define assert_rounds(got, mode)                                               \
  do {                                                                         \
    if (!RUNNING_ON_VALGRIND)                                                  \
      assert_int_equal((got), (mode));                                         \
  } while (0)

struct fpenv {
  struct tctx co;  /* the coroutine */
  int seen[4];     /* fegetround() at the coroutine's checkpoints */
  int observed[4]; /* observed_rounding() there */
  int n;           /* checkpoints passed */
};
static struct fpenv fpenv;

static void fpenv_check(void)
{
  fpenv.seen[fpenv.n] = fegetround();
  fpenv.observed[fpenv.n] = observed_rounding();
  fpenv.n++;
}

static void fpenv_entry(void *arg)
{
  entered();
  fpenv_check(); /* 0: what it started with */
  fesetround(FE_UPWARD);
  sw(&main_ctx);
  fpenv_check(); /* 1: its own mode, kept while away */
  fesetround(FE_TOWARDZERO);
  sw(&main_ctx);
  fpenv_check(); /* 2 */
  sw_last(&main_ctx);
}

static void rounding_per_context(void)
{
  static const int modes[] = {FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO,
                              FE_TONEAREST};

  /* The probe of the mode tells the four apart. */
  for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
    assert_int_equal(fesetround(modes[i]), 0);
    assert_rounds(observed_rounding(), modes[i]);
  }
  memset(&fpenv, 0, sizeof(fpenv));
  ctx_adopt(&main_ctx);
  assert_int_equal(fesetround(FE_TONEAREST), 0);
  ctx_new(&fpenv.co, 64 * 1024, fpenv_entry, NULL);
  assert_int_equal(fesetround(FE_DOWNWARD), 0);
  sw(&fpenv.co);
  assert_int_equal(fegetround(), FE_DOWNWARD);
  assert_rounds(observed_rounding(), FE_DOWNWARD);
  sw(&fpenv.co);
  assert_int_equal(fegetround(), FE_DOWNWARD);
  assert_rounds(observed_rounding(), FE_DOWNWARD);
  sw(&fpenv.co);
  assert_int_equal(fegetround(), FE_DOWNWARD);
  assert_rounds(observed_rounding(), FE_DOWNWARD);
  fesetround(FE_TONEAREST);
  assert_int_equal(fpenv.n, 3);
  /* It starts with the mode its creator had at creation (below). */
  assert_int_equal(fpenv.seen[0], FE_TONEAREST);
  assert_rounds(fpenv.observed[0], FE_TONEAREST);
  assert_int_equal(fpenv.seen[1], FE_UPWARD);
  assert_rounds(fpenv.observed[1], FE_UPWARD);
  assert_int_equal(fpenv.seen[2], FE_TOWARDZERO);
  assert_rounds(fpenv.observed[2], FE_TOWARDZERO);
  ctx_free(&fpenv.co);
}
BOTH(rounding_per_context)

/* A new context inherits the floating-point environment its creator has
 * when it is made, as POSIX requires of pthread_create (a coroutine is a
 * thread to the program), not the one in force when it first runs. */
static void rounding_inherited(void)
{
  memset(&fpenv, 0, sizeof(fpenv));
  ctx_adopt(&main_ctx);
  assert_int_equal(fesetround(FE_UPWARD), 0);
  ctx_new(&fpenv.co, 64 * 1024, fpenv_entry, NULL);
  assert_int_equal(fesetround(FE_TONEAREST), 0);
  sw(&fpenv.co);
  assert_int_equal(fegetround(), FE_TONEAREST);
  fesetround(FE_TONEAREST);
  assert_int_equal(fpenv.n, 1);
  assert_int_equal(fpenv.seen[0], FE_UPWARD);
  assert_rounds(fpenv.observed[0], FE_UPWARD);
  ctx_free(&fpenv.co);
}
BOTH(rounding_inherited)

/* The raw control registers, each kept per context on its own. */

#if defined(__x86_64__)
static uint16_t get_x87(void)
{
  uint16_t cw;
  __asm__ volatile("fnstcw %0" : "=m"(cw));
  return cw;
}

static void set_x87(uint16_t cw)
{
  __asm__ volatile("fldcw %0" : : "m"(cw));
}

/* Rounding control in bits 10-11 of the x87 word and 13-14 of MXCSR; the
 * precision control (x87) and FTZ/DAZ (MXCSR) too, except under valgrind,
 * which emulates rounding control only. */
#define X87_RC(rc)    ((uint16_t)(0x037f | ((rc) << 10)))
#define X87_PC53      0x0200
#define MXCSR_RC(rc)  (0x1f80u | ((unsigned)(rc) << 13))
#define MXCSR_FTZ_DAZ 0x8040u
#define MXCSR_CONTROL 0xffc0u /* the control bits; the rest are flags */

struct ctl {
  struct tctx co;  /* the coroutine */
  uint16_t x87[3]; /* the x87 control word at its checkpoints */
  unsigned sse[3]; /* MXCSR's control bits there */
  int n;           /* checkpoints passed */
  int rich;        /* also the bits valgrind does not emulate */
};
static struct ctl ctl;

static void ctl_check(void)
{
  ctl.x87[ctl.n] = get_x87();
  ctl.sse[ctl.n] = _mm_getcsr() & MXCSR_CONTROL;
  ctl.n++;
}

static void ctl_entry(void *arg)
{
  entered();
  ctl_check();
  /* x87 rounds up, SSE toward zero: the two are kept apart. */
  set_x87(X87_RC(2) & (ctl.rich ? ~0x0300 : 0xffff));
  _mm_setcsr(MXCSR_RC(3));
  sw(&main_ctx);
  ctl_check();
  sw_last(&main_ctx);
}

static void control_registers(void)
{
  uint16_t main_x87;
  unsigned main_sse;

  memset(&ctl, 0, sizeof(ctl));
  ctl.rich = !RUNNING_ON_VALGRIND;
  ctx_adopt(&main_ctx);
  set_x87(0x037f);
  _mm_setcsr(0x1f80);
  ctx_new(&ctl.co, 64 * 1024, ctl_entry, NULL);
  /* x87 rounds down, SSE up. */
  main_x87 = X87_RC(1);
  main_sse = MXCSR_RC(2);
  if (ctl.rich) {
    main_x87 = (uint16_t)((main_x87 & ~0x0300) | X87_PC53);
    main_sse |= MXCSR_FTZ_DAZ;
  }
  set_x87(main_x87);
  _mm_setcsr(main_sse);
  sw(&ctl.co);
  assert_int_equal(get_x87(), main_x87);
  assert_int_equal(_mm_getcsr() & MXCSR_CONTROL, main_sse);
  sw(&ctl.co);
  assert_int_equal(get_x87(), main_x87);
  assert_int_equal(_mm_getcsr() & MXCSR_CONTROL, main_sse);
  set_x87(0x037f);
  _mm_setcsr(0x1f80);
  assert_int_equal(ctl.n, 2);
  /* Created under the defaults. */
  assert_int_equal(ctl.x87[0], 0x037f);
  assert_int_equal(ctl.sse[0], 0x1f80);
  assert_int_equal(ctl.x87[1], X87_RC(2) & (ctl.rich ? ~0x0300 : 0xffff));
  assert_int_equal(ctl.sse[1], MXCSR_RC(3));
  ctx_free(&ctl.co);
}
#elif defined(__aarch64__)
static uint64_t get_fpcr(void)
{
  uint64_t v;
  __asm__ volatile("mrs %0, fpcr" : "=r"(v));
  return v;
}

static void set_fpcr(uint64_t v)
{
  __asm__ volatile("msr fpcr, %0" : : "r"(v));
}

#define FPCR_RMODE(m) ((uint64_t)(m) << 22)
#define FPCR_FZ       (1ULL << 24)
#define FPCR_DN       (1ULL << 25)
#define FPCR_AHP      (1ULL << 26)

struct ctl {
  struct tctx co;   /* the coroutine */
  uint64_t fpcr[3]; /* FPCR at its checkpoints */
  int n;            /* checkpoints passed */
};
static struct ctl ctl;

static void ctl_entry(void *arg)
{
  entered();
  ctl.fpcr[ctl.n++] = get_fpcr();
  set_fpcr(FPCR_RMODE(1) | FPCR_FZ); /* toward +infinity, flush to zero */
  sw(&main_ctx);
  ctl.fpcr[ctl.n++] = get_fpcr();
  sw_last(&main_ctx);
}

static void control_registers(void)
{
  uint64_t mine = FPCR_RMODE(2) | FPCR_DN | FPCR_AHP;

  memset(&ctl, 0, sizeof(ctl));
  ctx_adopt(&main_ctx);
  set_fpcr(0);
  ctx_new(&ctl.co, 64 * 1024, ctl_entry, NULL);
  set_fpcr(mine);
  sw(&ctl.co);
  assert_int_equal(get_fpcr(), mine);
  sw(&ctl.co);
  assert_int_equal(get_fpcr(), mine);
  set_fpcr(0);
  assert_int_equal(ctl.n, 2);
  assert_int_equal(ctl.fpcr[0], 0);
  assert_int_equal(ctl.fpcr[1], FPCR_RMODE(1) | FPCR_FZ);
  ctx_free(&ctl.co);
}
#else
static void control_registers(void)
{
  skip();
}
#endif
BOTH(control_registers)

/* Deep recursion: about 150 KiB of frames on a 256 KiB stack, with a
 * switch away and back at the deepest point, then every frame checked on
 * the way out. */

#define DEEP_STACK (256 * 1024)
#define DEEP_FRAME 1024
#define DEEP_DEPTH 150

struct deep {
  struct tctx co;   /* the coroutine */
  uintptr_t lowest; /* the lowest frame address reached */
  uint64_t sum;     /* the checksum computed on the way out */
  int bad;          /* frames found overwritten */
  int done;         /* the recursion returned */
};
static struct deep deep;

static __attribute__((noinline)) uint64_t recurse(int depth)
{
  volatile unsigned char buf[DEEP_FRAME];
  uint64_t sum;

  for (size_t i = 0; i < sizeof(buf); i++)
    buf[i] = (unsigned char)(depth * 7 + i);
  if ((uintptr_t)buf < deep.lowest)
    deep.lowest = (uintptr_t)buf;
  if (depth == DEEP_DEPTH)
    sw(&main_ctx); /* away and back at the bottom */
  sum = depth < DEEP_DEPTH ? recurse(depth + 1) : 0;
  for (size_t i = 0; i < sizeof(buf); i++)
    if (buf[i] != (unsigned char)(depth * 7 + i)) {
      deep.bad++;
      break;
    }
  return sum * 31 + buf[depth % DEEP_FRAME];
}

static void deep_entry(void *arg)
{
  entered();
  deep.lowest = UINTPTR_MAX;
  deep.sum = recurse(1);
  deep.done = 1;
  sw_last(&main_ctx);
}

static void deep_recursion(void)
{
  uint64_t expect = 0;
  uintptr_t top;

  memset(&deep, 0, sizeof(deep));
  ctx_adopt(&main_ctx);
  ctx_new(&deep.co, DEEP_STACK, deep_entry, NULL);
  top = (uintptr_t)deep.co.lo + DEEP_STACK;
  sw(&deep.co);
  assert_int_equal(deep.done, 0); /* parked at the bottom */
  assert_true(top - deep.lowest >= DEEP_DEPTH * DEEP_FRAME);
  assert_true(deep.lowest >= (uintptr_t)deep.co.lo);
  sw(&deep.co);
  assert_int_equal(deep.done, 1);
  assert_int_equal(deep.bad, 0);
  for (int d = DEEP_DEPTH; d >= 1; d--)
    expect = expect * 31 + (unsigned char)(d * 7 + d % DEEP_FRAME);
  assert_true(deep.sum == expect);
  ctx_free(&deep.co);
}
BOTH(deep_recursion)

int main(void)
{
  const struct CMUnitTest tests[] = {
      BOTH_TESTS(pingpong),
      BOTH_TESTS(ring_switch),
      BOTH_TESTS(entry_args),
      BOTH_TESTS(entry_unaligned_top),
      BOTH_TESTS(too_small),
      BOTH_TESTS(callee_saved),
      BOTH_TESTS(rounding_per_context),
      BOTH_TESTS(rounding_inherited),
      BOTH_TESTS(control_registers),
      BOTH_TESTS(deep_recursion),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
