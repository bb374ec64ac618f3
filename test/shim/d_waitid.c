/* d_waitid: waitid while other threads work — the child exits only after
 * another thread has played a ping-pong with a third and written to the
 * pipe the child reads, so the wait must park only its caller. Also what
 * waitid reports: P_PID, P_ALL, P_PIDFD, WNOHANG with nothing to report
 * (si_pid 0), WNOWAIT (the child stays to be reaped), a stopped and a
 * continued child (WSTOPPED, WCONTINUED), EINTR from a signal without
 * SA_RESTART, but the child when its exit's SIGCHLD runs a handler, ECHILD
 * and EINVAL. And waitpid with WUNTRACED, waiting when
 * the child stops (a stop does not make a pidfd readable). */
#include "sockutil.h"

#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>

extern char **environ;

/* The commands name the test's pipes as /dev/fd/N: dash takes one digit
 * only in <&N, and the preloaded run's fds are higher. */
static int go[2];
static struct ponger pong; /* played by server() */

/* 100 rounds of ping-pong, then the line the child waits for. */
static void *server(void *arg)
{
  (void)arg;
  ponger_play(&pong, 100);
  check_threads(1);
  if (write(go[1], "x\n", 2) != 2)
    abort();
  return NULL;
}

/* A child that exits with code once a line comes on go[0]. */
static pid_t child(int code)
{
  char cmd[64];
  char *argv[] = {"sh", "-c", cmd, NULL};
  pid_t pid;
  snprintf(cmd, sizeof(cmd), "read x </dev/fd/%d; exit %d", go[0], code);
  if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0)
    abort();
  return pid;
}

static volatile sig_atomic_t chld_caught;

static void on_chld(int sig)
{
  (void)sig;
  chld_caught++;
}

static void show(const char *what, int r, const siginfo_t *si, pid_t pid)
{
  if (r != 0) {
    SAY("%s: %d %s\n", what, r, strerrorname_np(errno));
    return;
  }
  SAY("%s: 0, si_pid %s, si_code %d, si_status %d\n", what,
      si->si_pid == 0     ? "0"
      : si->si_pid == pid ? "the child"
                          : "another",
      si->si_code, si->si_status);
}

/* Waits with idtype/id while the other threads make the child exit. */
static void wait_while_serving(const char *what, idtype_t type, int pidfd,
                               int code)
{
  pthread_t b;
  siginfo_t si;
  pid_t pid = child(code);
  id_t id = type == P_PID ? (id_t)pid : type == P_PIDFD ? (id_t)pidfd : 0;
  int r;

  if (type == P_PIDFD) {
    id = (id_t)(pidfd = (int)syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
      SAY("%s: no pidfd_open here\n", what);
      if (write(go[1], "x\n", 2) != 2)
        abort();
      waitpid(pid, NULL, 0);
      return;
    }
  }
  ponger_start(&pong);
  if (pthread_create(&b, NULL, server, NULL))
    abort();
  memset(&si, 0, sizeof(si));
  r = waitid(type, id, &si, WEXITED);
  show(what, r, &si, pid);
  pthread_join(b, NULL);
  ponger_stop(&pong);
  if (type == P_PIDFD)
    close(pidfd);
}

/* waitpid with WUNTRACED, in a thread, while main stops the child. */
struct stop_waiter {
  pid_t pid;  /* the child */
  int status; /* what waitpid reported */
  pid_t r;    /* waitpid's result */
};

static void *wait_for_stop(void *arg)
{
  struct stop_waiter *w = arg;
  w->r = waitpid(w->pid, &w->status, WUNTRACED);
  return NULL;
}

static volatile sig_atomic_t caught;
static void on_usr1(int sig)
{
  (void)sig;
  caught++;
}

struct waiter {
  pthread_t self;    /* the thread in waitid */
  volatile int done; /* waitid returned */
  int r, err;        /* its result and errno */
};

static void *interrupted_wait(void *arg)
{
  struct waiter *w = arg;
  siginfo_t si;
  w->r = waitid(P_ALL, 0, &si, WEXITED);
  w->err = errno;
  w->done = 1;
  return NULL;
}

