/* socket.c: socket, socketpair, accept, accept4, connect.
 *
 * Sockets the process makes are set O_NONBLOCK underneath at birth; the
 * app's own view of the flag is kept in the fd table and is what fcntl and
 * ioctl(FIONBIO) report and change (fd.c). */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

void gp__shim_fresh_fd(int fd, int owned, int app_nonblock)
{
  struct gp__fdinfo *fi;

  gp__fd_fresh(fd);
  if (!owned || (fi = gp__fd_info(fd)) == NULL)
    return;
  fi->kind = GP__FD_OWNED;
  fi->app_nonblock = app_nonblock;
}

/* Marks a new socket of the process as ours, non-blocking underneath. */
static void own_socket(int fd, int app_nonblock, int type)
{
  struct gp__fdinfo *fi;

  gp__shim_fresh_fd(fd, 1, app_nonblock);
  fi = gp__fd_info(fd);
  if (fi)
    fi->stream = (type & 0xf) == SOCK_STREAM;
}

/* socket(2). */
GP_EXPORT int socket(int domain, int type, int protocol)
{
  int fd;

  if (!gp__shim_active(GP__PATCH_SOCKET))
    return gp__real_socket(domain, type, protocol);
  fd = gp__real_socket(domain, type | SOCK_NONBLOCK, protocol);
  if (fd >= 0)
    own_socket(fd, (type & SOCK_NONBLOCK) != 0, type);
  return fd;
}

/* socketpair(2). */
GP_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
  int r;

  if (!gp__shim_active(GP__PATCH_SOCKET))
    return gp__real_socketpair(domain, type, protocol, sv);
  r = gp__real_socketpair(domain, type | SOCK_NONBLOCK, protocol, sv);
  if (r == 0) {
    own_socket(sv[0], (type & SOCK_NONBLOCK) != 0, type);
    own_socket(sv[1], (type & SOCK_NONBLOCK) != 0, type);
  }
  return r;
}

/* accept4(2); accept(2) is accept4 with no flags. The new socket is ours. */
GP_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *alen,
                      int flags)
{
  struct gp__fdinfo *fi;
  uint64_t deadline;
  int nfd, type = SOCK_STREAM;
  socklen_t tl = sizeof(type);

  if (!gp__shim_active(GP__PATCH_SOCKET))
    return gp__real_accept4(fd, addr, alen, flags);
  fi = gp__shim_classify(fd);
  if (fi == NULL || (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)))
    return gp__real_accept4(fd, addr, alen, flags); /* EBADF, EINVAL */
  deadline = fi->rcvtimeo_ns ? gp__now() + fi->rcvtimeo_ns : GP__NEVER;
  for (;;) {
    int w;
    nfd = gp__real_accept4(fd, addr, alen, flags | SOCK_NONBLOCK);
    if (nfd >= 0)
      break;
    if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
        fi->kind == GP__FD_NONBLOCK || fi->kind == GP__FD_FILE ||
        (fi->kind == GP__FD_OWNED && fi->app_nonblock))
      return -1;
    w = gp__wait_fd(fd, EPOLLIN, deadline, 1);
    if (w >= 0)
      continue;
    if (w == -EINTR && fi->rcvtimeo_ns == 0 && gp__signal_restarts())
      continue;
    errno = w == -ETIMEDOUT
                ? (gp__tls.sched->current->block_expired ? ETIMEDOUT : EAGAIN)
                : (w == -ECANCELED ? EINTR : -w);
    return -1;
  }
  getsockopt(nfd, SOL_SOCKET, SO_TYPE, &type, &tl);
  own_socket(nfd, (flags & SOCK_NONBLOCK) != 0, type);
  return nfd;
}

/* accept(2). */
GP_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
  if (!gp__shim_active(GP__PATCH_SOCKET))
    return gp__real_accept(fd, addr, alen);
  return accept4(fd, addr, alen, 0);
}

/* connect(2): on a blocking socket, waits for the connection and reports
 * SO_ERROR as the kernel would have; SO_SNDTIMEO bounds the wait (then
 * EINPROGRESS, as Linux says). */
GP_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t alen)
{
  struct gp__fdinfo *fi;
  uint64_t deadline;
  int r, err;
  socklen_t len = sizeof(err);

  if (!gp__shim_active(GP__PATCH_SOCKET))
    return gp__real_connect(fd, addr, alen);
  fi = gp__shim_classify(fd);
  if (fi == NULL || fi->kind != GP__FD_OWNED || fi->app_nonblock)
    return gp__real_connect(fd, addr, alen);
  r = gp__real_connect(fd, addr, alen);
  if (r == 0 || errno != EINPROGRESS)
    return r;
  deadline = fi->sndtimeo_ns ? gp__now() + fi->sndtimeo_ns : GP__NEVER;
  for (;;) {
    int w = gp__wait_fd(fd, EPOLLOUT, deadline, 1);
    if (w >= 0)
      break;
    if (w == -EINTR && fi->sndtimeo_ns == 0 && gp__signal_restarts())
      continue;
    /* The connection goes on in the background, as after a blocking
     * connect is interrupted; a later connect says EALREADY. */
    errno = w == -ETIMEDOUT
                ? (gp__tls.sched->current->block_expired ? ETIMEDOUT
                                                         : EINPROGRESS)
                : (w == -ECANCELED ? EINTR : -w);
    return -1;
  }
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    return -1;
  if (err != 0) {
    errno = err;
    return -1;
  }
  return 0;
}
