/* preempt.c: preemption of a thread that runs without making a call.
 *
 * A coroutine gives up its scheduler's OS thread only in a call the shim
 * interposes (or at a time slice taken in one, wait.c's gp__slice). A
 * thread that computes, or spins on a flag another thread sets, without a
 * call kept every other thread of its scheduler from running: two threads
 * handing a token back and forth through an atomic variable never
 * finished with one scheduler, where the kernel, which preempts real
 * threads, lets them. Go's runtime met the same and preempts with a
 * signal (since Go 1.14); so does this.
 *
 * The monitor (debug.c's thread) sees a scheduler whose switch count has
 * not moved for GPATCH_PREEMPT_MS while it has other coroutines (ready, or
 * waiting for a timer or an fd that only its hub can see is due),
 * checks in /proc that its OS thread runs in user space (a signal would
 * interrupt a system call it blocks in, with EINTR for some), and sends it
 * GP__PREEMPT_SIGNAL with tgkill. The handler, on the running coroutine's
 * stack, puts that coroutine at the back of the ready queue and switches
 * to the hub, as a yield does; when the coroutine runs again the handler
 * returns and the kernel restores the interrupted registers. It declines
 * (and the monitor asks again a period later) where switching is not
 * safe: in the runtime or an interposer (gp__tls.depth, the hub), in libc
 * or the dynamic loader (their internal locks have the OS thread as owner,
 * and the next coroutine would take them as its own), in libuv or
 * libunwind, while the coroutine holds one of the program's mutexes
 * (gp__tls.locks_held: an allocator's, which the hub may need), inside one
 * of the program's signal handlers, or with less than PREEMPT_STACK_ROOM
 * of stack left.
 *
 * The signal's mask: the handler is installed with SA_NODEFER and an empty
 * mask, so that the OS thread's mask does not change while other
 * coroutines run in its place; the mask the kernel restores when the
 * handler returns is brought up to date first (the first thread's mask is
 * the OS thread's, and may have changed meanwhile). The schedulers' OS
 * threads keep the signal open: a program that blocks it in its first
 * thread is told it is blocked (gp__preempt_main_sigmask) and its children
 * and exec'd programs get it blocked. A program that catches SIGURG itself
 * ends preemption. */
#define _GNU_SOURCE
#include "preempt.h"
#include "common.h"
#include "config.h"
#include "coro.h"
#include "debug.h"
#include "real.h"
#include "scheduler.h"
#include "stack.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

/* Stack the handler needs below the interrupted frame before it switches:
 * the kernel's signal frame (up to a few KiB with AVX-512 state), the
 * handler and the switch. */
#define PREEMPT_STACK_ROOM (32 * 1024)
/* The size of the kernel's signal set (x86_64, aarch64: 64 signals). */
#define KERNEL_SIGSET_BYTES 8

int gp__preempt_on;

static int started;     /* gp__preempt_start ran (in this process) */
static int installed;   /* the runtime's handler is the kernel's */
static int stopped;     /* the program catches the signal: never again */
static int main_closed; /* the first thread's view blocks the signal */
static pid_t pid;       /* this process, for the handler's check */
static uint64_t count;  /* preemptions made */

/* Code where a switch is not safe: libc, the loader, libuv, libunwind and
 * the runtime itself (their executable segments). */
#define MAX_RANGES 16
static struct {
  uintptr_t lo, hi;
} ranges[MAX_RANGES];
static int nranges;

static int unsafe_object(const struct dl_phdr_info *info)
{
  static const char *const names[] = {"libc.so",   "libc-",    "ld-linux",
                                      "ld-",       "libuv.so", "libunwind",
                                      "libpthread"};
  const char *base = strrchr(info->dlpi_name, '/');

  base = base ? base + 1 : info->dlpi_name;
  if (*base)
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
      if (strncmp(base, names[i], strlen(names[i])) == 0)
        return 1;
  /* the runtime's own object */
  return gp__tls_holds(info, (uintptr_t)(void *)gp__preempt_start);
}

static int note_ranges(struct dl_phdr_info *info, size_t size, void *data)
{
  (void)size;
  (void)data;
  if (!unsafe_object(info))
    return 0;
  for (int i = 0; i < info->dlpi_phnum && nranges < MAX_RANGES; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
      continue;
    ranges[nranges].lo = info->dlpi_addr + ph->p_vaddr;
    ranges[nranges].hi = ranges[nranges].lo + ph->p_memsz;
    nranges++;
  }
  return 0;
}

static int unsafe_pc(uintptr_t pc)
{
  for (int i = 0; i < nranges; i++)
    if (pc >= ranges[i].lo && pc < ranges[i].hi)
      return 1;
  return 0;
}

