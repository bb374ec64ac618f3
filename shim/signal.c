/* signal.c: sigaction and signal, so that the shim knows which signal
 * interrupted a wait and whether its handler has SA_RESTART.
 *
 * A caught signal interrupts the hub's epoll_wait; the shim then ends one
 * coroutine's wait with EINTR, or lets it wait on when the call would have
 * been restarted (core/sched.c, gp__sched_interrupt). To know which signal
 * it was, the app's handlers are installed behind a small trampoline that
 * notes the signal number; sigaction reports the app's own handler back, as
 * if nothing stood between. SIGSEGV handlers are not installed at all: the
 * runtime's overflow handler stays and passes on every fault that is not a
 * stack overflow to the app's handler. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

static struct sigaction app[NSIG];   /* the app's handlers, as it set them */
static volatile sig_atomic_t last;   /* the last signal caught */

static void trampoline(int sig, siginfo_t *si, void *uc)
{
  struct sigaction a = app[sig];
  last = sig;
  if (a.sa_flags & SA_RESETHAND) {
    app[sig].sa_handler = SIG_DFL; /* the kernel reset ours already */
    app[sig].sa_flags &= ~SA_SIGINFO;
  }
  if (a.sa_flags & SA_SIGINFO)
    a.sa_sigaction(sig, si, uc);
  else if (a.sa_handler != SIG_IGN && a.sa_handler != SIG_DFL)
    a.sa_handler(sig);
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

/* sigaction(2). */
GP_EXPORT int sigaction(int sig, const struct sigaction *act,
                        struct sigaction *oact)
{
  struct sigaction real, prev;
  int r;

  gp__real_init();
  if (gp__tls.depth || sig <= 0 || sig >= NSIG)
    return gp__real_sigaction(sig, act, oact);
  if (sig == SIGSEGV)
    return gp__debug_segv_chain(act, oact);
  prev = app[sig];
  if (act == NULL || !catches(act)) {
    r = gp__real_sigaction(sig, act, oact);
    if (r == 0 && act)
      app[sig] = *act;
  } else {
    real = *act;
    real.sa_flags |= SA_SIGINFO;
    real.sa_sigaction = trampoline;
    app[sig] = *act;
    r = gp__real_sigaction(sig, &real, oact);
    if (r != 0)
      app[sig] = prev;
  }
  /* What the kernel reports as ours is the app's own handler. */
  if (r == 0 && oact && oact->sa_sigaction == trampoline)
    *oact = prev;
  return r;
}

/* signal(2): glibc's semantics (BSD: SA_RESTART, the signal blocked in its
 * handler), through sigaction above. */
GP_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
  struct sigaction a, old;

  if (gp__tls.depth) {
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
