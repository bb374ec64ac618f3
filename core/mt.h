/* mt.h: no locked instructions on the runtime's own words while one OS
 * thread uses them.
 *
 * The runtime's spinlocks, a wait's claim, the count of live coroutines
 * and a coroutine's post bits need locked instructions (about 5.5 ns each
 * here) only when another OS thread may touch them. A process that never
 * runs the runtime on a second thread (GPATCH_CORES=1, no real thread of
 * its own calling in) need not pay for them: creating and joining a thread
 * costs seven of them.
 *
 * So the first thread to reach such a word becomes the runtime's first
 * thread, and uses plain instructions while it is alone (its
 * read-modify-writes still one instruction each, which a signal handler on
 * that thread cannot split). The first
 * other thread to reach one switches the process to locked instructions
 * for good (gp__mt_begin, in mt.c): it sets gp__mt, runs membarrier(2),
 * which makes every running thread of the process pass a full barrier,
 * then waits until the first thread is out of the plain operation it may
 * be in. The first thread marks each plain operation in gp__mt_busy and
 * reads gp__mt after marking it, with no fence: membarrier stands in for
 * it (an asymmetric Dekker pair). Either the switching thread sees the
 * mark and waits, or the first thread sees gp__mt and takes the locked
 * path. Without membarrier (an old kernel, a seccomp filter, valgrind,
 * ThreadSanitizer), every thread uses locked instructions from the start.
 *
 * Every access by a thread other than the first to one of these words
 * must come after gp__mt_plain_begin or gp__mt_need on that thread.
 * Program-visible objects (a pthread mutex's word) are never among them:
 * libc's own code may touch those from threads the shim never sees. */
#ifndef GP_MT_H
#define GP_MT_H

/* 1 once the process uses locked instructions (set before the switch's
 * barrier; the first thread tests it). */
extern int gp__mt;
/* 1 once the switch is complete: the others wait for it. */
extern int gp__mt_ready;
/* Nonzero while the first thread is in a plain operation. Written by that
 * thread only (and its signal handlers, which leave it as they found it). */
extern unsigned gp__mt_busy;
/* This thread's role: 0 not known yet, 1 the first thread, -1 another. */
extern __thread int gp__mt_role __attribute__((tls_model("initial-exec")));

/* The slow paths (mt.c): a thread's first word (which makes it the first
 * thread, or another), and the switch. gp__mt_slow returns as
 * gp__mt_plain_begin. */
int gp__mt_slow(void);
void gp__mt_need_slow(void);

/* Returns 1 when the caller may use plain instructions on the runtime's
 * words until gp__mt_plain_end (a few instructions, no call, no switch);
 * 0 when it must use locked ones. */
static inline int gp__mt_plain_begin(void)
{
  if (__builtin_expect(gp__mt_role == 1, 1) &&
      !__atomic_load_n(&gp__mt, __ATOMIC_RELAXED)) {
    __atomic_store_n(&gp__mt_busy, gp__mt_busy + 1, __ATOMIC_RELAXED);
    __asm__ volatile("" ::: "memory");
    if (!__atomic_load_n(&gp__mt, __ATOMIC_RELAXED))
      return 1;
    __atomic_store_n(&gp__mt_busy, gp__mt_busy - 1, __ATOMIC_RELEASE);
    return 0;
  }
  if (gp__mt_role != 1 && !__atomic_load_n(&gp__mt_ready, __ATOMIC_ACQUIRE))
    return gp__mt_slow();
  return 0;
}

static inline void gp__mt_plain_end(void)
{
  __atomic_store_n(&gp__mt_busy, gp__mt_busy - 1, __ATOMIC_RELEASE);
}

/* The read-modify-writes of plain mode. Each is one instruction without
 * the lock prefix on x86-64, so that a signal handler on this thread sees
 * it whole, as it would a locked one (it interrupts between instructions);
 * elsewhere a relaxed atomic (an exclusive pair, or one LSE instruction,
 * neither of which costs a fence). */
#if defined(__x86_64__)
/* *p = 1 (a word that holds 0 or 1); returns what it held. */
static inline int gp__mt_plain_set(int *p)
{
  unsigned char was;
  __asm__ volatile("btsl $0, %0\n\tsetc %1"
                   : "+m"(*p), "=q"(was)
                   :
                   : "cc", "memory");
  return was;
}
/* *p |= v; returns the old value. */
static inline int gp__mt_plain_or(int *p, int v)
{
  int old = *(volatile int *)p;
  unsigned char ok;
  do
    __asm__ volatile("cmpxchgl %3, %1\n\tsete %0"
                     : "=q"(ok), "+m"(*p), "+a"(old)
                     : "r"(old | v)
                     : "cc", "memory");
  while (!ok);
  return old;
}
/* *p += v. */
static inline void gp__mt_plain_add(unsigned *p, unsigned v)
{
  __asm__ volatile("addl %1, %0" : "+m"(*p) : "ir"(v) : "cc", "memory");
}
#else
static inline int gp__mt_plain_set(int *p)
{
  return __atomic_exchange_n(p, 1, __ATOMIC_RELAXED);
}
static inline int gp__mt_plain_or(int *p, int v)
{
  return __atomic_fetch_or(p, v, __ATOMIC_RELAXED);
}
static inline void gp__mt_plain_add(unsigned *p, unsigned v)
{
  __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
#endif

/* Before a locked instruction on one of the words from a thread that may
 * not be the first: the switch, if it is still to come. */
static inline void gp__mt_need(void)
{
  if (gp__mt_role != 1 && !__atomic_load_n(&gp__mt_ready, __ATOMIC_ACQUIRE))
    gp__mt_need_slow();
}

/* Switches to locked instructions now, from any thread: before the process
 * installs a seccomp filter, which may forbid membarrier later. */
void gp__mt_force(void);

/* In a fork's child: the forking thread is the only one, and the first
 * one from now on. */
void gp__mt_fork_child(void);

#endif /* GP_MT_H */
