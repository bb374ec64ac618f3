/* clock.h: time as the runtime counts it — nanoseconds on CLOCK_MONOTONIC,
 * absolute deadlines — and conversions from the forms libc calls take. */
#ifndef GP_CLOCK_H
#define GP_CLOCK_H

#include <stdint.h>
#include <sys/time.h>
#include <time.h>

/* A deadline that never comes. */
#define GP__NEVER UINT64_MAX

/* Nanoseconds on CLOCK_MONOTONIC (what libuv's uv_hrtime reads; inline,
 * since every wait and time slice asks). */
static inline uint64_t gp__now(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The deadline ms milliseconds from now (negative: GP__NEVER). */
uint64_t gp__deadline_ms(int64_t ms);

/* Converts a timespec to nanoseconds, saturating. Returns -1 if it is not a
 * valid duration (negative, or tv_nsec out of range). */
int64_t gp__ts_to_ns(const struct timespec *ts);

/* Nanoseconds from now until abs_ns (gp__ts_to_ns of a time on clock), 0
 * once it has passed. */
uint64_t gp__ns_until(clockid_t clock, int64_t abs_ns);

/* Converts a timeval to nanoseconds (0 stays 0: no timeout; a negative
 * field gives 0). */
uint64_t gp__tv_to_ns(const struct timeval *tv);

#endif /* GP_CLOCK_H */
