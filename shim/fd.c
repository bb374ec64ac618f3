/* fd.c: close, close_range, closefrom, dup, dup2, dup3, fcntl,
 * ioctl(FIONBIO), setsockopt, pipe, pipe2 — the calls that change what an
 * fd is, so the shim's record of it follows. */
#define _GNU_SOURCE
#include "shim.h"
#include "../core/ownfd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* close(2): waiters on fd wake with EBADF and its registration goes before
 * the number can be reused. One of the runtime's fds is not closed: the
 * program (a daemon closing every number) gets the EBADF it gets
 * unpatched, where the number is not open. */
GP_EXPORT int close(int fd)
{
  if (gp__shim_fd_hidden(fd)) {
    errno = EBADF;
    return -1;
  }
  if (gp__shim_active(GP__PATCH_SOCKET))
    gp__fd_forget(fd);
  return gp__real_close(fd);
}

/* close_range(2), in pieces that leave the runtime's fds out. */
static int close_range_from(unsigned first, unsigned last, int flags)
{
  long r;

  if (first > last || (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)))
    return (int)gp__real_syscall(SYS_close_range, first, last, flags);
  while (first <= last) {
    int own = first > (unsigned)INT32_MAX ? -1 : gp__ownfd_next((int)first);
    unsigned end = own < 0 || (unsigned)own > last ? last : (unsigned)own - 1;
    if (own < 0 || (unsigned)own != first) {
      if (!(flags & CLOSE_RANGE_CLOEXEC) && gp__shim_active(GP__PATCH_SOCKET))
        gp__fd_forget_range(first, end);
      r = gp__real_syscall(SYS_close_range, first, end, flags);
      if (r < 0)
        return (int)r;
    }
    if (own < 0 || (unsigned)own >= last)
      break;
    first = (unsigned)own + 1;
  }
  return 0;
}

GP_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
  if (gp__tls.depth)
    return (int)gp__real_syscall(SYS_close_range, first, last, flags);
  return close_range_from(first, last, flags);
}

/* closefrom(3): glibc's, closing what close_range cannot (a kernel without
 * it) one by one; both leave the runtime's fds open. */
GP_EXPORT void closefrom(int low)
{
  struct rlimit rl;

  if (close_range((unsigned)low, ~0U, 0) == 0)
    return;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    rl.rlim_cur = 1 << 20;
  for (rlim_t fd = low < 0 ? 0 : (rlim_t)low; fd < rl.rlim_cur; fd++)
    (void)close((int)fd);
}

/* dup2 and dup3 onto one of the runtime's fds: unpatched the number is
 * free and the call succeeds; here it would close the runtime's epoll set
 * or eventfd under it. Refused with EBUSY (the error Linux gives a dup2
 * racing an open of the same number), and said once on stderr. */
static int refuse_onto_runtime_fd(int fd2)
{
  static int said;
  if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
    gp__debug_out(2,
                  "gpatch: dup2 onto fd %d refused with EBUSY: the runtime "
                  "uses that number (its fds live at %d and up)\n",
                  fd2, gp__ownfd_next(0));
  errno = EBUSY;
  return -1;
}

/* The new fd shares the open file description of old: same flags, same
 * kind, same app view, kept in common from now on. */
static void copy_info(int old, int nfd)
{
  gp__fd_dup(old, nfd);
}

/* dup(2). */
GP_EXPORT int dup(int fd)
{
  int nfd;
  if (gp__shim_fd_hidden(fd)) {
    errno = EBADF;
    return -1;
  }
  if (!gp__shim_active(GP__PATCH_SOCKET))
    return gp__real_dup(fd);
  nfd = gp__real_dup(fd);
  if (nfd >= 0)
    copy_info(fd, nfd);
  return nfd;
}

/* dup2(2): replacing fd2 wakes its waiters with EBADF first. */
GP_EXPORT int dup2(int fd, int fd2)
{
  int r;
  if (gp__shim_fd_hidden(fd)) {
    errno = EBADF;
    return -1;
  }
  if (fd != fd2 && gp__shim_fd_hidden(fd2) && gp__real_fcntl(fd, F_GETFD) >= 0)
    return refuse_onto_runtime_fd(fd2);
  if (!gp__shim_active(GP__PATCH_SOCKET) || fd == fd2)
    return gp__real_dup2(fd, fd2);
  if (gp__real_fcntl(fd, F_GETFD) < 0)
    return gp__real_dup2(fd, fd2); /* EBADF, fd2 untouched */
  gp__fd_forget(fd2);
  r = gp__real_dup2(fd, fd2);
  if (r >= 0)
    copy_info(fd, r);
  return r;
}

