/* ucontext.c: the portable fallback switch, on getcontext/makecontext/
 * swapcontext. Slower (swapcontext changes the signal mask with a system
 * call) but needs no assembly: GPATCH_CONTEXT=ucontext at run time, or
 * make CONTEXT=ucontext to build without the assembly at all. */
#define _GNU_SOURCE
#include "arch.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>

/* What the entry function needs, kept at the top of the new stack. */
struct start {
  gp__ctx_fn fn; /* the entry function */
  void *arg;     /* its argument */
};

/* makecontext passes int arguments only: the pointer travels in halves. */
static void uc_entry(unsigned int hi, unsigned int lo)
{
  struct start *s = (struct start *)(((uintptr_t)hi << 32) | lo);
  s->fn(s->arg);
  __builtin_trap(); /* entry functions never return */
}

int gp__ctx_make_uc(struct gp__ctx *ctx, void *lo, char *top, gp__ctx_fn fn,
                    void *arg)
{
  ucontext_t *uc;
  struct start *s;
  uintptr_t p;

  p = ((uintptr_t)top - sizeof(ucontext_t)) & ~(uintptr_t)63;
  uc = (ucontext_t *)p;
  p = (p - sizeof(struct start)) & ~(uintptr_t)15;
  s = (struct start *)p;
  s->fn = fn;
  s->arg = arg;
  memset(uc, 0, sizeof(*uc));
  if (getcontext(uc) != 0)
    return -EINVAL;
  uc->uc_link = NULL;
  uc->uc_stack.ss_sp = lo;
  uc->uc_stack.ss_size = (size_t)(p - (uintptr_t)lo) & ~(size_t)15;
  makecontext(uc, (void (*)(void))uc_entry, 2,
              (unsigned int)((uintptr_t)s >> 32), (unsigned int)(uintptr_t)s);
  ctx->sp = NULL;
  ctx->uc = uc;
  return 0;
}

/* libc's swapcontext, not the shim's, which the runtime never calls (it
 * notes a change of the mask; the scheduler notes its own switches'). */
static int (*libc_swapcontext)(ucontext_t *from, const ucontext_t *to);

void gp__ctx_switch_uc(struct gp__ctx *from, struct gp__ctx *to)
{
  if (libc_swapcontext == NULL) {
    void *f = dlsym(RTLD_NEXT, "swapcontext");
    if (f == NULL)
      f = dlsym(RTLD_DEFAULT, "swapcontext");
    libc_swapcontext = (int (*)(ucontext_t *, const ucontext_t *))f;
  }
  libc_swapcontext(from->uc, to->uc);
}
