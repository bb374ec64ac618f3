/* tp.c: a thread pointer per coroutine (GPATCH_TLS=thread).
 *
 * By default (tls.c) the coroutines of an OS thread share its TLS blocks
 * and each keeps a copy that is swapped in while it runs: a __thread
 * variable has one address for all of them. A program that hands such an
 * address to another thread — MariaDB's InnoDB waits on a futex word in
 * its own TLS, which other threads set and wake — then reaches whichever
 * copy is in place. Here each program coroutine gets a TLS area and TCB of
 * its own, made by ld.so's _dl_allocate_tls as glibc's pthread_create
 * does, and the scheduler points %fs at it (wrfsbase where the kernel
 * allows it, else arch_prctl) when it switches in: every __thread variable,
 * libc's included, has one address per thread, as unpatched. The hub runs
 * on the OS thread's own pointer (gp__tp_switch says why): a park and a
 * resume write the pointer once each.
 *
 * The runtime's own __thread state (gp__tls and the rest) stays per OS
 * thread: its block is copied from the outgoing thread pointer to the
 * incoming one at each switch. So does glibc malloc's per-thread cache and
 * arena (two words of libc's block, found at init by letting malloc run
 * once on a fresh TCB): a coroutine shares its OS thread's, as it does
 * with copies. glibc frees a thread's cache only in its own thread exit,
 * which a coroutine never runs: one cache per coroutine was lost with
 * each (3.3 KiB per thread made).
 *
 * glibc 2.36, x86_64 only. The TCB is glibc's struct pthread, whose
 * layout is private: the offsets below were read from libc6-dbg's
 * DWARF (gdb 'ptype /o struct pthread') and are checked against the OS
 * thread's own TCB at init, which refuses the mode when they do not fit.
 *
 * What glibc code running on a coroutine's thread pointer reads there:
 *   tcbhead_t: tcb (fs:0) and self (fs:0x10), dtv (fs:8, set by ld.so),
 *     multiple_threads (fs:0x18: SINGLE_THREAD_P in 2.36, 1 here),
 *     stack_guard (fs:0x28), pointer_guard (fs:0x30), feature_1 (fs:0x48);
 *   list: fork's reclaim_stacks list_del()s THREAD_SELF's;
 *   tid: owner of recursive/errorcheck mutexes (ld.so's dl_load_lock), the
 *     OS thread's (as with copies: one owner for all coroutines of a
 *     thread);
 *   robust_head: an empty list (robust mutexes), futex_offset copied;
 *   specific[0]: glibc's own pthread_getspecific (runtime, libc internals);
 *   user_stack: fork's reclaim treats the TCB as not from glibc's cache;
 *   stackblock/_size: __libc_alloca_cutoff (how much libc may alloca);
 *   flags/schedpolicy/schedparam: inherited by the real pthread_create;
 *   res: __resp (libc TLS) points at the TCB's resolver state;
 *   rseq_area.cpu_id: -1, so sched_getcpu makes the system call (the
 *     kernel updates only the OS thread's area).
 * libc's other TLS (errno, locale, ctype) comes from the initialisation
 * images and __ctype_init, called on the coroutine's first run.
 *
 * Not covered: a module with static TLS loaded by dlopen after a
 * coroutine's TCB was made finds its block there uninitialised (the
 * surplus of _dl_allocate_tls's malloc; glibc initialises it only in the
 * TCBs on its own thread lists); libc's
 * per-thread buffers (strerror_l, strsignal, dlerror) used by a coroutine
 * are not freed when it ends. */
#define _GNU_SOURCE
#include "tp.h"
#include "config.h"
#include "coro.h"
#include "debug.h"
#include "real.h"
#include "scheduler.h"
#include "stack.h"
#include "tls.h"
#include "lock.h"
#include "mem.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef ARCH_SET_FS
#define ARCH_SET_FS 0x1002
#endif
#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

/* struct pthread, glibc 2.36 x86_64 (sizeof 2368). */
#define PD_TCB                 0
#define PD_SELF                16
#define PD_MULTIPLE_THREADS    24
#define PD_STACK_GUARD         40
#define PD_POINTER_GUARD       48
#define PD_FEATURE_1           72
#define PD_LIST                704
#define PD_TID                 720
#define PD_ROBUST_HEAD         736
#define PD_ROBUST_FUTEX_OFFSET 744
#define PD_FLAGS               780
#define PD_SPECIFIC_1STBLOCK   784
#define PD_SPECIFIC            1296
#define PD_USER_STACK          1554
#define PD_SCHEDPARAM          1584
#define PD_SCHEDPOLICY         1588
#define PD_STACKBLOCK          1680
#define PD_STACKBLOCK_SIZE     1688
#define PD_RES                 1720
#define ATTR_FLAG_SCHED_BITS   0x60 /* ATTR_FLAG_SCHED_SET | _POLICY_SET */