/* dup3(2). */
GP_EXPORT int dup3(int fd, int fd2, int flags)
{
  int r;
  if (fd != fd2 && !(flags & ~O_CLOEXEC) && gp__shim_fd_hidden(fd)) {
    errno = EBADF;
    return -1;
  }
  if (fd != fd2 && !(flags & ~O_CLOEXEC) && gp__shim_fd_hidden(fd2) &&
      gp__real_fcntl(fd, F_GETFD) >= 0)
    return refuse_onto_runtime_fd(fd2);
  if (!gp__shim_active(GP__PATCH_SOCKET) || fd == fd2 ||
      gp__real_fcntl(fd, F_GETFD) < 0 || (flags & ~O_CLOEXEC))
    return gp__real_dup3(fd, fd2, flags); /* EINVAL, EBADF as the kernel */
  gp__fd_forget(fd2);
  r = gp__real_dup3(fd, fd2, flags);
  if (r >= 0)
    copy_info(fd, r);
  return r;
}

/* fcntl(2): F_GETFL and F_SETFL show and change the app's view of
 * O_NONBLOCK on sockets the shim made non-blocking underneath; F_DUPFD
 * copies the record. Everything else passes through. */
/* ---- file locks ----
 *
 * flock, fcntl's F_SETLKW and F_OFD_SETLKW, and lockf's F_LOCK wait in the
 * kernel for a lock held elsewhere, and no fd says when it is free: in a
 * coroutine, that wait held its OS thread, and when the holder was a
 * thread of the same scheduler, both waited for good. So a coroutine asks
 * without waiting and, while the lock is held, parks for a while and asks
 * again (1 ms, doubling to 16 ms), its scheduler's other coroutines
 * running meanwhile. A caught signal ends the wait as it ends the
 * kernel's (EINTR, or on with SA_RESTART); a cancel ends an fcntl or
 * lockf wait, which glibc makes cancellation points, and not a flock one.
 * What differs (README): the lock is had up to 16 ms after it is freed,
 * not in turn with the kernel's own waiters, and a deadlock between
 * processes' record locks (EDEADLK) is not detected. */

struct flock_try {
  int fd, op;
};

static long flock_now(void *arg)
{
  struct flock_try *f = arg;
  return gp__real_flock(f->fd, f->op | LOCK_NB);
}

/* flock(2). */
GP_EXPORT int flock(int fd, int op)
{
  gp__real_init();
  if (gp__shim_fd_hidden(fd)) {
    errno = EBADF;
    return -1;
  }
  if ((op & LOCK_NB) || !(op & (LOCK_SH | LOCK_EX)) ||
      !gp__shim_parks(GP__PATCH_THREAD))
    return gp__real_flock(fd, op);
  struct flock_try f = {fd, op};
  return (int)gp__shim_retry(flock_now, &f, EWOULDBLOCK, GP__NEVER,
                             GP__RETRY_RESTARTS, EINTR);
}

struct record_lock {
  int fd;
  int cmd; /* F_SETLK or F_OFD_SETLK */
  void *lk;
};

/* A record lock held elsewhere: EAGAIN or EACCES, as fcntl(2) allows. */
static long record_lock_now(void *arg)
{
  struct record_lock *l = arg;
  long r = gp__real_fcntl(l->fd, l->cmd, l->lk);
  if (r < 0 && errno == EACCES)
    errno = EAGAIN;
  return r;
}

/* fcntl's F_SETLKW and F_OFD_SETLKW: cancellation points in glibc. */
static int record_lock_wait(int fd, int cmd, void *lk)
{
  struct record_lock l = {fd, cmd == F_SETLKW ? F_SETLK : F_OFD_SETLK, lk};
  if (!gp__shim_parks(GP__PATCH_THREAD))
    return gp__real_fcntl(fd, cmd, lk);
  return (int)gp__shim_retry(record_lock_now, &l, EAGAIN, GP__NEVER,
                             GP__RETRY_RESTARTS | GP__RETRY_CANCEL, EINTR);
}

/* lockf(3): glibc's F_LOCK is its own fcntl's F_SETLKW, which the shim
 * does not see. */
GP_EXPORT int lockf(int fd, int cmd, off_t len)
{
  struct flock lk;

  gp__real_init();
  if (cmd != F_LOCK)
    return gp__real_lockf(fd, cmd, len);
  memset(&lk, 0, sizeof(lk));
  lk.l_type = F_WRLCK;
  lk.l_whence = SEEK_CUR;
  lk.l_len = len;
  return fcntl(fd, F_SETLKW, &lk);
}

GP_EXPORT int lockf64(int fd, int cmd, off_t len)
{
  return lockf(fd, cmd, len);
}

