/* sleepers.c: N threads with default attributes each call sleep(1); main
 * joins them all.
 *
 * A plain pthreads program that knows nothing of libgpatch: scripts/
 * bench-threads runs it as it is and under LD_PRELOAD=libgpatch.so. When
 * pthread_create fails (the kernel's thread or memory limits), it stops
 * creating, says why, and joins the threads it has. It prints one line:
 *   threads=N created=C create_error=E wall_s=W create_s=S maxrss_kib=R
 *   os_threads=T
 * wall_s runs from the first create to the last join, create_s to the last
 * create; maxrss_kib is getrusage's peak RSS; os_threads is the process's
 * OS threads (/proc/self/status) once all are created. Figures, not a
 * test: the exit status is nonzero only when no thread could be created.
 *
 *   sleepers [threads]    (default 10000)
 *
 * With --page-cost N it only measures what the machine charges to touch a
 * page for the first time (N fresh pages 320 KiB apart, as stack tops lie)
 * and prints first_touch_us=U: a new thread, plain or coroutine, touches at
 * least one fresh stack page, so N threads cost at least N*U. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *sleeper(void *arg)
{
  sleep(1);
  return arg;
}

/* The process's OS threads, from /proc/self/status, or -1. */
static long os_threads(void)
{
  char line[256];
  long v = -1;
  FILE *f = fopen("/proc/self/status", "re");

  if (f == NULL)
    return -1;
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, "Threads:", 8) == 0) {
      v = strtol(line + 8, NULL, 10);
      break;
    }
  fclose(f);
  return v;
}

/* Microseconds per first touch of a fresh anonymous page, over n pages. */
static int page_cost(long n)
{
  const size_t stride = 320 * 1024;
  char *m = mmap(NULL, (size_t)n * stride, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  double t0;

  if (n <= 0 || m == MAP_FAILED) {
    perror("sleepers: mmap");
    return 1;
  }
  t0 = now_s();
  for (long i = 0; i < n; i++)
    ((volatile char *)m)[(size_t)(i + 1) * stride - 1] = 1;
  printf("first_touch_us=%.2f\n", (now_s() - t0) / (double)n * 1e6);
  munmap(m, (size_t)n * stride);
  return 0;
}

int main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 10000, created = 0, threads;
  const char *why = "none";
  struct rusage ru;
  pthread_t *t;
  double t0, t_created, t_end;

  if (argc > 2 && strcmp(argv[1], "--page-cost") == 0)
    return page_cost(atol(argv[2]));
  if (n <= 0 || (t = calloc((size_t)n, sizeof(*t))) == NULL) {
    fprintf(stderr, "usage: sleepers [threads]\n");
    return 2;
  }
  t0 = now_s();
  for (; created < n; created++) {
    int err = pthread_create(&t[created], NULL, sleeper, NULL);
    if (err != 0) {
      why = err == EAGAIN ? "EAGAIN" : err == ENOMEM ? "ENOMEM" : "other";
      fprintf(stderr, "sleepers: pthread_create #%ld: %s\n", created + 1,
              strerror(err));
      break;
    }
  }
  t_created = now_s();
  threads = os_threads();
  for (long i = 0; i < created; i++)
    pthread_join(t[i], NULL);
  t_end = now_s();
  getrusage(RUSAGE_SELF, &ru);
  printf("threads=%ld created=%ld create_error=%s wall_s=%.3f create_s=%.3f "
         "maxrss_kib=%ld os_threads=%ld\n",
         n, created, why, t_end - t0, t_created - t0, ru.ru_maxrss, threads);
  free(t);
  return created > 0 ? 0 : 1;
}
