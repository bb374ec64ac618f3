/* d_signal: a caught signal (sent by a forked child) interrupts blocking
 * calls as it does plain: read gets EINTR without SA_RESTART and goes on
 * with it; nanosleep, clock_nanosleep, usleep, sleep, poll, select and
 * epoll_wait get EINTR whatever SA_RESTART says, with the time left where
 * the call reports it; signal() restarts; sigaction reports back exactly
 * what the program installed. */
#include "compat.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/wait.h>

static volatile sig_atomic_t caught, info_ok;
static pid_t child;

static void on_usr1(int sig)
{
  (void)sig;
  caught++;
}

static void on_usr1_info(int sig, siginfo_t *si, void *uc)
{
  (void)uc;
  caught++;
  info_ok = sig == SIGUSR1 && si->si_signo == SIGUSR1 && si->si_pid == child;
}

/* Forks a child that sends sig after ms, then (wfd >= 0) writes a byte to
 * wfd after another ms. */
static void kill_after(long ms, int sig, int wfd)
{
  pid_t parent = getpid();
  child = fork();
  if (child < 0)
    abort();
  if (child == 0) {
    struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
    nanosleep(&ts, NULL);
    kill(parent, sig);
    if (wfd >= 0) {
      nanosleep(&ts, NULL);
      if (write(wfd, "z", 1) != 1)
        _exit(1);
    }
    _exit(0);
  }
}

static void reap(void)
{
  int st;
  waitpid(child, &st, 0);
}

static void install(void (*h)(int), int flags)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = h;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = flags;
  if (sigaction(SIGUSR1, &sa, NULL) != 0)
    abort();
}

