/* d_signal_sigpipe: the signal the kernel sends with EPIPE or EFBIG to the
 * thread that wrote reaches that thread, as unpatched.
 *
 * - A thread writes to a pipe whose reader is gone, five times, with a
 *   SIGPIPE handler: each write fails with EPIPE and the handler runs each
 *   time.
 * - In a child, a thread writes to such a pipe with SIGPIPE at its default
 *   action, and a thread sends on a socket whose peer is closed: the child
 *   dies of SIGPIPE.
 * - In a child with RLIMIT_FSIZE at 4 KiB, a thread writes 8 KiB to a
 *   file: it dies of SIGXFSZ.
 * - In a child whose main lets SIGPIPE through at its default action, a
 *   thread that blocks SIGPIPE itself writes to a closed pipe and sends on
 *   a socket whose peer is closed: both fail with EPIPE, the signal waits
 *   in that thread's pending set, its sigtimedwait takes it, and the child
 *   lives on.
 * With more than one scheduler a thread runs on a scheduler's own OS
 * thread, which blocks every signal: the signal stayed pending there, the
 * write failed and nothing else happened (pigz -c | head exited 32
 * instead of dying of SIGPIPE). On the first scheduler a thread shares
 * main's OS thread and its mask: the kernel took SIGPIPE's default action
 * there although the thread that wrote blocks it (the child died). */
#include "compat.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>

static volatile sig_atomic_t hits;

static void on_pipe(int sig)
{
  (void)sig;
  hits++;
}

static int closed_pipe(void)
{
  int p[2];
  if (pipe(p) != 0)
    abort();
  close(p[0]);
  return p[1];
}

static void *writes_five(void *arg)
{
  int fd = closed_pipe(), eps = 0;
  (void)arg;
  for (int i = 0; i < 5; i++)
    eps += write(fd, "x", 1) < 0 && errno == EPIPE;
  close(fd);
  printf("thread: %d writes failed with EPIPE, handler ran %d time(s)\n", eps,
         (int)hits);
  return NULL;
}

static void *writes_once(void *arg)
{
  int fd = closed_pipe();
  (void)arg;
  write(fd, "x", 1);
  printf("child thread: still here after the write\n"); /* not plain */
  fflush(stdout);
  return NULL;
}

static void *sends_once(void *arg)
{
  int sv[2];
  (void)arg;
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  close(sv[1]);
  send(sv[0], "x", 1, 0);
  printf("child thread: still here after the send\n"); /* not plain */
  fflush(stdout);
  return NULL;
}

static void *writes_big(void *arg)
{
  char buf[8192];
  int fd = *(int *)arg;
  memset(buf, 'y', sizeof(buf));
  write(fd, buf, sizeof(buf));
  write(fd, buf, sizeof(buf));
  printf("child thread: still here after writing past the limit\n");
  fflush(stdout);
  return NULL;
}

/* Blocks SIGPIPE in this thread alone, writes and sends where the reader
 * is gone, then takes the signal that waits for it. */
static void *blocks_and_writes(void *arg)
{
  struct timespec zero = {0, 0};
  sigset_t one, pending;
  int sv[2], fd = closed_pipe(), eps = 0, taken = 0;
  (void)arg;
  sigemptyset(&one);
  sigaddset(&one, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &one, NULL);
  eps += write(fd, "x", 1) < 0 && errno == EPIPE;
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  close(sv[1]);
  eps += send(sv[0], "x", 1, 0) < 0 && errno == EPIPE;
  sigpending(&pending);
  printf("blocking thread: %d of 2 failed with EPIPE, SIGPIPE %s\n", eps,
         sigismember(&pending, SIGPIPE) ? "pending" : "not pending");
  while (sigtimedwait(&one, NULL, &zero) == SIGPIPE)
    taken++;
  printf("blocking thread: took SIGPIPE %s\n",
         taken ? "once or more" : "never");
  fflush(stdout);
  close(fd);
  close(sv[0]);
  return NULL;
}

/* Runs fn in a thread of a child; prints how the child ended. */
static void in_child(const char *what, void *(*fn)(void *), int fsize)
{
  pid_t pid;
  int st;

  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    pthread_t th;
    int fd = -1;
    signal(SIGPIPE, SIG_DFL);
    if (fsize) {
      struct rlimit rl = {4096, 4096};
      char path[] = "/tmp/d_signal_sigpipe.XXXXXX";
      fd = mkstemp(path);
      unlink(path);
      setrlimit(RLIMIT_FSIZE, &rl);
    }
    pthread_create(&th, NULL, fn, &fd);
    pthread_join(th, NULL);
    _exit(0);
  }
  waitpid(pid, &st, 0);
  if (WIFSIGNALED(st))
    printf("%s: the child died of %s\n", what,
           WTERMSIG(st) == SIGPIPE   ? "SIGPIPE"
           : WTERMSIG(st) == SIGXFSZ ? "SIGXFSZ"
                                     : "another signal");
  else
    printf("%s: the child exited %d\n", what, WEXITSTATUS(st));
}

int main(void)
{
  struct sigaction a;
  pthread_t th;

  alarm(20);
  memset(&a, 0, sizeof(a));
  a.sa_handler = on_pipe;
  sigaction(SIGPIPE, &a, NULL);
  /* Two threads first, so that with more schedulers the next ones run on
   * the others' OS threads. */
  for (int i = 0; i < 2; i++) {
    pthread_create(&th, NULL, writes_five, NULL);
    pthread_join(th, NULL);
  }
  in_child("write to a closed pipe", writes_once, 0);
  in_child("send to a closed socket", sends_once, 0);
  in_child("write past RLIMIT_FSIZE", writes_big, 1);
  in_child("a thread that blocks SIGPIPE", blocks_and_writes, 0);
  return 0;
}
