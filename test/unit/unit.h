/* unit.h: what every cmocka unit test includes, and helpers for tests that
 * must run something in a child process (crashes, aborts, reports). */
#ifndef GP_TEST_UNIT_H
#define GP_TEST_UNIT_H

#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#ifdef GP_CMOCKA_SUBSET
#include "cmocka_subset.h" /* the aarch64 cross build: see there why */
#else
#include <cmocka.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../include/gpatch.h"

/* RUNNING_ON_VALGRIND, or 0 where valgrind's header is missing (the
 * aarch64 cross build): tests scale down under valgrind. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND 1
#endif
#endif
#ifndef HAVE_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* Nanoseconds on CLOCK_MONOTONIC. */
static inline uint64_t mono_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* What a child process left behind. */
struct child_result {
  int status;     /* as from waitpid */
  char err[8192]; /* what it wrote to stderr, NUL-terminated */
};

/* Runs fn(arg) in a forked child whose stderr is captured; the child exits
 * with fn's return value. Returns 0, or -1 if the fork failed. */
static inline int run_child(int (*fn)(void *), void *arg,
                            struct child_result *res)
{
  int p[2];
  pid_t pid;
  size_t n = 0;
  ssize_t r;

  memset(res, 0, sizeof(*res));
  if (pipe(p) != 0)
    return -1;
  pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    close(p[0]);
    dup2(p[1], 2);
    close(p[1]);
    _exit(fn(arg));
  }
  close(p[1]);
  while (n < sizeof(res->err) - 1 &&
         (r = read(p[0], res->err + n, sizeof(res->err) - 1 - n)) > 0)
    n += (size_t)r;
  close(p[0]);
  waitpid(pid, &res->status, 0);
  return 0;
}

/* Sets self (n bytes) to this binary's path, for children that re-execute
 * it: /proc/self/exe, or argv0 under valgrind (whose /proc/self/exe is
 * valgrind's). */
static inline void unit_self(char *self, size_t n, const char *argv0)
{
  ssize_t k = readlink("/proc/self/exe", self, n - 1);
  if (k <= 0 || RUNNING_ON_VALGRIND)
    snprintf(self, n, "%s", argv0);
  else
    self[k] = '\0';
}

#endif /* GP_TEST_UNIT_H */
