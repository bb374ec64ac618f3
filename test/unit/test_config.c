/* test_config.c: parsing the GPATCH_* variables — sizes, patch lists — and
 * gp__config_init's handling of bad values (named on stderr, default kept),
 * values that parse but cannot work (refused with the reason), and how a
 * rejected value is echoed (bounded, control characters escaped).
 * gp__config_init runs in child processes only: it reads the environment
 * once per process. Secure-execution mode (AT_SECURE) is not tested: it
 * needs a set-uid binary. */
#include "unit.h"

#include "config.h"
#include "msg.h"

static void test_parse_size(void **state)
{
  size_t v;

  v = 1;
  assert_int_equal(gp__config_parse_size("256K", &v), 0);
  assert_int_equal(v, 256 * 1024);
  assert_int_equal(gp__config_parse_size("256k", &v), 0);
  assert_int_equal(v, 256 * 1024);
  assert_int_equal(gp__config_parse_size("8M", &v), 0);
  assert_int_equal(v, 8 * 1024 * 1024);
  assert_int_equal(gp__config_parse_size("1G", &v), 0);
  assert_int_equal(v, 1024 * 1024 * 1024);
  assert_int_equal(gp__config_parse_size("4096", &v), 0);
  assert_int_equal(v, 4096);
  assert_int_equal(gp__config_parse_size("64KB", &v), 0);
  assert_int_equal(v, 64 * 1024);
  assert_int_equal(gp__config_parse_size("1024G", &v), 0); /* the limit */
  assert_int_equal(v, 1ULL << 40);

  /* Bad: nothing is stored. */
  const char *bad[] = {"", "abc", "12Q", "0", "0K", "-1", " 8M", "8M ", "8MM",
                       "K", "99999999999999999999", "2048G",
                       /* (2^34 + 1) << 30 wraps around to 1G */
                       "17179869185G", "18014398509481985K"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    v = 12345;
    if (gp__config_parse_size(bad[i], &v) != -EINVAL)
      fail_msg("\"%s\" was accepted", bad[i]);
    assert_int_equal(v, 12345);
  }
  assert_int_equal(gp__config_parse_size(NULL, &v), -EINVAL);
}

static void test_parse_patch(void **state)
{
  unsigned v;

  assert_int_equal(gp__config_parse_patch("all", &v), 0);
  assert_int_equal(v, GP__PATCH_ALL);
  assert_int_equal(gp__config_parse_patch("none", &v), 0);
  assert_int_equal(v, 0);
  assert_int_equal(gp__config_parse_patch("socket,time", &v), 0);
  assert_int_equal(v, GP__PATCH_SOCKET | GP__PATCH_TIME);
  assert_int_equal(gp__config_parse_patch("dns", &v), 0);
  assert_int_equal(v, GP__PATCH_DNS);
  assert_int_equal(gp__config_parse_patch("-thread", &v), 0);
  assert_int_equal(v, GP__PATCH_ALL & ~GP__PATCH_THREAD);
  assert_true(v & GP__PATCH_SOCKET);
  assert_false(v & GP__PATCH_THREAD);
  assert_int_equal(gp__config_parse_patch("-thread,-process", &v), 0);
  assert_int_equal(v, GP__PATCH_ALL & ~(GP__PATCH_THREAD | GP__PATCH_PROCESS));
  assert_int_equal(gp__config_parse_patch("all,-signal", &v), 0);
  assert_int_equal(v, GP__PATCH_ALL & ~GP__PATCH_SIGNAL);

  const char *bad[] = {"bogus", "", "socket,bogus", "-", ",", "Socket"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    v = 77;
    if (gp__config_parse_patch(bad[i], &v) != -EINVAL)
      fail_msg("\"%s\" was accepted", bad[i]);
    assert_int_equal(v, 77);
  }
  assert_int_equal(gp__config_parse_patch(NULL, &v), -EINVAL);
}

