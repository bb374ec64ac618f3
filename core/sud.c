/* sud.c: system calls made outside libc, routed to the runtime by the
 * kernel (syscall user dispatch). The handler runs on the calling
 * coroutine's own stack (SA_NODEFER, no alternate stack), so the shim may
 * park that coroutine right there: the rest of the scheduler runs on its
 * own stacks meanwhile, and the handler returns when the call is done,
 * its result in the saved registers. Calls the runtime makes go through
 * libc, whose code is exempt, so that nothing it does comes back here. */
#define _GNU_SOURCE
#include "sud.h"
#include "config.h"
#include "debug.h"
#include "real.h"
#include "scheduler.h"
#include "tp.h"

#include <errno.h>
#include <link.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <ucontext.h>

#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH  59
#define PR_SYS_DISPATCH_ON            1
#define SYSCALL_DISPATCH_FILTER_BLOCK 1
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2
#endif

int (*gp__sud_hook)(long nr, const long a[6], long *ret);

static int wanted = -1;             /* routing is on for the process */
static uintptr_t libc_lo, libc_len; /* libc's code: exempt */
static struct sigaction old_sys;    /* the handler before ours, for the
                                       SIGSYS that are not ours (seccomp) */

/* The selector of this thread: the kernel looks at it on every system call
 * from outside libc. Always "block": routed. */
static __thread char selector = SYSCALL_DISPATCH_FILTER_BLOCK;

/* The system call's number and arguments, and where its result goes, in
 * the registers the kernel saved. */
#if defined(__x86_64__)
#define SET_RET(uc, v) ((uc)->uc_mcontext.gregs[REG_RAX] = (greg_t)(v))
static void args_of(const ucontext_t *uc, long a[6])
{
  const greg_t *g = uc->uc_mcontext.gregs;
  a[0] = g[REG_RDI];
  a[1] = g[REG_RSI];
  a[2] = g[REG_RDX];
  a[3] = g[REG_R10];
  a[4] = g[REG_R8];
  a[5] = g[REG_R9];
}
#elif defined(__aarch64__)
#define SET_RET(uc, v) ((uc)->uc_mcontext.regs[0] = (unsigned long long)(v))
static void args_of(const ucontext_t *uc, long a[6])
{
  for (int i = 0; i < 6; i++)
    a[i] = (long)uc->uc_mcontext.regs[i];
}
#endif

#if defined(__x86_64__) || defined(__aarch64__)
static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
  ucontext_t *uc = ctx;
  long a[6], ret;
  int saved = errno;

  if (si->si_code != SYS_USER_DISPATCH) {
    /* Not routed: someone else's (a seccomp filter's trap). */
    if ((old_sys.sa_flags & SA_SIGINFO) && old_sys.sa_sigaction)
      old_sys.sa_sigaction(sig, si, ctx);
    else if (old_sys.sa_handler != SIG_DFL && old_sys.sa_handler != SIG_IGN)
      old_sys.sa_handler(sig);
    else {
      gp__real_sigaction(SIGSYS, &old_sys, NULL);
      gp__real_pthread_kill(gp__real_pthread_self(), SIGSYS);
    }
    return;
  }
  args_of(uc, a);
  if (gp__sud_hook == NULL || !gp__sud_hook(si->si_syscall, a, &ret)) {
    ret = gp__real_syscall(si->si_syscall, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (ret == -1)
      ret = -errno;
  }
  SET_RET(uc, ret);
  /* The mask the kernel puts back is the one of the moment of the call;
   * while the call waited, the thread's may have changed: keep today's. */
  gp__real_pthread_sigmask(SIG_BLOCK, NULL, &uc->uc_sigmask);
  errno = saved;
}
#endif

/* Finds libc's code: the executable segment of the object that holds
 * libc's write. */
static int find_libc(struct dl_phdr_info *info, size_t size, void *data)
{
  uintptr_t fn = (uintptr_t)data;
  (void)size;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && fn >= lo &&
        fn < lo + ph->p_memsz) {
      libc_lo = lo;
      libc_len = ph->p_memsz;
      return 1;
    }
  }
  return 0;
}

/* Nonzero when an object that makes system calls of its own is loaded:
 * liburing; libgomp (OpenMP), which waits with its own futex calls, when
 * its threads get thread pointers of their own (tp.h). With TLS copies a
 * team larger than the schedulers is lost either way, and routing would
 * only turn its hang into a deadlock report. */
static int raw_callers(void)
{
  return gp__config_lib_loaded("liburing.so") ||
         (gp__config_lib_loaded("libgomp.so") && gp__tp_wanted());
}

/* Decides once, on the first scheduler's thread, whether to route; sets
 * up the handler. */
static int decide(void)
{
  struct sigaction sa;

#if !defined(__x86_64__) && !defined(__aarch64__)
  return 0; /* no register map for this CPU */
#else
  if (gp__config.sud == GP__SUD_OFF)
    return 0;
  if (gp__config.sud == GP__SUD_AUTO && !raw_callers())
    return 0;
  if (!dl_iterate_phdr(find_libc, (void *)gp__real_write))
    return 0;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  return gp__real_sigaction(SIGSYS, &sa, &old_sys) == 0;
#endif
}

int gp__sud_thread_init(void)
{
  static struct gp__lock lock;

  if (__atomic_load_n(&wanted, __ATOMIC_ACQUIRE) < 0) {
    gp__lock(&lock);
    if (wanted < 0)
      __atomic_store_n(&wanted, decide(), __ATOMIC_RELEASE);
    gp__unlock(&lock);
  }
  if (!wanted)
    return 0;
  if (gp__real_prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, libc_lo,
                     libc_len, (unsigned long)&selector) != 0) {
    int err = errno;
    gp__debug_out(2,
                  "gpatch: system calls made outside libc cannot be "
                  "routed (syscall user dispatch: %s): a wait in one "
                  "stops its scheduler's thread\n",
                  strerror(err));
    return -err;
  }
  return 1;
}

int gp__sud_active(void)
{
  return __atomic_load_n(&wanted, __ATOMIC_ACQUIRE) > 0;
}

int gp__sud_chain(const struct sigaction *act, struct sigaction *oact)
{
  struct sigaction prev = old_sys;
  if (act)
    old_sys = *act;
  if (oact)
    *oact = prev;
  return 0;
}
