/* arch.h: the context switch, and nothing else.
 *
 * A context is the saved state of a suspended coroutine. Two mechanisms exist:
 * the assembly switch (arch/<cpu>/switch.S) and the ucontext fallback
 * (arch/ucontext.c), chosen once at start-up (GPATCH_CONTEXT) or at build time
 * (make CONTEXT=ucontext, which leaves the assembly out entirely).
 *
 * The assembly switch pushes the callee-saved state onto the stack it leaves
 * and keeps only the stack pointer in struct gp__ctx. Every suspended stack
 * therefore ends in the same frame, described below, which is also what the
 * CFI in switch.S describes: debuggers and libunwind can unwind through it.
 */
#ifndef GP_ARCH_H
#define GP_ARCH_H

#include <stddef.h>
#include <stdint.h>

#if defined(GP_FORCE_UCONTEXT)
#define GP__HAVE_ASM 0
#elif defined(__x86_64__) || defined(__aarch64__)
#define GP__HAVE_ASM 1
#else
#define GP__HAVE_ASM 0
#endif

/* The frame the assembly switch leaves on a suspended stack, lowest address
 * first. switch.S has the same table in a comment; the _Static_asserts in
 * arch/ctx.c hold the two together.
 *
 * x86_64 (64 bytes):            aarch64 (176 bytes):
 *    0 mxcsr (4), x87 cw (2)       0 x19   8 x20  16 x21  24 x22
 *    8 r15                        32 x23  40 x24  48 x25  56 x26
 *   16 r14                        64 x27  72 x28  80 x29  88 x30 (lr)
 *   24 r13                        96 d8  104 d9  112 d10 120 d11
 *   32 r12                       128 d12 136 d13 144 d14 152 d15
 *   40 rbx                       160 fpcr 168 (padding)
 *   48 rbp
 *   56 return address
 */
#if defined(__x86_64__)
struct gp__frame {
  uint32_t mxcsr; /* SSE control and status word */
  uint16_t fpucw; /* x87 control word */
  uint16_t pad;   /* keeps the registers 8-byte aligned */
  uint64_t r15;   /* callee-saved general registers, in pop order */
  uint64_t r14;
  uint64_t r13; /* entry: the argument for the entry function */
  uint64_t r12; /* entry: the entry function */
  uint64_t rbx;
  uint64_t rbp; /* frame pointer; 0 on a new stack ends frame chains */
  uint64_t ret; /* where the switch returns to */
};
#elif defined(__aarch64__)
struct gp__frame {
  uint64_t x[12]; /* x19..x30; entry: x19 the function, x20 its argument,
                     x29 = 0, x30 = the entry trampoline */
  uint64_t d[8];  /* d8..d15, the callee-saved halves of v8..v15 */
  uint64_t fpcr;  /* floating-point control register */
  uint64_t pad;   /* keeps sp 16-byte aligned */
};
#endif

/* The saved state of one suspended context. */
struct gp__ctx {
  void *sp; /* assembly switch: the stack pointer at the saved frame */
  void *uc; /* ucontext fallback: the ucontext_t, kept on the coroutine's
               own stack (or in the scheduler for a thread's first one) */
};

/* The entry function of a new context. It must never return: a coroutine
 * leaves by switching away for the last time. */
typedef void (*gp__ctx_fn)(void *arg);

/* Nonzero when the assembly switch is in use; set by gp__ctx_init(). */
extern int gp__ctx_use_asm;

/* Chooses the mechanism: use_ucontext nonzero selects the fallback (always
 * the fallback when the assembly was not built). Returns 0. */
int gp__ctx_init(int use_ucontext);

/* Prepares ctx to start fn(arg) on the stack [lo, lo + size) the first time
 * it is switched to. Uses the top of the stack for the initial frame (and, in
 * the fallback, the ucontext_t). The new context starts with the caller's
 * floating-point control state (MXCSR and x87 control word; FPCR), as a new
 * thread inherits its creator's. Returns 0, or -EINVAL when the stack is too
 * small. Does not touch errno. */
int gp__ctx_make(struct gp__ctx *ctx, void *lo, size_t size, gp__ctx_fn fn,
                 void *arg);

/* Prepares ctx to receive the state of the context that is running now, the
 * first time it switches away (a thread's original stack). uc_storage must
 * hold a ucontext_t for the fallback; it may be NULL with the assembly
 * switch. */
void gp__ctx_adopt(struct gp__ctx *ctx, void *uc_storage);

/* Saves the running state into from and resumes to. Returns when something
 * switches back to from. */
void gp__ctx_switch_asm(void **save_sp, void *load_sp);
void gp__ctx_switch_uc(struct gp__ctx *from, struct gp__ctx *to);

/* Nonzero when a switch sets the signal mask (the fallback's swapcontext
 * sets the one the context it resumes saved). */
static inline int gp__ctx_switch_sets_mask(void)
{
#if GP__HAVE_ASM
  return !gp__ctx_use_asm;
#else
  return 1;
#endif
}

static inline void gp__ctx_switch(struct gp__ctx *from, struct gp__ctx *to)
{
#if GP__HAVE_ASM
  if (gp__ctx_use_asm) {
    gp__ctx_switch_asm(&from->sp, to->sp);
    return;
  }
#endif
  gp__ctx_switch_uc(from, to);
}

/* The instruction a suspended assembly context resumes at, for unwinders:
 * with pc there and sp at the saved frame, the CFI of the switch applies. */
extern const char gp__ctx_resume_asm[];

/* Fills a libunwind context (unw_context_t, passed as void *) so that it
 * unwinds the suspended ctx. Returns 0, or -ENOTSUP when it cannot. */
int gp__ctx_unwind_context(const struct gp__ctx *ctx, void *unw_ctx);

#endif /* GP_ARCH_H */
