/* signal.c: sigaction and signal, so that the shim knows which signal
 * interrupted a wait and whether its handler has SA_RESTART.
 *
 * A caught signal interrupts the hub's epoll_wait; the shim then ends one
 * coroutine's wait with EINTR, or lets it wait on when the call would have
 * been restarted (core/scheduler.c, gp__sched_interrupt). To know which signal
 * it was, the app's handlers are installed behind a small trampoline that
 * notes the signal number; sigaction reports the app's own handler back, as
 * if nothing stood between. SIGSEGV handlers are not installed at all: the
 * runtime's overflow handler stays and passes on every fault that is not a
 * stack overflow to the app's handler. */
#define _GNU_SOURCE
#include "shim.h"
#include "../core/ownfd.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>

static struct sigaction app[NSIG]; /* the app's handlers, as it set them */
static unsigned char added[NSIG];  /* SA_SIGINFO in the kernel's flags is
                                      ours (the trampoline's), not the
                                      app's */
static volatile sig_atomic_t last; /* the last signal caught */
static pid_t owner;                /* the process the table is of: a
                                      vfork child, which shares it, is
                                      another */

/* Set on an OS thread while pthread_kill runs a handler there for a
 * thread of another (gp__signal_run_here): that handler interrupts its
 * target, not whatever this thread's coroutines wait in. The runtime's
 * TLS is per OS thread, not per coroutine. */
static __thread int for_another;

/* The program's handlers run on this OS thread so far (trampoline). */
static __thread unsigned caught __attribute__((tls_model("initial-exec")));

unsigned gp__signal_caught(void)
{
  return caught;
}

static void trampoline(int sig, siginfo_t *si, void *uc)
{
  struct sigaction a = app[sig];
  struct gp__handler_mark mark;

  last = sig;
  caught++;
  if (!for_another)
    gp__interrupt_note();
  if (a.sa_flags & SA_RESETHAND)
    app[sig].sa_handler = SIG_DFL; /* the kernel reset ours already */
  /* No time-slice yield inside the handler (gp__slice). */
  gp__handler_enter(&mark, __builtin_frame_address(0));
  if (a.sa_flags & SA_SIGINFO)
    a.sa_sigaction(sig, si, uc);
  else if (a.sa_handler != SIG_IGN && a.sa_handler != SIG_DFL)
    a.sa_handler(sig);
  gp__handler_leave(&mark);
  /* The kernel's return sets the mask uc holds, which the handler may
   * have changed (thread.c's creator_mask reads it again). */
  gp__preempt_mask_changed();
}

/* Sends sig to the calling OS thread (with info: as it came; NULL: as
 * pthread_kill sends it) and lets it through the mask for a moment, so that
 * its action is taken here and now, for another thread: a handler that
 * runs does not interrupt this thread's own waits. */
int gp__signal_run_here(int sig, siginfo_t *info)
{
  sigset_t one, old;
  int r = 0;

  sigemptyset(&one);
  sigaddset(&one, sig);
  for_another = 1;
  if (info == NULL)
    r = gp__real_pthread_kill(gp__real_pthread_self(), sig);
  else if (gp__real_syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), sig,
                            info) != 0)
    r = errno;
  /* A scheduler's own OS thread blocks every signal: the action is taken
   * as the signal is let through, before the mask goes back. */
  gp__real_pthread_sigmask(SIG_UNBLOCK, &one, &old);
  gp__real_pthread_sigmask(SIG_SETMASK, &old, NULL);
  for_another = 0;
  return r;
}

int gp__signal_restarts(void)
{
  int sig = last;
  return sig > 0 && sig < NSIG && (app[sig].sa_flags & SA_RESTART);
}

static int catches(const struct sigaction *a)
{
  if (a->sa_flags & SA_SIGINFO)
    return a->sa_sigaction != NULL;
  return a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN;
}

/* The table belongs to the process that loaded the library, and to each
 * forked child its copy; a fork's child takes its copy over here. */
static void take_table(void)
{
  owner = getpid();
}

__attribute__((constructor)) static void signal_ctor(void)
{
  take_table();
  pthread_atfork(NULL, NULL, take_table);
}

