/* d_process: waiting for children parks only the caller (system, waitpid,
 * wait), exit statuses and ECHILD are as without the shim, and a program
 * started by exec or posix_spawn gets a blocking socket when the app thinks
 * it blocking (the shim's own O_NONBLOCK must not leak into it). */
#include "compat.h"

#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

extern char **environ;

static volatile int ticks;
static volatile int stop;

/* Counts while the main task waits for a child. */
static void *ticker(void *arg)
{
  (void)arg;
  while (!stop) {
    sleep_ms(10);
    ticks++;
  }
  return NULL;
}

/* What the child is told to print: the O_NONBLOCK bit of its fd 3, from
 * its own /proc entry. */
static const char *probe =
    "f=$(sed -n 's/^flags:[[:space:]]*//p' /proc/self/fdinfo/3); "
    "if [ $(( 0$f & 04000 )) -ne 0 ]; then echo nonblocking; "
    "else echo blocking; fi";

int main(void)
{
  struct task t;
  int status, sv[2];
  pid_t pid;

  setvbuf(stdout, NULL, _IOLBF, 0);
  spawn(&t, ticker, NULL);

  ticks = 0;
  status = system("sleep 0.2; exit 3");
  EXPECT("system returns the exit status",
         WIFEXITED(status) && WEXITSTATUS(status) == 3);
  EXPECT("other threads run while system waits", ticks >= 5);
  EXPECT("system(NULL) finds a shell", system(NULL) != 0);

  ticks = 0;
  pid = fork();
  if (pid == 0) {
    usleep(200000);
    _exit(5);
  }
  check_threads(1);
  EXPECT("waitpid on the child",
         waitpid(pid, &status, 0) == pid && WEXITSTATUS(status) == 5);
  EXPECT("other threads run while waitpid waits", ticks >= 5);

  ticks = 0;
  pid = fork();
  if (pid == 0) {
    usleep(200000);
    _exit(6);
  }
  EXPECT("wait for any child",
         wait(&status) == pid && WEXITSTATUS(status) == 6);
  EXPECT("other threads run while wait waits", ticks >= 5);
  errno = 0;
  EXPECT("no children left: ECHILD",
         waitpid(-1, &status, 0) == -1 && errno == ECHILD);
  EXPECT("WNOHANG with no child: ECHILD",
         waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD);

  /* A blocking socket as fd 3 of an exec'd shell. */
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  pid = fork();
  if (pid == 0) {
    dup2(sv[0], 3);
    execl("/bin/sh", "sh", "-c", probe, (char *)NULL);
    _exit(127);
  }
  waitpid(pid, &status, 0);
  EXPECT("exec'd child exited 0",
         WIFEXITED(status) && WEXITSTATUS(status) == 0);

  /* The same through posix_spawn, with the socket at fd 3 already. */
  if (sv[0] != 3) {
    dup2(sv[0], 3);
  }
  {
    char *argv[] = {"sh", "-c", (char *)probe, NULL};
    EXPECT("posix_spawn",
           posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) == 0);
    EXPECT("spawned child exited 0",
           waitpid(pid, &status, 0) == pid && WEXITSTATUS(status) == 0);
  }
  /* The parent still does blocking I/O on the shared socket. */
  {
    char c = 0;
    EXPECT("write on the shared socket", write(sv[1], "x", 1) == 1);
    EXPECT("read on the shared socket", read(3, &c, 1) == 1 && c == 'x');
  }
  stop = 1;
  join(&t);
  return compat_failures != 0;
}
