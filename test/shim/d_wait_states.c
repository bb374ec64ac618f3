/* d_wait_states: waitpid reports every state change of a child that it
 * reports plain, while another thread runs: a stop (WUNTRACED) and a
 * continue (WCONTINUED) of one child and of any child, a ptrace stop (with
 * no option at all: the caller traces the child), a child of the process
 * group (pid 0), wait3 of any child, and an interruption by a caught
 * signal without SA_RESTART (EINTR) and with it (the wait goes on).
 *
 * Each child waits on a pipe for the parent's word before it goes on, so
 * the order of events is the program's own. Before, a wait for one child
 * watched a pidfd, which tells only of exits: a stop was never reported
 * and the run hung (a watchdog alarm ends it). */
#include "compat.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>

static volatile int ticks, stop;
static volatile int word_at; /* > 0: the ticker writes word_fd at that tick */
static int word_fd;

/* Another thread: ticks, and sends a child its word when asked. Signals
 * meant for main are blocked here, as they stay with main patched. */
static void *ticker(void *arg)
{
  sigset_t s;
  (void)arg;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &s, NULL);
  while (!stop) {
    sleep_ms(5);
    ticks++;
    if (word_at > 0 && ticks >= word_at) {
      word_at = 0;
      if (write(word_fd, "x", 1) != 1)
        abort();
    }
  }
  return NULL;
}

/* How a status reads. */
static const char *show(int st)
{
  static char buf[64];
  if (WIFEXITED(st))
    snprintf(buf, sizeof(buf), "exited %d", WEXITSTATUS(st));
  else if (WIFSIGNALED(st))
    snprintf(buf, sizeof(buf), "killed by %s", strsignal(WTERMSIG(st)));
  else if (WIFSTOPPED(st))
    snprintf(buf, sizeof(buf), "stopped by %s", strsignal(WSTOPSIG(st)));
  else if (WIFCONTINUED(st))
    snprintf(buf, sizeof(buf), "continued");
  else
    snprintf(buf, sizeof(buf), "status %#x", st);
  return buf;
}

/* waitpid, printed: who answered (the child, or an error) and what. */
static pid_t child;
static void waitp(const char *what, pid_t pid, int options)
{
  int st = 0;
  pid_t r = waitpid(pid, &st, options);
  if (r < 0)
    SAY("%s: -1 %s\n", what, strerrorname_np(errno));
  else
    SAY("%s: %s, %s\n", what, r == child ? "the child" : "another pid",
        show(st));
}

/* A child that waits for a byte on fd before it goes on with exit code. */
static pid_t fork_waiting(int fd, int stop_self, int traced, int code)
{
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    if (traced && ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
      _exit(90);
    if (stop_self)
      raise(SIGSTOP);
    if (read(fd, &c, 1) != 1)
      _exit(91);
    _exit(code);
  }
  return pid;
}

static void on_usr2(int sig)
{
  (void)sig;
}

int main(void)
{
  struct sigaction sa;
  struct rusage ru;
  struct task t;
  int p[2], st;

  setvbuf(stdout, NULL, _IOLBF, 0);
  alarm(60);
  EXPECT("pipe", pipe(p) == 0);
  spawn(&t, ticker, NULL);

  /* One child stops itself, is continued, then exits. */
  child = fork_waiting(p[0], 1, 0, 7);
  waitp("waitpid(child, WUNTRACED)", child, WUNTRACED);
  kill(child, SIGCONT);
  waitp("waitpid(child, WCONTINUED)", child, WCONTINUED);
  EXPECT("word to the child", write(p[1], "x", 1) == 1);
  waitp("waitpid(child, 0)", child, 0);

  /* The same, for any child. */
  child = fork_waiting(p[0], 1, 0, 8);
  waitp("waitpid(-1, WUNTRACED)", -1, WUNTRACED);
  kill(child, SIGCONT);
  waitp("waitpid(-1, WCONTINUED)", -1, WCONTINUED);
  EXPECT("word to the child", write(p[1], "x", 1) == 1);
  waitp("waitpid(-1, 0)", -1, 0);

  /* A stop of a child that the caller traces: reported with no option. */
  child = fork_waiting(p[0], 1, 1, 9);
  waitp("waitpid(traced child, 0)", child, 0);
  SAY("PTRACE_CONT: %ld\n", ptrace(PTRACE_CONT, child, NULL, NULL));
  EXPECT("word to the child", write(p[1], "x", 1) == 1);
  waitp("waitpid(traced child, 0) again", child, 0);

  /* A child of the process group, and wait3. */
  child = fork_waiting(p[0], 0, 0, 10);
  EXPECT("word to the child", write(p[1], "x", 1) == 1);
  waitp("waitpid(0, 0)", 0, 0);
  child = fork_waiting(p[0], 1, 0, 11);
  st = 0;
  EXPECT("wait3(WUNTRACED) sees the stop",
         wait3(&st, WUNTRACED, &ru) == child && WIFSTOPPED(st));
  kill(child, SIGCONT);
  EXPECT("word to the child", write(p[1], "x", 1) == 1);
  EXPECT("wait3 sees the exit",
         wait3(&st, 0, &ru) == child && WIFEXITED(st) && WEXITSTATUS(st) == 11);

  /* A caught signal interrupts the wait without SA_RESTART; with it the
   * wait goes on. The child sends the signal again and again until its
   * word comes, so that one comes while the parent waits. */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_usr2;
  sigemptyset(&sa.sa_mask);
  for (int restart = 0; restart < 2; restart++) {
    pid_t parent = getpid();
    int q[2];
    EXPECT("pipe2", pipe2(q, O_NONBLOCK) == 0);
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGUSR2, &sa, NULL);
    child = fork();
    if (child == 0) {
      char c;
      while (read(q[0], &c, 1) != 1) {
        kill(parent, SIGUSR2);
        sleep_ms(2);
      }
      _exit(12);
    }
    if (restart) {
      word_fd = q[1];
      word_at = ticks + 20; /* the other thread sends the word */
      waitp("waitpid(child, 0) under signals, SA_RESTART", child, 0);
    } else {
      waitp("waitpid(child, 0) under signals, no SA_RESTART", child, 0);
      EXPECT("word to the child", write(q[1], "x", 1) == 1);
      while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
      SAY("then: %s\n", show(st));
    }
    close(q[0]);
    close(q[1]);
  }
  waitp("no child left", -1, 0);
  stop = 1;
  join(&t);
  SAY("the other thread ran meanwhile: %s\n", ticks > 0 ? "yes" : "no");
  return compat_failures != 0;
}
