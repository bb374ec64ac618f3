/* d_segv: SIGSEGV reaches the program exactly as it would unpatched, though
 * the runtime keeps a SIGSEGV handler of its own (for coroutine stack
 * overflows). Each case runs in a child, which prints what its handler saw;
 * the parent prints how the child ended:
 *   - sent with raise, kill, sigqueue: the default action kills (the
 *     runtime's handler used to restore the default and return, expecting
 *     the fault to recur: the child survived); SIG_IGN ignores it; a
 *     handler gets si_code and the value;
 *   - a real fault: SIG_IGN does not stop the default action; a handler
 *     that returns after fixing the page (mprotect) lets the access go on;
 *     SA_RESETHAND runs the handler once, then the default action kills
 *     (it ran again and again), and sigaction then reports SIG_DFL;
 *   - the handler's mask: sa_mask and, without SA_NODEFER, SIGSEGV itself
 *     are blocked in the handler (a SIGSEGV raised there waits until it
 *     returns), with SA_NODEFER it nests;
 *   - SA_ONSTACK with the program's own sigaltstack: the handler runs on
 *     it, for a fault and for a thread's stack overflow (the runtime's
 *     overflow report used to skip the program's handler). */
#include "compat.h"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

static volatile sig_atomic_t calls, depth, max_depth, usr1_blocked, on_alt,
    info_code, info_value;
static char *page;
static sigjmp_buf jb;
static char altstack[256 * 1024];

/* Runs fn in a child and prints how it ended. */
static void run(const char *what, void (*fn)(void))
{
  int st;
  pid_t pid;

  SAY("%s:\n", what);
  pid = fork();
  if (pid == 0) {
    alarm(30);
    fn();
    SAY("  survived\n");
    _exit(0);
  }
  waitpid(pid, &st, 0);
  if (WIFSIGNALED(st))
    SAY("  killed by %s\n", strsignal(WTERMSIG(st)));
  else
    SAY("  exit %d\n", WEXITSTATUS(st));
}

static void install(void (*h)(int, siginfo_t *, void *), int flags,
                    int mask_usr1)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = h;
  sa.sa_flags = SA_SIGINFO | flags;
  sigemptyset(&sa.sa_mask);
  if (mask_usr1)
    sigaddset(&sa.sa_mask, SIGUSR1);
  if (sigaction(SIGSEGV, &sa, NULL) != 0)
    abort();
}

static void set_disposition(void (*h)(int))
{
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = h;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);
}

/* Writes to the PROT_NONE page: a real fault. */
static void touch(void)
{
  *(volatile char *)page = 1;
}

/* ---- the cases ---- */

static void raise_default(void)
{
  raise(SIGSEGV);
}

static void kill_default(void)
{
  kill(getpid(), SIGSEGV);
}

static void raise_ignored(void)
{
  set_disposition(SIG_IGN);
  raise(SIGSEGV);
  kill(getpid(), SIGSEGV);
}

static void on_info(int sig, siginfo_t *si, void *uc)
{
  (void)sig;
  (void)uc;
  calls++;
  info_code = si->si_code;
  info_value = si->si_value.sival_int;
}

static void sigqueue_handled(void)
{
  union sigval v = {.sival_int = 42};
  install(on_info, 0, 0);
  sigqueue(getpid(), SIGSEGV, v);
  SAY("  handler ran %d time(s), si_code %s, value %d\n", (int)calls,
      info_code == SI_QUEUE ? "SI_QUEUE" : "other", (int)info_value);
  raise(SIGSEGV);
  SAY("  raise: handler ran %d time(s), si_code %s\n", (int)calls,
      info_code == SI_TKILL ? "SI_TKILL" : "other");
}

static void fault_ignored(void)
{
  set_disposition(SIG_IGN);
  touch();
}

static void on_fix(int sig, siginfo_t *si, void *uc)
{
  (void)sig;
  (void)uc;
  calls++;
  info_code = si->si_code;
  mprotect(page, 4096, PROT_READ | PROT_WRITE);
}