static void regs_of(const ucontext_t *uc, uintptr_t *pc, uintptr_t *sp)
{
#if defined(__x86_64__)
  *pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  *sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
  *pc = (uintptr_t)uc->uc_mcontext.pc;
  *sp = (uintptr_t)uc->uc_mcontext.sp;
#else
  *pc = *sp = 0;
#endif
}

/* Nonzero when the coroutine running on s, interrupted at uc, may be
 * switched out here. */
static int may_switch(struct gp__sched *s, const ucontext_t *uc)
{
  struct gp__coro *co = s->current;
  uintptr_t pc, sp;

  if (co == NULL || co->is_hub || gp__tls.on_hub || gp__tls.depth ||
      gp__tls.setup || gp__tls.locks_held > 0 || co->state != GP__RUNNING ||
      (pid_t)gp__real_syscall(SYS_gettid) != s->tid)
    return 0;
  regs_of(uc, &pc, &sp);
  if (pc == 0 || unsafe_pc(pc))
    return 0;
  /* Inside one of the program's handlers (shim/signal.c marks them). */
  if (co == gp__tls.handler_co && sp < (uintptr_t)gp__tls.handler_frame)
    return 0;
  if (co->stack && (sp < (uintptr_t)co->stack->lo ||
                    sp - (uintptr_t)co->stack->lo < PREEMPT_STACK_ROOM))
    return 0;
  return 1;
}

void (*gp__preempt_cancel_hook)(struct gp__coro *co);

/* What the monitor asks with the signal (s->preempt_asked). */
enum { ASK_PREEMPT = 1, ASK_CANCEL = 2 };

/* co has started, so co->sched is its for good. The count is the
 * monitor's hint: it may be off by one for a moment. */
int gp__preempt_cancel(struct gp__coro *co)
{
  if (!__atomic_exchange_n(&co->cancel_async, 1, __ATOMIC_ACQ_REL))
    __atomic_fetch_add(&co->sched->ncancel_async, 1, __ATOMIC_RELEASE);
  return __atomic_load_n(&gp__preempt_on, __ATOMIC_ACQUIRE);
}

int gp__preempt_cancel_clear(struct gp__coro *co)
{
  if (!__atomic_exchange_n(&co->cancel_async, 0, __ATOMIC_ACQ_REL))
    return 0;
  __atomic_fetch_sub(&co->sched->ncancel_async, 1, __ATOMIC_RELAXED);
  return 1;
}

/* In the handler, on co's stack: an asynchronous cancel asked of co. */
static void cancel_async(struct gp__coro *co)
{
  if (__atomic_load_n(&co->cancel_async, __ATOMIC_ACQUIRE) &&
      gp__preempt_cancel_clear(co) && gp__preempt_cancel_hook)
    gp__preempt_cancel_hook(co); /* does not return if it acts */
}

static void on_signal(int sig, siginfo_t *si, void *ucv)
{
  ucontext_t *uc = ucv;
  struct gp__sched *s = gp__tls.sched;
  struct gp__coro *co;
  sigset_t now;
  int saved = errno, asked;

  (void)sig;
  /* Only the monitor's request: anything else (a SIGURG the kernel or a
   * program sent) is ignored, the signal's default action. */
  if (s == NULL || si->si_code != SI_TKILL || si->si_pid != pid ||
      !(asked = __atomic_exchange_n(&s->preempt_asked, 0, __ATOMIC_ACQ_REL)) ||
      !may_switch(s, uc)) {
    errno = saved;
    return;
  }
  co = s->current;
  cancel_async(co);
  if (asked == ASK_CANCEL) {
    errno = saved; /* for another coroutine of s: not this one */
    return;
  }
  __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED);
  gp__sched_make_ready(s, co);
  gp__sched_suspend(s);
  cancel_async(co); /* asked while it waited to run again */
  /* The mask the kernel puts back as the handler returns: the OS thread's
   * now (the first thread may have changed it while this one waited). The
   * kernel's frame holds its own 64-bit set there, not glibc's 1024 bits. */
  if (gp__real_pthread_sigmask(SIG_BLOCK, NULL, &now) == 0)
    memcpy(&uc->uc_sigmask, &now, KERNEL_SIGSET_BYTES);
  errno = saved;
}

