/* d_signal_pending_mask: a signal made pending while the thread blocks it
 * (raise, pthread_kill of itself, kill of the process from main) runs its
 * handler as soon as pselect, ppoll, epoll_pwait or sigsuspend set a mask
 * that lets it through, and the call fails with EINTR at once, in main and
 * in another thread. Patched, the handler ran but the call waited for its
 * whole timeout; sigsuspend after pthread_kill in main, and after raise in
 * another thread, waited for good (raise was the OS thread's tgkill, and
 * ran the handler at once, in spite of the thread's mask). */
#include "compat.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>

static volatile sig_atomic_t hits;
static int how, where;

static void on_usr1(int sig)
{
  (void)sig;
  hits++;
}

static const char *const hows[] = {"raise", "pthread_kill of itself",
                                   "kill of the process"};
static const char *const wheres[] = {"pselect", "ppoll", "epoll_pwait",
                                     "sigsuspend"};

static void *run(void *in_thread)
{
  struct timespec two = {2, 0};
  sigset_t usr1, none;
  int p[2], ep, r, before;
  double t0;

  if (pipe(p) != 0 || (ep = epoll_create1(0)) < 0)
    exit(2);
  struct epoll_event ev = {.events = EPOLLIN};
  epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
  struct pollfd pf = {p[0], POLLIN, 0};
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(p[0], &rd);
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigemptyset(&none);
  pthread_sigmask(SIG_BLOCK, &usr1, NULL);
  hits = 0;
  if (how == 0)
    raise(SIGUSR1);
  else if (how == 1)
    pthread_kill(pthread_self(), SIGUSR1);
  else
    kill(getpid(), SIGUSR1);
  before = hits;
  t0 = now_ms();
  switch (where) {
  case 0:
    r = pselect(p[0] + 1, &rd, NULL, NULL, &two, &none);
    break;
  case 1:
    r = ppoll(&pf, 1, &two, &none);
    break;
  case 2:
    r = epoll_pwait(ep, &ev, 1, 2000, &none);
    break;
  default:
    r = sigsuspend(&none);
    break;
  }
  SAY("%s, %s, %s: %d %s, handler before %d, after %d, at once %d\n",
      in_thread ? "thread" : "main", hows[how], wheres[where], r,
      r < 0 ? strerrorname_np(errno) : "-", before, hits, now_ms() - t0 < 1000);
  pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
  close(p[0]);
  close(p[1]);
  close(ep);
  return NULL;
}

int main(void)
{
  struct sigaction sa = {0};
  pthread_t th;

  setvbuf(stdout, NULL, _IOLBF, 0);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  for (where = 0; where < 4; where++)
    for (how = 0; how < 3; how++) {
      run(NULL);
      if (how == 2)
        continue; /* main, which does not block it, would take it */
      pthread_create(&th, NULL, run, (void *)1);
      pthread_join(th, NULL);
    }
  return 0;
}