static void fault_fixed(void)
{
  install(on_fix, 0, 0);
  touch();
  SAY("  handler ran %d time(s), si_code %s, the write went through: %d\n",
      (int)calls, info_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other", page[0]);
}

static void on_jump(int sig, siginfo_t *si, void *uc)
{
  (void)sig;
  (void)si;
  (void)uc;
  if (++calls > 3) {
    SAY("  handler ran %d times\n", (int)calls);
    _exit(9); /* it should have run once */
  }
  siglongjmp(jb, 1);
}

static void fault_resethand(void)
{
  struct sigaction now;
  install(on_jump, SA_RESETHAND, 0);
  if (sigsetjmp(jb, 1) == 0)
    touch();
  sigaction(SIGSEGV, NULL, &now);
  SAY("  handler ran %d time(s); now %s\n", (int)calls,
      now.sa_handler == SIG_DFL ? "SIG_DFL" : "a handler");
  touch(); /* the default action, this time */
}

static void on_nest(int sig, siginfo_t *si, void *uc)
{
  sigset_t cur;
  (void)sig;
  (void)si;
  (void)uc;
  calls++;
  depth++;
  if (depth > max_depth)
    max_depth = depth;
  pthread_sigmask(SIG_SETMASK, NULL, &cur);
  usr1_blocked = sigismember(&cur, SIGUSR1);
  if (calls == 1)
    raise(SIGSEGV); /* nests only with SA_NODEFER */
  depth--;
}

static void nest_deferred(void)
{
  install(on_nest, 0, 1);
  raise(SIGSEGV);
  SAY("  handler ran %d time(s), at most %d deep, SIGUSR1 blocked in it: "
      "%d\n",
      (int)calls, (int)max_depth, (int)usr1_blocked);
}

static void nest_nodefer(void)
{
  install(on_nest, SA_NODEFER, 0);
  raise(SIGSEGV);
  SAY("  handler ran %d time(s), at most %d deep, SIGUSR1 blocked in it: "
      "%d\n",
      (int)calls, (int)max_depth, (int)usr1_blocked);
}

static void on_alt_check(int sig, siginfo_t *si, void *uc)
{
  char here;
  (void)sig;
  (void)si;
  (void)uc;
  on_alt = &here >= altstack && &here < altstack + sizeof(altstack);
  SAY("  handler on the program's alternate stack: %d\n", (int)on_alt);
  _exit(3);
}

static void use_altstack(void)
{
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
  if (sigaltstack(&ss, NULL) != 0)
    abort();
  install(on_alt_check, SA_ONSTACK, 0);
}

static void fault_onstack(void)
{
  use_altstack();
  touch();
}

/* Recurses until the stack overflows. */
static int recurse(int n)
{
  volatile char pad[512];
  pad[0] = (char)n;
  if (n == -1) /* never: the compiler must not see an endless recursion */
    return 0;
  return recurse(n + 1) + pad[0];
}

static void *overflow_main(void *arg)
{
  (void)arg;
  use_altstack(); /* the thread's own, as a program sets it per thread */
  return (void *)(long)recurse(0);
}

static void thread_overflow(void)
{
  pthread_attr_t a;
  pthread_t t;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 256 * 1024);
  if (pthread_create(&t, &a, overflow_main, NULL) != 0)
    abort();
  pthread_join(t, NULL);
}

int main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED)
    abort();
  run("raise(SIGSEGV), default action", raise_default);
  run("kill(self, SIGSEGV), default action", kill_default);
  run("raise and kill, SIG_IGN", raise_ignored);
  run("sigqueue and raise, a handler", sigqueue_handled);
  run("a fault, SIG_IGN", fault_ignored);
  run("a fault, a handler that fixes the page", fault_fixed);
  run("a fault, SA_RESETHAND", fault_resethand);
  run("raise in the handler, without SA_NODEFER", nest_deferred);
  run("raise in the handler, SA_NODEFER", nest_nodefer);
  run("a fault, SA_ONSTACK", fault_onstack);
  run("a thread's stack overflow, SA_ONSTACK", thread_overflow);
  return 0;
}