/* Sets the variables in the NULL-terminated name/value list kv, after
 * removing any the test's own environment had. */
static void set_env(const char *const *kv)
{
  static const char *const all[] = {
      "GPATCH_STACK_SIZE",      "GPATCH_PATCH",         "GPATCH_CONTEXT",
      "GPATCH_MAX_BLOCKING_MS", "GPATCH_ON_DEADLOCK",   "GPATCH_DEBUG",
      "GPATCH_THREADPOOL",      "GPATCH_NO_MADV_GUARD", "GPATCH_TLS"};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
    unsetenv(all[i]);
  for (; kv[0]; kv += 2)
    setenv(kv[0], kv[1], 1);
}

/* Bad values: each is reported and the defaults stand. Exit status 0 when
 * the configuration is the default, else a code saying what differed. */
static int init_bad(void *arg)
{
  static const char *const kv[] = {"GPATCH_STACK_SIZE",
                                   "abc",
                                   "GPATCH_CONTEXT",
                                   "foo",
                                   "GPATCH_ON_DEADLOCK",
                                   "maybe",
                                   "GPATCH_PATCH",
                                   "bogus",
                                   "GPATCH_THREADPOOL",
                                   "0",
                                   "GPATCH_TLS",
                                   "threads",
                                   NULL};
  set_env(kv);
  errno = EXDEV;
  gp__config_init();
  if (errno != EXDEV)
    return 9; /* it must not touch errno */
  if (gp__config.stack_size != gp__config_default_stack())
    return 10;
  if (gp__config.use_ucontext != 0)
    return 11;
  if (gp__config.on_deadlock != GP__DEADLOCK_ABORT)
    return 12;
  if (gp__config.patch != GP__PATCH_ALL)
    return 13;
  if (gp__config.threadpool != 0)
    return 14;
  if (gp__config.tls != GP__TLS_AUTO)
    return 15;
  return 0;
}

static void test_init_bad_values(void **state)
{
  struct child_result res;

  assert_int_equal(run_child(init_bad, NULL, &res), 0);
  if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
    fail_msg("child status 0x%x, stderr:\n%s", res.status, res.err);
  assert_non_null(strstr(res.err, "GPATCH_STACK_SIZE=\"abc\""));
  assert_non_null(strstr(res.err, "GPATCH_CONTEXT=\"foo\""));
  assert_non_null(strstr(res.err, "GPATCH_ON_DEADLOCK=\"maybe\""));
  assert_non_null(strstr(res.err, "GPATCH_PATCH=\"bogus\""));
  assert_non_null(strstr(res.err, "GPATCH_THREADPOOL=\"0\""));
  assert_non_null(strstr(res.err, "GPATCH_TLS=\"threads\""));
  assert_non_null(strstr(res.err, "using the default"));
}

/* Values that only begin like good ones are bad too. */
static int init_near_miss(void *arg)
{
  static const char *const kv[] = {"GPATCH_ON_DEADLOCK", "hang2",
                                   "GPATCH_CONTEXT", "ucontext ", NULL};
  set_env(kv);
  gp__config_init();
  if (gp__config.on_deadlock != GP__DEADLOCK_ABORT)
    return 10;
  if (gp__config.use_ucontext != 0)
    return 11;
  return 0;
}

static void test_init_near_miss(void **state)
{
  struct child_result res;

  assert_int_equal(run_child(init_near_miss, NULL, &res), 0);
  if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
    fail_msg("child status 0x%x, stderr:\n%s", res.status, res.err);
  assert_non_null(strstr(res.err, "GPATCH_ON_DEADLOCK=\"hang2\""));
  assert_non_null(strstr(res.err, "GPATCH_CONTEXT=\"ucontext \""));
}

/* A stack size that parses but is too small is bad too. */
static int init_small_stack(void *arg)
{
  static const char *const kv[] = {"GPATCH_STACK_SIZE", "4K", NULL};
  set_env(kv);
  gp__config_init();
  return gp__config.stack_size == gp__config_default_stack() ? 0 : 10;
}

