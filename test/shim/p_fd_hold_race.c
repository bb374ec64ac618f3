/* p_fd_hold_race: while the runtime makes a scheduler (libuv's loop, whose
 * fds it takes above a floor of 256), the program's other threads open and
 * close fds up there too, and every one of their closes succeeds. The
 * runtime took every fd that appeared above the floor while it made a
 * scheduler for its own, so a close of one of the program's by the
 * program failed with EBADF: Chromium (hundreds of fds, a scheduler per
 * thread with GPATCH_PATCH=-thread) stopped at a CHECK on close.
 *
 * With GPATCH_PATCH=-thread (the program re-runs itself so), each real
 * thread gets a scheduler at its first patched call: 50 such threads start
 * (each keeps its scheduler: 64 at most) one after another while 3 others open
 * /dev/null and close it, each keeping 8 open at a time, with the numbers below
 * 300 already taken. */
#include "compat.h"

#include <sys/resource.h>

static volatile int stop;
static int bad[3], opened[3];

/* Keeps 8 fds open at a time: each new one replaces the oldest. */
static void *churn(void *arg)
{
  int i = (int)(intptr_t)arg, ring[8], k = 0;

  for (int j = 0; j < 8; j++)
    ring[j] = -1;
  while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    opened[i]++;
    if (ring[k] >= 0 && close(ring[k]) != 0)
      bad[i]++;
    ring[k] = fd;
    k = (k + 1) % 8;
  }
  for (int j = 0; j < 8; j++)
    if (ring[j] >= 0 && close(ring[j]) != 0)
      bad[i]++;
  return NULL;
}

static void *scheduled(void *arg)
{
  (void)arg;
  sleep_ms(1); /* a patched call: the thread's scheduler is made */
  return NULL;
}

int main(int argc, char **argv)
{
  struct rlimit rl;
  pthread_t c[3], t;
  int fd, all_bad = 0, all_opened = 0;

  (void)argc;
  if (getenv("GPATCH_PATCH") == NULL) {
    return rerun_with("GPATCH_PATCH", "-thread", argv);
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 2048 &&
      rl.rlim_max >= 2048) {
    rl.rlim_cur = 2048;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  do
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  while (fd >= 0 && fd < 300);
  EXPECT("the numbers below 300 are taken", fd >= 300);
  for (int i = 0; i < 3; i++)
    pthread_create(&c[i], NULL, churn, (void *)(intptr_t)i);
  for (int i = 0; i < 50; i++) {
    if (pthread_create(&t, NULL, scheduled, NULL) == 0)
      pthread_join(t, NULL);
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < 3; i++) {
    pthread_join(c[i], NULL);
    all_bad += bad[i];
    all_opened += opened[i];
  }
  printf("%d opened, %d closes failed\n", all_opened, all_bad);
  EXPECT("the other threads opened fds meanwhile", all_opened > 0);
  EXPECT("every close of the program's fds succeeded", all_bad == 0);
  return compat_failures != 0;
}
