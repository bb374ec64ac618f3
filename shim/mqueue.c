/* mqueue.c: POSIX message queues. A queue's descriptor is an fd the kernel
 * polls (readable: a message is there; writable: there is room), so a
 * thread that is a coroutine waits on it as on a socket, and its
 * scheduler's other coroutines run meanwhile; glibc's calls waited in the
 * kernel, holding the OS thread. Each try asks the kernel with a deadline
 * already past, which takes a message (or room) that is there and says
 * ETIMEDOUT instead of waiting; a queue opened O_NONBLOCK says EAGAIN as
 * it would. The timed calls' own deadline is checked first (EFAULT,
 * EINVAL), as the kernel checks it before anything else. mq_open and
 * mq_close make and close an fd as open and close do, so they go through
 * the shim's records: glibc's close the fd with its own close, and the
 * next queue given that number was waited on through the old one's
 * registration, for good. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdarg.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <time.h>

GP_EXPORT mqd_t mq_open(const char *name, int flags, ...)
{
  mode_t mode = 0;
  struct mq_attr *attr = NULL;
  mqd_t mq;

  if (flags & O_CREAT) {
    va_list ap;
    va_start(ap, flags);
    mode = va_arg(ap, mode_t);
    attr = va_arg(ap, struct mq_attr *);
    va_end(ap);
  }
  gp__real_init();
  mq = gp__real_mq_open(name, flags, mode, attr);
  if (mq >= 0 && gp__shim_active(GP__PATCH_SOCKET))
    gp__shim_fresh_fd(mq, 0, 0);
  return mq;
}

GP_EXPORT int mq_close(mqd_t mq)
{
  return close(mq); /* glibc's is the close system call */
}

/* The epoch: a deadline that has passed. */
static const struct timespec past;

/* The deadline of a timed call (GP__NEVER for none), or -1 with errno set
 * for a bad one. */
static int deadline_of(const struct timespec *abs, uint64_t *deadline)
{
  struct timespec ts;
  int64_t t;

  *deadline = GP__NEVER;
  if (abs == NULL)
    return 0;
  if (gp__shim_copy_in(&ts, abs, sizeof(ts)) != 0)
    return -1; /* EFAULT */
  if ((t = gp__ts_to_ns(&ts)) < 0) {
    errno = EINVAL;
    return -1;
  }
  *deadline = gp__now() + gp__ns_until(CLOCK_REALTIME, t);
  return 0;
}

/* Parks until mq is ready for out (a send) or not, or the deadline.
 * Returns 1 to try again, else 0 with errno set. */
static int wait_queue(mqd_t mq, int out, uint64_t deadline)
{
  int w = gp__wait_fd(mq, out ? EPOLLOUT : EPOLLIN, deadline, 1);
  if (w >= 0)
    return 1;
  /* restarted with SA_RESTART, as the kernel restarts these calls */
  return gp__shim_wait_failed(w, 0, ETIMEDOUT);
}

static ssize_t queue_receive(mqd_t mq, char *buf, size_t len, unsigned *prio,
                             const struct timespec *abs)
{
  uint64_t deadline;
  ssize_t r;

  gp__real_init();
  if (!gp__shim_parks(GP__PATCH_SOCKET))
    return gp__real_mq_timedreceive(mq, buf, len, prio, abs);
  gp__thread_cancel_point(); /* a cancellation point, as glibc's */
  if (deadline_of(abs, &deadline) < 0)
    return -1;
  do {
    r = gp__real_mq_timedreceive(mq, buf, len, prio, &past);
    if (r >= 0 || errno != ETIMEDOUT)
      return r;
  } while (wait_queue(mq, 0, deadline));
  return -1;
}

static int queue_send(mqd_t mq, const char *buf, size_t len, unsigned prio,
                      const struct timespec *abs)
{
  uint64_t deadline;
  int r;

  gp__real_init();
  if (!gp__shim_parks(GP__PATCH_SOCKET))
    return gp__real_mq_timedsend(mq, buf, len, prio, abs);
  gp__thread_cancel_point();
  if (deadline_of(abs, &deadline) < 0)
    return -1;
  do {
    r = gp__real_mq_timedsend(mq, buf, len, prio, &past);
    if (r >= 0 || errno != ETIMEDOUT)
      return r;
  } while (wait_queue(mq, 1, deadline));
  return -1;
}

GP_EXPORT ssize_t mq_receive(mqd_t mq, char *buf, size_t len, unsigned *prio)
{
  return queue_receive(mq, buf, len, prio, NULL);
}

GP_EXPORT ssize_t mq_timedreceive(mqd_t mq, char *buf, size_t len,
                                  unsigned *prio, const struct timespec *abs)
{
  __asm__("" : "+r"(abs)); /* declared nonnull, yet NULL is no deadline */
  return queue_receive(mq, buf, len, prio, abs);
}

GP_EXPORT int mq_send(mqd_t mq, const char *buf, size_t len, unsigned prio)
{
  return queue_send(mq, buf, len, prio, NULL);
}

GP_EXPORT int mq_timedsend(mqd_t mq, const char *buf, size_t len, unsigned prio,
                           const struct timespec *abs)
{
  __asm__("" : "+r"(abs));
  return queue_send(mq, buf, len, prio, abs);
}
