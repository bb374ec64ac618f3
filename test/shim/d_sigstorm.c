/* d_sigstorm: blocking calls under a storm of caught signals (an SA_RESTART
 * handler, a timer every 50 us): a ping-pong of single bytes over two
 * pipes, big writes into a pipe read by another thread, and accepts on an
 * inherited blocking listener (the program execs itself with the listener
 * as fd 3). Plain, every call restarts and every transfer completes.
 *
 * Patched, a call on such an fd first asks the kernel whether the fd is
 * ready (poll with a zero timeout), since the call itself would block the
 * OS thread. A signal caught during that poll makes it fail with EINTR; if
 * that were taken for "ready", the real call would block the OS thread,
 * and the thread that was to make the fd ready would never run. A watchdog
 * (alarm, default action) ends a run that hangs. */
#include "sockutil.h"

#include <signal.h>
#include <sys/wait.h>

#define ROUNDS 3000
#define BIG    (256 * 1024)
#define CONNS  300

static volatile sig_atomic_t caught;

static void on_tick(int sig)
{
  (void)sig;
  caught++;
}

/* Starts the storm: SIGUSR1, SA_RESTART, every 50 us. */
static void storm(void)
{
  struct sigaction sa;
  struct sigevent ev;
  struct itimerspec it = {{0, 50000}, {0, 50000}};
  timer_t t;

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_tick;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  memset(&ev, 0, sizeof(ev));
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGUSR1;
  if (sigaction(SIGUSR1, &sa, NULL) != 0 ||
      timer_create(CLOCK_MONOTONIC, &ev, &t) != 0 ||
      timer_settime(t, 0, &it, NULL) != 0)
    abort();
}

static int ping[2], pong[2], bulk[2];

/* The other side of the ping-pong, then the reader of the big writes. */
static void *peer(void *arg)
{
  static char buf[8192];
  size_t got = 0;
  char c;

  (void)arg;
  for (int i = 0; i < ROUNDS; i++)
    if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1)
      return (void *)1;
  for (;;) {
    ssize_t n = read(bulk[0], buf, sizeof(buf));
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  return got == 4 * (size_t)BIG ? NULL : (void *)2;
}

/* Connects CONNS times to the listener at a. */
static struct sockaddr_in listen_addr;
static void *connector(void *arg)
{
  (void)arg;
  for (int i = 0; i < CONNS; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 ||
        connect(fd, (struct sockaddr *)&listen_addr, sizeof(listen_addr)) != 0)
      return (void *)1;
    close(fd);
  }
  return NULL;
}

/* The exec'd image: fd 3 is a blocking listener it inherited. */
static int listener_part(void)
{
  socklen_t len = sizeof(listen_addr);
  struct task t;
  int accepted = 0;

  setvbuf(stdout, NULL, _IOLBF, 0);
  alarm(40);
  storm();
  if (getsockname(3, (struct sockaddr *)&listen_addr, &len) != 0)
    abort();
  SAY("inherited listener nonblock %d\n", nonblock_flag(3));
  spawn(&t, connector, NULL);
  for (int i = 0; i < CONNS; i++) {
    int fd = accept(3, NULL, NULL);
    if (fd < 0) {
      SAY("accept: %s\n", strerror(errno));
      break;
    }
    accepted++;
    close(fd);
  }
  EXPECT("connector", join(&t) == NULL);
  SAY("accepted %d of %d connections under the storm\n", accepted, CONNS);
  SAY("signals caught: %s\n", caught > 0 ? "some" : "none");
  return compat_failures != 0;
}

int main(int argc, char **argv)
{
  static char big[BIG];
  struct sockaddr_in a;
  struct task t;
  int rounds = 0, l, st;
  pid_t pid;
  char c = 'x';

  if (argc > 1 && strcmp(argv[1], "listener") == 0)
    return listener_part();
  setvbuf(stdout, NULL, _IOLBF, 0);
  alarm(40);
  if (pipe(ping) != 0 || pipe(pong) != 0 || pipe(bulk) != 0)
    abort();
  storm();
  spawn(&t, peer, NULL);
  for (int i = 0; i < ROUNDS; i++) {
    if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
      break;
    rounds++;
  }
  SAY("ping-pong: %d of %d rounds\n", rounds, ROUNDS);
  /* Plain, a signal may end a big write early with the count written so
   * far: the program writes the rest, as programs do. */
  for (int i = 0; i < 4; i++) {
    size_t off = 0;
    while (off < BIG) {
      ssize_t n = write(bulk[1], big + off, BIG - off);
      if (n <= 0)
        break;
      off += (size_t)n;
    }
    EXPECT("write 256 KiB into a pipe", off == BIG);
  }
  close(bulk[1]);
  EXPECT("peer read everything", join(&t) == NULL);

  /* The listener, blocking and inherited in the image exec'd next. */
  l = tcp_listener(&a, 0, 128);
  if (l < 0 || dup2(l, 3) != 3)
    abort();
  pid = fork();
  if (pid == 0) {
    execl("/proc/self/exe", argv[0], "listener", (char *)NULL);
    _exit(127);
  }
  close(3);
  close(l);
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  SAY("listener part: %s %d\n", WIFEXITED(st) ? "exit" : "signal",
      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
  return compat_failures != 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
}
