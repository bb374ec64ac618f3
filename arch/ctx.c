#define _GNU_SOURCE
/* ctx.c: making contexts, and the choice between the assembly switch and the
 * ucontext fallback. The switch itself is in arch/<cpu>/switch.S. */
#include "arch.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <ucontext.h>

int gp__ctx_use_asm;

/* Contexts need this much stack above the first frame: the entry
 * trampoline's call and some slack, plus (fallback) a ucontext_t. */
#define MIN_STACK 4096

#if GP__HAVE_ASM
void gp__ctx_entry_asm(void);

#if defined(__x86_64__)
_Static_assert(sizeof(struct gp__frame) == 64, "x86_64 frame size");
_Static_assert(offsetof(struct gp__frame, fpucw) == 4, "x87 cw offset");
_Static_assert(offsetof(struct gp__frame, r15) == 8, "r15 offset");
_Static_assert(offsetof(struct gp__frame, r14) == 16, "r14 offset");
_Static_assert(offsetof(struct gp__frame, r13) == 24, "r13 offset");
_Static_assert(offsetof(struct gp__frame, r12) == 32, "r12 offset");
_Static_assert(offsetof(struct gp__frame, rbx) == 40, "rbx offset");
_Static_assert(offsetof(struct gp__frame, rbp) == 48, "rbp offset");
_Static_assert(offsetof(struct gp__frame, ret) == 56, "return offset");
#elif defined(__aarch64__)
_Static_assert(sizeof(struct gp__frame) == 176, "aarch64 frame size");
_Static_assert(offsetof(struct gp__frame, x[10]) == 80, "x29 offset");
_Static_assert(offsetof(struct gp__frame, x[11]) == 88, "x30 offset");
_Static_assert(offsetof(struct gp__frame, d) == 96, "d8 offset");
_Static_assert(offsetof(struct gp__frame, fpcr) == 160, "fpcr offset");
#endif

static void make_asm(struct gp__ctx *ctx, char *top, gp__ctx_fn fn, void *arg)
{
  struct gp__frame *f;

  /* 16 zero bytes above the frame: the entry trampoline starts with a
   * 16-byte aligned sp, and nothing above it looks like a frame. */
  top = (char *)((uintptr_t)top & ~(uintptr_t)15) - 16;
  memset(top, 0, 16);
  f = (struct gp__frame *)(top - sizeof(*f));
  memset(f, 0, sizeof(*f));
  /* The floating-point control state is the creator's, as POSIX has a new
   * thread inherit its creator's environment (pthread_create). */
#if defined(__x86_64__)
  __asm__ volatile("stmxcsr %0" : "=m"(f->mxcsr));
  __asm__ volatile("fnstcw %0" : "=m"(f->fpucw));
  f->r12 = (uint64_t)(uintptr_t)fn;
  f->r13 = (uint64_t)(uintptr_t)arg;
  f->ret = (uint64_t)(uintptr_t)gp__ctx_entry_asm;
#elif defined(__aarch64__)
  f->x[0] = (uint64_t)(uintptr_t)fn;
  f->x[1] = (uint64_t)(uintptr_t)arg;
  f->x[11] = (uint64_t)(uintptr_t)gp__ctx_entry_asm;
  __asm__ volatile("mrs %0, fpcr" : "=r"(f->fpcr));
#endif
  ctx->sp = f;
  ctx->uc = NULL;
}
#endif /* GP__HAVE_ASM */

int gp__ctx_make_uc(struct gp__ctx *ctx, void *lo, char *top, gp__ctx_fn fn,
                    void *arg);

int gp__ctx_init(int use_ucontext)
{
  gp__ctx_use_asm = GP__HAVE_ASM && !use_ucontext;
  return 0;
}

int gp__ctx_make(struct gp__ctx *ctx, void *lo, size_t size, gp__ctx_fn fn,
                 void *arg)
{
  char *top = (char *)lo + size;

  if (size < MIN_STACK + sizeof(ucontext_t))
    return -EINVAL;
#if GP__HAVE_ASM
  if (gp__ctx_use_asm) {
    make_asm(ctx, top, fn, arg);
    return 0;
  }
#endif
  return gp__ctx_make_uc(ctx, lo, top, fn, arg);
}

void gp__ctx_adopt(struct gp__ctx *ctx, void *uc_storage)
{
  ctx->sp = NULL;
  ctx->uc = gp__ctx_use_asm ? NULL : uc_storage;
}

int gp__ctx_unwind_context(const struct gp__ctx *ctx, void *unw_ctx)
{
  ucontext_t *uc = unw_ctx;

#if GP__HAVE_ASM
  if (gp__ctx_use_asm) {
    const struct gp__frame *f = ctx->sp;
    if (f == NULL)
      return -ENOTSUP;
#if defined(__x86_64__)
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)gp__ctx_resume_asm;
    uc->uc_mcontext.gregs[REG_RSP] = (greg_t)(uintptr_t)f;
    uc->uc_mcontext.gregs[REG_RBP] = (greg_t)f->rbp;
    uc->uc_mcontext.gregs[REG_RBX] = (greg_t)f->rbx;
    uc->uc_mcontext.gregs[REG_R12] = (greg_t)f->r12;
    uc->uc_mcontext.gregs[REG_R13] = (greg_t)f->r13;
    uc->uc_mcontext.gregs[REG_R14] = (greg_t)f->r14;
    uc->uc_mcontext.gregs[REG_R15] = (greg_t)f->r15;
#elif defined(__aarch64__)
    for (int i = 0; i < 12; i++)
      uc->uc_mcontext.regs[19 + i] = f->x[i];
    uc->uc_mcontext.sp = (uint64_t)(uintptr_t)f;
    uc->uc_mcontext.pc = (uint64_t)(uintptr_t)gp__ctx_resume_asm;
#endif
    return 0;
  }
#endif
  if (ctx->uc == NULL)
    return -ENOTSUP;
  memcpy(&uc->uc_mcontext, &((const ucontext_t *)ctx->uc)->uc_mcontext,
         sizeof(uc->uc_mcontext));
  return 0;
}