/* Nonzero in a child that shares the table with its parent: a vfork child
 * (known from vfork itself, or, for one made some other way, such as
 * clone(CLONE_VM | CLONE_VFORK), by its pid). */
static int shared_child(void)
{
  return gp__shim_vfork_child() || (owner != 0 && getpid() != owner);
}

/* What sigaction reports as the old action of sig, given the kernel's
 * (in oact) and the table's entry before the call: the app's own handler
 * in the trampoline's place; its flags and mask are the kernel's (glibc's
 * SA_RESTORER included), less the SA_SIGINFO the trampoline added, which
 * stays after SA_RESETHAND. */
static void report(struct sigaction *oact, const struct sigaction *prev,
                   int prev_added)
{
  if (oact->sa_sigaction == trampoline) {
    if (prev->sa_flags & SA_SIGINFO)
      oact->sa_sigaction = prev->sa_sigaction;
    else
      oact->sa_handler = prev->sa_handler;
  }
  if (prev_added)
    oact->sa_flags &= ~SA_SIGINFO;
}

/* sigaction in a child that shares the parent's memory (Python's
 * _posixsubprocess resets every handler to SIG_DFL in its vfork child):
 * the child's own action changes, as asked, but never the table, which is
 * the parent's; the old action is reported from the table as it stands. */
static int shared_child_sigaction(int sig, const struct sigaction *act,
                                  struct sigaction *oact)
{
  struct sigaction segv;
  int r;

  if (sig == SIGSEGV && oact)
    gp__debug_segv_chain(NULL, &segv); /* reads only */
  r = gp__real_sigaction(sig, act, oact);
  if (r != 0 || oact == NULL)
    return r;
  if (sig == SIGSEGV)
    *oact = segv;
  else
    report(oact, &app[sig], added[sig]);
  return 0;
}

/* The kernel's flag for a handler's return path, which glibc sets on
 * x86_64 and reports back (not in glibc's headers). */
#define KERNEL_SA_RESTORER 0x04000000

/* sigaction for the preemption signal while the runtime's handler is
 * installed (core/preempt.c) and the program sets no handler of its own:
 * the program's SIG_DFL or SIG_IGN is noted and reported back, and the
 * runtime's handler, which ignores every signal but the monitor's, stays.
 * Flags read back carry the kernel's SA_RESTORER, as glibc's do. */
static int preempt_sigaction(const struct sigaction *act,
                             struct sigaction *oact)
{
  static int set; /* the program has set an action */
  struct sigaction k, prev = app[GP__PREEMPT_SIGNAL];
  int prev_set = set;

  if (gp__real_sigaction(GP__PREEMPT_SIGNAL, NULL, &k) != 0)
    return -1;
  if (act) {
    app[GP__PREEMPT_SIGNAL] = *act;
    added[GP__PREEMPT_SIGNAL] = 0;
    set = 1;
  }
  if (oact) {
    *oact = prev;
    if (prev_set)
      oact->sa_flags |= k.sa_flags & KERNEL_SA_RESTORER;
    oact->sa_restorer = prev_set ? k.sa_restorer : NULL;
  }
  return 0;
}

/* sigaction(2). */
GP_EXPORT int sigaction(int sig, const struct sigaction *act,
                        struct sigaction *oact)
{
  struct sigaction real, prev;
  int r, prev_added;

