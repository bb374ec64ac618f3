/* d_fd_closeall: a daemon closes every fd it does not know (close in a
 * loop over the fd limit, closefrom, close_range). The runtime's own fds
 * are not the program's: the program's first open gets the number it gets
 * plain (in a fork's child too), every close finds the same fds open as plain,
 * and the runtime still waits and wakes afterwards. */
#include "compat.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

/* The number of fds from 3 on that close() closed. */
static int close_all(void)
{
  struct rlimit rl;
  int n = 0;
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur > 65536)
    rl.rlim_cur = 65536;
  for (int fd = 3; fd < (int)rl.rlim_cur; fd++)
    if (close(fd) == 0)
      n++;
  return n;
}

/* The runtime still parks a reader and wakes it: one task writes to a pipe
 * 50 ms later while the caller reads, and a socket pair carries a line. */
static int still_works(void)
{
  struct task t;
  int p[2], sv[2];
  char c = 0, buf[8] = {0};

  if (pipe(p) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    return 0;
  spawn(&t, write_later, &p[1]);
  if (read(p[0], &c, 1) != 1 || join(&t) != NULL)
    return 0;
  if (write(sv[0], "ping", 4) != 4 || read(sv[1], buf, sizeof(buf)) != 4)
    return 0;
  sleep_ms(5);
  close(p[0]);
  close(p[1]);
  close(sv[0]);
  close(sv[1]);
  return c == 'x' && strcmp(buf, "ping") == 0;
}

static int is_open(int fd)
{
  return fcntl(fd, F_GETFD) >= 0;
}

int main(void)
{
  int fd, a, b, n;

  setvbuf(stdout, NULL, _IOLBF, 0);
  EXPECT("runtime up", still_works());
  fd = open("/dev/null", O_RDONLY);
  SAY("first open: fd %d\n", fd);
  n = close_all();
  SAY("close() of every fd from 3: %d closed\n", n);
  EXPECT("after close of every fd", still_works());

  a = open("/dev/null", O_RDONLY);
  b = dup2(a, 40);
  closefrom(3);
  EXPECT("closefrom closes the program's", !is_open(a) && !is_open(b));
  EXPECT("after closefrom", still_works());

  a = open("/dev/null", O_RDONLY);
  b = dup2(a, 400);
  SAY("dup2 onto 400: %d\n", b);
  EXPECT("close_range cloexec", close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0 &&
                                    (fcntl(a, F_GETFD) & FD_CLOEXEC) &&
                                    (fcntl(b, F_GETFD) & FD_CLOEXEC));
  EXPECT("close_range",
         close_range(3, ~0U, 0) == 0 && !is_open(a) && !is_open(b));
  EXPECT("after close_range", still_works());
  errno = 0;
  SAY("close_range(5, 3): %d errno %d\n", close_range(5, 3, 0), errno);
  errno = 0;
  SAY("close_range bad flags: %d errno %d\n", close_range(3, 9, 0x40), errno);
  errno = 0;
  SAY("close(-1): %d errno %d\n", close(-1), errno);
  closefrom(3);
  fd = open("/dev/null", O_RDONLY);
  SAY("open after closefrom: fd %d\n", fd);
  {
    int st = -1;
    pid_t pid = fork();
    if (pid == 0) {
      SAY("child's first open: fd %d\n", open("/dev/null", O_RDONLY));
      SAY("child: %d closed of every fd from 3\n", close_all());
      _exit(still_works() ? 0 : 3);
    }
    waitpid(pid, &st, 0);
    SAY("child exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  }
  return compat_failures != 0;
}
