/* d_signal_signalfd: a thread that blocks SIGUSR1 and SIGUSR2 reads them
 * from a signalfd, whoever sends them: kill() to the process, raise() in
 * the thread itself, pthread_kill() from main, with a blocking read, a
 * poll then a read, and a non-blocking read (EAGAIN once none is left);
 * two pending ones come in one read with room for two. The runtime keeps a
 * pthread_kill'd signal pending for the thread, out of the kernel's sight:
 * the read, and the poll, waited for good.
 *
 * Each record prints its signal, whether its code is SI_USER or SI_TKILL,
 * and whether its pid is the process's. */
#include "compat.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

enum {
  BY_KILL,
  BY_RAISE,
  BY_PTHREAD_KILL,
  BY_PTHREAD_KILL_POLL,
  BY_KILL_POLL,
  NONBLOCKING,
  TWO_AT_ONCE
};
static const char *const names[] = {"kill, read",
                                    "raise, read",
                                    "pthread_kill, read",
                                    "pthread_kill, poll",
                                    "kill, poll",
                                    "pthread_kill, non-blocking",
                                    "pthread_kill twice, one read"};

static sigset_t usr;
static int ready[2], go[2];

static void show(const char *how, const struct signalfd_siginfo *si, ssize_t n)
{
  if (n < (ssize_t)sizeof(*si)) {
    printf("  %s: read %zd (%s)\n", how, n, n < 0 ? strerror(errno) : "short");
    return;
  }
  printf("  %s: %s, %s, pid %s\n", how, strsignal((int)si->ssi_signo),
         si->ssi_code == SI_USER    ? "SI_USER"
         : si->ssi_code == SI_TKILL ? "SI_TKILL"
                                    : "other code",
         si->ssi_pid == (uint32_t)getpid() ? "ours" : "other");
}

static void *reader(void *arg)
{
  int how = (int)(intptr_t)arg, fd;
  struct signalfd_siginfo si[2];
  ssize_t n;

  fd = signalfd(-1, &usr, how == NONBLOCKING ? SFD_NONBLOCK : 0);
  if (fd < 0)
    return (void *)1;
  if (how == BY_RAISE) {
    raise(SIGUSR1);
    raise(SIGUSR2);
  }
  if (write(ready[1], "r", 1) != 1)
    return (void *)1;
  if (how == NONBLOCKING || how == TWO_AT_ONCE) {
    char c; /* main has sent both */
    if (read(go[0], &c, 1) != 1)
      return (void *)1;
  }
  if (how == TWO_AT_ONCE) {
    n = read(fd, si, sizeof(si));
    printf("  one read: %zd bytes\n", n);
    show("first", &si[0], n);
    show("second", &si[1], n - (ssize_t)sizeof(si[0]));
    close(fd);
    return NULL;
  }
  for (int i = 0; i < 2; i++) {
    if (how == BY_PTHREAD_KILL_POLL || how == BY_KILL_POLL) {
      struct pollfd p = {.fd = fd, .events = POLLIN};
      int r = poll(&p, 1, 10000);
      printf("  poll: %d, %s\n", r, p.revents & POLLIN ? "POLLIN" : "nothing");
    }
    n = read(fd, si, sizeof(si[0]));
    show("read", &si[0], n);
  }
  if (how == NONBLOCKING) {
    n = read(fd, si, sizeof(si[0]));
    show("then", &si[0], n);
  }
  close(fd);
  return NULL;
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  sigemptyset(&usr);
  sigaddset(&usr, SIGUSR1);
  sigaddset(&usr, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &usr, NULL); /* the threads inherit it */
  if (pipe(ready) != 0 || pipe(go) != 0)
    return 1;
  for (int how = BY_KILL; how <= TWO_AT_ONCE; how++) {
    pthread_t t;
    void *ret;
    char c;

    printf("%s\n", names[how]);
    if (pthread_create(&t, NULL, reader, (void *)(intptr_t)how) != 0 ||
        read(ready[0], &c, 1) != 1)
      return 1;
    if (how != BY_RAISE) {
      /* The second a moment later: the reader waits for it. */
      for (int sig = SIGUSR1; sig <= SIGUSR2; sig += SIGUSR2 - SIGUSR1) {
        if (how == BY_KILL || how == BY_KILL_POLL)
          kill(getpid(), sig);
        else
          pthread_kill(t, sig);
        if (how != NONBLOCKING && how != TWO_AT_ONCE)
          usleep(50000);
      }
    }
    if ((how == NONBLOCKING || how == TWO_AT_ONCE) && write(go[1], "m", 1) != 1)
      return 1;
    if (pthread_join(t, &ret) != 0 || ret != NULL)
      return 1;
  }
  return 0;
}