  gp__real_init();
  if (sig <= 0 || sig >= NSIG)
    return gp__real_sigaction(sig, act, oact);
  if (shared_child())
    return shared_child_sigaction(sig, act, oact);
  if (gp__tls.depth)
    return gp__real_sigaction(sig, act, oact);
  if (sig == SIGSEGV)
    return gp__debug_segv_chain(act, oact);
  if (sig == SIGSYS && gp__sud_active())
    return gp__sud_chain(act, oact);
  if (sig == GP__PREEMPT_SIGNAL && gp__preempt_installed()) {
    struct sigaction view;
    if (act == NULL || !catches(act))
      return preempt_sigaction(act, oact);
    /* The program's own handler from now on; the old action it is told
     * of is the one it set (or the default). */
    preempt_sigaction(NULL, &view);
    gp__preempt_stop();
    r = sigaction(sig, act, NULL);
    if (r == 0 && oact)
      *oact = view;
    return r;
  }
  prev = app[sig];
  prev_added = added[sig];
  if (act == NULL || !catches(act)) {
    r = gp__real_sigaction(sig, act, oact);
    if (r == 0 && act) {
      app[sig] = *act;
      added[sig] = 0;
    }
  } else {
    real = *act;
    real.sa_flags |= SA_SIGINFO;
    real.sa_sigaction = trampoline;
    app[sig] = *act;
    added[sig] = !(act->sa_flags & SA_SIGINFO);
    r = gp__real_sigaction(sig, &real, oact);
    if (r != 0) {
      app[sig] = prev;
      added[sig] = prev_added;
    }
  }
  if (r == 0 && oact)
    report(oact, &prev, prev_added);
  return r;
}

/* Signals siginterrupt made interrupting (bit sig - 1): signal() leaves
 * SA_RESTART out for them, as glibc's does. */
static uint64_t interrupting;

/* signal(2) and its other names, through sigaction above, with glibc's
 * checks: flags, and whether the signal is blocked in its handler. */
static sighandler_t install(int sig, sighandler_t handler, int flags,
                            int self_blocked)
{
  struct sigaction a, old;

  /* SIG_ERR, or glibc's own signals (32, 33), which sigaddset refuses */
  memset(&a, 0, sizeof(a));
  if (handler == SIG_ERR || sig < 1 || sig >= NSIG ||
      sigaddset(&a.sa_mask, sig) < 0) {
    errno = EINVAL;
    return SIG_ERR;
  }
  if (!self_blocked)
    sigemptyset(&a.sa_mask);
  a.sa_handler = handler;
  a.sa_flags = flags;
  if (sigaction(sig, &a, &old) != 0)
    return SIG_ERR;
  return old.sa_handler;
}

/* signal(2): glibc's semantics (BSD: SA_RESTART unless siginterrupt said
 * otherwise, the signal blocked in its handler). bsd_signal and ssignal
 * are the same function in glibc. */
GP_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
  if (gp__tls.depth && !shared_child()) {
    gp__real_init();
    return gp__real_signal(sig, handler);
  }
  int intr =
      sig > 0 && sig <= 64 &&
      (__atomic_load_n(&interrupting, __ATOMIC_RELAXED) & (1ull << (sig - 1)));
  return install(sig, handler, intr ? 0 : SA_RESTART, 1);
}

GP_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
  return signal(sig, handler);
}

GP_EXPORT sighandler_t ssignal(int sig, sighandler_t handler)
{
  return signal(sig, handler);
}

/* System V's signal, which <signal.h> names for signal in a strict
 * standard mode (-std=c99, _POSIX_C_SOURCE): reset to SIG_DFL when
 * caught, not blocked in its handler, no SA_RESTART. glibc's installs
 * the handler past the trampoline, where the runtime never hears of it. */
GP_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler)
{
  if (gp__tls.depth && !shared_child()) {
    gp__real_init();
    return gp__real___sysv_signal(sig, handler);
  }
  return install(sig, handler, SA_RESETHAND | SA_NODEFER, 0);
}

GP_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
  return __sysv_signal(sig, handler);
}

/* siginterrupt(3): glibc's changes SA_RESTART with its own sigaction,
 * which left the runtime's copy of the flags (app[]) as it was. */
GP_EXPORT int siginterrupt(int sig, int interrupt)
{
  struct sigaction a;

  if (sigaction(sig, NULL, &a) < 0)
    return -1;
  if (interrupt) {
    __atomic_fetch_or(&interrupting, 1ull << (sig - 1), __ATOMIC_RELAXED);
    a.sa_flags &= ~SA_RESTART;
  } else {
    __atomic_fetch_and(&interrupting, ~(1ull << (sig - 1)), __ATOMIC_RELAXED);
    a.sa_flags |= SA_RESTART;
  }
  return sigaction(sig, &a, NULL) < 0 ? -1 : 0;
}

