/* d_thread_mask_inherit: a new thread starts with its creator's signal
 * mask, whichever call last changed that mask.
 *
 * The runtime keeps a copy of the first thread's mask between changes
 * (a pthread_create does not read it from the kernel each time). So each
 * way a mask can change without pthread_sigmask is tried, each after a
 * pthread_create that made the copy:
 * - siglongjmp to a sigsetjmp that saved the mask;
 * - longjmp out of a handler, which leaves the handler's mask in force;
 * - a handler that changes the mask and returns (the kernel restores it),
 *   and one that changes the mask in its ucontext (the kernel sets it);
 * - setcontext and swapcontext to a context that holds another mask;
 * - a raw rt_sigprocmask through syscall(2);
 * - the System V and BSD calls: sighold, sigrelse, sigset, sigblock,
 *   sigsetmask, siggetmask, with their return values and bad input;
 * - a fork's child.
 * A thread's own sighold, sigblock and sigset change its mask, not
 * main's: patched, glibc's went to the OS thread all threads share. */
#include "compat.h"

#include <dlfcn.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>

/* The old calls are what is tested here. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
/* BIT(sig), without its deprecation warning. */
#define BIT(sig) (1 << ((sig)-1))

static const int watched[] = {SIGHUP,  SIGINT,   SIGQUIT, SIGUSR1,
                              SIGUSR2, SIGPIPE,  SIGALRM, SIGTERM,
                              SIGCHLD, SIGWINCH, SIGTSTP, SIGVTALRM};

static void print_mask(const char *who, const char *label, const sigset_t *m)
{
  printf("%s %-28s:", who, label);
  for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
    if (sigismember(m, watched[i]))
      printf(" %s", strsignal(watched[i]));
  printf("\n");
}

static void *report(void *arg)
{
  sigset_t m;
  sigemptyset(&m);
  pthread_sigmask(SIG_BLOCK, NULL, &m);
  print_mask("thread", arg, &m);
  return NULL;
}

/* A new thread's mask, as it sees it. */
static void show(const char *label)
{
  pthread_t t;
  if (pthread_create(&t, NULL, report, (void *)label) != 0) {
    printf("pthread_create failed\n");
    exit(1);
  }
  pthread_join(t, NULL);
}

static void set_of(sigset_t *s, int sig)
{
  sigemptyset(s);
  sigaddset(s, sig);
}

static void block(int how, int sig)
{
  sigset_t s;
  set_of(&s, sig);
  sigprocmask(how, &s, NULL);
}

static sigjmp_buf saved_env;
static jmp_buf handler_env;

static void on_alrm(int sig)
{
  (void)sig;
  longjmp(handler_env, 1); /* no mask saved: the handler's stays */
}

static void on_term(int sig)
{
  (void)sig;
  block(SIG_BLOCK, SIGHUP); /* undone by the handler's return */
}

static void on_prof(int sig, siginfo_t *si, void *uc)
{
  (void)sig;
  (void)si;
  /* set by the kernel as the handler returns */
  sigaddset(&((ucontext_t *)uc)->uc_sigmask, SIGTSTP);
}

static void *other_thread(void *arg)
{
  sigset_t m;
  (void)arg;
  sighold(SIGINT);
  int old = sigblock(BIT(SIGHUP));
  printf("other: sigblock's old mask has SIGINT %d\n",
         (old & BIT(SIGINT)) != 0);
  sighandler_t h = sigset(SIGQUIT, SIG_HOLD);
  printf("other: sigset hold gave %s\n", h == SIG_DFL ? "SIG_DFL" : "other");
  sigemptyset(&m);
  pthread_sigmask(SIG_BLOCK, NULL, &m);
  print_mask("other", "after its own sighold etc.", &m);
  return NULL;
}

static void said(const char *what, int r)
{
  int e = errno;
  printf("%s: %d %s\n", what, r, r < 0 ? strerror(e) : "");
}

static void bad_input(void)
{
  said("sighold(0)", sighold(0));
  said("sigrelse(65)", sigrelse(65));
  said("sigset(-1)", sigset(-1, SIG_DFL) == SIG_ERR ? -1 : 0);
  said("sigset(SIGKILL, handler)",
       sigset(SIGKILL, on_term) == SIG_ERR ? -1 : 0);
  said("sigset(32, SIG_HOLD)", sigset(32, SIG_HOLD) == SIG_ERR ? -1 : 0);
  said("sighold(SIGKILL)", sighold(SIGKILL));
}

