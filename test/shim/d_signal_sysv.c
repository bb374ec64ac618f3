/* d_signal_sysv: the other ways glibc installs a handler behave as plain,
 * waits included.
 *
 * - __sysv_signal, which <signal.h> names for signal in a strict standard
 *   mode (gcc -std=c99, _POSIX_C_SOURCE): the handler runs once, is reset
 *   to SIG_DFL, the signal is not blocked in it, and a read it interrupts
 *   fails with EINTR. Patched, glibc's installed it past the runtime's
 *   trampoline: the read never heard of the signal and went on waiting.
 * - siginterrupt(sig, 1) before signal(): signal() leaves SA_RESTART out
 *   (the read fails with EINTR); siginterrupt after signal() takes
 *   SA_RESTART out of the installed action. Patched, the runtime's copy
 *   of the flags kept SA_RESTART and restarted the read.
 * - siginterrupt(sig, 0) puts SA_RESTART back: the read goes on.
 * - bsd_signal and ssignal are signal; sigignore sets SIG_IGN.
 * - Bad input: SIG_ERR as a handler, signal 0, glibc's own signal 32,
 *   SIGKILL: EINVAL.
 * In every read, the signal comes from kill(2) made with syscall(2),
 * which the shim does not see, and a writer thread sends a byte after a
 * while, so that a read that was not interrupted ends too (with 1). */
#include "compat.h"

#include <signal.h>
#include <sys/syscall.h>

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

extern sighandler_t __sysv_signal(int sig, sighandler_t handler);
extern sighandler_t bsd_signal(int sig, sighandler_t handler);
extern sighandler_t ssignal(int sig, sighandler_t handler);

static volatile sig_atomic_t caught;
static int fds[2];

static void on_sig(int sig)
{
  (void)sig;
  caught++;
}

struct plan {
  int sig;     /* sent to the process after 100 ms */
  int write_s; /* then a byte written after this many ms */
};

static void *sender(void *arg)
{
  struct plan *p = arg;
  struct timespec t = {0, 100 * 1000000};
  sigset_t one;
  /* Sent to the process, from outside the shim (not pthread_kill, which
   * the shim sees): only main, which does not block it, can take it. */
  sigemptyset(&one);
  sigaddset(&one, p->sig);
  pthread_sigmask(SIG_BLOCK, &one, NULL);
  nanosleep(&t, NULL);
  syscall(SYS_kill, getpid(), p->sig);
  t.tv_sec = p->write_s / 1000;
  t.tv_nsec = (long)(p->write_s % 1000) * 1000000;
  nanosleep(&t, NULL);
  if (write(fds[1], "x", 1) != 1)
    exit(1);
  return NULL;
}

/* A read that sig comes to in the middle of. */
static void read_with(const char *what, int sig)
{
  struct plan p = {sig, 400};
  pthread_t t;
  char c;

  caught = 0;
  pthread_create(&t, NULL, sender, &p);
  errno = 0;
  ssize_t n = read(fds[0], &c, 1);
  int e = errno;
  pthread_join(t, NULL);
  if (n < 0 && read(fds[0], &c, 1) != 1) /* the byte sent after */
    exit(1);
  printf("%s: read %zd %s, handler ran %d\n", what, n, n < 0 ? strerror(e) : "",
         (int)caught);
}

static const char *name(sighandler_t h)
{
  if (h == SIG_DFL)
    return "SIG_DFL";
  if (h == SIG_IGN)
    return "SIG_IGN";
  if (h == SIG_ERR)
    return "SIG_ERR";
  if (h == on_sig)
    return "on_sig";
  return "other";
}

static void query(const char *what, int sig)
{
  struct sigaction a;
  sigaction(sig, NULL, &a);
  printf("%s: %s, SA_RESTART %d, SA_RESETHAND %d, SA_NODEFER %d\n", what,
         name(a.sa_handler), (a.sa_flags & SA_RESTART) != 0,
         (a.sa_flags & SA_RESETHAND) != 0, (a.sa_flags & SA_NODEFER) != 0);
}

static void bad(const char *what, sighandler_t r)
{
  int e = errno;
  printf("%s: %s %s\n", what, name(r), r == SIG_ERR ? strerror(e) : "");
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  if (pipe(fds) != 0)
    return 1;

  printf("__sysv_signal gave %s\n", name(__sysv_signal(SIGUSR1, on_sig)));
  query("SIGUSR1 after __sysv_signal", SIGUSR1);
  read_with("System V handler", SIGUSR1);
  query("SIGUSR1 after it ran", SIGUSR1);

  printf("siginterrupt(SIGUSR2, 1): %d\n", siginterrupt(SIGUSR2, 1));
  printf("signal gave %s\n", name(signal(SIGUSR2, on_sig)));
  query("SIGUSR2, siginterrupt then signal", SIGUSR2);
  read_with("siginterrupt then signal", SIGUSR2);

  printf("bsd_signal gave %s\n", name(bsd_signal(SIGHUP, on_sig)));
  query("SIGHUP after bsd_signal", SIGHUP);
  read_with("bsd_signal", SIGHUP); /* restarted */
  printf("siginterrupt(SIGHUP, 1): %d\n", siginterrupt(SIGHUP, 1));
  query("SIGHUP after siginterrupt", SIGHUP);
  read_with("signal then siginterrupt", SIGHUP);
  printf("siginterrupt(SIGHUP, 0): %d\n", siginterrupt(SIGHUP, 0));
  query("SIGHUP after siginterrupt 0", SIGHUP);
  read_with("siginterrupt 0", SIGHUP);

  printf("ssignal gave %s\n", name(ssignal(SIGWINCH, on_sig)));
  query("SIGWINCH after ssignal", SIGWINCH);
  printf("sigignore(SIGWINCH): %d\n", sigignore(SIGWINCH));
  query("SIGWINCH after sigignore", SIGWINCH);

  errno = 0;
  bad("signal(SIGINT, SIG_ERR)", signal(SIGINT, SIG_ERR));
  errno = 0;
  bad("signal(0)", signal(0, on_sig));
  errno = 0;
  bad("signal(32)", signal(32, on_sig));
  errno = 0;
  bad("__sysv_signal(65)", __sysv_signal(65, on_sig));
  errno = 0;
  bad("signal(SIGKILL)", signal(SIGKILL, on_sig));
  errno = 0;
  int r = siginterrupt(0, 1);
  printf("siginterrupt(0, 1): %d %s\n", r, strerror(errno));
  errno = 0;
  r = sigignore(SIGKILL);
  printf("sigignore(SIGKILL): %d %s\n", r, strerror(errno));
  return 0;
}