static void test_init_small_stack(void **state)
{
  struct child_result res;

  assert_int_equal(run_child(init_small_stack, NULL, &res), 0);
  assert_true(WIFEXITED(res.status));
  assert_int_equal(WEXITSTATUS(res.status), 0);
  assert_non_null(strstr(res.err, "GPATCH_STACK_SIZE=\"4K\""));
}

/* Good values are taken, silently, and read once: later changes to the
 * environment do not count. */
static int init_good(void *arg)
{
  static const char *const kv[] = {"GPATCH_STACK_SIZE",
                                   "1M",
                                   "GPATCH_CONTEXT",
                                   "ucontext",
                                   "GPATCH_ON_DEADLOCK",
                                   "hang",
                                   "GPATCH_PATCH",
                                   "socket,time",
                                   "GPATCH_THREADPOOL",
                                   "8",
                                   "GPATCH_MAX_BLOCKING_MS",
                                   "250",
                                   "GPATCH_DEBUG",
                                   "SIGUSR2",
                                   "GPATCH_TLS",
                                   "thread",
                                   NULL};
  set_env(kv);
  gp__config_init();
  if (gp__config.stack_size != 1024 * 1024)
    return 10;
  if (gp__config.use_ucontext != 1)
    return 11;
  if (gp__config.on_deadlock != GP__DEADLOCK_HANG)
    return 12;
  if (gp__config.patch != (GP__PATCH_SOCKET | GP__PATCH_TIME))
    return 13;
  if (gp__config.threadpool != 8)
    return 14;
  if (gp__config.max_blocking_ms != 250)
    return 15;
  if (gp__config.debug_signal != SIGUSR2)
    return 16;
  if (gp__config.tls != GP__TLS_THREAD)
    return 18;
  setenv("GPATCH_STACK_SIZE", "2M", 1);
  setenv("GPATCH_ON_DEADLOCK", "abort", 1);
  gp__config_init();
  if (gp__config.stack_size != 1024 * 1024 ||
      gp__config.on_deadlock != GP__DEADLOCK_HANG)
    return 17;
  return 0;
}

static void test_init_good_values(void **state)
{
  struct child_result res;

  assert_int_equal(run_child(init_good, NULL, &res), 0);
  if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
    fail_msg("child status 0x%x, stderr:\n%s", res.status, res.err);
  assert_string_equal(res.err, "");
}

/* Empty values count as unset. */
static int init_empty(void *arg)
{
  static const char *const kv[] = {"GPATCH_STACK_SIZE",
                                   "",
                                   "GPATCH_CONTEXT",
                                   "",
                                   "GPATCH_ON_DEADLOCK",
                                   "",
                                   NULL};
  set_env(kv);
  gp__config_init();
  return gp__config.stack_size == gp__config_default_stack() &&
                 gp__config.use_ucontext == 0 &&
                 gp__config.on_deadlock == GP__DEADLOCK_ABORT
             ? 0
             : 10;
}

static void test_init_empty(void **state)
{
  struct child_result res;

  assert_int_equal(run_child(init_empty, NULL, &res), 0);
  assert_true(WIFEXITED(res.status));
  assert_int_equal(WEXITSTATUS(res.status), 0);
  assert_string_equal(res.err, "");
}