void gp__preempt_start(void)
{
  struct sigaction a, old;
  sigset_t one, cur;

  if (__atomic_load_n(&started, __ATOMIC_RELAXED) ||
      __atomic_exchange_n(&started, 1, __ATOMIC_ACQ_REL))
    return;
#if defined(GP__ASAN) || defined(GP__TSAN) ||                                  \
    !(defined(__x86_64__) || defined(__aarch64__))
  return; /* a sanitizer must see every stack switch; it misses this one */
#else
  if (gp__config.preempt_ms == 0 || gp__config.use_ucontext ||
      __atomic_load_n(&stopped, __ATOMIC_ACQUIRE))
    return;
  /* On the first thread's OS thread only: its mask is the one kept open
   * here (a first thread made by a thread the runtime does not own: none). */
  if (gp__tls.sched == NULL || gp__tls.sched != gp__scheds[0])
    return;
  if (gp__real_sigaction(GP__PREEMPT_SIGNAL, NULL, &old) != 0 ||
      ((old.sa_flags & SA_SIGINFO) ? old.sa_sigaction != on_signal
                                   : old.sa_handler != SIG_DFL))
    return; /* the program's own (or it ignores it: exec passes that on) */
  /* An allocator whose thread-local state stays the OS thread's (tls.c)
   * must never have two coroutines inside it at once, and the allocator's
   * own calls (tcmalloc's into libstdc++, under its spinlock) are not
   * told from the program's by the interrupted PC: with jemalloc or
   * tcmalloc preloaded, preemption crashed or hung d_thread_alloc (cores
   * 4) about 1 run in 100. */
  gp__tls_setup();
  if (gp__tls_os_thread_objects()) {
    gp__debug_out(2, "gpatch: preemption is off: a loaded allocator keeps "
                     "its thread-local state per OS thread (see README, "
                     "Preemption)\n");
    return;
  }
  pid = getpid();
  if (nranges == 0)
    dl_iterate_phdr(note_ranges, NULL);
  memset(&a, 0, sizeof(a));
  a.sa_sigaction = on_signal;
  a.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
  sigemptyset(&a.sa_mask);
  if (gp__real_sigaction(GP__PREEMPT_SIGNAL, &a, NULL) != 0)
    return;
  installed = 1;
  /* The first thread's OS thread lets it through from now on (workers
   * are made with it open, scheduler.c). */
  sigemptyset(&one);
  sigaddset(&one, GP__PREEMPT_SIGNAL);
  main_closed = gp__real_pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0 &&
                sigismember(&cur, GP__PREEMPT_SIGNAL);
  if (main_closed)
    gp__real_pthread_sigmask(SIG_UNBLOCK, &one, NULL);
  __atomic_store_n(&gp__preempt_on, 1, __ATOMIC_RELEASE);
  gp__preempt_mask_changed();
  gp__debug_monitor_run();
#endif
}

int gp__preempt_installed(void)
{
  return installed;
}

void gp__preempt_stop(void)
{
  int was_on = __atomic_load_n(&gp__preempt_on, __ATOMIC_ACQUIRE);

  __atomic_store_n(&stopped, 1, __ATOMIC_RELEASE);
  __atomic_store_n(&gp__preempt_on, 0, __ATOMIC_RELEASE);
  installed = 0;
  gp__preempt_mask_changed();
  if (was_on) {
    __atomic_store_n(&gp__preempt_closing, 1, __ATOMIC_RELEASE);
    gp__sched_kick_all(); /* each hub closes the signal again */
  }
}

int gp__preempt_closing;

void gp__preempt_hub_turn(struct gp__sched *s)
{
  sigset_t one;

  if (s->preempt_closed)
    return;
  s->preempt_closed = 1;
  /* Workers block every signal the program handles; the first thread's
   * OS thread goes back to what the program asked. */
  if (s == gp__scheds[0] ? main_closed : s->main == NULL) {
    sigemptyset(&one);
    sigaddset(&one, GP__PREEMPT_SIGNAL);
    gp__real_pthread_sigmask(SIG_BLOCK, &one, NULL);
    gp__preempt_mask_changed();
  }
}

/* Nonzero when s's OS thread runs in user space: /proc's syscall file says
 * "running" (blocked in a system call, it names the call). */
static int runs_in_user_space(pid_t tid)
{
  char path[64], buf[16];
  int fd;
  long n;

  snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
  fd = (int)gp__real_syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  n = gp__real_syscall(SYS_read, fd, buf, sizeof(buf) - 1);
  gp__real_syscall(SYS_close, fd);
  return n >= 7 && memcmp(buf, "running", 7) == 0;
}

