/* d_signal_handler_waits: a signal handler that itself makes a call that
 * may wait, while every thread waits (so that, patched, the handler lands
 * in the scheduler's hub, which cannot park): poll and nanosleep with a
 * timeout, a read of a pipe that has data, thread-specific data (a key
 * the runtime emulates must mean the same there), and a fork whose child
 * then lives on in the handler, waits for things of its own and makes a
 * thread, as PostgreSQL's postmaster starts its processes. Patched, each of
 * these stopped the process with "internal error: !co->is_hub" (the hub parked
 * on the call). */
#include "compat.h"

#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/wait.h>

static volatile sig_atomic_t got, child_status = -1;
static int data[2];
static pthread_key_t key;
static int marker;

static void waits(int sig)
{
  struct timespec ms = {0, 1000000};
  char c = 0;
  int p, q;
  (void)sig;
  p = poll(NULL, 0, 2);
  q = nanosleep(&ms, NULL);
  /* thread-specific data, as OpenSSL keeps its random state */
  if (pthread_setspecific(key, &marker) != 0 ||
      pthread_getspecific(key) != &marker)
    q = -1;
  if (read(data[0], &c, 1) == 1 && p == 0 && q == 0 && c == 'd')
    got = 1;
  else
    got = 2;
}

static void *doubles(void *arg)
{
  return (void *)(2 * (intptr_t)arg);
}

/* The child lives on in the handler: waits for a pipe and a sleep of its
 * own, makes a thread and joins it, then exits with a status the parent
 * checks. */
static void forks(int sig)
{
  pid_t pid;
  (void)sig;
  pid = fork();
  if (pid == 0) {
    struct pollfd pf = {.fd = data[0], .events = POLLIN};
    char c = 0;
    int ready = poll(&pf, 1, 5000);
    ssize_t n = read(data[0], &c, 1);
    pthread_t t;
    void *twice = NULL;
    usleep(2000);
    if (pthread_create(&t, NULL, doubles, (void *)(intptr_t)21) != 0 ||
        pthread_join(t, &twice) != 0 || (intptr_t)twice != 42)
      _exit(9);
    _exit(ready == 1 && n == 1 && c == 'k' ? 7 : 8);
  }
  got = pid > 0 ? 3 : 4;
}

static void *sleeper(void *arg)
{
  (void)arg;
  sleep_ms(300); /* a thread that waits too, where a handler may land */
  return NULL;
}

/* Sends sig to the parent after a moment, from a child process. */
static void signal_me(int sig)
{
  pid_t me = getpid();
  if (fork() == 0) {
    usleep(50000);
    kill(me, sig);
    _exit(0);
  }
}

/* Waits in select until the handler has run; returns what it set. */
static int wait_handler(void)
{
  while (!got) {
    struct timeval tv = {1, 0};
    select(0, NULL, NULL, NULL, &tv);
  }
  return got;
}

int main(void)
{
  struct sigaction sa;
  pthread_t t;
  int st;

  setvbuf(stdout, NULL, _IONBF, 0);
  if (pipe(data) != 0 || pthread_key_create(&key, NULL) != 0)
    return 1;
  memset(&sa, 0, sizeof(sa));
  sigemptyset(&sa.sa_mask);

  sa.sa_handler = waits;
  sigaction(SIGUSR1, &sa, NULL);
  write(data[1], "d", 1);
  pthread_create(&t, NULL, sleeper, NULL);
  signal_me(SIGUSR1);
  printf("a handler that polls, sleeps and reads: %s\n",
         wait_handler() == 1 ? "ok" : "failed");
  wait(NULL);
  pthread_join(t, NULL);

  got = 0;
  sa.sa_handler = forks;
  sigaction(SIGUSR2, &sa, NULL);
  signal_me(SIGUSR2);
  printf("a handler that forks: %s\n",
         wait_handler() == 3 ? "forked" : "failed");
  wait(NULL); /* the sender */
  write(data[1], "k", 1);
  while (wait(&st) > 0)
    if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
      printf("the child that lived in the handler: exit %d\n", WEXITSTATUS(st));
  return 0;
}
