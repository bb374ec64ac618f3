/* d_thread_spin: a thread that loops on calls which never wait, until
 * another thread makes progress. Unpatched the kernel preempts the spinner;
 * patched the spinner's coroutine must give way at those calls (its time
 * slice), or the other never runs and the program hangs. The spinner polls
 * with a zero timeout (poll, select, epoll_wait), reads a non-blocking pipe
 * that says EAGAIN, and calls waitpid with WNOHANG for a child the other
 * thread forks; the other thread first sleeps 20 ms, then acts. */
#include "compat.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>

static int pfd[2];

/* The other thread: after 20 ms, writes a byte, or forks a child that
 * exits with 7 (arg 1). */
static void *act(void *arg)
{
  sleep_ms(20);
  check_threads(1);
  if (arg) {
    if (fork() == 0)
      _exit(7);
  } else if (write(pfd[1], "x", 1) != 1) {
    return (void *)1;
  }
  return NULL;
}

static void run(const char *name, int how)
{
  struct task t;
  int ep = -1, got = 0, st = 0;
  char c;

  if (pipe(pfd) != 0)
    exit(2);
  if (how == 1)
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
  if (how == 3) {
    struct epoll_event ev = {.events = EPOLLIN};
    ep = epoll_create1(0);
    epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &ev);
  }
  spawn(&t, act, how == 4 ? (void *)1 : NULL);
  while (!got) {
    struct pollfd p = {.fd = pfd[0], .events = POLLIN};
    struct timeval zero = {0, 0};
    struct epoll_event ev;
    fd_set r;
    switch (how) {
    case 0:
      got = poll(&p, 1, 0) == 1;
      break;
    case 1:
      got = read(pfd[0], &c, 1) == 1;
      if (!got && errno != EAGAIN)
        exit(3);
      break;
    case 2:
      FD_ZERO(&r);
      FD_SET(pfd[0], &r);
      got = select(pfd[0] + 1, &r, NULL, NULL, &zero) == 1;
      break;
    case 3:
      got = epoll_wait(ep, &ev, 1, 0) == 1;
      break;
    case 4: /* ECHILD until the child is forked, 0 until it exits */
      got = waitpid(-1, &st, WNOHANG) > 0;
      break;
    }
  }
  SAY("%s: the other thread got to run%s\n", name,
      how == 4 ? (WEXITSTATUS(st) == 7 ? ", child exit 7" : ", bad status")
               : "");
  EXPECT("joined", join(&t) == NULL);
  if (ep >= 0)
    close(ep);
  close(pfd[0]);
  close(pfd[1]);
}

int main(void)
{
  run("poll with a zero timeout", 0);
  run("read of a non-blocking pipe (EAGAIN)", 1);
  run("select with a zero timeout", 2);
  run("epoll_wait with a zero timeout", 3);
  run("waitpid with WNOHANG", 4);
  return compat_failures != 0;
}
