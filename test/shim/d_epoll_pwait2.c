/* d_epoll_pwait2: epoll_pwait2 (a timespec timeout, glibc 2.35) waits as
 * plain, and a thread waiting in it lets the others run.
 *
 * - A thread waits with no timeout for a pipe another thread writes to a
 *   moment later. Patched, glibc's epoll_pwait2 held the OS thread, and
 *   with one scheduler the writer never ran.
 * - A 50 ms timeout with nothing ready: 0 events, after at least 50 ms.
 * - A zero timeout: at once. A bad timeout: EINVAL, checked before the
 *   fd (an epoll fd of -1 still says EINVAL). Bad epfd: EBADF; max 0:
 *   EINVAL.
 * - A signal whose handler is caught ends the wait with EINTR, whatever
 *   SA_RESTART says (epoll waits are never restarted); a mask given for
 *   the wait that blocks the signal keeps the wait going. */
#include "compat.h"

#include <signal.h>
#include <sys/epoll.h>

static int fds[2];
static pthread_t main_thread;
static volatile sig_atomic_t caught;

static void said(const char *what, int r)
{
  int e = errno;
  printf("%s: %d %s\n", what, r, r < 0 ? strerror(e) : "");
}

static void *writer(void *arg)
{
  (void)arg;
  sleep_ms(100);
  if (write(fds[1], "x", 1) != 1)
    exit(1);
  return NULL;
}

static void *kicker(void *arg)
{
  (void)arg;
  sleep_ms(100);
  pthread_kill(main_thread, SIGUSR1);
  sleep_ms(100);
  if (write(fds[1], "y", 1) != 1) /* ends a wait the signal did not */
    exit(1);
  return NULL;
}

static void on_usr1(int sig)
{
  (void)sig;
  caught++;
}

int main(void)
{
  struct epoll_event ev = {.events = EPOLLIN}, out[4];
  struct timespec t50 = {0, 50 * 1000000}, zero = {0, 0}, bad = {0, 1000000000};
  pthread_t t;
  char c;

  setvbuf(stdout, NULL, _IONBF, 0);
  main_thread = pthread_self();
  int ep = epoll_create1(0);
  if (ep < 0 || pipe(fds) != 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fds[0], &ev))
    return 1;

  pthread_create(&t, NULL, writer, NULL);
  said("no timeout, a write comes", epoll_pwait2(ep, out, 4, NULL, NULL));
  pthread_join(t, NULL);
  if (read(fds[0], &c, 1) != 1)
    return 1;

  double t0 = now_ms();
  said("50 ms, nothing", epoll_pwait2(ep, out, 4, &t50, NULL));
  printf("waited at least 50 ms: %d\n", now_ms() - t0 >= 50);
  said("zero timeout", epoll_pwait2(ep, out, 4, &zero, NULL));
  said("bad timeout", epoll_pwait2(ep, out, 4, &bad, NULL));
  said("bad timeout, bad fd", epoll_pwait2(-1, out, 4, &bad, NULL));
  said("bad fd", epoll_pwait2(-1, out, 4, &t50, NULL));
  said("max 0", epoll_pwait2(ep, out, 0, &t50, NULL));

  for (int restart = 0; restart < 2; restart++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGUSR1, &sa, NULL);
    caught = 0;
    pthread_create(&t, NULL, kicker, NULL);
    int r = epoll_pwait2(ep, out, 4, NULL, NULL);
    said(restart ? "a signal, SA_RESTART" : "a signal", r);
    pthread_join(t, NULL);
    printf("handler ran %d\n", (int)caught);
    if (read(fds[0], &c, 1) != 1)
      return 1;
  }

  /* blocked for the wait: the write ends it, the handler runs after */
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  caught = 0;
  pthread_create(&t, NULL, kicker, NULL);
  said("SIGUSR1 blocked by the wait's mask",
       epoll_pwait2(ep, out, 4, NULL, &block));
  pthread_join(t, NULL);
  if (read(fds[0], &c, 1) != 1)
    return 1;
  sleep_ms(10);
  printf("handler ran %d\n", (int)caught);
  return 0;
}
