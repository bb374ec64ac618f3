/* time.c: the sleep family. glibc's sleep and usleep call clock_nanosleep
 * through a hidden alias that preloading cannot reach, so each top-level name
 * is interposed on its own.
 *
 * A sleep parks only the calling coroutine. It is interruptible as the
 * system call is: a caught signal ends it with EINTR and the remaining time
 * (these calls never restart, whatever SA_RESTART says). gp_kill and an
 * expired gp_timeout block end it early the same way. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

/* Sleeps ns nanoseconds from now. Returns 0, or -EINTR with *left set to
 * what remained. */
static int nap(int64_t ns, int64_t *left)
{
  uint64_t deadline = gp__now() + (uint64_t)ns;
  int r;

  if (ns == INT64_MAX)
    deadline = GP__NEVER;
  r = gp__sleep_until(deadline, 1);
  if (r == 0)
    return 0;
  if (r == -ECANCELED)
    gp__thread_cancel_point(); /* a cancellation point; else gp_kill */
  if (left) {
    uint64_t now = gp__now();
    *left = deadline > now ? (int64_t)(deadline - now) : 0;
  }
  return -EINTR; /* -EINTR, -ECANCELED, -ETIMEDOUT (gp_timeout) alike */
}

static void ns_to_ts(int64_t ns, struct timespec *ts)
{
  ts->tv_sec = ns / 1000000000;
  ts->tv_nsec = ns % 1000000000;
}

/* nanosleep(2). */
GP_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
  int64_t ns, left = 0;

  if (!gp__shim_active(GP__PATCH_TIME))
    return gp__real_nanosleep(req, rem);
  if (req == NULL) {
    errno = EFAULT;
    return -1;
  }
  if ((ns = gp__ts_to_ns(req)) < 0) {
    errno = EINVAL;
    return -1;
  }
  if (nap(ns, &left) == 0)
    return 0;
  if (rem)
    ns_to_ts(left, rem);
  errno = EINTR;
  return -1;
}

/* clock_nanosleep(2): returns an error number, not -1. Clocks other than
 * the wall and monotonic ones (CPU-time clocks) are left to the kernel. */
GP_EXPORT int clock_nanosleep(clockid_t clock, int flags,
                              const struct timespec *req, struct timespec *rem)
{
  int64_t ns, left = 0;

  if (!gp__shim_active(GP__PATCH_TIME) ||
      (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC &&
       clock != CLOCK_BOOTTIME && clock != CLOCK_TAI))
    return gp__real_clock_nanosleep(clock, flags, req, rem);
  if (req == NULL)
    return EFAULT;
  if ((ns = gp__ts_to_ns(req)) < 0)
    return EINVAL;
  if (flags & TIMER_ABSTIME) {
    /* An absolute time on that clock: how far away it is now. A later jump
     * of the wall clock is not followed (see README, limitations). */
    ns = (int64_t)gp__ns_until(clock, ns);
  }
  if (nap(ns, &left) == 0)
    return 0;
  if (rem && !(flags & TIMER_ABSTIME))
    ns_to_ts(left, rem);
  return EINTR;
}

/* sleep(3): the whole seconds left when interrupted, as glibc counts them
 * (rounded down), with errno EINTR. */
GP_EXPORT unsigned int sleep(unsigned int seconds)
{
  int64_t left = 0;

  if (!gp__shim_active(GP__PATCH_TIME))
    return gp__real_sleep(seconds);
  if (nap((int64_t)seconds * 1000000000, &left) == 0)
    return 0;
  errno = EINTR;
  return (unsigned int)(left / 1000000000);
}

/* usleep(3). */
GP_EXPORT int usleep(useconds_t usec)
{
  if (!gp__shim_active(GP__PATCH_TIME))
    return gp__real_usleep(usec);
  if (nap((int64_t)usec * 1000, NULL) == 0)
    return 0;
  errno = EINTR;
  return -1;
}
