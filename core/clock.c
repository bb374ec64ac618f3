/* clock.c: the runtime's clock and time conversions. */
#define _GNU_SOURCE
#include "clock.h"

uint64_t gp__deadline_ms(int64_t ms)
{
  if (ms < 0)
    return GP__NEVER;
  return gp__now() + (uint64_t)ms * 1000000u;
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
