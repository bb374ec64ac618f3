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
 *   sleepers [threads]    (default 10000) */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 10000, created = 0, threads;
  const char *why = "none";
  struct rusage ru;
  pthread_t *t;
  double t0, t_created, t_end;

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