void gp__preempt_check(struct gp__sched *s, uint64_t stuck_ns)
{
  int preempt;

  if (!__atomic_load_n(&gp__preempt_on, __ATOMIC_ACQUIRE))
    return;
  /* Others that may run: ready, posted from other threads, placed here
   * and not started, or any other coroutine of s — one whose timer is due
   * or whose fd is ready is known as such only once the hub looks (a
   * sleep that ended, CPython's wait for the GIL with its 5 ms timeout). */
  preempt = stuck_ns >= (uint64_t)gp__config.preempt_ms * 1000000u &&
            (__atomic_load_n(&s->nlive, __ATOMIC_RELAXED) > 1 ||
             __atomic_load_n(&s->nready, __ATOMIC_RELAXED) ||
             __atomic_load_n(&s->ninbox, __ATOMIC_RELAXED) ||
             __atomic_load_n(&s->nspawn, __ATOMIC_RELAXED));
  /* An asynchronous cancel of one of s's coroutines acts at once, if that
   * is the one running, whether or not another waits. */
  if (!preempt && __atomic_load_n(&s->ncancel_async, __ATOMIC_ACQUIRE) <= 0)
    return;
  if (!s->pool || __atomic_load_n(&s->preempt_asked, __ATOMIC_RELAXED) ||
      !runs_in_user_space(s->tid))
    return;
  __atomic_store_n(&s->preempt_asked, preempt ? ASK_PREEMPT : ASK_CANCEL,
                   __ATOMIC_RELEASE);
  gp__real_syscall(SYS_tgkill, pid, s->tid, GP__PREEMPT_SIGNAL);
}

uint64_t gp__preempt_period_ns(void)
{
  if (!__atomic_load_n(&gp__preempt_on, __ATOMIC_ACQUIRE))
    return 0;
  return (uint64_t)gp__config.preempt_ms * 1000000u / 2;
}

static int main_sigmask(int how, const sigset_t *set, sigset_t *old)
{
  sigset_t mine;
  int was = main_closed, r;

  if (!__atomic_load_n(&gp__preempt_on, __ATOMIC_ACQUIRE))
    return gp__real_pthread_sigmask(how, set, old);
  if (set) {
    mine = *set;
    if (sigismember(&mine, GP__PREEMPT_SIGNAL)) {
      if (how == SIG_BLOCK || how == SIG_SETMASK)
        main_closed = 1;
      else if (how == SIG_UNBLOCK)
        main_closed = 0;
      sigdelset(&mine, GP__PREEMPT_SIGNAL);
    } else if (how == SIG_SETMASK) {
      main_closed = 0;
    }
    set = &mine;
  }
  r = gp__real_pthread_sigmask(how, set, old);
  if (r != 0)
    main_closed = was;
  else if (old && was)
    sigaddset(old, GP__PREEMPT_SIGNAL);
  return r;
}

int gp__preempt_main_sigmask(int how, const sigset_t *set, sigset_t *old)
{
  int r = main_sigmask(how, set, old);
  if (set)
    gp__preempt_mask_changed();
  return r;
}

void gp__preempt_main_view(sigset_t *mask)
{
  if (__atomic_load_n(&gp__preempt_on, __ATOMIC_ACQUIRE) && main_closed)
    sigaddset(mask, GP__PREEMPT_SIGNAL);
}

/* Bumped by every possible change of any OS thread's mask: a thread's copy
 * read at an older count is read again (a change on another OS thread
 * costs this one a read, no more). */
static unsigned long mask_gen = 1;
static __thread unsigned long mask_seen
    __attribute__((tls_model("initial-exec")));
static __thread sigset_t mask_kept __attribute__((tls_model("initial-exec")));
static __thread int mask_empty __attribute__((tls_model("initial-exec")));

void gp__preempt_mask_changed(void)
{
  __atomic_fetch_add(&mask_gen, 1, __ATOMIC_RELEASE);
}

const sigset_t *gp__preempt_main_mask(void)
{
  unsigned long gen = __atomic_load_n(&mask_gen, __ATOMIC_ACQUIRE);

  /* A change between the count's read and the mask's leaves the copy
   * marked with the older count: read again next time. */
  if (mask_seen != gen) {
    sigemptyset(&mask_kept);
    gp__real_pthread_sigmask(SIG_BLOCK, NULL, &mask_kept);
    gp__preempt_main_view(&mask_kept);
    mask_empty = sigisemptyset(&mask_kept);
    mask_seen = gen;
  }
  return mask_empty ? NULL : &mask_kept;
}

void gp__preempt_exec(int enter)
{
  sigset_t one;

  if (!__atomic_load_n(&gp__preempt_on, __ATOMIC_ACQUIRE) || !main_closed ||
      gp__tls.sched != gp__scheds[0])
    return;
  sigemptyset(&one);
  sigaddset(&one, GP__PREEMPT_SIGNAL);
  gp__real_pthread_sigmask(enter ? SIG_BLOCK : SIG_UNBLOCK, &one, NULL);
  gp__preempt_mask_changed();
}

void gp__preempt_fork_child(int first_thread)
{
  if (first_thread)
    gp__preempt_exec(1); /* the child's mask: the program's view */
  __atomic_store_n(&gp__preempt_on, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&started, 0, __ATOMIC_RELAXED);
  main_closed = 0;
  gp__preempt_mask_changed();
}

uint64_t gp__preempt_count(void)
{
  return __atomic_load_n(&count, __ATOMIC_RELAXED);
}
