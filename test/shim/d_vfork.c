/* d_vfork: a vfork child runs in its parent's memory until it execs or
 * exits, and what it does there changes only itself, as plain: it resets
 * the handlers of SIGUSR1, SIGSEGV and SIGINT (as Python's _posixsubprocess
 * does before it execs), closes an fd another thread of the parent is
 * reading, and execs. Afterwards the parent's handlers still run (raise,
 * kill), sigaction still reports them, and the reading thread still gets
 * its data. Before, the child overwrote the shim's table of handlers,
 * which the parent shares, and the parent's signals were swallowed; its
 * close woke the parent's reader with EBADF. The child also reports the
 * handler it found, which must be the program's. */
#include "compat.h"

#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t usr1, segv, intr;

static void on_usr1(int sig)
{
  (void)sig;
  usr1++;
}

static void on_int(int sig)
{
  (void)sig;
  intr++;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
  (void)sig;
  (void)uc;
  segv = si->si_code == SI_TKILL ? 1 : 2;
}

static int p[2];

static void *reader(void *arg)
{
  char c = 0;
  ssize_t n;
  (void)arg;
  n = read(p[0], &c, 1);
  if (n < 0)
    SAY("the reader: -1 %s\n", strerrorname_np(errno));
  else
    SAY("the reader: %zd byte, '%c'\n", n, c);
  return NULL;
}

static void set(int sig, void (*h)(int), int siginfo)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  if (siginfo) {
    sa.sa_sigaction = (void (*)(int, siginfo_t *, void *))(void *)h;
    sa.sa_flags = SA_SIGINFO;
  } else {
    sa.sa_handler = h;
  }
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

int main(void)
{
  struct sigaction now, dfl;
  struct task t;
  int rep[2], st;
  char seen[3] = "??";
  pid_t pid;

  setvbuf(stdout, NULL, _IOLBF, 0);
  alarm(30);
  set(SIGUSR1, on_usr1, 0);
  set(SIGINT, on_int, 0);
  set(SIGSEGV, (void (*)(int))(void *)on_segv, 1);
  EXPECT("pipes", pipe(p) == 0 && pipe(rep) == 0);
  spawn(&t, reader, NULL);
  sleep_ms(50); /* the reader waits (either order works) */

  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  pid = vfork();
  if (pid == 0) {
    struct sigaction o;
    sigaction(SIGUSR1, NULL, &o);
    seen[0] = o.sa_handler == on_usr1 ? 'y' : 'n';
    sigaction(SIGSEGV, &dfl, &o);
    seen[1] = o.sa_sigaction == on_segv ? 'y' : 'n';
    if (write(rep[1], seen, 2) != 2)
      _exit(2);
    sigaction(SIGUSR1, &dfl, NULL);
    sigaction(SIGINT, &dfl, NULL);
    signal(SIGINT, SIG_IGN);
    close(p[0]);
    execl("/bin/true", "true", (char *)NULL);
    _exit(127);
  }
  EXPECT("the child exited 0",
         waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  EXPECT("its report", read(rep[0], seen, 2) == 2);
  SAY("the child found the program's SIGUSR1 handler: %c, SIGSEGV: %c\n",
      seen[0], seen[1]);

  /* A second child that exits without exec. */
  pid = vfork();
  if (pid == 0) {
    sigaction(SIGUSR1, &dfl, NULL);
    _exit(3);
  }
  EXPECT("the second child exited 3",
         waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 3);

  raise(SIGUSR1);
  kill(getpid(), SIGUSR1);
  SAY("SIGUSR1 handler ran %d time(s)\n", (int)usr1);
  raise(SIGSEGV);
  SAY("SIGSEGV handler: %s\n", segv == 1 ? "ran, SI_TKILL" : "did not run");
  kill(getpid(), SIGINT);
  SAY("SIGINT handler ran %d time(s)\n", (int)intr);
  sigaction(SIGUSR1, NULL, &now);
  SAY("sigaction reports the SIGUSR1 handler: %d\n", now.sa_handler == on_usr1);
  sigaction(SIGSEGV, NULL, &now);
  SAY("sigaction reports the SIGSEGV handler: %d\n",
      now.sa_sigaction == on_segv);

  /* Judged after the join: the reader's line comes first, whichever OS
   * thread runs first. */
  ssize_t w = write(p[1], "x", 1);
  join(&t);
  EXPECT("write to the reader", w == 1);
  return compat_failures != 0;
}