#define AT(p, off, type) (*(type *)((char *)(p) + (off)))

int gp__tp_on;

/* TCBs of released coroutines. Freeing one goes through the program's
 * free (ld.so's allocator is the program's), whose locks a switched-out
 * coroutine may hold: the hub frees them itself only when that free is
 * glibc's; otherwise they wait here for the next spawn, on any
 * scheduler (one per released coroutine: the list stays short). */
static struct gp__lock dead_lock;
static char *dead;
static int glibc_alloc; /* the program's malloc is glibc's */
static int fsgsbase;    /* the kernel lets user code write %fs's base */

static void *(*allocate_tls)(void *);
static void (*deallocate_tls)(void *, int);
static void (*ctype_init)(void);
static ptrdiff_t rseq_off; /* __rseq_offset, or 0 when rseq is off */
static ptrdiff_t resp_off; /* tp - &__resp */

/* A static TLS block: where it is below the thread pointer, and its size. */
struct block {
  const void *code; /* an address in the object that owns it */
  ptrdiff_t off;    /* tp - the block */
  size_t size;
};

static struct block rt = {(const void *)gp__tp_init, 0, 0}; /* the runtime's */
static struct block libc = {(const void *)gnu_get_libc_version, 0, 0};

/* Words of libc's block that hold glibc malloc's per-thread state (its
 * cache and arena), found by gp__tp_init: a coroutine's TCB takes its OS
 * thread's values, so that it shares the OS thread's cache as it does
 * without a TCB of its own. glibc frees a thread's cache only in its own
 * thread exit, which a coroutine never runs: a cache per coroutine would
 * be lost with each (3.3 KiB per thread made, measured). */
#define MAX_MALLOC_WORDS 4
static ptrdiff_t malloc_word[MAX_MALLOC_WORDS]; /* offsets in libc's block */
static int nmalloc_words;

void *gp__tp_self(void)
{
  void *p;
#if defined(__x86_64__)
  __asm__("mov %%fs:0, %0" : "=r"(p));
#else
  p = __builtin_thread_pointer();
#endif
  return p;
}

static int find_block(struct dl_phdr_info *info, size_t size, void *data)
{
  struct block *b = data;
  (void)size;
  if (!gp__tls_holds(info, (uintptr_t)b->code))
    return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_TLS && info->dlpi_tls_data) {
      b->off = (char *)gp__tp_self() - (char *)info->dlpi_tls_data;
      b->size = ph->p_memsz;
    }
  }
  return 1;
}

static int refuse(const char *why)
{
  gp__debug_out(2,
                "gpatch: GPATCH_TLS=thread%s not available (%s): each "
                "thread's TLS is copied per coroutine instead\n",
                gp__config.tls == GP__TLS_AUTO ? " (auto)" : "", why);
  return -1;
}

static char *make_tcb(char *os, char *stack, size_t stack_size);

void gp__tp_write_fs_insn(void *tp)
{
#if defined(__x86_64__)
  __asm__ volatile("wrfsbase %0" : : "r"(tp) : "memory");
#else
  (void)tp;
#endif
}

/* Points %fs at tp, the runtime's block following: with wrfsbase where the
 * kernel allows it (Linux >= 5.9 on CPUs that have it: a few ns), else
 * with a system call. */
static void set_tp(char *cur, char *next)
{
  memcpy(next - rt.off, cur - rt.off, rt.size);
  if (fsgsbase)
    gp__tp_write_fs_insn(next);
  else
    gp__real_syscall(SYS_arch_prctl, ARCH_SET_FS, next);
}

/* Finds malloc_word: which words of libc's block glibc's malloc sets in a
 * thread that had not allocated yet, on a TCB made for that. */
static void find_malloc_words(char *os)
{
  uintptr_t before[64], after[64];
  size_t n = libc.size / sizeof(uintptr_t);
  char *t;

  if (n > 64 || (t = make_tcb(os, NULL, 0)) == NULL)
    return; /* (libc's block is 144 bytes in 2.36) */
  memcpy(before, t - libc.off, n * sizeof(uintptr_t));
  set_tp(os, t);
  __libc_free(__libc_malloc(1));
  set_tp(t, os);
  memcpy(after, t - libc.off, n * sizeof(uintptr_t));
  for (size_t i = 0; i < n && nmalloc_words < MAX_MALLOC_WORDS; i++)
    if (before[i] != after[i])
      malloc_word[nmalloc_words++] = (ptrdiff_t)(i * sizeof(uintptr_t));
  /* Its cache stays allocated (a few hundred bytes, once). */
  deallocate_tls(t, 1);
}

