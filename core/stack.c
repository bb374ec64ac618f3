/* stack.c: coroutine stacks.
 *
 * Default-size stacks come from slabs: one mapping holds SLAB_STACKS stacks,
 * each with a guard region below it. The guard is installed with
 * MADV_GUARD_INSTALL (Linux 6.13+), which marks the pages without splitting
 * the mapping: a slab stays one VMA whatever its size, so 100,000 stacks fit
 * easily under the default vm.max_map_count of 65530.
 *
 * On older kernels the guard is mprotect(PROT_NONE), which costs two VMAs per
 * stack; those are handed out only while a budget derived from
 * vm.max_map_count lasts. Stacks past the budget get a canary word at their
 * lowest address instead, checked whenever the coroutine switches away, and
 * stderr says so once. Stacks of other sizes (pthread_attr_setstacksize),
 * and default ones when a slab's address space cannot be had, get mappings
 * of their own, guarded the same way.
 *
 * The default size is what a thread gets unpatched (glibc's default, 8 MiB
 * under the usual RLIMIT_STACK): 100,000 stacks reserve 800 GiB of the
 * 128 TiB of x86_64's user address space. The mappings use MAP_NORESERVE:
 * a stack costs address space until it is touched, and only the pages it
 * touches after that (and the page table that maps them: 8 MiB apart,
 * each stack's top page needs a page-table page of its own). */
#define _GNU_SOURCE
#include "stack.h"
#include "mem.h"
#include "config.h"
#include "debug.h"
#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Stacks per slab mapping. */
#define SLAB_STACKS 64
/* Guard below each stack: larger than one page so that a function with a big
 * frame cannot step over it into the neighbouring stack. */
#define GUARD_SIZE (64 * 1024)
/* Free stacks kept with their memory; past this, memory goes back. */
#define POOL_KEEP 1024
/* The most a signal's frame takes below the stack pointer (the kernel's
 * frame with AVX-512 state is about 3.5 KiB). */
#define SIGNAL_FRAME_ROOM (16 * 1024)
/* How far below a stack a frame too large for it may move the stack
 * pointer and still be taken for that stack's overflow. */
#define OVERFLOW_REACH ((uintptr_t)64 << 20)

static struct {
  int lock;                       /* spinlock: schedulers of several threads */
  struct gp__stack *free_default; /* free stacks of the default size */
  struct gp__stack *free_other;   /* free stacks of other sizes */
  size_t nfree_default;           /* length of free_default */
  size_t nfree_other;             /* length of free_other */
  size_t to_trim;                 /* dirty stacks put past POOL_KEEP */
  int madv_state;                 /* 0 untried, 1 works, -1 does not */
  long vma_budget;                /* mprotect guards still allowed */
  int warned;                     /* the canary fallback was announced */
  struct gp__stack_stats stats;   /* counters for reports */
} pool = {.vma_budget = -1};

static void lock(void)
{
  while (__atomic_exchange_n(&pool.lock, 1, __ATOMIC_ACQUIRE))
    while (__atomic_load_n(&pool.lock, __ATOMIC_RELAXED))
      ; /* spin: held only for list operations */
}

static void unlock(void)
{
  __atomic_store_n(&pool.lock, 0, __ATOMIC_RELEASE);
}

static size_t page_size(void)
{
  static size_t ps;
  if (ps == 0)
    ps = (size_t)sysconf(_SC_PAGESIZE);
  return ps;
}

static size_t round_pages(size_t n)
{
  size_t ps = page_size();
  return (n + ps - 1) & ~(ps - 1);
}

/* Calls fn on each chunk of the file at path (read with the real read(2):
 * the runtime never calls a name the shim interposes, and stdio's are). */
