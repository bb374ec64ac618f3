/* cpu_srv.c: a thread-per-connection server whose requests cost CPU — for
 * each 64-byte message received, about WORK_US microseconds of hashing,
 * then the message back. Written the 1999 way, like examples/thread_echo,
 * and built without libgpatch: the benchmark runs it plain and preloaded
 * (scripts/bench-cores). Plain, the kernel spreads its threads over every
 * CPU; patched, GPATCH_CORES schedulers do.
 *
 *   cpu_srv [port [work_us [rounds_per_us]]]
 *     port 0 picks a free port; work_us defaults to 100; rounds_per_us (the
 *     hash rounds that take a microsecond) is measured at start unless
 *     given, so that runs compared give every request the same work.
 *   cpu_srv calibrate   prints the rounds_per_us measured here, and exits.
 * Prints "listening on 127.0.0.1:PORT" once ready. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Hash rounds per microsecond of work, measured at start. */
static uint64_t rounds_per_us;
static unsigned work_us = 100;

static uint64_t hash(uint64_t x, uint64_t rounds)
{
  for (uint64_t i = 0; i < rounds; i++) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 29;
  }
  return x;
}

static uint64_t now_us(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* How many rounds take a microsecond on this CPU (best of a few tries). */
static void calibrate(void)
{
  uint64_t best = 0;
  for (int i = 0; i < 5; i++) {
    uint64_t t0 = now_us(), r = 2000000, t;
    volatile uint64_t sink = hash(t0, r);
    (void)sink;
    t = now_us() - t0;
    if (t > 0 && r / t > best)
      best = r / t;
  }
  rounds_per_us = best ? best : 100;
}

static void *serve(void *arg)
{
  int fd = (int)(intptr_t)arg;
  char buf[64];
  ssize_t n;

  while ((n = recv(fd, buf, sizeof(buf), MSG_WAITALL)) ==
         (ssize_t)sizeof(buf)) {
    uint64_t h = hash((uint64_t)buf[0], rounds_per_us * work_us);
    buf[1] = (char)h;
    if (send(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
      break;
  }
  close(fd);
  return NULL;
}

int main(int argc, char **argv)
{
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t al = sizeof(a);
  pthread_attr_t attr;
  int one = 1, lfd;

  if (argc > 1 && strcmp(argv[1], "calibrate") == 0) {
    calibrate();
    printf("%llu\n", (unsigned long long)rounds_per_us);
    return 0;
  }
  a.sin_port = htons(argc > 1 ? (uint16_t)atoi(argv[1]) : 0);
  if (argc > 2)
    work_us = (unsigned)atoi(argv[2]);
  if (argc > 3)
    rounds_per_us = strtoull(argv[3], NULL, 10);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (rounds_per_us == 0)
    calibrate();
  lfd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(lfd, 4096) != 0) {
    perror("cpu_srv: bind/listen");
    return 1;
  }
  getsockname(lfd, (struct sockaddr *)&a, &al);
  printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
  fflush(stdout);
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (;;) {
    pthread_t t;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      perror("accept");
      continue;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (pthread_create(&t, &attr, serve, (void *)(intptr_t)fd) != 0)
      close(fd);
  }
}
