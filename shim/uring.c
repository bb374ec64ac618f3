/* uring.c: io_uring_enter(2) that waits for completions, made cooperative.
 * liburing makes the call with a syscall instruction of its own, so it
 * reaches the shim only when the runtime routes system calls made outside
 * libc (core/sud.h) — or through syscall(3).
 *
 * The call's submissions go at once; its wait for min_complete
 * completions becomes: ask the kernel whether that many are there (a wait
 * with a zero timeout, IORING_ENTER_EXT_ARG), and if not, park until the
 * ring's fd says a completion arrived (it is pollable: readable while its
 * completion queue is not empty), then ask again. A timeout given with the
 * call is honoured (-ETIME, as the kernel says); its signal mask is not
 * applied. A ring named by its registered index (IORING_ENTER_
 * REGISTERED_RING) has no fd to wait on: that call waits for real. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/syscall.h>

/* The kernel's io_uring_enter, libc-style: -1 and errno on failure. */
static long enter(int fd, unsigned submit, unsigned min, unsigned flags,
                  const void *arg, size_t argsz)
{
  return gp__real_syscall(SYS_io_uring_enter, fd, submit, min, flags, arg,
                          argsz);
}

/* Nonzero when at least min completions are there (the kernel says so
 * without waiting); -1 with errno when it cannot tell (an old kernel). */
static int have(int fd, unsigned min, unsigned flags)
{
  struct __kernel_timespec zero = {0, 0};
  struct io_uring_getevents_arg arg = {.ts = (__u64)(uintptr_t)&zero};
  long r = enter(fd, 0, min,
                 (flags & ~IORING_ENTER_EXT_ARG) | IORING_ENTER_GETEVENTS |
                     IORING_ENTER_EXT_ARG,
                 &arg, sizeof(arg));
  if (r >= 0)
    return 1;
  if (errno == ETIME)
    return 0;
  return -1;
}

int gp__shim_uring_enter(const long a[6], long *ret)
{
  int fd = (int)a[0];
  unsigned submit = (unsigned)a[1], min = (unsigned)a[2];
  unsigned flags = (unsigned)a[3];
  const void *argp = (const void *)a[4];
  uint64_t deadline = GP__NEVER;
  long submitted;

  if (!gp__shim_active(GP__PATCH_SOCKET) || !(flags & IORING_ENTER_GETEVENTS) ||
      min == 0 || (flags & IORING_ENTER_REGISTERED_RING))
    return 0;
  if (flags & IORING_ENTER_EXT_ARG) {
    const struct io_uring_getevents_arg *ga = argp;
    const struct __kernel_timespec *ts;
    if (ga == NULL || (size_t)a[5] != sizeof(*ga))
      return 0; /* the kernel's EINVAL or EFAULT */
    ts = (const void *)(uintptr_t)ga->ts;
    if (ts) {
      struct timespec t = {(time_t)ts->tv_sec, (long)ts->tv_nsec};
      int64_t ns = gp__ts_to_ns(&t);
      if (ns < 0)
        return 0;
      deadline = gp__now() + (uint64_t)ns;
    }
  }
  /* The submissions, without waiting. */
  submitted =
      enter(fd, submit, 0,
            flags & ~(IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG), NULL, 0);
  if (submitted < 0) {
    *ret = -1;
    return 1;
  }
  for (;;) {
    int h = have(fd, min, flags), w;
    if (h < 0)
      return 0; /* no zero-timeout waits here: the kernel waits */
    if (h > 0)
      break;
    w = gp__wait_fd(fd, EPOLLIN, deadline, 1);
    if (w == -ETIMEDOUT) {
      errno = ETIME;
      *ret = -1;
      return 1;
    }
    if (w < 0 && !gp__shim_wait_failed(w, 0, ETIME)) {
      *ret = -1;
      return 1;
    }
  }
  *ret = submitted;
  return 1;
}