/* Dump signals that cannot work are refused, with the reason. */
static void test_check_signal(void **state)
{
  static const struct {
    int sig;
    const char *says;
  } refused[] = {{SIGSEGV, "SIGSEGV is the runtime's own"},
                 {SIGKILL, "cannot be caught"},
                 {SIGSTOP, "cannot be caught"},
                 {SIGBUS, "faulting instruction"},
                 {SIGFPE, "faulting instruction"},
                 {SIGILL, "faulting instruction"},
                 {SIGTRAP, "faulting instruction"},
                 {SIGSYS, "faulting instruction"},
                 {32, "signal 32 is glibc's own"},
                 {33, "signal 33 is glibc's own"}};
  static const int taken[] = {0, SIGPWR, SIGUSR1, SIGUSR2, SIGCHLD, SIGABRT};

  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    struct gp__msg why = {.len = 0};
    assert_int_equal(gp__config_check_signal(refused[i].sig, &why), -EINVAL);
    if (strstr(why.buf, refused[i].says) == NULL)
      fail_msg("signal %d: \"%s\"", refused[i].sig, why.buf);
  }
  for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
    struct gp__msg why = {.len = 0};
    assert_int_equal(gp__config_check_signal(taken[i], &why), 0);
    assert_int_equal(why.len, 0);
  }
  {
    struct gp__msg why = {.len = 0};
    assert_int_equal(gp__config_check_signal(SIGRTMIN, &why), 0);
  }
}

/* With threads patched, every family whose waits can depend on another
 * thread must be patched too; name lookups only warn. */
static void test_check_patch(void **state)
{
  struct gp__msg why = {.len = 0};

  assert_int_equal(gp__config_check_patch(GP__PATCH_ALL, &why), 0);
  assert_int_equal(gp__config_check_patch(0, &why), 0);
  assert_int_equal(
      gp__config_check_patch(GP__PATCH_ALL & ~GP__PATCH_THREAD, &why), 0);
  assert_int_equal(
      gp__config_check_patch(GP__PATCH_SOCKET | GP__PATCH_TIME, &why), 0);
  assert_int_equal(why.len, 0);

  assert_int_equal(
      gp__config_check_patch(GP__PATCH_ALL & ~GP__PATCH_SOCKET, &why), -EINVAL);
  assert_non_null(strstr(why.buf, "a socket call that waits"));
  assert_non_null(strstr(why.buf, "add -thread"));
  why.len = 0;
  assert_int_equal(gp__config_check_patch(GP__PATCH_THREAD, &why), -EINVAL);
  assert_non_null(strstr(why.buf, "socket, select, time, process, signal"));
  why.len = 0;
  assert_int_equal(gp__config_check_patch(GP__PATCH_ALL & ~GP__PATCH_DNS, &why),
                   1);
  assert_non_null(strstr(why.buf, "name lookups"));
}

/* Quoting: at most max bytes shown, then "..."; what is not printable
 * ASCII, quotes and backslashes escaped; the buffer never overruns. */
static void test_msg_quote(void **state)
{
  struct gp__msg m = {.len = 0};
  char big[3000];

  gp__msg_quote(&m, "a\nb\t\"c\\\x1b[31m\x7f\xc3\xa9", 64);
  assert_string_equal(m.buf, "\"a\\nb\\t\\\"c\\\\\\x1b[31m\\x7f\\xc3\\xa9\"");
  m.len = 0;
  gp__msg_quote(&m, "abcdef", 3);
  assert_string_equal(m.buf, "\"abc\"...");
  m.len = 0;
  gp__msg_quote(&m, "abc", 3);
  assert_string_equal(m.buf, "\"abc\"");

  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  m.len = 0;
  for (int i = 0; i < 4; i++)
    gp__msg_put(&m, big);
  assert_int_equal(m.len, sizeof(m.buf) - 1);
  assert_int_equal(m.buf[m.len], '\0');
  m.len = 0;
  gp__msg_quote(&m, big, sizeof(big));
  assert_int_equal(m.len, sizeof(m.buf) - 1);
}

/* Values that parse but cannot work: refused, with the reason on stderr,
 * and the defaults stand; a warning for name lookups left to libc. */
static int init_refused(void *arg)
{
  const char *const *kv = arg;
  set_env(kv);
  gp__config_init();
  if (gp__config.debug_signal != 0)
    return 10;
  if (strcmp(kv[1], "-dns") == 0)
    return gp__config.patch == (GP__PATCH_ALL & ~GP__PATCH_DNS) ? 0 : 11;
  return gp__config.patch == GP__PATCH_ALL ? 0 : 12;
}