/* Nonzero when the program's own file says in its .comment section that
 * rustc built it. Rust's standard library tells threads apart by the
 * address of a thread-local (its channels' wakers skip the entries of the
 * thread they run on): with copies, every coroutine of an OS thread has
 * that address, and a sync_channel between two of them never woke its
 * receiver. */
static int built_by_rustc(void)
{
  return gp__config_exe_section(".comment", "rustc version");
}

int gp__tp_wanted(void)
{
  static int wanted = -1;
  int w = __atomic_load_n(&wanted, __ATOMIC_RELAXED);

  if (w < 0) {
    w = gp__config.tls == GP__TLS_THREAD ||
        (gp__config.tls == GP__TLS_AUTO &&
         (gp__config_lib_loaded("libgomp.so") ||
          gp__config_lib_loaded("libjli.so") || built_by_rustc()));
    __atomic_store_n(&wanted, w, __ATOMIC_RELAXED);
  }
  return w;
}

int gp__tp_init(void)
{
  static int done, result = -1;
  char *tp = gp__tp_self();
  const ptrdiff_t *roff;
  const unsigned *rsize;
  void **resp;

  if (done)
    return result;
  done = 1;
#if !defined(__x86_64__)
  return refuse("x86_64 only");
#else
  if (strcmp(gnu_get_libc_version(), "2.36") != 0)
    return refuse("the TCB layout is known for glibc 2.36 only");
  if (dlsym(RTLD_DEFAULT, "__asan_init") || dlsym(RTLD_DEFAULT, "__tsan_init"))
    return refuse("a sanitizer's runtime keeps its own per-thread state");
  if (AT(tp, PD_TCB, void *) != tp || AT(tp, PD_SELF, void *) != tp ||
      AT(tp, PD_TID, pid_t) != gettid() ||
      AT(tp, PD_ROBUST_HEAD, void *) != tp + PD_ROBUST_HEAD ||
      AT(tp, PD_LIST, void *) == NULL)
    return refuse("this thread's TCB is not laid out as expected");
  allocate_tls = (void *(*)(void *))dlsym(RTLD_DEFAULT, "_dl_allocate_tls");
  deallocate_tls =
      (void (*)(void *, int))dlsym(RTLD_DEFAULT, "_dl_deallocate_tls");
  ctype_init = (void (*)(void))dlsym(RTLD_DEFAULT, "__ctype_init");
  roff = dlsym(RTLD_DEFAULT, "__rseq_offset");
  rsize = dlsym(RTLD_DEFAULT, "__rseq_size");
  resp = dlsym(RTLD_DEFAULT, "__resp"); /* this thread's (STT_TLS) */
  if (!allocate_tls || !deallocate_tls || !ctype_init || !resp)
    return refuse("ld.so's or libc's private symbols are missing");
  rseq_off = roff && rsize && *rsize ? *roff : 0;
  resp_off = tp - (char *)resp;
  dl_iterate_phdr(find_block, &rt);
  dl_iterate_phdr(find_block, &libc);
  if (rt.size == 0 || rt.off < (ptrdiff_t)rt.size)
    return refuse("the runtime's TLS block is not in static TLS");
  if (libc.size == 0 || libc.off < (ptrdiff_t)libc.size)
    return refuse("libc's TLS block was not found");
  fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
  glibc_alloc = dlsym(RTLD_DEFAULT, "malloc") == (void *)__libc_malloc &&
                dlsym(RTLD_DEFAULT, "calloc") == (void *)__libc_calloc &&
                dlsym(RTLD_DEFAULT, "free") == (void *)__libc_free;
  find_malloc_words(tp);
  gp__tp_on = 1;
  return result = 0;
#endif
}

void gp__tp_sched_init(struct gp__sched *s)
{
  s->os_tp = s->live_tp = gp__tp_self();
  /* Its own malloc cache, for its coroutines to share (malloc_word). */
  if (gp__tp_wanted())
    __libc_free(__libc_malloc(1));
}

#define PD_RESULT 1576 /* links a dead TCB in dead */

/* A TCB for a coroutine on the given stack (NULL: none), its fields
 * taken from os, an OS thread's own TCB. */