static void each_chunk(const char *path,
                       void (*fn)(const char *, size_t, void *), void *arg)
{
  char buf[4096];
  ssize_t n;
  int fd = open(path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return;
  while ((n = gp__real_read(fd, buf, sizeof(buf) - 1)) > 0) {
    buf[n] = 0;
    fn(buf, (size_t)n, arg);
  }
  gp__real_close(fd);
}

static void first_number(const char *s, size_t n, void *arg)
{
  long *max = arg;
  char *end;
  long v = strtol(s, &end, 10);
  (void)n;
  if (end != s && *max < 0)
    *max = v;
}

static void count_lines(const char *s, size_t n, void *arg)
{
  long *lines = arg;
  for (size_t i = 0; i < n; i++)
    *lines += s[i] == '\n';
}

/* How many mprotect guards may be made: half of what vm.max_map_count leaves
 * after the mappings the process has now, so the program keeps room. */
static long compute_budget(void)
{
  long max = -1, used = 0;
  each_chunk("/proc/sys/vm/max_map_count", first_number, &max);
  if (max < 0)
    max = 65530;
  each_chunk("/proc/self/maps", count_lines, &used);
  long budget = (max - used) / 2 / 2; /* two VMAs per guarded stack */
  return budget > 0 ? budget : 0;
}

/* Commits the top page of st, which its coroutine's first frames use
 * anyway, with MADV_POPULATE_WRITE (Linux 5.14+), or by touching it. A
 * page fault is what costs here: on the PVM guest this was measured on, a
 * touch took 23 us, and 60 us when the page is the first of its 2 MiB of
 * address space (as the top of every 8 MiB stack is: the kernel makes a
 * page-table page too), against 4 us for the madvise; 10,000 slab stacks
 * were made in 0.65 s by touching and in 0.07 s so. Done before the guard
 * goes in: a top page first touched after it cost ~13 us more. */
static void commit_top(struct gp__stack *st)
{
  static int no_populate;
  char *top = st->lo + st->size - page_size();

  st->dirty = 1;
  if (!no_populate && madvise(top, page_size(), MADV_POPULATE_WRITE) == 0)
    return;
  no_populate = 1; /* EINVAL: an older kernel */
  *(volatile char *)(st->lo + st->size - 1) = 0;
}

/* Installs the guard of st, choosing the strongest kind available. */
static void guard(struct gp__stack *st)
{
  commit_top(st);
  if (pool.madv_state >= 0 && !gp__config.no_madv_guard) {
    if (madvise(st->guard, st->guard_size, MADV_GUARD_INSTALL) == 0) {
      pool.madv_state = 1;
      st->kind = GP__GUARD_MADVISE;
      return;
    }
    pool.madv_state = -1;
  }
  if (pool.vma_budget < 0)
    pool.vma_budget = compute_budget();
  if (pool.vma_budget > 0 &&
      mprotect(st->guard, st->guard_size, PROT_NONE) == 0) {
    pool.vma_budget--;
    pool.stats.guarded_mprotect++;
    st->kind = GP__GUARD_MPROTECT;
    return;
  }
  st->kind = GP__GUARD_CANARY;
  st->canary = 1;
  pool.stats.canary++;
  *(volatile uint64_t *)st->lo = GP__STACK_CANARY;
  if (!pool.warned) {
    pool.warned = 1;
    gp__debug_out(
        2, "gpatch: vm.max_map_count leaves no room for more guard pages and "
           "this kernel lacks MADV_GUARD_INSTALL; further coroutine stacks "
           "are checked with a canary when they switch (overflow is caught "
           "later, not at the faulting instruction)\n");
  }
}

static int map_slab(size_t size)
{
  size_t slot = GUARD_SIZE + size;
  char *base =
      mmap(NULL, slot * SLAB_STACKS, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (base == MAP_FAILED)
    return -ENOMEM;
  /* Never a huge page under a stack: a thread's first touch would commit
   * 2 MiB (kernels before 6.7 give MAP_STACK mappings huge pages too). */
  madvise(base, slot * SLAB_STACKS, MADV_NOHUGEPAGE);
  struct gp__stack *descs = gp__calloc(SLAB_STACKS, sizeof(*descs));
  if (descs == NULL) {
    munmap(base, slot * SLAB_STACKS);
    return -ENOMEM;
  }
  /* Push in reverse so that the lowest slot is handed out first. */
  for (int i = SLAB_STACKS - 1; i >= 0; i--) {
    struct gp__stack *st = &descs[i];
    st->guard = base + (size_t)i * slot;
    st->guard_size = GUARD_SIZE;
    st->lo = st->guard + GUARD_SIZE;
    st->size = size;
    guard(st);
    st->next = pool.free_default;
    pool.free_default = st;
    pool.nfree_default++;
  }
  pool.stats.mapped += SLAB_STACKS;
  return 0;
}

static int map_own(struct gp__stack **out, size_t size)
{
  struct gp__stack *st = gp__calloc(1, sizeof(*st));
  char *base;
  if (st == NULL)
    return -ENOMEM;
  base = mmap(NULL, GUARD_SIZE + size, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (base == MAP_FAILED) {
    gp__free(st);
    return -ENOMEM;
  }
  madvise(base, GUARD_SIZE + size, MADV_NOHUGEPAGE);
  st->guard = base;
  st->guard_size = GUARD_SIZE;
  st->lo = base + GUARD_SIZE;
  st->size = size;
  st->own_mapping = 1;
  guard(st);
  pool.stats.mapped++;
  *out = st;
  return 0;
}

static int get_locked(struct gp__stack **out, size_t size)
{
  struct gp__stack *st, **pp;

  size = round_pages(size);
  /* A slab reserves the address space of 64 stacks at once: when that
   * cannot be had (ulimit -v, vm.overcommit_memory=2, a small address
   * space) a stack gets a mapping of its own, as a thread would. */
  if (size == round_pages(gp__config.stack_size) &&
      (pool.free_default != NULL || map_slab(size) == 0)) {
    st = pool.free_default;
    pool.free_default = st->next;
    pool.nfree_default--;
    if (!st->dirty)
      commit_top(st); /* its memory went back: one call, not a fault */
    *out = st;
    return 0;
  }
  for (pp = &pool.free_other; (st = *pp) != NULL; pp = &st->next)
    if (st->size == size) {
      *pp = st->next;
      pool.nfree_other--;
      *out = st;
      return 0;
    }
  return map_own(out, size);
}

static void put_locked(struct gp__stack *st)
{
  if (st->canary)
    *(volatile uint64_t *)st->lo = GP__STACK_CANARY;
  if (!st->own_mapping) {
    /* Past the first POOL_KEEP free stacks, memory goes back to the kernel
     * later, when the hub is idle (gp__stack_trim). */
    if (pool.nfree_default >= POOL_KEEP && st->dirty)
      pool.to_trim++;
    st->next = pool.free_default;
    pool.free_default = st;
    pool.nfree_default++;
    return;
  }
  if (pool.nfree_other >= 64) {
    if (st->kind == GP__GUARD_MPROTECT) {
      pool.vma_budget++;
      pool.stats.guarded_mprotect--;
    } else if (st->kind == GP__GUARD_CANARY) {
      pool.stats.canary--;
    }
    pool.stats.mapped--;
    munmap(st->guard, st->guard_size + st->size);
    gp__free(st);
    return;
  }
  st->next = pool.free_other;
  pool.free_other = st;
  pool.nfree_other++;
}

int gp__stack_get(struct gp__stack **out, size_t size)
{
  int err;
  lock();
  err = get_locked(out, size);
  unlock();
  return err;
}

int gp__stack_get_own(struct gp__stack **out, size_t size)
{
  int err;
  lock();
  err = map_own(out, round_pages(size));
  unlock();
  return err;
}

void gp__stack_put(struct gp__stack *st)
{
  lock();
  put_locked(st);
  unlock();
}

size_t gp__stack_trim(size_t max)
{
  struct gp__stack *st;
  size_t i = 0, n = 0;

  if (__atomic_load_n(&pool.to_trim, __ATOMIC_RELAXED) == 0)
    return 0;
  lock();
  for (st = pool.free_default; st && n < max; st = st->next, i++) {
    size_t keep;
    if (i < POOL_KEEP || !st->dirty)
      continue;
    keep = st->canary ? page_size() : 0; /* the canary's page stays */
    madvise(st->lo + keep, st->size - keep, MADV_DONTNEED);
    st->dirty = 0;
    n++;
  }
  if (st == NULL || n >= pool.to_trim)
    pool.to_trim = 0; /* walked to the end: nothing cold is dirty */
  else
    pool.to_trim -= n;
  unlock();
  return n;
}

int gp__stack_guard_hit(const struct gp__stack *st, const void *addr)
{
  const char *a = addr;
  if (a >= st->guard && a < st->guard + st->guard_size)
    return 1;
  return st->canary && a >= st->lo && a < st->lo + page_size();
}

int gp__stack_overflow_hit(const struct gp__stack *st, const void *addr,
                           uintptr_t sp)
{
  uintptr_t a = (uintptr_t)addr, lo = (uintptr_t)st->lo;
  if (gp__stack_guard_hit(st, addr))
    return 1;
  /* A signal (the preemption signal, say) that came while the stack was
   * all but full, or after a frame larger than the stack had moved the
   * stack pointer below it, before the frame's first touch (siege's
   * 400 KiB at GPATCH_STACK_SIZE=256K): the kernel found no room for its
   * frame there and sent a SIGSEGV of its own, with no address, in its
   * place. */
  if (addr == NULL && sp != 0 && sp + OVERFLOW_REACH >= lo &&
      sp < lo + SIGNAL_FRAME_ROOM)
    return 1;
  return sp != 0 && sp < lo && lo - sp <= OVERFLOW_REACH && a < lo &&
         a + GUARD_SIZE >= sp;
}

enum gp__guard_kind gp__stack_guard_kind(void)
{
  if (pool.madv_state > 0)
    return GP__GUARD_MADVISE;
  if (pool.vma_budget != 0)
    return GP__GUARD_MPROTECT;
  return GP__GUARD_CANARY;
}

void gp__stack_fork_prepare(void)
{
  lock();
}

void gp__stack_fork_done(void)
{
  unlock();
}

void gp__stack_stats(struct gp__stack_stats *out)
{
  lock();
  *out = pool.stats;
  out->pooled = pool.nfree_default + pool.nfree_other;
  unlock();
}
