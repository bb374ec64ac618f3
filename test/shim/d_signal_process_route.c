/* d_signal_process_route: a signal sent to the process that main blocks
 * goes to a thread that does not block it, as the kernel gives it.
 * Patched, main's mask is its OS thread's and the other threads' masks are
 * the shim's, so such a signal stayed pending on the process: a handler
 * never ran, a wait was never interrupted, a SIGTERM never ended the
 * program. Each case blocks the signal in main and leaves it open in one
 * other thread:
 * - a handler without SA_RESTART: the thread's read fails with EINTR, and
 *   the handler sees who sent it (SI_USER, this process);
 * - with SA_RESTART: the read goes on and gets its byte;
 * - sigqueue's value reaches the handler (SI_QUEUE);
 * - an ignored signal is dropped, not left pending;
 * - a thread in sigsuspend is woken;
 * - main waiting for it in sigwait takes it (the kernel gives it main);
 * - the handler runs in the thread it interrupts;
 * - a thread that blocked the signal too takes it once it unblocks it,
 *   and the handler runs in that thread;
 * - the default action of SIGTERM ends the process (in a child). */
#include "compat.h"

#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t caught, code, from_self, value;
static volatile pthread_t ran_in;
static int ready[2], data[2];

static void on_sig(int sig, siginfo_t *si, void *uc)
{
  (void)sig;
  (void)uc;
  caught++;
  code = si->si_code;
  from_self = si->si_pid == getpid();
  value = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
  ran_in = pthread_self();
}

static void handle(int sig, int flags)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_sig;
  sa.sa_flags = SA_SIGINFO | flags;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

static void block_in_main(int sig, int how)
{
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, sig);
  pthread_sigmask(how, &s, NULL);
}

/* A new data pipe for each case: a read that failed leaves its byte. */
static void fresh_data(void)
{
  close(data[0]);
  close(data[1]);
  if (pipe(data) != 0)
    exit(1);
}

static void wait_caught(int n)
{
  for (int i = 0; i < 400 && caught < n; i++)
    sleep_ms(5);
}

/* Reads one byte from data after saying it is ready. */
static void *reader(void *arg)
{
  char c = 'r';
  ssize_t n;
  (void)arg;
  write(ready[1], &c, 1);
  errno = 0;
  n = read(data[0], &c, 1);
  printf("  reader: read %zd (%s)\n", n, n < 0 ? strerror(errno) : "a byte");
  return NULL;
}

/* Starts reader on a new data pipe with sig open in it, and blocks sig
 * in main once the reader runs. */
static pthread_t start_reader(int sig)
{
  pthread_t t;
  char c;
  fresh_data();
  block_in_main(sig, SIG_UNBLOCK); /* the thread starts with it open */
  pthread_create(&t, NULL, reader, NULL);
  read(ready[0], &c, 1);
  block_in_main(sig, SIG_BLOCK);
  return t;
}

/* Runs reader with sig open in it and blocked in main, sends sig to the
 * process (sigqueue's value when queue), then writes the byte. */
static void read_case(const char *title, int sig, int queue)
{
  pthread_t t;
  int before = caught;

  printf("%s\n", title);
  t = start_reader(sig);
  sleep_ms(200); /* in its read by now, even on a busy machine */
  if (queue) {
    union sigval v = {.sival_int = 42};
    sigqueue(getpid(), sig, v);
  } else {
    kill(getpid(), sig);
  }
  wait_caught(before + 1);
  printf("  handler ran %d time(s), in the reader %d, %s, from this process "
         "%d, value %d\n",
         caught - before, pthread_equal(ran_in, t),
         code == SI_USER    ? "SI_USER"
         : code == SI_QUEUE ? "SI_QUEUE"
                            : "other",
         (int)from_self, (int)value);
  sleep_ms(50);
  write(data[1], "x", 1);
  pthread_join(t, NULL);
}

static void *suspender(void *arg)
{
  sigset_t none;
  char c = 's';
  int r;
  (void)arg;
  sigemptyset(&none);
  write(ready[1], &c, 1);
  errno = 0;
  r = sigsuspend(&none);
  printf("  suspender: sigsuspend %d (%s)\n", r, strerror(errno));
  return NULL;
}

