/* shim.h: what every interposer needs — the test that decides between the
 * cooperative path and the plain libc call. */
#ifndef GP_SHIM_H
#define GP_SHIM_H

#include "../core/config.h"
#include "../core/real.h"
#include "../core/runtime.h"

/* Decides, once per thread, whether this thread runs application code that
 * should be patched. Returns 1 (and makes the scheduler) or 0. */
int gp__shim_adopt(unsigned family);

/* Nonzero when the caller is an application coroutine on a scheduler's
 * thread, the runtime is not itself running, and family is patched. Every
 * interposer starts with this test and, when it fails, makes the real call
 * untouched. */
static inline int gp__shim_active(unsigned family)
{
  if (gp__tls.depth)
    return 0;
  if (gp__tls.sched)
    return (gp__config.patch & family) != 0;
  return gp__shim_adopt(family);
}

/* Converts a timespec to nanoseconds, saturating. Returns -1 if it is not a
 * valid duration (negative, or tv_nsec out of range). */
int64_t gp__ts_to_ns(const struct timespec *ts);

#endif /* GP_SHIM_H */