/* sigignore(3), through sigaction above (glibc's uses its own). */
GP_EXPORT int sigignore(int sig)
{
  struct sigaction a;
  memset(&a, 0, sizeof(a));
  a.sa_handler = SIG_IGN;
  return sigaction(sig, &a, NULL);
}

/* ---- signals sent to the process that main blocks ----
 *
 * Unpatched, a signal sent to the process goes to a thread that does not
 * block it. Here main's mask is its OS thread's, the other threads' masks
 * are kept by the shim, and the schedulers' own threads block every
 * signal: one that main blocks stayed pending on the process although
 * another thread let it through, and was lost (a SIGTERM that should have
 * ended the program, a handler that never ran). So the hub of main's
 * scheduler is told of each signal sent to the process (a signalfd,
 * gp__sched_watch_signals), and one that is pending for the process, that
 * main blocks, and that a thread does not block, is taken off and its
 * action taken as that thread would: a handler runs in the thread, as its
 * wait ends with EINTR, when it waits where a signal interrupts (else at
 * once on the hub's OS thread, as for pthread_kill); the default action
 * ends or stops the process, or nothing happens; ignored, it is
 * dropped. A thread that unblocks such a signal takes it at once,
 * itself, as the kernel would give it. */

/* What /proc/self/status says of the process's first thread: the signals
 * pending for it alone (SigPnd), for the process (ShdPnd), and its mask
 * (SigBlk); bit sig - 1 each. Returns 0, or -1 when it cannot be read.
 * Raw system calls and a buffer on the stack: the hub may run this inside
 * a handler's malloc. */
struct pending {
  uint64_t own, shared, blocked;
};

static uint64_t hex_after(const char *buf, const char *key)
{
  const char *p = strstr(buf, key);
  uint64_t v = 0;
  if (p == NULL)
    return 0;
  for (p += strlen(key); *p == '\t' || *p == ' '; p++)
    ;
  for (;; p++) {
    int d = *p >= '0' && *p <= '9'   ? *p - '0'
            : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
                                     : -1;
    if (d < 0)
      return v;
    v = v << 4 | (uint64_t)d;
  }
}

static int read_pending(struct pending *out)
{
  char buf[4096];
  long n, got = 0;
  int fd = (int)gp__real_syscall(SYS_openat, AT_FDCWD, "/proc/self/status",
                                 O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  while (got < (long)sizeof(buf) - 1 &&
         (n = gp__real_syscall(SYS_read, fd, buf + got,
                               sizeof(buf) - 1 - got)) > 0)
    got += n;
  gp__real_close(fd);
  buf[got] = '\0';
  if (strstr(buf, "SigBlk:") == NULL)
    return -1;
  out->own = hex_after(buf, "SigPnd:");
  out->shared = hex_after(buf, "ShdPnd:");
  out->blocked = hex_after(buf, "SigBlk:");
  return 0;
}

/* The signals looked at: not the faults (a kill of one goes to main as it
 * is), nor GPATCH_DEBUG's or the syscall user dispatch's. */
static uint64_t routable(void)
{
  static uint64_t bits;
  uint64_t b = __atomic_load_n(&bits, __ATOMIC_RELAXED);
  if (b == 0) {
    static const int never[] = {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS,
                                SIGFPE,  SIGILL,  SIGTRAP, SIGSYS};
    b = ~0ull & ~(1ull << (32 - 1)) & ~(1ull << (33 - 1)); /* glibc's */
    for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
      b &= ~(1ull << (never[i] - 1));
    if (gp__config.debug_signal > 0)
      b &= ~(1ull << (gp__config.debug_signal - 1));
    __atomic_store_n(&bits, b, __ATOMIC_RELAXED);
  }
  return b;
}

/* Takes sig off the signals pending for this OS thread or the process.
 * Returns 1 with its siginfo, or 0 when it is not pending (any more). */
static int take_pending(int sig, siginfo_t *info)
{
  struct timespec zero = {0, 0};
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, sig);
  return gp__real_syscall(SYS_rt_sigtimedwait, &one, info, &zero, _NSIG / 8) ==
         sig;
}

/* The signals of open (NULL: all) that may be routed and are pending for
 * the process (not for its first thread alone) while main blocks them;
 * /proc is read only when this OS thread sees one pending. */