int main(void)
{
  struct sigaction sa;
  struct waiter w = {0};
  siginfo_t si;
  pid_t pid;
  int r;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (pipe(go) != 0)
    abort();
  wait_while_serving("P_PID", P_PID, -1, 7);
  wait_while_serving("P_ALL", P_ALL, -1, 8);
  wait_while_serving("P_PIDFD", P_PIDFD, -1, 9);

  pid = child(10);
  memset(&si, 0, sizeof(si));
  si.si_pid = 1;
  r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG);
  show("WNOHANG, still running", r, &si, pid);

  if (write(go[1], "x\n", 2) != 2)
    abort();
  memset(&si, 0, sizeof(si));
  r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
  show("WNOWAIT", r, &si, pid);
  r = waitid(P_PID, (id_t)pid, &si, WEXITED);
  show("then reaped", r, &si, pid);

  pid = child(11);
  kill(pid, SIGSTOP);
  r = waitid(P_PID, (id_t)pid, &si, WSTOPPED);
  show("WSTOPPED", r, &si, pid);
  kill(pid, SIGCONT);
  r = waitid(P_PID, (id_t)pid, &si, WCONTINUED);
  show("WCONTINUED", r, &si, pid);
  if (write(go[1], "x\n", 2) != 2)
    abort();
  r = waitid(P_PID, (id_t)pid, &si, WEXITED);
  show("exited", r, &si, pid);

  {
    struct stop_waiter sw = {.pid = child(13)};
    pthread_t t;
    if (pthread_create(&t, NULL, wait_for_stop, &sw))
      abort();
    sleep_ms(20); /* the waiter is most likely waiting by now */
    kill(sw.pid, SIGSTOP);
    pthread_join(t, NULL);
    SAY("waitpid WUNTRACED: %s, stopped %d by %d\n",
        sw.r == sw.pid ? "the child" : "other", WIFSTOPPED(sw.status),
        WSTOPSIG(sw.status));
    kill(sw.pid, SIGCONT);
    if (write(go[1], "x\n", 2) != 2)
      abort();
    r = waitid(P_PID, (id_t)sw.pid, &si, WEXITED);
    show("exited", r, &si, sw.pid);
  }

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  pid = child(12);
  if (pthread_create(&w.self, NULL, interrupted_wait, &w))
    abort();
  while (!w.done) {
    pthread_kill(w.self, SIGUSR1);
    sleep_ms(20);
  }
  pthread_join(w.self, NULL);
  SAY("a signal without SA_RESTART: %d %s\n", w.r,
      w.r ? strerrorname_np(w.err) : "-");
  if (write(go[1], "x\n", 2) != 2)
    abort();
  r = waitid(P_PID, (id_t)pid, &si, WEXITED);
  show("exited", r, &si, pid);

  /* The exit of the child waited for comes with a SIGCHLD caught without
   * SA_RESTART: the kernel's wait reports the child all the same, and
   * the handler runs (patched, the handler ended the wait with EINTR). */
  sa.sa_handler = on_chld;
  sa.sa_flags = 0;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGCHLD, &sa, NULL);
  for (int i = 0; i < 2; i++) {
    int st = 0;
    pid = fork();
    if (pid == 0) {
      usleep(50000);
      _exit(3);
    }
    if (i == 0) {
      pid_t got = wait(&st);
      SAY("wait, SIGCHLD caught: %s, status %d\n",
          got == pid ? "the child" : strerrorname_np(errno), WEXITSTATUS(st));
    } else {
      r = waitid(P_ALL, 0, &si, WEXITED);
      show("waitid, SIGCHLD caught", r, &si, pid);
    }
  }
  SAY("SIGCHLD handler ran: %d\n", chld_caught > 0);
  signal(SIGCHLD, SIG_DFL);

  r = waitid(P_ALL, 0, &si, WEXITED);
  show("no children", r, &si, 0);
  r = waitid(P_ALL, 0, &si, 0);
  show("no options", r, &si, 0);
  return 0;
}
