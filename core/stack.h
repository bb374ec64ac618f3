/* stack.h: coroutine stacks. mmap'd, committed lazily by the kernel, pooled,
 * each with a guard region below it. */
#ifndef GP_STACK_H
#define GP_STACK_H

#include <stddef.h>
#include <stdint.h>

/* How a guard is made, for reports and tests. */
enum gp__guard_kind {
  GP__GUARD_MADVISE,  /* MADV_GUARD_INSTALL: no extra VMA per stack */
  GP__GUARD_MPROTECT, /* PROT_NONE pages: one extra VMA per stack */
  GP__GUARD_CANARY    /* no hardware guard: a canary checked on switches */
};

struct gp__stack {
  char *lo;               /* lowest usable byte */
  size_t size;            /* usable bytes, above the guard */
  char *guard;            /* the guard region just below lo, or NULL */
  size_t guard_size;      /* its size in bytes */
  int kind;               /* enum gp__guard_kind of this stack's guard */
  int canary;             /* nonzero: no guard; a canary word sits at lo */
  int own_mapping;        /* nonzero: a mapping of its own (odd size) */
  int dirty;              /* used since its memory last went back */
  struct gp__stack *next; /* in the pool's free list */
};

/* Gets a stack of at least size usable bytes (rounded up to pages), from the
 * pool when one is free. Returns 0 and sets *out, or -ENOMEM. */
int gp__stack_get(struct gp__stack **out, size_t size);

/* Gets a stack of a mapping of its own, never from a slab: the first
 * scheduler's hub's, made at start, so that a program that makes no thread
 * reserves no slab (64 stacks: 516 MiB of address space with 8 MiB stacks,
 * which a program that lowers RLIMIT_AS itself, as vsftpd does, then
 * lacked). Returns 0 and sets *out, or -ENOMEM. */
int gp__stack_get_own(struct gp__stack **out, size_t size);

/* Returns a stack to the pool. Past a high-water mark its memory is given
 * back to the kernel (MADV_DONTNEED); the address range stays reserved. */
void gp__stack_put(struct gp__stack *st);

/* Gives the memory of up to max cold free stacks (those past the pool's
 * first 1024) back to the kernel. The hub calls it when it is about to wait
 * with nothing to run, so that a burst of exits does not pay for it.
 * Returns how many stacks were trimmed. */
size_t gp__stack_trim(size_t max);

/* The value of a canary word. */
#define GP__STACK_CANARY 0x6770617463686564ULL /* "gpatched" */

/* Nonzero when the canary of a canary-guarded stack was overwritten
 * (checked at every switch). */
static inline int gp__stack_canary_dead(const struct gp__stack *st)
{
  return st->canary && *(const volatile uint64_t *)st->lo != GP__STACK_CANARY;
}

/* Nonzero when addr lies in the guard region of st (or, for a canary stack,
 * in its lowest page). */
int gp__stack_guard_hit(const struct gp__stack *st, const void *addr);

/* Nonzero when a fault at addr, with the interrupted stack pointer sp (0:
 * unknown), is an overflow of st: addr in its guard, or a frame bigger
 * than the guard that skipped it — sp then lies below the stack (within
 * 64 MiB) and addr at or just below sp, under the stack — or (addr NULL:
 * the kernel's own SIGSEGV, sent when a signal's frame did not fit) sp in
 * the stack's lowest SIGNAL_FRAME_ROOM or below it. */
int gp__stack_overflow_hit(const struct gp__stack *st, const void *addr,
                           uintptr_t sp);

/* The guard kind the next default-size stacks get. */
enum gp__guard_kind gp__stack_guard_kind(void);

/* Around fork: the pool's lock is taken before (another scheduler's thread
 * may be half-way through the free list) and let go after, in the parent
 * and in the child. */
void gp__stack_fork_prepare(void);
void gp__stack_fork_done(void);

/* Statistics for reports and tests. */
struct gp__stack_stats {
  size_t mapped;           /* stacks ever mapped */
  size_t pooled;           /* stacks free in the pool now */
  size_t guarded_mprotect; /* stacks guarded with PROT_NONE pages */
  size_t canary;           /* stacks with only a canary */
};
void gp__stack_stats(struct gp__stack_stats *out);

#endif /* GP_STACK_H */
