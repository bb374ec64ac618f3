/* d_signal_threads: a process-directed signal is handled by the main thread
 * when it does not block the signal, so only main's blocking call is
 * interrupted: another thread's read goes on and gets its data, whether
 * main is waiting in a join or in a read of its own. */
#include "compat.h"

#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t caught;
static int a[2], b[2];

static void on_usr1(int sig)
{
  (void)sig;
  caught++;
}

struct res {
  ssize_t n;
  int err;
};

static void *reader(void *arg)
{
  struct res *r = arg;
  char c;
  errno = 0;
  r->n = read(b[0], &c, 1);
  r->err = errno;
  return NULL;
}

/* A child that signals the parent after 100 ms, then writes to b after
 * 200 ms and to a after 300 ms. */
static pid_t child(void)
{
  pid_t parent = getpid(), pid = fork();
  if (pid < 0)
    abort();
  if (pid == 0) {
    struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
    kill(parent, SIGUSR1);
    nanosleep(&ts, NULL);
    if (write(b[1], "b", 1) != 1)
      _exit(1);
    nanosleep(&ts, NULL);
    if (write(a[1], "a", 1) != 1)
      _exit(1);
    _exit(0);
  }
  return pid;
}

int main(void)
{
  struct sigaction sa;
  struct task t;
  struct res r;
  pid_t pid;
  int st;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (pipe(a) != 0 || pipe(b) != 0)
    abort();
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART */
  sigaction(SIGUSR1, &sa, NULL);

  /* Main waits in a join: nobody's read is interrupted. */
  caught = 0;
  pid = child();
  spawn(&t, reader, &r);
  join(&t);
  SAY("main joining: reader n=%zd errno %d, caught %d\n", r.n,
      r.n < 0 ? r.err : 0, caught);
  waitpid(pid, &st, 0);
  {
    char c;
    EXPECT("drain a", read(a[0], &c, 1) == 1);
  }

  /* Main waits in a read: main's read is interrupted, the reader's is not. */
  caught = 0;
  pid = child();
  spawn(&t, reader, &r);
  {
    char c;
    ssize_t n;
    errno = 0;
    n = read(a[0], &c, 1);
    SAY("main reading: main n=%zd errno %d\n", n, errno);
  }
  join(&t);
  SAY("main reading: reader n=%zd errno %d, caught %d\n", r.n,
      r.n < 0 ? r.err : 0, caught);
  waitpid(pid, &st, 0);
  return compat_failures != 0;
}