static char *make_tcb(char *os, char *stack, size_t stack_size)
{
  char *tcb = allocate_tls(NULL);

  if (tcb == NULL)
    return NULL;
  /* _dl_allocate_tls zeroed the struct pthread, set the dtv and copied
   * every static TLS block's initialisation image. */
  AT(tcb, PD_TCB, void *) = tcb;
  AT(tcb, PD_SELF, void *) = tcb;
  AT(tcb, PD_MULTIPLE_THREADS, int) = 1;
  AT(tcb, PD_STACK_GUARD, uintptr_t) = AT(os, PD_STACK_GUARD, uintptr_t);
  AT(tcb, PD_POINTER_GUARD, uintptr_t) = AT(os, PD_POINTER_GUARD, uintptr_t);
  AT(tcb, PD_FEATURE_1, unsigned) = AT(os, PD_FEATURE_1, unsigned);
  AT(tcb, PD_LIST, void *) = tcb + PD_LIST;
  AT(tcb, PD_LIST + 8, void *) = tcb + PD_LIST;
  AT(tcb, PD_TID, pid_t) = AT(os, PD_TID, pid_t);
  AT(tcb, PD_ROBUST_HEAD, void *) = tcb + PD_ROBUST_HEAD;
  AT(tcb, PD_ROBUST_FUTEX_OFFSET, long) = AT(os, PD_ROBUST_FUTEX_OFFSET, long);
  AT(tcb, PD_FLAGS, int) = AT(os, PD_FLAGS, int) & ATTR_FLAG_SCHED_BITS;
  AT(tcb, PD_SPECIFIC, void *) = tcb + PD_SPECIFIC_1STBLOCK;
  AT(tcb, PD_USER_STACK, char) = 1;
  AT(tcb, PD_SCHEDPARAM, int) = AT(os, PD_SCHEDPARAM, int);
  AT(tcb, PD_SCHEDPOLICY, int) = AT(os, PD_SCHEDPOLICY, int);
  AT(tcb, PD_STACKBLOCK, void *) = stack;
  AT(tcb, PD_STACKBLOCK_SIZE, size_t) = stack_size;
  if (rseq_off)
    AT(tcb, rseq_off + 4, int) = -1; /* cpu_id: uninitialised */
  AT(tcb, -resp_off, void *) = tcb + PD_RES;
  return tcb;
}

static void move(struct gp__sched *s, char *next)
{
  if (next == s->live_tp)
    return;
  set_tp(s->live_tp, next); /* the runtime's state follows the OS thread */
  s->live_tp = next;
}

/* The hub runs on the OS thread's own thread pointer, always: the
 * compiler may keep a TLS address (&errno, a field of gp__tls) in a
 * register across a switch, and a hub that ran on whichever coroutine's
 * pointer was live would then write into that coroutine's TCB — freed
 * memory once it died (d_stdio_server with GPATCH_CORES=4 so aborted in
 * free() about 1 run in 30). A park and resume costs two writes of the
 * pointer. */
void gp__tp_switch(struct gp__sched *s, struct gp__coro *to)
{
  if (to->tp && !to->started) { /* made on its creator's thread */
    AT(to->tp, PD_TID, pid_t) = s->tid;
    for (int i = 0; i < nmalloc_words; i++)
      AT(to->tp, malloc_word[i] - libc.off, uintptr_t) =
          AT(s->os_tp, malloc_word[i] - libc.off, uintptr_t);
  }
  move(s, to->tp ? to->tp : s->os_tp);
}

void gp__tp_fork(struct gp__sched *s, int enter, int child)
{
  char *tp;
  if (gp__tp_on && !enter && child)
    gp__lock_reset(&dead_lock);
  if (!gp__tp_on || s == NULL || (tp = s->current->tp) == NULL)
    return;
  if (enter) {
    move(s, s->os_tp);
    return;
  }
  if (child)
    AT(tp, PD_TID, pid_t) = AT(s->os_tp, PD_TID, pid_t);
  move(s, tp);
}

int gp__tp_alloc(struct gp__sched *s, struct gp__coro *co)
{
  char *list, *next;
  if (!gp__tp_on)
    return 0;
  if (__atomic_load_n(&dead, __ATOMIC_RELAXED) != NULL) {
    gp__lock(&dead_lock);
    list = dead;
    dead = NULL;
    gp__unlock(&dead_lock);
    for (; list; list = next) {
      next = AT(list, PD_RESULT, void *);
      deallocate_tls(list, 1);
    }
  }
  co->tp = make_tcb(s->os_tp, co->stack->lo, co->stack->size);
  return co->tp ? 0 : -ENOMEM;
}

void gp__tp_started(void)
{
  ctype_init();
}

void gp__tp_release(struct gp__sched *s, struct gp__coro *co)
{
  if (co->tp == NULL)
    return;
  GP__ASSERT(s->live_tp != co->tp); /* the hub runs on the OS thread's */
  if (glibc_alloc) {
    deallocate_tls(co->tp, 1);
  } else {
    gp__lock(&dead_lock);
    AT(co->tp, PD_RESULT, void *) = dead;
    dead = co->tp;
    gp__unlock(&dead_lock);
  }
  co->tp = NULL;
}
