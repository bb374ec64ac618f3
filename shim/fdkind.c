/* fdkind.c: what kind of file an fd is, which decides how every call on
 * it waits (core/fdtab.h, enum gp__fd_kind): sockets the process made,
 * inherited blocking sockets, pipes and other streams, files, and fds the
 * app made non-blocking itself. An fd is classified on first sight; calls
 * that make an fd record what they know at once. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

void gp__shim_fresh_fd(int fd, int owned, int app_nonblock)
{
  struct gp__fdinfo *fi;

  gp__fd_fresh(fd);
  if (!owned || (fi = gp__fd_info(fd)) == NULL)
    return;
  fi->kind = GP__FD_OWNED;
  fi->app_nonblock = app_nonblock;
}

/* fi, of an OWNED socket whose O_NONBLOCK underneath is off now, becomes
 * the record of a blocking socket the process did not make, for every fd
 * of its open file description. */
static void now_shared(int fd, struct gp__fdinfo *fi)
{
  fi->kind = GP__FD_SOCKET;
  fi->app_nonblock = 0;
  gp__fd_info_changed(fd);
}

int gp__shim_share(int fd, struct gp__fdinfo *fi)
{
  int fl;

  if (fi->kind != GP__FD_OWNED || fi->app_nonblock ||
      (fl = gp__real_fcntl(fd, F_GETFL)) < 0 ||
      gp__real_fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
    return 0;
  now_shared(fd, fi);
  return 1;
}

int gp__shim_owned_check(int fd, struct gp__fdinfo *fi)
{
  int fl;

  if (fi->kind == GP__FD_OWNED && !fi->app_nonblock &&
      (fl = gp__real_fcntl(fd, F_GETFL)) >= 0 && !(fl & O_NONBLOCK))
    now_shared(fd, fi);
  return fi->kind;
}

int gp__shim_tcp_probe(int fd, struct gp__fdinfo *fi)
{
  int v[3] = {0, 0, 0};
  socklen_t len = sizeof(v[0]);

  fi->tcp = GP__TCP_NO;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v[0], &len) == 0 &&
      (v[0] == AF_INET || v[0] == AF_INET6) &&
      (len = sizeof(v[1]),
       getsockopt(fd, SOL_SOCKET, SO_TYPE, &v[1], &len) == 0) &&
      v[1] == SOCK_STREAM &&
      (len = sizeof(v[2]),
       getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v[2], &len) == 0) &&
      v[2] == IPPROTO_TCP)
    fi->tcp = GP__TCP_YES;
  return fi->tcp;
}

/* The directions in which a call on a stream opened with status flags fl
 * may wait: a pipe's write end is never readable. */
static unsigned directions(int fl)
{
  if (fl & O_PATH)
    return 0; /* neither: read and write fail with EBADF */
  switch (fl & O_ACCMODE) {
  case O_RDONLY:
    return GP__FD_IN;
  case O_WRONLY:
    return GP__FD_OUT;
  default:
    return GP__FD_IN | GP__FD_OUT;
  }
}

/* An anonymous-inode fd (no file type in st_mode): the event fds whose
 * blocking read waits for an event are waited for (GP__FD_STREAM, with
 * the size below which a call fails at once in fi->min_read, and the
 * directions it may wait in: only an eventfd is ever written to); any
 * other (epoll, pidfd …) does not block on read and goes straight
 * through. */
