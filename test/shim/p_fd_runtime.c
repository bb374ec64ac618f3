/* p_fd_runtime (patched only): the runtime's own fds (its epoll sets and
 * eventfds) sit above the floor (fd 256), and the program cannot close or
 * replace them: close gives EBADF, dup2 and dup3 onto one give EBUSY (and
 * a notice), fcntl sees no such fd (EBADF, as plain), and the runtime goes
 * on waiting and waking. */
#include "compat.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>

/* The lowest fd >= 256 whose file is an epoll set or an eventfd, or -1. */
static int runtime_fd(void)
{
  char path[64], target[PATH_MAX];
  for (int fd = 256; fd < 4096; fd++) {
    ssize_t n;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    n = readlink(path, target, sizeof(target) - 1);
    if (n <= 0)
      continue;
    target[n] = '\0';
    if (strstr(target, "eventpoll") || strstr(target, "eventfd"))
      return fd;
  }
  return -1;
}

/* Lists the fds below 256 that are epoll sets or eventfds (none may be:
 * those numbers are the program's). */
static int low_runtime_fds(void)
{
  char path[64], target[PATH_MAX];
  int n = 0;
  for (int fd = 0; fd < 256; fd++) {
    ssize_t len;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    len = readlink(path, target, sizeof(target) - 1);
    if (len <= 0)
      continue;
    target[len] = '\0';
    if (strstr(target, "eventpoll") || strstr(target, "eventfd")) {
      fprintf(stderr, "fd %d is %s\n", fd, target);
      n++;
    }
  }
  return n;
}

int main(void)
{
  int fd, p[2];
  struct task t;
  char c = 0;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!patched()) {
    fprintf(stderr, "not patched\n");
    return 1;
  }
  sleep_ms(1);
  fd = runtime_fd();
  EXPECT("a runtime fd above the floor", fd >= 256);
  EXPECT("none below it", low_runtime_fds() == 0);
  errno = 0;
  EXPECT("close refused", close(fd) == -1 && errno == EBADF);
  errno = 0;
  EXPECT("dup2 refused", dup2(0, fd) == -1 && errno == EBUSY);
  errno = 0;
  EXPECT("dup3 refused", dup3(0, fd, O_CLOEXEC) == -1 && errno == EBUSY);
  errno = 0;
  EXPECT("dup2 of a bad fd: EBADF first", dup2(-5, fd) == -1 && errno == EBADF);
  EXPECT("still open, as the kernel says",
         syscall(SYS_fcntl, fd, F_GETFD) >= 0);
  errno = 0;
  EXPECT("not open, as fcntl says to the program",
         fcntl(fd, F_GETFD) == -1 && errno == EBADF);
  EXPECT("pipe", pipe(p) == 0);
  spawn(&t, write_later, &p[1]);
  EXPECT("woken", read(p[0], &c, 1) == 1 && c == 'x' && join(&t) == NULL);
  return compat_failures != 0;
}