static void *late_opener(void *arg)
{
  char c = 'l';
  int before = caught;
  (void)arg;
  write(ready[1], &c, 1);
  read(data[0], &c, 1); /* main has sent it by now */
  printf("  before unblocking: handler ran %d time(s)\n", caught - before);
  block_in_main(SIGUSR2, SIG_UNBLOCK); /* (this thread's mask) */
  printf("  after: handler ran %d time(s), in this thread %d\n",
         caught - before, pthread_equal(ran_in, pthread_self()));
  return NULL;
}

int main(void)
{
  pthread_t t;
  sigset_t p;
  char c;
  int status;

  setvbuf(stdout, NULL, _IONBF, 0);
  if (pipe(ready) != 0 || pipe(data) != 0)
    return 1;

  handle(SIGUSR1, 0);
  read_case("kill, a handler without SA_RESTART:", SIGUSR1, 0);
  handle(SIGUSR1, SA_RESTART);
  read_case("kill, a handler with SA_RESTART:", SIGUSR1, 0);
  handle(SIGRTMIN, 0);
  read_case("sigqueue of SIGRTMIN with 42:", SIGRTMIN, 1);

  printf("an ignored signal:\n");
  fresh_data();
  signal(SIGUSR1, SIG_IGN);
  block_in_main(SIGUSR1, SIG_UNBLOCK);
  pthread_create(&t, NULL, reader, NULL);
  read(ready[0], &c, 1);
  block_in_main(SIGUSR1, SIG_BLOCK);
  sleep_ms(50);
  kill(getpid(), SIGUSR1);
  sleep_ms(100);
  sigpending(&p);
  printf("  still pending: %d\n", sigismember(&p, SIGUSR1));
  write(data[1], "x", 1);
  pthread_join(t, NULL);

  printf("a thread in sigsuspend:\n");
  handle(SIGUSR1, 0);
  pthread_create(&t, NULL, suspender, NULL); /* SIGUSR1 blocked, inherited */
  read(ready[0], &c, 1);
  sleep_ms(50);
  kill(getpid(), SIGUSR1);
  pthread_join(t, NULL);

  printf("a thread that unblocks it later:\n");
  fresh_data();
  handle(SIGUSR2, 0);
  block_in_main(SIGUSR2, SIG_BLOCK);
  pthread_create(&t, NULL, late_opener, NULL);
  read(ready[0], &c, 1);
  kill(getpid(), SIGUSR2);
  sleep_ms(100);
  write(data[1], "x", 1);
  pthread_join(t, NULL);

  printf("main in sigwait while a thread leaves it open:\n");
  handle(SIGUSR1, 0);
  t = start_reader(SIGUSR1);
  {
    int before = caught, got = 0;
    sigset_t w;
    pid_t me = getpid(), sender;
    sigemptyset(&w);
    sigaddset(&w, SIGUSR1);
    /* Sent once main waits: the kernel offers it to main first, which
     * wants it while in sigwait (sent before, the reader could take it). */
    if ((sender = fork()) == 0) {
      usleep(100000);
      kill(me, SIGUSR1);
      _exit(0);
    }
    sigwait(&w, &got);
    waitpid(sender, NULL, 0);
    printf("  main's sigwait took %s; the handler ran %d time(s)\n",
           got == SIGUSR1 ? "SIGUSR1" : "other", caught - before);
  }
  write(data[1], "x", 1);
  pthread_join(t, NULL);

  printf("SIGTERM's default action:\n");
  pid_t pid = fork();
  if (pid == 0) {
    t = start_reader(SIGTERM);
    sleep_ms(50);
    kill(getpid(), SIGTERM);
    sleep_ms(2000);
    printf("  the child is still alive\n");
    _exit(0);
  }
  waitpid(pid, &status, 0);
  printf("  child: %s %d\n", WIFSIGNALED(status) ? "killed by signal" : "exit",
         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
  return 0;
}
