/* splice.c: splice, tee and vmsplice, which wait in the kernel for a pipe
 * (or a socket) to have data or room, holding the OS thread: with one
 * scheduler, the thread that would have filled or drained it never ran.
 * A thread that is a coroutine makes the call with SPLICE_F_NONBLOCK and,
 * on EAGAIN, waits for the end that is not ready, then tries again. (A
 * TCP socket the program did not make through the shim, blocking
 * underneath, still waits in the kernel: the kernel's TCP splice heeds
 * the socket's O_NONBLOCK, not SPLICE_F_NONBLOCK.)
 * A caught signal ends the wait with EINTR, or goes on with SA_RESTART,
 * as the kernel restarts these calls. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/uio.h>

/* Whether the program sees fd as non-blocking: the shim's fcntl gives its
 * view of a socket it made non-blocking underneath. */
static int app_nonblock(int fd)
{
  int fl = fcntl(fd, F_GETFL);
  return fl >= 0 && (fl & O_NONBLOCK);
}

/* Whether the kernel takes the call as SPLICE_F_NONBLOCK for the files'
 * own flags: either end's, in the program's view. */
static int nonblock_ends(int in, int out)
{
  return app_nonblock(in) || app_nonblock(out);
}

/* After an EAGAIN: parks until the end that is not ready (in for POLLIN
 * or out for POLLOUT, -1 for none) is. Returns 0 to try again, or -1 with
 * errno (a caught signal: EINTR, unless SA_RESTART restarts the call, as
 * the kernel restarts it). */
static int wait_ends(int in, int out)
{
  for (;;) {
    int fd = in, w;
    short ev = POLLIN;
    if (in < 0 || (w = gp__shim_poll_ready(in, POLLIN)) > 0) {
      fd = out;
      ev = POLLOUT;
      w = out < 0 ? 1 : gp__shim_poll_ready(out, POLLOUT);
    }
    if (w == 0)
      w = gp__wait_fd(fd, ev == POLLIN ? EPOLLIN : EPOLLOUT, GP__NEVER, 1);
    if (w > 0 || w == -EBADF)
      return 0; /* ready, or closed: the call says what now */
    if (!gp__shim_wait_failed(w, 0, EINTR))
      return -1;
  }
}

GP_EXPORT ssize_t splice(int in, loff_t *in_off, int out, loff_t *out_off,
                         size_t len, unsigned flags)
{
  gp__real_init();
  if (!gp__shim_parks(GP__PATCH_SOCKET))
    return gp__real_splice(in, in_off, out, out_off, len, flags);
  if ((flags & SPLICE_F_NONBLOCK) || nonblock_ends(in, out))
    return gp__real_splice(in, in_off, out, out_off, len,
                           flags | SPLICE_F_NONBLOCK);
  for (;;) {
    ssize_t r = gp__real_splice(in, in_off, out, out_off, len,
                                flags | SPLICE_F_NONBLOCK);
    if (r >= 0 || errno != EAGAIN)
      return r;
    if (wait_ends(in, out) < 0)
      return -1;
  }
}

GP_EXPORT ssize_t tee(int in, int out, size_t len, unsigned flags)
{
  gp__real_init();
  if (!gp__shim_parks(GP__PATCH_SOCKET))
    return gp__real_tee(in, out, len, flags);
  if ((flags & SPLICE_F_NONBLOCK) || nonblock_ends(in, out))
    return gp__real_tee(in, out, len, flags | SPLICE_F_NONBLOCK);
  for (;;) {
    ssize_t r = gp__real_tee(in, out, len, flags | SPLICE_F_NONBLOCK);
    if (r >= 0 || errno != EAGAIN)
      return r;
    if (wait_ends(in, out) < 0)
      return -1;
  }
}

/* vmsplice: into a pipe's write end, or out of its read end. */
GP_EXPORT ssize_t vmsplice(int fd, const struct iovec *iov, size_t n,
                           unsigned flags)
{
  int fl;

  gp__real_init();
  if ((flags & SPLICE_F_NONBLOCK) || !gp__shim_parks(GP__PATCH_SOCKET) ||
      (fl = gp__real_fcntl(fd, F_GETFL)) < 0 || (fl & O_NONBLOCK))
    return gp__real_vmsplice(fd, iov, n, flags);
  for (;;) {
    ssize_t r = gp__real_vmsplice(fd, iov, n, flags | SPLICE_F_NONBLOCK);
    if (r >= 0 || errno != EAGAIN)
      return r;
    if ((fl & O_ACCMODE) == O_RDONLY ? wait_ends(fd, -1) < 0
                                     : wait_ends(-1, fd) < 0)
      return -1;
  }
}
