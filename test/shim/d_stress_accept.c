/* d_stress_accept: a pre-spawned pool of 64 threads blocked in accept on
 * one listener, and 10,000 short connections from 8 client threads (each
 * sends a byte and reads it back). Every connection is served exactly
 * once and none is lost; then one connection per acceptor says "quit".
 * Patched, it runs with GPATCH_PREEMPT_MS=1. */
#include "sockutil.h"

#define ACCEPTORS 64
#define CLIENTS   8
#define CONNS     10000

static int lfd;
static struct sockaddr_in addr;
static long served, failures;

static void *acceptor(void *arg)
{
  for (;;) {
    char c;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
      continue;
    }
    if (read(fd, &c, 1) != 1 || write(fd, &c, 1) != 1)
      __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
    close(fd);
    if (c == 'q')
      return arg;
    __atomic_fetch_add(&served, 1, __ATOMIC_RELAXED);
  }
}

/* One connection: sends c, reads it back. Returns 0 or -1. */
static int talk(char c)
{
  char r = 0;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int ok = fd >= 0 &&
           connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
           write(fd, &c, 1) == 1 && read(fd, &r, 1) == 1 && r == c;
  if (fd >= 0)
    close(fd);
  return ok ? 0 : -1;
}

static void *client(void *arg)
{
  for (int i = 0; i < CONNS / CLIENTS; i++)
    if (talk('x') != 0)
      __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
  return arg;
}

int main(int argc, char **argv)
{
  pthread_t a[ACCEPTORS], c[CLIENTS];

  /* Patched, with the runtime's preemption signal every millisecond that a
   * thread runs: an accept said EINTR when it came as the shim's look at
   * the listener began. */
  (void)argc;
  if (patched() && getenv("GPATCH_PREEMPT_MS") == NULL) {
    return rerun_with("GPATCH_PREEMPT_MS", "1", argv);
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  lfd = tcp_listener(&addr, 0, 4096);
  if (lfd < 0)
    return 1;
  for (int i = 0; i < ACCEPTORS; i++)
    pthread_create(&a[i], NULL, acceptor, NULL);
  for (int i = 0; i < CLIENTS; i++)
    pthread_create(&c[i], NULL, client, NULL);
  for (int i = 0; i < CLIENTS; i++)
    pthread_join(c[i], NULL);
  for (int i = 0; i < ACCEPTORS; i++)
    if (talk('q') != 0)
      __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
  for (int i = 0; i < ACCEPTORS; i++)
    pthread_join(a[i], NULL);
  SAY("served %ld of %d, %ld failures, %d acceptors ended\n", served, CONNS,
      failures, ACCEPTORS);
  return 0;
}