GP_EXPORT int fcntl(int fd, int cmd, ...)
{
  struct gp__fdinfo *fi;
  va_list ap;
  void *arg;
  int r;

  va_start(ap, cmd);
  arg = va_arg(ap, void *);
  va_end(ap);
  if (gp__shim_fd_hidden(fd)) {
    errno = EBADF;
    return -1;
  }
  if (cmd == F_SETLKW || cmd == F_OFD_SETLKW)
    return record_lock_wait(fd, cmd, arg);
  if (!gp__shim_active(GP__PATCH_SOCKET))
    return gp__real_fcntl(fd, cmd, arg);
  switch (cmd) {
  case F_GETFL:
    r = gp__real_fcntl(fd, cmd);
    fi = gp__fd_info(fd);
    if (r >= 0 && fi && fi->kind == GP__FD_OWNED)
      r = (r & ~O_NONBLOCK) | (fi->app_nonblock ? O_NONBLOCK : 0);
    return r;
  case F_SETFL:
    fi = gp__fd_info(fd);
    /* A description an exec'd child shares is the child's flag too. */
    if (fi)
      gp__shim_owned_check(fd, fi);
    if (fi && fi->kind == GP__FD_OWNED) {
      int fl = (int)(intptr_t)arg;
      r = gp__real_fcntl(fd, cmd, (void *)(intptr_t)(fl | O_NONBLOCK));
      if (r == 0) {
        fi->app_nonblock = (fl & O_NONBLOCK) != 0;
        gp__fd_info_changed(fd);
      }
      return r;
    }
    r = gp__real_fcntl(fd, cmd, arg);
    if (r == 0 && fi) {
      fi->kind = GP__FD_UNKNOWN; /* look again: it may block now, or not */
      gp__fd_info_changed(fd);
    }
    return r;
  case F_DUPFD:
  case F_DUPFD_CLOEXEC:
    r = gp__real_fcntl(fd, cmd, arg);
    if (r >= 0)
      copy_info(fd, r);
    return r;
  default:
    return gp__real_fcntl(fd, cmd, arg);
  }
}

/* ioctl(2): FIONBIO changes the app's view, as F_SETFL does. */
GP_EXPORT int ioctl(int fd, unsigned long req, ...)
{
  struct gp__fdinfo *fi;
  va_list ap;
  void *arg;
  int r;

  va_start(ap, req);
  arg = va_arg(ap, void *);
  va_end(ap);
  if (!gp__shim_active(GP__PATCH_SOCKET) || req != FIONBIO)
    return gp__real_ioctl(fd, req, arg);
  fi = gp__fd_info(fd);
  if (fi)
    gp__shim_owned_check(fd, fi); /* as for F_SETFL */
  /* The kernel reads the app's int (and says EFAULT for a bad pointer). */
  r = gp__real_ioctl(fd, req, arg);
  if (r != 0)
    return r;
  if (fi && fi->kind == GP__FD_OWNED) {
    int one = 1;
    fi->app_nonblock = *(int *)arg != 0;
    gp__real_ioctl(fd, FIONBIO, &one);
  } else if (fi) {
    fi->kind = GP__FD_UNKNOWN;
  }
  gp__fd_info_changed(fd);
  return 0;
}

/* setsockopt(2): SO_RCVTIMEO and SO_SNDTIMEO are honoured by the shim
 * (the kernel's own do nothing on a non-blocking socket). */
GP_EXPORT int setsockopt(int fd, int level, int name, const void *val,
                         socklen_t len)
{
  struct gp__fdinfo *fi;
  int r;

  gp__real_init(); /* may run in a library's constructor, before ours */
  r = gp__real_setsockopt(fd, level, name, val, len);

  if (r != 0 || level != SOL_SOCKET ||
      (name != SO_RCVTIMEO && name != SO_SNDTIMEO) ||
      !gp__shim_active(GP__PATCH_SOCKET) ||
      (fi = gp__shim_classify(fd)) == NULL)
    return r;
  if (name == SO_RCVTIMEO)
    fi->rcvtimeo_ns = gp__tv_to_ns(val);
  else
    fi->sndtimeo_ns = gp__tv_to_ns(val);
  gp__fd_info_changed(fd); /* the socket's, whichever fd names it */
  return 0;
}

/* pipe(2) and pipe2(2): the fds stay as the app asked; the record of any
 * earlier file with the same numbers goes. */
GP_EXPORT int pipe2(int fds[2], int flags)
{
  int r;

  gp__real_init(); /* may run in a library's constructor, before ours */
  r = gp__real_pipe2(fds, flags);
  if (r == 0 && gp__shim_active(GP__PATCH_SOCKET)) {
    gp__shim_fresh_fd(fds[0], 0, 0);
    gp__shim_fresh_fd(fds[1], 0, 0);
  }
  return r;
}

GP_EXPORT int pipe(int fds[2])
{
  int r;

  gp__real_init();
  r = gp__real_pipe(fds);
  if (r == 0 && gp__shim_active(GP__PATCH_SOCKET)) {
    gp__shim_fresh_fd(fds[0], 0, 0);
    gp__shim_fresh_fd(fds[1], 0, 0);
  }
  return r;
}

/* fcntl64: what programs built with _FILE_OFFSET_BITS=64 call. */
GP_EXPORT int fcntl64(int fd, int cmd, ...)
{
  va_list ap;
  void *arg;
  va_start(ap, cmd);
  arg = va_arg(ap, void *);
  va_end(ap);
  return fcntl(fd, cmd, arg);
}