static uint64_t stuck_pending(const sigset_t *open)
{
  struct pending p;
  sigset_t set;
  uint64_t bits;

  if (gp__real_syscall(SYS_rt_sigpending, &set, _NSIG / 8) != 0)
    return 0;
  bits = gp__sig_bits(&set) & (open ? gp__sig_bits(open) : ~0ull);
  if ((bits &= routable()) == 0 || read_pending(&p) != 0)
    return 0;
  return bits & p.shared & p.blocked & ~p.own;
}

/* How many threads wait for each signal in sigwait and the like: the hub
 * leaves those signals to them. */
static uint32_t sigwaiters[65];

/* The hub's part (gp__sched_watch_signals). A signal some thread waits
 * for in sigwait is left to it: the kernel gives main's first. */
static void route(void)
{
  uint64_t bits = stuck_pending(NULL);

  for (int sig = 1; sig <= 64 && sig < NSIG; sig++) {
    struct gp__coro *to;
    siginfo_t info;
    uint64_t id;
    if (!(bits & (1ull << (sig - 1))) ||
        __atomic_load_n(&sigwaiters[sig], __ATOMIC_SEQ_CST) ||
        (to = gp__thread_taker(sig, &id)) == NULL || !take_pending(sig, &info))
      continue;
    /* A handler runs in the thread when its wait can be interrupted. */
    if (catches(&app[sig]) && gp__coro_valid(to) && gp__coro_id(to) == id)
      gp__thread_signal(to, sig, &info);
    else
      gp__signal_run_here(sig, &info);
  }
}

void gp__signal_watch(void)
{
  static int done;
  sigset_t set;

  if (__atomic_load_n(&done, __ATOMIC_RELAXED) ||
      __atomic_exchange_n(&done, 1, __ATOMIC_RELAXED))
    return;
  sigemptyset(&set);
  gp__sig_add_bits(&set, routable());
  gp__sched_watch_signals(&set, route);
}

int gp__signal_take_unblocked(const sigset_t *open)
{
  uint64_t bits = stuck_pending(open);
  int n = 0;

  for (int sig = 1; sig <= 64 && sig < NSIG; sig++) {
    siginfo_t info;
    if ((bits & (1ull << (sig - 1))) && take_pending(sig, &info)) {
      gp__signal_run_here(sig, &info);
      n++;
    }
  }
  return n;
}

/* ---- signalfd ----
 *
 * A signal pthread_kill keeps pending for a thread (thread.c) is not
 * pending in the kernel, so a signalfd read by that thread would never
 * see it (the read waited for good): reads take those of the signalfd's
 * mask first, each as the kernel reports a tgkill. */

uint64_t gp__signalfd_mask(int fd)
{
  char path[48], text[512], *at;
  unsigned long long bits;
  ssize_t n;
  int f;

  snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
  f = (int)gp__real_syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (f < 0)
    return 0;
  n = gp__real_read(f, text, sizeof(text) - 1);
  gp__real_close(f);
  if (n <= 0)
    return 0;
  text[n] = 0;
  /* "sigmask:\t0000000000000200": the signalfd's alone */
  if ((at = strstr(text, "\nsigmask:")) == NULL ||
      sscanf(at + 9, "%llx", &bits) != 1)
    return 0;
  return (uint64_t)bits;
}

ssize_t gp__signalfd_take(void *buf, size_t count, uint64_t mask)
{
  struct signalfd_siginfo si;
  size_t done = 0;
  sigset_t set;
  int sig;

  if ((gp__thread_kept_bits() & mask) == 0)
    return 0;
  sigemptyset(&set);
  gp__sig_add_bits(&set, mask);
  while (count - done >= sizeof(si) &&
         (sig = gp__thread_take_signal(&set)) > 0) {
    memset(&si, 0, sizeof(si));
    si.ssi_signo = (uint32_t)sig;
    si.ssi_code = SI_TKILL;
    si.ssi_pid = (uint32_t)getpid();
    si.ssi_uid = (uint32_t)getuid();
    memcpy((char *)buf + done, &si, sizeof(si));
    done += sizeof(si);
  }
  return (ssize_t)done;
}

