/* socket.c: socket, socketpair, accept, accept4, connect.
 *
 * Sockets the process makes are set O_NONBLOCK underneath at birth; the
 * app's own view of the flag is kept in the fd table and is what fcntl and
 * ioctl(FIONBIO) report and change (fd.c). */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

/* Marks a new socket of the process as ours, non-blocking underneath; tcp
 * is a GP__TCP_* value. */
static void own_socket(int fd, int app_nonblock, int type, int tcp)
{
  struct gp__fdinfo *fi;

  gp__shim_fresh_fd(fd, 1, app_nonblock);
  fi = gp__fd_info(fd);
  if (fi) {
    fi->stream = (type & 0xf) == SOCK_STREAM;
    fi->tcp = tcp;
  }
}

/* socket(2). */
GP_EXPORT int socket(int domain, int type, int protocol)
{
  int fd;

  if (!gp__shim_active(GP__PATCH_SOCKET))
    return gp__real_socket(domain, type, protocol);
  fd = gp__real_socket(domain, type | SOCK_NONBLOCK, protocol);
  if (fd >= 0)
    own_socket(fd, (type & SOCK_NONBLOCK) != 0, type,
               (domain == AF_INET || domain == AF_INET6) &&
                       (type & 0xf) == SOCK_STREAM &&
                       (protocol == 0 || protocol == IPPROTO_TCP)
                   ? GP__TCP_YES
                   : GP__TCP_NO);
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
    own_socket(sv[0], (type & SOCK_NONBLOCK) != 0, type, GP__TCP_NO);
    own_socket(sv[1], (type & SOCK_NONBLOCK) != 0, type, GP__TCP_NO);
  }
  return r;
}

/* Nonzero when fd is a socket that listens: on anything else accept fails
 * at once (EINVAL, EOPNOTSUPP, ENOTSOCK), so it is not waited for. */
static int listening(int fd)
{
  int on = 0;
  socklen_t len = sizeof(on);
  return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

/* accept4(2); accept(2) is accept4 with no flags. The new socket is ours. */
GP_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *alen, int flags)
{
  struct gp__fdinfo *fi;
  uint64_t deadline;
  int nfd, blocking, type = SOCK_STREAM;
  socklen_t tl = sizeof(type);

  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd))
    return gp__real_accept4(fd, addr, alen, flags);
  gp__slice();
  fi = gp__shim_classify(fd);
  if (fi == NULL || (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)))
    return gp__real_accept4(fd, addr, alen, flags); /* EBADF, EINVAL */
  deadline = fi->rcvtimeo_ns ? gp__now() + fi->rcvtimeo_ns : GP__NEVER;
  blocking = !(fi->kind == GP__FD_NONBLOCK || fi->kind == GP__FD_FILE ||
               (fi->kind == GP__FD_OWNED && fi->app_nonblock));
  for (;;) {
    int w;
    /* A listener's O_NONBLOCK may be off (inherited, or shared with a
     * child that exec'd): look before accepting, so the thread never
     * blocks in accept. */
    if (blocking) {
      w = gp__shim_poll_ready(fd, POLLIN);
      if (w == 0 && !listening(fd))
        return gp__real_accept4(fd, addr, alen, flags); /* its error */
      if (w == 0)
        goto wait;
      if (w < 0)
        goto failed; /* a signal caught while looking */
    }
    nfd = gp__real_accept4(fd, addr, alen, flags | SOCK_NONBLOCK);
    if (nfd >= 0)
      break;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
        errno == ENOMEM) {
      /* Out of fds or memory: the caller will likely retry at once, as
       * thread-per-connection servers do, while in the unpatched program
       * the other threads run on and close what frees the resource. Let
       * them run once before the error is returned. */
      int e = errno;
      gp__yield();
      errno = e;
      return -1;
    }
    if ((errno != EAGAIN && errno != EWOULDBLOCK) ||
        fi->kind == GP__FD_NONBLOCK || fi->kind == GP__FD_FILE ||
        (fi->kind == GP__FD_OWNED && fi->app_nonblock))
      return -1;
  wait:
    /* One waiter per connection, as the kernel wakes one thread blocked
     * in accept: many threads may wait on one listener. */
    w = gp__wait_fd_ex(fd, EPOLLIN, deadline,
                       GP__WAIT_INTERRUPTIBLE | GP__FD_EXCLUSIVE);
    if (w >= 0)
      continue;
  failed:
    if (gp__shim_wait_failed(w, fi->rcvtimeo_ns, EAGAIN))
      continue;
    return -1;
  }
  if (blocking)
    gp__fd_pass(fd); /* more may be queued: the next waiter looks */
  getsockopt(nfd, SOL_SOCKET, SO_TYPE, &type, &tl);
  own_socket(nfd, (flags & SOCK_NONBLOCK) != 0, type, fi->tcp);
  return nfd;
}

/* accept(2). */
GP_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *alen)
{
  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd))
    return gp__real_accept(fd, addr, alen);
  return accept4(fd, addr, alen, 0);
}

/* A blocking AF_UNIX connect to a listener whose backlog is full waits
 * until an accept makes room; nothing tells another process's socket when
 * that happens, so the non-blocking connect is tried again after growing
 * pauses. Returns connect's result, errno set. */