int main(void)
{
  int p[2], r;
  char c;
  ssize_t n;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (pipe(p) != 0)
    abort();

  /* read: interrupted without SA_RESTART. */
  install(on_usr1, 0);
  caught = 0;
  kill_after(100, SIGUSR1, -1);
  errno = 0;
  n = read(p[0], &c, 1);
  SAY("read, no SA_RESTART: n=%zd errno %d caught %d\n", n, errno, caught);
  reap();

  /* read: continued with SA_RESTART, gets the data written later. */
  install(on_usr1, SA_RESTART);
  caught = 0;
  kill_after(100, SIGUSR1, p[1]);
  errno = 0;
  n = read(p[0], &c, 1);
  SAY("read, SA_RESTART: n=%zd c=%c caught %d\n", n, n == 1 ? c : '-', caught);
  reap();

  /* nanosleep: EINTR and the time left, even with SA_RESTART. */
  {
    struct timespec ts = {2, 0}, rem = {0, 0};
    kill_after(100, SIGUSR1, -1);
    errno = 0;
    r = nanosleep(&ts, &rem);
    SAY("nanosleep: r=%d errno %d\n", r, errno);
    EXPECT("nanosleep remaining in (1.5 s, 2 s)",
           rem.tv_sec == 1 && rem.tv_nsec > 500000000);
    reap();
  }

  /* clock_nanosleep: returns EINTR, the time left in rem. */
  {
    struct timespec ts = {2, 0}, rem = {0, 0};
    kill_after(100, SIGUSR1, -1);
    r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &rem);
    SAY("clock_nanosleep: r=%d\n", r);
    EXPECT("clock_nanosleep remaining in (1.5 s, 2 s)",
           rem.tv_sec == 1 && rem.tv_nsec > 500000000);
    reap();
  }

  /* clock_nanosleep, absolute: EINTR, rem untouched. */
  {
    struct timespec abs, rem = {7, 7};
    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_sec += 2;
    kill_after(100, SIGUSR1, -1);
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, &rem);
    SAY("clock_nanosleep absolute: r=%d rem %ld %ld\n", r, (long)rem.tv_sec,
        (long)rem.tv_nsec);
    reap();
  }

  /* usleep and sleep. */
  kill_after(100, SIGUSR1, -1);
  errno = 0;
  r = usleep(2000000);
  SAY("usleep: r=%d errno %d\n", r, errno);
  reap();
  kill_after(100, SIGUSR1, -1);
  errno = 0;
  r = (int)sleep(3);
  SAY("sleep(3) interrupted after 0.1 s: returns %d, errno %d\n", r, errno);
  reap();
  kill_after(600, SIGUSR1, -1);
  r = (int)sleep(3);
  SAY("sleep(3) interrupted after 0.6 s: returns %d\n", r);
  reap();

  /* poll, select, epoll_wait: never restarted. */
  {
    struct pollfd f = {p[0], POLLIN, 0};
    kill_after(100, SIGUSR1, -1);
    errno = 0;
    r = poll(&f, 1, -1);
    SAY("poll, SA_RESTART: r=%d errno %d\n", r, errno);
    reap();
    kill_after(100, SIGUSR1, -1);
    errno = 0;
    r = poll(&f, 1, 3000);
    SAY("poll t=3000, SA_RESTART: r=%d errno %d\n", r, errno);
    reap();
  }
  {
    fd_set rs;
    struct timeval tv = {3, 0};
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    kill_after(100, SIGUSR1, -1);
    errno = 0;
    r = select(p[0] + 1, &rs, NULL, NULL, &tv);
    SAY("select, SA_RESTART: r=%d errno %d set kept %d\n", r, errno,
        FD_ISSET(p[0], &rs) != 0);
    EXPECT("select timeval decreased", tv.tv_sec < 3 && tv.tv_sec >= 2);
    reap();
  }
  {
    struct epoll_event ev = {.events = EPOLLIN}, out;
    int ep = epoll_create1(0);
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    kill_after(100, SIGUSR1, -1);
    errno = 0;
    r = epoll_wait(ep, &out, 1, -1);
    SAY("epoll_wait, SA_RESTART: r=%d errno %d\n", r, errno);
    reap();
    close(ep);
  }

  /* signal(): BSD semantics, the read goes on. */
  {
    void (*old)(int) = signal(SIGUSR1, on_usr1);
    SAY("signal() returns the previous handler: %d\n", old == on_usr1);
    caught = 0;
    kill_after(100, SIGUSR1, p[1]);
    errno = 0;
    n = read(p[0], &c, 1);
    SAY("read after signal(): n=%d caught %d\n", (int)n, caught);
    reap();
    old = signal(SIGUSR1, SIG_DFL);
    SAY("signal() returns the handler set: %d\n", old == on_usr1);
  }

  /* sigaction reports the program's own handler and flags. */
  {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sa.sa_flags = SA_RESTART | SA_NODEFER;
    EXPECT("sigaction install", sigaction(SIGUSR1, &sa, NULL) == 0);
    memset(&old, 0, sizeof(old));
    EXPECT("sigaction query", sigaction(SIGUSR1, NULL, &old) == 0);
    SAY("oldact: handler is mine %d, flags %#x, mask has USR2 %d USR1 %d\n",
        old.sa_handler == on_usr1, (unsigned)old.sa_flags,
        sigismember(&old.sa_mask, SIGUSR2), sigismember(&old.sa_mask, SIGUSR1));
    sa.sa_sigaction = on_usr1_info;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    memset(&old, 0, sizeof(old));
    EXPECT("sigaction replace", sigaction(SIGUSR1, &sa, &old) == 0);
    SAY("replaced: handler was mine %d, flags %#x\n", old.sa_handler == on_usr1,
        (unsigned)old.sa_flags);
    memset(&old, 0, sizeof(old));
    sigaction(SIGUSR1, NULL, &old);
    SAY("siginfo: action is mine %d, flags %#x\n",
        old.sa_sigaction == on_usr1_info, (unsigned)old.sa_flags);

    /* The SA_SIGINFO handler gets the sender's pid; read is interrupted. */
    caught = 0;
    kill_after(100, SIGUSR1, -1);
    errno = 0;
    n = read(p[0], &c, 1);
    SAY("read, siginfo handler: n=%d errno %d caught %d info ok %d\n", (int)n,
        errno, caught, info_ok);
    reap();

    /* SA_RESETHAND: after one delivery the default is back. */
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR1, &sa, NULL);
    caught = 0;
    kill_after(100, SIGUSR1, -1);
    n = read(p[0], &c, 1);
    reap();
    memset(&old, 0, sizeof(old));
    sigaction(SIGUSR1, NULL, &old);
    SAY("resethand: n=%d caught %d, now default %d, flags %#x\n", (int)n,
        caught, old.sa_handler == SIG_DFL, (unsigned)old.sa_flags);

    /* Ignored: SIG_IGN reported back, the read not interrupted. */
    sa.sa_handler = SIG_IGN;
    sa.sa_flags = 0;
    sigaction(SIGUSR1, &sa, NULL);
    kill_after(100, SIGUSR1, p[1]);
    n = read(p[0], &c, 1);
    reap();
    sigaction(SIGUSR1, NULL, &old);
    SAY("ignored: n=%d, reported SIG_IGN %d\n", (int)n,
        old.sa_handler == SIG_IGN);

    errno = 0;
    r = sigaction(SIGKILL, &sa, NULL);
    SAY("sigaction SIGKILL: r=%d errno %d\n", r, errno);
    errno = 0;
    r = sigaction(0, &sa, NULL);
    SAY("sigaction 0: r=%d errno %d\n", r, errno);
    errno = 0;
    r = sigaction(1000, NULL, &old);
    SAY("sigaction 1000: r=%d errno %d\n", r, errno);
  }
  return compat_failures != 0;
}
