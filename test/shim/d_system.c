/* d_system: system() as glibc does it — two threads in system() at once
 * leave SIGINT's handler as it was before either (glibc counts the calls in
 * progress: the first sets SIGINT and SIGQUIT to be ignored, the last puts
 * them back), a thread canceled in system() kills and reaps its shell and
 * puts the handlers back, system(NULL) says a shell is there, and a shell
 * that cannot be started gives status 127 and its errno (run without /bin,
 * in a private mount namespace). The commands wait for input another
 * thread sends, so a system() in progress must park only its caller. */
#include "nsutil.h"
#include "sockutil.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

/* The commands name the test's pipes as /dev/fd/N: dash takes one digit
 * only in <&N, and the preloaded run's fds are higher. */
static int ready[2], rel_a[2], rel_b[2];

static void on_int(int sig)
{
  (void)sig;
}

static void *run(void *arg)
{
  char cmd[128];
  int *rel = arg;
  snprintf(cmd, sizeof(cmd), "echo x >/dev/fd/%d; read x </dev/fd/%d; exit %d",
           ready[1], rel[0], rel == rel_a ? 1 : 2);
  return (void *)(intptr_t)system(cmd);
}

static void say_sigint(const char *when)
{
  struct sigaction sa;
  sigaction(SIGINT, NULL, &sa);
  SAY("SIGINT %s: %s\n", when,
      sa.sa_handler == on_int    ? "the program's handler"
      : sa.sa_handler == SIG_IGN ? "ignored"
                                 : "default");
}

static void test_two_at_once(void)
{
  pthread_t a, b;
  void *ra, *rb;
  char c[2];

  SAY("-- two threads in system() at once\n");
  if (pthread_create(&a, NULL, run, rel_a) ||
      read(ready[0], c, 2) != 2 || /* each shell says it is running */
      pthread_create(&b, NULL, run, rel_b) || read(ready[0], c, 2) != 2)
    abort();
  say_sigint("while both run");
  if (write(rel_a[1], "\n", 1) != 1)
    abort();
  pthread_join(a, &ra);
  say_sigint("after the first returned");
  if (write(rel_b[1], "\n", 1) != 1)
    abort();
  pthread_join(b, &rb);
  SAY("statuses %d %d\n", WEXITSTATUS((int)(intptr_t)ra),
      WEXITSTATUS((int)(intptr_t)rb));
  say_sigint("after both");
}

static void *run_pid(void *arg)
{
  char cmd[128];
  (void)arg;
  snprintf(cmd, sizeof(cmd), "echo $$ >/dev/fd/%d; read x </dev/fd/%d",
           ready[1], rel_a[0]);
  return (void *)(intptr_t)system(cmd);
}

static void test_cancel(void)
{
  pthread_t t;
  void *r;
  char buf[32] = "";
  ssize_t n;
  pid_t pid;

  SAY("-- a thread canceled in system()\n");
  if (pthread_create(&t, NULL, run_pid, NULL))
    abort();
  n = read(ready[0], buf, sizeof(buf) - 1);
  pid = (pid_t)atoi(n > 0 ? buf : "0");
  sleep_ms(20); /* system() is most likely in its wait by now */
  pthread_cancel(t);
  pthread_join(t, &r);
  SAY("canceled: %d\n", r == PTHREAD_CANCELED);
  SAY("the shell is gone: %d\n",
      pid > 0 && kill(pid, 0) == -1 && errno == ESRCH);
  say_sigint("after the cancel");
}

int main(int argc, char **argv)
{
  struct sigaction sa;
  int r;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1 && strcmp(argv[1], "nosh") == 0) {
    errno = 0;
    r = system("true");
    SAY("without a shell: status %d (exit %d), errno %s\n", r,
        WIFEXITED(r) ? WEXITSTATUS(r) : -1, strerrorname_np(errno));
    return 0;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_int;
  sigaction(SIGINT, &sa, NULL);
  if (pipe(ready) != 0 || pipe(rel_a) != 0 || pipe(rel_b) != 0)
    abort();
  test_two_at_once();
  test_cancel();
  SAY("system(NULL): %d\n", system(NULL));
  check_threads(1);
  r = run_in_private_mounts("nosh", "/bin");
  if (r == NS_UNAVAILABLE)
    SAY("no private mount namespace here: the run without a shell skipped\n");
  return r == NS_UNAVAILABLE ? 0 : r;
}