static int connect_unix_full(int fd, const struct sockaddr *addr,
                             socklen_t alen, struct gp__fdinfo *fi)
{
  uint64_t deadline = fi->sndtimeo_ns ? gp__now() + fi->sndtimeo_ns : GP__NEVER;
  uint64_t pause = 1000000; /* 1 ms, doubling up to 16 ms */

  for (;;) {
    uint64_t until = gp__now() + pause;
    int w = gp__sleep_until(until < deadline ? until : deadline, 1);
    if (w < 0 && !gp__shim_wait_failed(w, fi->sndtimeo_ns, EAGAIN))
      return -1;
    if (w == 0 && gp__now() >= deadline) {
      errno = EAGAIN;
      return -1;
    }
    if (gp__real_connect(fd, addr, alen) == 0 || errno != EAGAIN)
      return errno == EAGAIN ? 0 : -1;
    if (pause < 16000000)
      pause *= 2;
  }
}

/* A connect made on a helper thread, for a socket that blocks underneath:
 * the address is a copy and the fd a duplicate, since the call may
 * outlive the caller's wait (and the program may close the fd, and reuse
 * its number, meanwhile). */
struct connect_job {
  int fd;                       /* a duplicate of the socket's fd */
  socklen_t alen;               /* the address's length */
  struct sockaddr_storage addr; /* the address */
  int r;                        /* what connect returned */
  int err;                      /* its errno */
};

static void connect_job(void *arg)
{
  struct connect_job *j = arg;
  j->r = gp__real_connect(j->fd, (struct sockaddr *)&j->addr, j->alen);
  j->err = errno;
  gp__real_close(j->fd);
}

/* The duplicate's number: far above those the program uses, so that its
 * own next fd gets the number it would get unpatched, when the limit
 * allows. Returns it, or -1. */
static int dup_high(int fd)
{
  int d = gp__real_fcntl(fd, F_DUPFD_CLOEXEC, 1024);
  return d >= 0 ? d : gp__real_fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

/* connect on a blocking socket that blocks underneath too (one the process
 * did not make, or whose O_NONBLOCK a child's exec cleared): nothing can
 * make it non-blocking, so it is made on a helper thread while only the
 * caller waits. Interrupted, the call returns EINTR and the connection
 * goes on in the background, as in the kernel; with SA_RESTART, and no
 * SO_SNDTIMEO, it is made again and waits on, as the kernel restarts it. */
static int connect_blocking(int fd, const struct sockaddr *addr, socklen_t alen,
                            struct gp__fdinfo *fi)
{
  for (;;) {
    struct connect_job *j;
    int w;
    if (addr == NULL || alen > sizeof(j->addr) ||
        (j = malloc(sizeof(*j))) == NULL)
      return gp__real_connect(fd, addr, alen); /* EFAULT, EINVAL … */
    if (gp__shim_copy_in(&j->addr, addr, alen) != 0) {
      free(j);
      return -1;
    }
    if ((j->fd = dup_high(fd)) < 0) {
      free(j);
      return gp__real_connect(fd, addr, alen); /* EBADF, or no fd left */
    }
    j->alen = alen;
    w = gp__helper_call(connect_job, j, free, 1);
    if (w == -EAGAIN || w == -ENOMEM) {
      gp__real_close(j->fd);
      free(j);
      return gp__real_connect(fd, addr, alen); /* no helper: as unpatched */
    }
    if (w == 0) {
      int r = j->r;
      errno = j->err;
      free(j);
      return r;
    }
    if (!gp__shim_wait_failed(w, fi->sndtimeo_ns, EINPROGRESS))
      return -1;
  }
}

/* connect(2): on a blocking socket, waits for the connection, then asks the
 * kernel once more, so that it reports the outcome (0, or the socket's
 * error, consumed) and moves the socket to the state a blocking connect
 * leaves. A socket already connecting (EALREADY) waits too, as a blocking
 * one does in Linux. SO_SNDTIMEO bounds the wait; on expiry the kernel's
 * EINPROGRESS (first call) or EALREADY (a later one) is reported. */
static int connect_op(int fd, const struct sockaddr *addr, socklen_t alen)
{
  struct gp__fdinfo *fi = gp__shim_classify(fd);
  uint64_t deadline;
  int r, first;

  if (fi != NULL && gp__shim_owned_check(fd, fi) == GP__FD_SOCKET)
    return connect_blocking(fd, addr, alen, fi);
  if (fi == NULL || fi->kind != GP__FD_OWNED || fi->app_nonblock)
    return gp__real_connect(fd, addr, alen);
  r = gp__real_connect(fd, addr, alen);
  if (r == 0)
    return 0;
  if (errno == EAGAIN) {
    int domain = 0;
    socklen_t dl = sizeof(domain);
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl) == 0 &&
        domain == AF_UNIX)
      return connect_unix_full(fd, addr, alen, fi);
    errno = EAGAIN;
    return -1;
  }
  if (errno != EINPROGRESS && errno != EALREADY)
    return -1;
  first = errno == EINPROGRESS;
  deadline = fi->sndtimeo_ns ? gp__now() + fi->sndtimeo_ns : GP__NEVER;
  for (;;) {
    int w = gp__wait_fd(fd, EPOLLOUT, deadline, 1);
    if (w < 0) {
      if (gp__shim_wait_failed(w, fi->sndtimeo_ns,
                               first ? EINPROGRESS : EALREADY))
        continue;
      /* The connection goes on in the background, as after a blocking
       * connect is interrupted; a later connect waits for it again. */
      return -1;
    }
    r = gp__real_connect(fd, addr, alen);
    if (r == 0 || errno == EISCONN)
      return 0;
    if (errno != EALREADY)
      return -1; /* the connection failed: its error */
    /* Still connecting: the wake-up was for something else. */
  }
}

GP_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t alen)
{
  int saved = errno, r;

  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd))
    return gp__real_connect(fd, addr, alen);
  /* A connect that waited saw EINPROGRESS first: not left behind. */
  if ((r = connect_op(fd, addr, alen)) == 0)
    errno = saved;
  return r;
}
