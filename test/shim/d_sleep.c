/* d_sleep: nanosleep, usleep, sleep and clock_nanosleep (relative and
 * TIMER_ABSTIME) never return early; concurrent sleepers finish in the
 * order of their deadlines; bad arguments fail as plain. */
#include "compat.h"

#include <time.h>

static int order[3], done;

struct nap {
  int id;
  long ms;
};

static void *sleeper(void *arg)
{
  struct nap *n = arg;
  struct timespec ts = {n->ms / 1000, n->ms % 1000 * 1000000L};
  if (nanosleep(&ts, NULL) != 0)
    return (void *)1;
  order[__atomic_fetch_add(&done, 1, __ATOMIC_SEQ_CST)] = n->id;
  return NULL;
}

static double since(double t0)
{
  return now_ms() - t0;
}

int main(void)
{
  struct timespec ts, rem, abs;
  double t0;
  int r;

  setvbuf(stdout, NULL, _IOLBF, 0);

  ts = (struct timespec){0, 100000000};
  rem = (struct timespec){7, 7};
  t0 = now_ms();
  r = nanosleep(&ts, &rem);
  EXPECT("nanosleep 100 ms", r == 0 && since(t0) >= 99.5);
  SAY("rem untouched on success: %ld %ld\n", (long)rem.tv_sec,
      (long)rem.tv_nsec);
  t0 = now_ms();
  r = usleep(100000);
  EXPECT("usleep 100000", r == 0 && since(t0) >= 99.5);
  t0 = now_ms();
  errno = 1234;
  r = (int)sleep(1);
  EXPECT("sleep 1", r == 0 && since(t0) >= 999.5);
  SAY("sleep keeps errno: %d\n", errno);
  t0 = now_ms();
  r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
  EXPECT("clock_nanosleep monotonic relative", r == 0 && since(t0) >= 99.5);
  t0 = now_ms();
  r = clock_nanosleep(CLOCK_REALTIME, 0, &ts, NULL);
  EXPECT("clock_nanosleep realtime relative", r == 0 && since(t0) >= 99.5);

  clock_gettime(CLOCK_MONOTONIC, &abs);
  abs.tv_nsec += 150000000;
  if (abs.tv_nsec >= 1000000000) {
    abs.tv_sec++;
    abs.tv_nsec -= 1000000000;
  }
  r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
  clock_gettime(CLOCK_MONOTONIC, &ts);
  EXPECT("clock_nanosleep monotonic absolute",
         r == 0 && (ts.tv_sec > abs.tv_sec ||
                    (ts.tv_sec == abs.tv_sec && ts.tv_nsec >= abs.tv_nsec)));
  clock_gettime(CLOCK_REALTIME, &abs);
  abs.tv_sec += 1;
  r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &abs, NULL);
  clock_gettime(CLOCK_REALTIME, &ts);
  EXPECT("clock_nanosleep realtime absolute",
         r == 0 && (ts.tv_sec > abs.tv_sec ||
                    (ts.tv_sec == abs.tv_sec && ts.tv_nsec >= abs.tv_nsec)));
  abs = (struct timespec){0, 5}; /* long past */
  t0 = now_ms();
  r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL);
  EXPECT("absolute time in the past returns at once", r == 0 && since(t0) < 50);

  ts = (struct timespec){0, 0};
  EXPECT("nanosleep 0", nanosleep(&ts, NULL) == 0);
  EXPECT("usleep 0", usleep(0) == 0);
  EXPECT("sleep 0", sleep(0) == 0);

  /* Two tasks sleeping 300 and 100 ms (and main 200): 100 first. */
  {
    struct nap a = {1, 300}, b = {2, 100};
    struct task ta, tb;
    t0 = now_ms();
    spawn(&ta, sleeper, &a);
    spawn(&tb, sleeper, &b);
    sleep_ms(200);
    check_threads(1);
    order[__atomic_fetch_add(&done, 1, __ATOMIC_SEQ_CST)] = 3;
    EXPECT("sleeper 300", join(&ta) == NULL);
    EXPECT("sleeper 100", join(&tb) == NULL);
    SAY("finish order: %d %d %d\n", order[0], order[1], order[2]);
    EXPECT("all in 300 ms, not 600", since(t0) >= 299.5 && since(t0) < 550);
  }

  /* Bad arguments. */
  {
    const struct timespec *volatile nul = NULL;
    ts = (struct timespec){0, 1000000000};
    errno = 0;
    r = nanosleep(&ts, NULL);
    SAY("nanosleep tv_nsec=1e9: r=%d errno %d\n", r, errno);
    ts = (struct timespec){0, -1};
    errno = 0;
    r = nanosleep(&ts, NULL);
    SAY("nanosleep tv_nsec=-1: r=%d errno %d\n", r, errno);
    ts = (struct timespec){-1, 0};
    errno = 0;
    r = nanosleep(&ts, NULL);
    SAY("nanosleep tv_sec=-1: r=%d errno %d\n", r, errno);
    errno = 0;
    r = nanosleep(nul, NULL);
    SAY("nanosleep NULL: r=%d errno %d\n", r, errno);
    ts = (struct timespec){0, 1000000000};
    errno = 0;
    r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    SAY("clock_nanosleep tv_nsec=1e9: r=%d errno %d\n", r, errno);
    ts = (struct timespec){-1, 0};
    r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
    SAY("clock_nanosleep tv_sec=-1: r=%d\n", r);
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    SAY("clock_nanosleep abs tv_sec=-1: r=%d\n", r);
    ts = (struct timespec){0, 1000000};
    errno = 0;
    r = clock_nanosleep((clockid_t)12345, 0, &ts, NULL);
    SAY("clock_nanosleep bad clock: r=%d errno %d\n", r, errno);
    r = clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &ts, NULL);
    SAY("clock_nanosleep thread cpu clock: r=%d\n", r);
    errno = 0;
    r = clock_nanosleep(CLOCK_MONOTONIC, 0, nul, NULL);
    SAY("clock_nanosleep NULL: r=%d errno %d\n", r, errno);
    errno = 0;
    r = usleep(1000000);
    SAY("usleep 1000000: r=%d errno %d\n", r, errno);
  }
  return compat_failures != 0;
}