/* ---- sigwait, sigwaitinfo, sigtimedwait ----
 *
 * A signal a thread waits for is kept pending for it by the shim (a
 * pthread_kill of one it blocks: thread.c), taken first, or pending on
 * its OS thread or the process; a signalfd for the set tells when one of
 * those is, and only the calling coroutine parks on it. The kernel then
 * takes the signal itself (sigtimedwait with a zero timeout), so which one,
 * and its siginfo, are its own. As unpatched, the set's signals should be
 * blocked: an unblocked one goes to its handler (ending the wait with
 * EINTR, as the kernel does when a handler runs) or its default action. */
/* A signal kept pending for the calling thread (shim.h): as glibc reports
 * one sent with tgkill (it folds the kernel's SI_TKILL into SI_USER). */
static int take_own(const sigset_t *set, siginfo_t *info)
{
  int sig = gp__thread_take_signal(set);
  if (sig > 0 && info) {
    memset(info, 0, sizeof(*info));
    info->si_signo = sig;
    info->si_code = SI_USER;
    info->si_pid = getpid();
    info->si_uid = getuid();
  }
  return sig;
}

/* Waits for a signal of set until the deadline. Returns the signal number,
 * or -1 with errno: EAGAIN at the deadline, EINTR, or the kernel's. */
static int sig_wait_here(const sigset_t *set, siginfo_t *info,
                         uint64_t deadline)
{
  static const struct timespec zero = {0, 0};
  int sfd = -1, r, saved;

  gp__thread_sigwaiting(set);
  for (;;) {
    int w;
    if ((r = take_own(set, info)) > 0)
      break;
    r = gp__real_sigtimedwait(set, info, &zero);
    if (r > 0 || errno != EAGAIN)
      break;
    /* Out of the program's way, as the runtime's own fds: plain, a
     * sigwait makes no fd, and the program's next open gets the number. */
    if (sfd < 0 && (sfd = gp__ownfd_move(
                        signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC))) < 0) {
      /* No fd to wait on: wait for real, as unpatched. */
      struct timespec left, *tmo = NULL;
      if (deadline != GP__NEVER) {
        uint64_t now = gp__now(), ns = deadline > now ? deadline - now : 0;
        left.tv_sec = (time_t)(ns / 1000000000u);
        left.tv_nsec = (long)(ns % 1000000000u);
        tmo = &left;
      }
      gp__thread_sigwaiting(NULL);
      return gp__real_sigtimedwait(set, info, tmo);
    }
    w = gp__wait_fd(sfd, EPOLLIN, deadline, 1);
    if (w == -ECANCELED) {
      gp__thread_sigwaiting(NULL);
      gp__thread_cancel_point(); /* a cancellation point; else gp_kill */
    }
    if (w == -EINTR && (r = take_own(set, info)) > 0)
      break; /* the interruption was pthread_kill's, for this wait */
    if (w < 0) {
      errno = w == -ETIMEDOUT ? EAGAIN : w == -GP__EXPIRED ? ETIMEDOUT : EINTR;
      r = -1;
      break;
    }
  }
  saved = errno;
  gp__thread_sigwaiting(NULL);
  if (sfd >= 0) {
    gp__fd_forget(sfd);
    gp__ownfd_forget(sfd);
    gp__real_close(sfd);
  }
  errno = saved;
  return r;
}

/* sig_wait_here, counted in sigwaiters. */
static int sig_wait(const sigset_t *set, siginfo_t *info, uint64_t deadline)
{
  int r, saved;

  for (int sig = 1; sig <= 64 && sig < NSIG; sig++)
    if (sigismember(set, sig))
      __atomic_fetch_add(&sigwaiters[sig], 1, __ATOMIC_SEQ_CST);
  r = sig_wait_here(set, info, deadline);
  saved = errno;
  for (int sig = 1; sig <= 64 && sig < NSIG; sig++)
    if (sigismember(set, sig))
      __atomic_fetch_sub(&sigwaiters[sig], 1, __ATOMIC_SEQ_CST);
  errno = saved;
  return r;
}

/* sigpending(2): the OS thread's and the process's, and those kept
 * pending for the calling thread alone (thread.c). */
