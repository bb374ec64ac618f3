/* cmocka_subset.h: the part of cmocka that test_switch.c uses, for the
 * aarch64 cross build alone (scripts/aarch64-check compiles with
 * -DGP_CMOCKA_SUBSET; every native build uses the real cmocka).
 *
 * Why it exists: Debian ships no cross-built cmocka (there is no
 * libcmocka-dev-arm64-cross), and the arm64 package, libcmocka-dev:arm64,
 * can only be installed through multiarch, that is after
 * `dpkg --add-architecture arm64`: a change to the machine's package
 * architectures that `make check` has no business making. With this header
 * the cross test needs only the cross compiler, its C library and qemu.
 *
 * What it implements, and nothing more: cmocka_unit_test,
 * cmocka_run_group_tests, assert_int_equal, assert_ptr_equal, assert_true
 * and skip. The output has cmocka's format ([ RUN ], [ OK ], [ SKIPPED ],
 * [ FAILED ], [ PASSED ] n test(s), the failed and skipped lists), on the
 * same streams, and cmocka_run_group_tests returns the number of failed
 * tests, as cmocka's does. A failed assertion or a skip longjmps back to
 * the runner, so (as with cmocka) assertions belong on the thread's own
 * stack. */
#ifndef GP_TEST_CMOCKA_SUBSET_H
#define GP_TEST_CMOCKA_SUBSET_H

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>

/* A test, as cmocka declares one. */
typedef void (*CMUnitTestFunction)(void **state);
/* A group's setup or teardown; returns 0 on success. */
typedef int (*CMFixtureFunction)(void **state);

/* One entry of a group. */
struct CMUnitTest {
  const char *name;             /* printed in the [ RUN ] lines */
  CMUnitTestFunction test_func; /* the test itself */
};

#define cmocka_unit_test(f)                                                    \
  {                                                                            \
    .name = #f, .test_func = f                                                 \
  }

/* How the running test ended when it longjmps back: failed or skipped. */
enum { CM_RUNNING, CM_FAILED, CM_SKIPPED };

/* The runner's state: where a failure or a skip jumps back to, and why. */
static jmp_buf cm_jmp __attribute__((unused));
static int cm_end __attribute__((unused));

/* Ends the running test as failed, after cmocka's two error lines. */
__attribute__((noreturn, unused)) static void
cm_fail(const char *what, const char *file, int line)
{
  fprintf(stderr, "[  ERROR   ] --- %s\n", what);
  fprintf(stderr, "[   LINE   ] --- %s:%d: error: Failure!\n", file, line);
  cm_end = CM_FAILED;
  longjmp(cm_jmp, 1);
}

/* Fails the running test unless a == b (printed in hex, as cmocka does). */
static inline void cm_equal(uintmax_t a, uintmax_t b, const char *file,
                            int line)
{
  char what[80];
  if (a == b)
    return;
  snprintf(what, sizeof(what), "%#jx != %#jx", a, b);
  cm_fail(what, file, line);
}

#define assert_int_equal(a, b)                                                 \
  cm_equal((uintmax_t)(a), (uintmax_t)(b), __FILE__, __LINE__)
#define assert_ptr_equal(a, b)                                                 \
  cm_equal((uintmax_t)(uintptr_t)(a), (uintmax_t)(uintptr_t)(b), __FILE__,     \
           __LINE__)
#define assert_true(c) ((c) ? (void)0 : cm_fail(#c, __FILE__, __LINE__))
#define skip()                                                                 \
  do {                                                                         \
    cm_end = CM_SKIPPED;                                                       \
    longjmp(cm_jmp, 1);                                                        \
  } while (0)

/* Prints a summary list ("[  FAILED  ] 2 test(s), listed below:" and the
 * names) of the tests whose outcome is `want`. */
static inline void cm_list(const struct CMUnitTest *t, const int *end, size_t n,
                           int want, const char *tag, const char *word)
{
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    count += end[i] == want;
  if (count == 0)
    return;
  fprintf(stderr, "[%s] %zu test(s), listed below:\n", tag, count);
  for (size_t i = 0; i < n; i++)
    if (end[i] == want)
      fprintf(stderr, "[%s] %s\n", tag, t[i].name);
  fprintf(stderr, "\n %zu %s TEST(S)\n", count, word);
}

/* Runs one test. Returns CM_RUNNING if it passed, else how it ended. */
static inline int cm_one(const struct CMUnitTest *t, void **state)
{
  printf("[ RUN      ] %s\n", t->name);
  fflush(stdout);
  cm_end = CM_RUNNING;
  if (setjmp(cm_jmp) == 0)
    t->test_func(state);
  printf("[%s] %s\n",
         cm_end == CM_FAILED    ? "  FAILED  "
         : cm_end == CM_SKIPPED ? "  SKIPPED "
                                : "       OK ",
         t->name);
  fflush(stdout);
  return cm_end;
}

/* Runs every test of the group in order. Returns the number that failed
 * (a failing setup fails them all). */
static inline int cm_run(const struct CMUnitTest *t, size_t n,
                         CMFixtureFunction setup, CMFixtureFunction teardown)
{
  int end[n > 0 ? n : 1];
  void *state = NULL;
  size_t failed = 0, passed = 0;

  printf("[==========] Running %zu test(s).\n", n);
  if (setup && setup(&state) != 0) {
    fprintf(stderr, "[  ERROR   ] --- group setup failed\n");
    return (int)n;
  }
  for (size_t i = 0; i < n; i++) {
    end[i] = cm_one(&t[i], &state);
    failed += end[i] == CM_FAILED;
    passed += end[i] == CM_RUNNING;
  }
  if (teardown)
    teardown(&state);
  printf("[==========] %zu test(s) run.\n", n);
  fflush(stdout);
  fprintf(stderr, "[  PASSED  ] %zu test(s).\n", passed);
  cm_list(t, end, n, CM_SKIPPED, "  SKIPPED ", "SKIPPED");
  cm_list(t, end, n, CM_FAILED, "  FAILED  ", "FAILED");
  return (int)failed;
}

#define cmocka_run_group_tests(tests, setup, teardown)                         \
  cm_run((tests), sizeof(tests) / sizeof((tests)[0]), (setup), (teardown))

#endif /* GP_TEST_CMOCKA_SUBSET_H */
