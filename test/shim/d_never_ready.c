/* d_never_ready: calls the kernel answers at once, without waiting, on fds
 * that will never become ready for them: reading the write end of a pipe
 * or of a FIFO, writing the read end (EBADF); writing a timerfd, signalfd
 * or inotify fd, or fewer than 8 bytes to an eventfd whose counter is full
 * (EINVAL); send and recv on a full or empty pipe (ENOTSOCK); a write on a
 * socket shut down for writing (EPIPE), a read on one shut down for
 * reading (0); accept on a UDP socket, on a TCP socket that does not
 * listen, on a pipe; readv with a bad vector. Patched, each must fail as
 * plain does instead of waiting for a readiness that never comes; a
 * watchdog (alarm) ends a run that hangs. */
#include "sockutil.h"

#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>

int main(void)
{
  char buf[64] = "x", path[64];
  struct iovec iov = {buf, sizeof(buf)};
  uint64_t v = 0;
  int p[2], r, w, fd, sv[2];
  sigset_t set;

  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  alarm(30);

  EXPECT("pipe", pipe(p) == 0);
  CALL("read the write end of a pipe", read(p[1], buf, 1));
  CALL("readv the write end", readv(p[1], &iov, 1));
  CALL("write the read end", write(p[0], buf, 1));
  CALL("writev the read end", writev(p[0], &iov, 1));
  {
    /* Hidden from the compiler, which would warn. */
    struct iovec *volatile none = NULL;
    volatile int minus = -1;
    CALL("readv with a NULL vector", readv(p[0], none, 1));
    CALL("readv with a negative count", readv(p[0], &iov, minus));
  }
  CALL("recv on an empty pipe", recv(p[0], buf, 1, 0));
  CALL("shrink the pipe to a page", fcntl(p[1], F_SETPIPE_SZ, 4096));
  {
    static char page[4096];
    CALL("fill it", write(p[1], page, sizeof(page)));
  }
  CALL("send on the full pipe", send(p[1], buf, 1, 0));
  CALL("write 0 bytes on the full pipe", write(p[1], buf, 0));
  CALL("accept on a pipe", accept(p[0], NULL, NULL));
  close(p[0]);
  close(p[1]);

  snprintf(path, sizeof(path), "/tmp/d_never_ready.%d", (int)getpid());
  EXPECT("mkfifo", mkfifo(path, 0600) == 0);
  r = open(path, O_RDWR); /* both ends at once: no open waits */
  w = open(path, O_WRONLY);
  EXPECT("open the FIFO", r >= 0 && w >= 0);
  CALL("read a FIFO opened write-only", read(w, buf, 1));
  fd = open(path, O_RDONLY);
  CALL("write a FIFO opened read-only", write(fd, buf, 1));
  close(fd);
  close(w);
  close(r);
  unlink(path);

  fd = timerfd_create(CLOCK_MONOTONIC, 0);
  CALL("write a timerfd", write(fd, &v, sizeof(v)));
  close(fd);
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  sigprocmask(SIG_BLOCK, &set, NULL);
  fd = signalfd(-1, &set, 0);
  CALL("write a signalfd", write(fd, &v, sizeof(v)));
  close(fd);
  fd = inotify_init();
  CALL("write an inotify fd", write(fd, &v, sizeof(v)));
  close(fd);
  fd = eventfd(0, 0);
  v = UINT64_MAX - 1;
  CALL("fill an eventfd's counter", write(fd, &v, sizeof(v)));
  CALL("write 4 bytes to it", write(fd, &v, 4));
  close(fd);

  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  CALL("shutdown for writing", shutdown(sv[0], SHUT_WR));
  CALL("write after it", write(sv[0], buf, 1));
  CALL("send after it", send(sv[0], buf, 1, 0));
  CALL("shutdown for reading", shutdown(sv[1], SHUT_RD));
  CALL("read after it", read(sv[1], buf, 1));
  close(sv[0]);
  close(sv[1]);

  fd = socket(AF_INET, SOCK_DGRAM, 0);
  CALL("accept on a UDP socket", accept(fd, NULL, NULL));
  close(fd);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  CALL("accept on a TCP socket that does not listen", accept(fd, NULL, NULL));
  close(fd);
  return compat_failures != 0;
}