int main(void)
{
  static volatile int resumed, swapped;
  sigset_t s;
  ucontext_t uc, here;

  setvbuf(stdout, NULL, _IONBF, 0);
  show("start");

  block(SIG_BLOCK, SIGUSR1);
  show("sigprocmask blocks SIGUSR1");

  /* siglongjmp back to a saved mask without SIGUSR2 */
  if (sigsetjmp(saved_env, 1) == 0) {
    block(SIG_BLOCK, SIGUSR2);
    show("SIGUSR2 blocked, before jump");
    siglongjmp(saved_env, 1);
  }
  show("after siglongjmp");

  /* longjmp out of a handler: SIGALRM stays blocked */
  signal(SIGALRM, on_alrm);
  if (setjmp(handler_env) == 0) {
    show("before the handler");
    raise(SIGALRM);
  }
  show("after longjmp from a handler");
  block(SIG_UNBLOCK, SIGALRM);

  /* a handler that blocks SIGHUP, then returns */
  signal(SIGTERM, on_term);
  show("before SIGTERM's handler");
  raise(SIGTERM);
  show("after SIGTERM's handler");

  /* a handler that changes the mask its ucontext holds */
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_prof;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGPROF, &sa, NULL);
  show("before SIGPROF's handler");
  raise(SIGPROF);
  show("after SIGPROF's handler");
  block(SIG_UNBLOCK, SIGTSTP);

  /* setcontext to a context saved while SIGWINCH was blocked */
  block(SIG_BLOCK, SIGWINCH);
  getcontext(&uc);
  if (!resumed) {
    block(SIG_UNBLOCK, SIGWINCH);
    show("SIGWINCH open, before setcontext");
    resumed = 1;
    setcontext(&uc);
  }
  show("after setcontext");
  /* swapcontext to a context saved while SIGWINCH was blocked */
  block(SIG_UNBLOCK, SIGWINCH);
  show("SIGWINCH open again");
  block(SIG_BLOCK, SIGWINCH);
  getcontext(&uc);
  if (!swapped) {
    swapped = 1;
    block(SIG_UNBLOCK, SIGWINCH);
    show("SIGWINCH open, before swap");
    swapcontext(&here, &uc);
  }
  show("after swapcontext");
  block(SIG_UNBLOCK, SIGWINCH);

  /* a raw system call */
  show("before raw rt_sigprocmask");
  set_of(&s, SIGVTALRM);
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, &s, NULL, 8);
  show("after raw rt_sigprocmask");

  /* System V and BSD */
  sighold(SIGINT);
  show("sighold SIGINT");
  sigrelse(SIGINT);
  show("sigrelse SIGINT");
  printf("sigset hold: %s\n",
         sigset(SIGQUIT, SIG_HOLD) == SIG_DFL ? "SIG_DFL" : "other");
  show("sigset SIGQUIT SIG_HOLD");
  printf("sigset hold again: %s\n",
         sigset(SIGQUIT, SIG_HOLD) == SIG_HOLD ? "SIG_HOLD" : "other");
  printf("sigset default: %s\n",
         sigset(SIGQUIT, SIG_DFL) == SIG_HOLD ? "SIG_HOLD" : "other");
  show("sigset SIGQUIT SIG_DFL");
  int old = sigblock(BIT(SIGPIPE) | BIT(SIGTSTP));
  printf("sigblock's old mask: SIGUSR1 %d SIGPIPE %d\n",
         (old & BIT(SIGUSR1)) != 0, (old & BIT(SIGPIPE)) != 0);
  show("sigblock SIGPIPE SIGTSTP");
  /* (through dlsym: the linker warns of every direct call) */
  int (*getmask)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "siggetmask");
  printf("siggetmask has SIGTSTP: %d\n", (getmask() & BIT(SIGTSTP)) != 0);
  old = sigsetmask(BIT(SIGCHLD));
  printf("sigsetmask's old mask has SIGPIPE: %d\n", (old & BIT(SIGPIPE)) != 0);
  show("sigsetmask SIGCHLD only");
  bad_input();
  show("after bad input");

  /* another thread's own calls leave main's mask alone */
  pthread_t t;
  pthread_create(&t, NULL, other_thread, NULL);
  pthread_join(t, NULL);
  sigemptyset(&s);
  sigprocmask(SIG_BLOCK, NULL, &s);
  print_mask("main", "after the other's calls", &s);
  show("after the other's calls");

  /* a fork's child */
  block(SIG_BLOCK, SIGUSR2);
  show("before fork");
  pid_t pid = fork();
  if (pid == 0) {
    show("in the child");
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  return 0;
}
