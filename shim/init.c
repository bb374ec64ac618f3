/* init.c: which threads the shim patches. The process's main thread is the
 * application's; so are threads the application creates through the thread
 * shim. Everything else — libuv's threadpool, the blocking monitor, threads
 * made before the library loaded — passes straight through. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>

#include <unistd.h>

int gp__shim_adopt(unsigned family)
{
  if (gp__tls.foreign)
    return 0;
  gp__runtime_init();
  if (!gp__tls.app && gettid() != getpid()) {
    gp__tls.foreign = 1;
    return 0;
  }
  if ((gp__config.patch & family) == 0)
    return 0;
  return gp__sched_get() != NULL;
}

int64_t gp__ts_to_ns(const struct timespec *ts)
{
  if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
    return -1;
  if (ts->tv_sec > INT64_MAX / 1000000000 - 1)
    return INT64_MAX;
  return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

uint64_t gp__ns_until(clockid_t clock, int64_t abs_ns)
{
  struct timespec now;
  int64_t n;
  clock_gettime(clock, &now);
  n = gp__ts_to_ns(&now);
  return abs_ns > n ? (uint64_t)(abs_ns - n) : 0;
}

uint64_t gp__tv_to_ns(const struct timeval *tv)
{
  if (tv->tv_sec < 0 || tv->tv_usec < 0)
    return 0;
  return (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u;
}

/* At exit, once the program's own destructors have run (ours run after
 * theirs, and before libuv's): from here on every call passes through.
 * libuv's destructor joins its threadpool with real locks its threads
 * share, so it must not meet the emulated ones. */
__attribute__((destructor)) static void shim_fini(void)
{
  gp__tls.depth++;
}

int gp__shim_wait_failed(int w, uint64_t timeo, int timeout_errno)
{
  switch (w) {
  case -EINTR:
    if (timeo == 0 && gp__signal_restarts())
      return 1;
    errno = EINTR;
    return 0;
  case -ECANCELED:
    gp__thread_cancel_point(); /* pthread_cancel: the thread ends here */
    errno = EINTR;             /* gp_kill: the call is interrupted */
    return 0;
  case -ETIMEDOUT:
    /* The fd's own timeout, or a gp_timeout block. */
    errno = gp__tls.sched->current->block_expired ? ETIMEDOUT : timeout_errno;
    return 0;
  default:
    errno = -w;
    return 0;
  }
}
