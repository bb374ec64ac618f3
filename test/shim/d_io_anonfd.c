/* d_io_anonfd: blocking reads on fds that are neither sockets nor pipes
 * nor files — an eventfd and a timerfd — wait for their event while other
 * tasks run (patched: one OS thread), and get what plain gets. */
#include "sockutil.h"

#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

static int efd;

static void *poster(void *arg)
{
  uint64_t v = 5;
  (void)arg;
  sleep_ms(60);
  check_threads(1);
  return write(efd, &v, sizeof(v)) == sizeof(v) ? NULL : (void *)1;
}

int main(void)
{
  struct itimerspec its = {.it_value = {0, 80 * 1000000L}};
  struct task t;
  uint64_t v = 0;
  double t0;
  int tfd;

  setvbuf(stdout, NULL, _IOLBF, 0);
  efd = eventfd(0, 0);
  EXPECT("eventfd", efd >= 0);
  SAY("eventfd nonblock %d\n", nonblock_flag(efd));
  spawn(&t, poster, NULL);
  t0 = now_ms();
  CALL("eventfd read waits for the post", read(efd, &v, sizeof(v)));
  SAY("value %llu, waited %d\n", (unsigned long long)v, now_ms() - t0 >= 50);
  EXPECT("poster", join(&t) == NULL);
  CALL("eventfd read with a short buffer", read(efd, &v, 4));
  v = UINT64_MAX;
  CALL("eventfd write of UINT64_MAX", write(efd, &v, sizeof(v)));
  SAY("eventfd nonblock %d\n", nonblock_flag(efd));
  close(efd);

  efd = eventfd(0, EFD_NONBLOCK);
  CALL("non-blocking eventfd read", read(efd, &v, sizeof(v)));
  close(efd);

  tfd = timerfd_create(CLOCK_MONOTONIC, 0);
  EXPECT("timerfd", tfd >= 0);
  EXPECT("arm 80 ms", timerfd_settime(tfd, 0, &its, NULL) == 0);
  efd = eventfd(0, 0);
  spawn(&t, poster, NULL); /* runs meanwhile */
  t0 = now_ms();
  CALL("timerfd read waits for expiry", read(tfd, &v, sizeof(v)));
  SAY("expirations %llu, waited %d\n", (unsigned long long)v,
      now_ms() - t0 >= 70);
  EXPECT("poster", join(&t) == NULL);
  CALL("eventfd has the post", read(efd, &v, sizeof(v)));
  close(tfd);
  close(efd);
  return compat_failures != 0;
}