static int anon_kind(int fd, struct gp__fdinfo *fi)
{
  static const struct {
    const char *link;
    unsigned min_read;
    unsigned waits;
  } waits[] = {{"anon_inode:[eventfd]", 8, GP__FD_IN | GP__FD_OUT},
               {"anon_inode:[timerfd]", 8, GP__FD_IN},
               {"anon_inode:[signalfd]", 128, GP__FD_IN},
               {"anon_inode:inotify", 0, GP__FD_IN}};
  char path[40], link[64];
  ssize_t n;

  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  n = readlink(path, link, sizeof(link) - 1);
  if (n <= 0)
    return GP__FD_FILE;
  link[n] = 0;
  fi->sigfd = strcmp(link, "anon_inode:[signalfd]") == 0;
  for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++)
    if (strcmp(link, waits[i].link) == 0) {
      fi->min_read = waits[i].min_read;
      fi->waits &= waits[i].waits;
      return GP__FD_STREAM;
    }
  return GP__FD_FILE;
}

int gp__shim_unowned_blocking(int fd)
{
  struct gp__fdinfo *fi;

  if (gp__tls.sched != NULL || gp__tls.depth || fd < 0 ||
      !(__atomic_load_n(&gp__config.patch, __ATOMIC_RELAXED) &
        GP__PATCH_SOCKET) ||
      (fi = gp__fd_info(fd)) == NULL)
    return 0;
  return fi->kind == GP__FD_OWNED && !fi->app_nonblock;
}

/* Looks at an fd the shim has not seen yet. Returns its record, or NULL
 * when it is not open (the real call then reports EBADF). */
struct gp__fdinfo *gp__shim_classify(int fd)
{
  struct gp__fdinfo *fi = gp__fd_info(fd);
  struct stat st;
  int fl;

  if (fi == NULL || fi->kind != GP__FD_UNKNOWN)
    return fi;
  fl = gp__real_fcntl(fd, F_GETFL);
  if (fl < 0 || fstat(fd, &st) != 0)
    return NULL;
  if (fl & O_NONBLOCK) {
    if ((st.st_mode & S_IFMT) == 0)
      anon_kind(fd, fi); /* for fi->sigfd */
    fi->kind = GP__FD_NONBLOCK;
  } else if (S_ISSOCK(st.st_mode)) {
    int type = 0;
    socklen_t len = sizeof(type);
    struct timeval tv;
    fi->kind = GP__FD_SOCKET;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0)
      fi->stream = type == SOCK_STREAM;
    len = sizeof(tv);
    if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0)
      fi->rcvtimeo_ns = gp__tv_to_ns(&tv);
    len = sizeof(tv);
    if (getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) == 0)
      fi->sndtimeo_ns = gp__tv_to_ns(&tv);
  } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
    fi->kind = GP__FD_STREAM;
    fi->stream = 1;
    fi->waits = directions(fl);
  } else if ((st.st_mode & S_IFMT) == 0) {
    fi->waits = directions(fl);
    fi->kind = anon_kind(fd, fi);
  } else {
    fi->kind = GP__FD_FILE;
  }
  return fi;
}

int gp__shim_poll_ready(int fd, short events)
{
  for (;;) {
    struct pollfd p = {.fd = fd, .events = events};
    /* (An accept with 64 threads waiting said EINTR now and then: the
     * runtime's preemption signal had come as the look began.) */
    int n = GP__AGAIN_IF_OWN_EINTR(gp__real_poll(&p, 1, 0)), w;
    if (n >= 0)
      return n > 0;
    if (errno == EINTR)
      return -EINTR;
    /* The kernel is out of memory for the poll (ENOMEM): neither "ready"
     * (the call would block the thread) nor "not ready" (the edge a wait
     * needs may have gone by) is known, so look again in a moment. */
    w = gp__sleep_until(gp__now() + 1000000, 1);
    if (w < 0)
      return w;
  }
}

int gp__shim_copy_in(void *dst, const void *src, size_t n)
{
  struct iovec local = {dst, n}, remote = {(void *)src, n};
  ssize_t r;

  if (n == 0)
    return 0;
  r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  if (r == (ssize_t)n)
    return 0;
  if (r < 0 && errno != EFAULT) {
    memcpy(dst, src, n); /* process_vm_readv refused (seccomp) */
    return 0;
  }
  errno = EFAULT;
  return -1;
}
