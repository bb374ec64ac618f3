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
#include <pthread.h>
#include <signal.h>
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

static void trampoline(int sig, siginfo_t *si, void *uc)
{
  struct sigaction a = app[sig];
  struct gp__handler_mark mark;

  last = sig;
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
}

int gp__signal_run_here(int sig)
{
  sigset_t one, old;
  int r;

  sigemptyset(&one);
  sigaddset(&one, sig);
  for_another = 1;
  r = gp__real_pthread_kill(gp__real_pthread_self(), sig);
  /* A scheduler's own OS thread blocks every signal: the handler runs as
   * the signal is let through, before the mask goes back. */
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

/* signal(2): glibc's semantics (BSD: SA_RESTART, the signal blocked in its
 * handler), through sigaction above. */
GP_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
  struct sigaction a, old;

  if (gp__tls.depth && !shared_child()) {
    gp__real_init();
    return gp__real_signal(sig, handler);
  }
  memset(&a, 0, sizeof(a));
  a.sa_handler = handler;
  sigemptyset(&a.sa_mask);
  if (sig > 0 && sig < NSIG)
    sigaddset(&a.sa_mask, sig);
  a.sa_flags = SA_RESTART;
  if (sigaction(sig, &a, &old) != 0)
    return SIG_ERR;
  return old.sa_handler;
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
static int sig_wait(const sigset_t *set, siginfo_t *info, uint64_t deadline)
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
  sigset_t old, cur;
  int r;

  if (gp__coro_is_main(co)) {
    gp__suspend_main_begin();
    if (mask)
      gp__real_pthread_sigmask(SIG_SETMASK, mask, &old);
    r = gp__suspend_main();
    if (mask)
      gp__real_pthread_sigmask(SIG_SETMASK, &old, NULL);
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

  if (!gp__shim_active(GP__PATCH_SIGNAL) ||
      (tmo && tmo->tv_sec == 0 && tmo->tv_nsec == 0))
    return gp__real_sigtimedwait(set, info, tmo);
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