static void expect_refused(const char *var, const char *val, const char *says)
{
  const char *kv[] = {var, val, NULL};
  struct child_result res;
  char want[128];

  assert_int_equal(run_child(init_refused, kv, &res), 0);
  if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
    fail_msg("%s=%s: child status 0x%x, stderr:\n%s", var, val, res.status,
             res.err);
  snprintf(want, sizeof(want), "gpatch: ignoring %s=\"%s\": ", var, val);
  if (strncmp(res.err, want, strlen(want)) != 0 ||
      strstr(res.err, says) == NULL ||
      strstr(res.err, "; using the default\n") == NULL ||
      strchr(res.err, '\n') != res.err + strlen(res.err) - 1)
    fail_msg("%s=%s: stderr:\n%s", var, val, res.err);
}

static void test_init_refused(void **state)
{
  struct child_result res;
  const char *dns[] = {"GPATCH_PATCH", "-dns", NULL};

  expect_refused("GPATCH_DEBUG", "SEGV", "SIGSEGV is the runtime's own");
  expect_refused("GPATCH_DEBUG", "sigkill", "SIGKILL cannot be caught");
  expect_refused("GPATCH_DEBUG", "7", "SIGBUS comes from a faulting");
  expect_refused("GPATCH_PATCH", "-socket", "a socket call that waits");
  expect_refused("GPATCH_PATCH", "-time", "a time call that waits");
  expect_refused("GPATCH_PATCH", "thread", "hang when another thread");
  expect_refused("GPATCH_PATCH", "all,-signal", "a signal call that waits");

  assert_int_equal(run_child(init_refused, dns, &res), 0);
  if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
    fail_msg("-dns: child status 0x%x, stderr:\n%s", res.status, res.err);
  assert_string_equal(res.err,
                      "gpatch: GPATCH_PATCH=\"-dns\": name lookups left to "
                      "libc stop every thread (all coroutines of one OS "
                      "thread) until they return\n");
}

/* A rejected value is echoed bounded and escaped: a 10,000-byte value
 * with an escape sequence and a newline makes one short line. */
static int init_hostile(void *arg)
{
  static char val[10000];
  const char *kv[] = {"GPATCH_CONTEXT", val, NULL};
  (void)arg;
  memset(val, 'A', sizeof(val) - 1);
  memcpy(val, "\x1b]0;owned\x07\n\r", 12);
  set_env(kv);
  gp__config_init();
  return gp__config.use_ucontext;
}

static void test_init_hostile_value(void **state)
{
  struct child_result res;

  assert_int_equal(run_child(init_hostile, NULL, &res), 0);
  assert_true(WIFEXITED(res.status));
  assert_int_equal(WEXITSTATUS(res.status), 0);
  assert_true(strlen(res.err) < 300);
  assert_non_null(strstr(res.err, "GPATCH_CONTEXT=\"\\x1b]0;owned\\x07\\n"
                                  "\\x0dAAAA"));
  assert_non_null(strstr(res.err, "AAA\"...: expected asm or ucontext"));
  for (const char *p = res.err; *p; p++)
    if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
      fail_msg("a control character 0x%02x reached stderr", *p);
  assert_ptr_equal(strchr(res.err, '\n'), res.err + strlen(res.err) - 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_size),
      cmocka_unit_test(test_parse_patch),
      cmocka_unit_test(test_init_bad_values),
      cmocka_unit_test(test_init_near_miss),
      cmocka_unit_test(test_init_small_stack),
      cmocka_unit_test(test_init_good_values),
      cmocka_unit_test(test_init_empty),
      cmocka_unit_test(test_check_signal),
      cmocka_unit_test(test_check_patch),
      cmocka_unit_test(test_msg_quote),
      cmocka_unit_test(test_init_refused),
      cmocka_unit_test(test_init_hostile_value),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