GP_EXPORT int sigpending(sigset_t *set)
{
  if (gp__real_syscall(SYS_rt_sigpending, set, _NSIG / 8) != 0)
    return -1; /* EFAULT, as glibc's */
  if (gp__shim_active(GP__PATCH_SIGNAL))
    gp__thread_kept_signals(set);
  return 0;
}

/* ---- pause, sigsuspend ----
 *
 * Both wait until a signal's handler has run, then fail with EINTR. The
 * calling thread parks, not its OS thread: lbzip2's main waits in
 * sigsuspend while its workers compress, and in the kernel's call they
 * never ran. main's mask is its OS thread's, and sigsuspend sets it there
 * for the wait, as the kernel would. Another thread's mask is the one the
 * shim keeps (thread.c): the signals kept pending for it that the wait's
 * mask lets through run at once, and a pthread_kill of one it does not
 * block ends the wait. A process-directed signal goes to main's OS thread,
 * as with every other call (see README). */
static int suspend(const sigset_t *mask)
{
  struct gp__coro *co = gp__self();
  sigset_t old, cur, kept;
  int r;

  if (gp__coro_is_main(co)) {
    int ran = 0;
    gp__suspend_main_begin();
    if (mask) {
      gp__real_pthread_sigmask(SIG_SETMASK, mask, &old);
      ran = gp__thread_suspend_mask(mask, &kept) > 0; /* pthread_kill's */
    }
    r = gp__suspend_main(ran);
    if (mask) {
      gp__thread_suspend_mask(&kept, &cur);
      gp__real_pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
  } else if (mask && gp__thread_suspend_mask(mask, &old) > 0) {
    r = -EINTR; /* one ran already */
    gp__thread_suspend_mask(&old, &cur);
  } else {
    r = gp__sleep_until(GP__NEVER, 1);
    if (mask)
      gp__thread_suspend_mask(&old, &cur);
  }
  if (r == -ECANCELED)
    gp__thread_cancel_point(); /* a cancellation point; else gp_kill */
  errno = EINTR;
  return -1;
}

/* pause(2). */
GP_EXPORT int pause(void)
{
  if (!gp__shim_active(GP__PATCH_SIGNAL) || gp__self() == NULL)
    return gp__real_pause();
  return suspend(NULL);
}

/* sigsuspend(2). */
GP_EXPORT int sigsuspend(const sigset_t *mask)
{
  if (!gp__shim_active(GP__PATCH_SIGNAL) || gp__self() == NULL)
    return gp__real_sigsuspend(mask);
  __asm__("" : "+r"(mask)); /* declared nonnull, yet NULL is EFAULT */
  if (mask == NULL) {
    errno = EFAULT;
    return -1;
  }
  return suspend(mask);
}

/* sigtimedwait(2). */
GP_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info,
                           const struct timespec *tmo)
{
  int64_t ns = 0;
  int sig;

  __asm__("" : "+r"(set)); /* declared nonnull, yet NULL is EFAULT */
  if (!gp__shim_active(GP__PATCH_SIGNAL) || set == NULL)
    return gp__real_sigtimedwait(set, info, tmo);
  /* A look that does not wait: one kept for the calling thread first, as
   * a wait takes it (a thread's blocked SIGPIPE from a write, say). */
  if (tmo && tmo->tv_sec == 0 && tmo->tv_nsec == 0)
    return (sig = take_own(set, info)) > 0
               ? sig
               : gp__real_sigtimedwait(set, info, tmo);
  if (tmo && (ns = gp__ts_to_ns(tmo)) < 0) {
    errno = EINVAL;
    return -1;
  }
  return sig_wait(set, info, tmo ? gp__now() + (uint64_t)ns : GP__NEVER);
}

/* sigwaitinfo(2). */
GP_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
  return sigtimedwait(set, info, NULL);
}

/* sigwait(3): returns an error number, and is never interrupted. */
GP_EXPORT int sigwait(const sigset_t *set, int *sig)
{
  int r;

  do
    r = sigtimedwait(set, NULL, NULL);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return errno;
  *sig = r;
  return 0;
}
