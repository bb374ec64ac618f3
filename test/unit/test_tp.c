/* test_tp.c: a thread pointer per coroutine (core/tp.c, GPATCH_TLS=thread).
 *
 * - coroutines made with gp_spawn each have their own thread pointer and
 *   their own libc TLS (errno's address), kept across switches, while the
 *   main coroutine keeps the OS thread's; without GPATCH_TLS=thread they
 *   share the OS thread's pointer and errno's address. (This binary's own
 *   __thread variables are the runtime's, which follow the OS thread in
 *   both modes: test/shim/d_thread_tls_own checks a program's.)
 * - the wrfsbase path: where this CPU or kernel lacks it, under
 *   qemu-x86_64 -cpu max (which has it), when qemu is installed.
 *
 * Each case runs in a child that re-executes this binary with the
 * environment it needs (the runtime reads it once, at its first call). */
#include "unit.h"

#include "../../core/tp.h"

#include <limits.h>
#include <sys/auxv.h>

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static char self[PATH_MAX];
struct seen {
  int id;
  void *tp;  /* its thread pointer */
  int *addr; /* &errno, as it sees it */
  int start; /* errno when it started */
  int kept;  /* its own errno survived the others' runs */
};

static void *body(void *arg)
{
  struct seen *s = arg;
  s->tp = gp__tp_self();
  s->addr = &errno;
  s->start = errno;
  errno = 100 + s->id;
  for (int i = 0; i < 5; i++)
    gp_yield(); /* the others run and set theirs */
  s->kept = errno == 100 + s->id;
  return NULL;
}

/* Child: three coroutines; prints nothing, exits 0 when all is as the mode
 * wants (argv: "thread" or "copy"). */
static int child_spawn(int thread)
{
  struct seen s[3];
  gp_coro_t *co[3];
  void *main_tp = gp__tp_self();
  int *main_addr = &errno;

  memset(s, 0, sizeof(s));
  for (int i = 0; i < 3; i++) {
    s[i].id = i;
    if (gp_spawn(&co[i], body, &s[i]) != 0)
      return 10;
  }
  errno = 1;
  for (int i = 0; i < 3; i++)
    gp_join(co[i], NULL);
  if (gp__tp_self() != main_tp || &errno != main_addr || errno != 1)
    return 11; /* main's own, untouched */
  for (int i = 0; i < 3; i++) {
    if (s[i].start != 0 || !s[i].kept)
      return 20 + i; /* a new thread's errno, 0, and its own */
    if (thread && (s[i].tp == main_tp || s[i].addr == main_addr))
      return 30 + i; /* a pointer and a block of its own */
    if (!thread && (s[i].tp != main_tp || s[i].addr != main_addr))
      return 40 + i; /* copies: the OS thread's */
    for (int j = 0; j < i; j++)
      if (thread && (s[i].tp == s[j].tp || s[i].addr == s[j].addr))
        return 50 + i;
  }
  return 0;
}

/* Child: wrfsbase points %fs elsewhere and back; no libc call between. */
static int child_insn(void)
{
  static void *fake[64] __attribute__((aligned(64)));
  void *old = gp__tp_self(), *seen;

  fake[0] = fake; /* what %fs:0 holds in a TCB */
  gp__tp_write_fs_insn(fake);
  seen = gp__tp_self();
  gp__tp_write_fs_insn(old);
  return seen == fake && gp__tp_self() == old ? 0 : 1;
}

static int exec_argv(void *arg)
{
  char **argv = arg;
  execvp(argv[0], argv);
  return 127;
}

/* Runs this binary with `--child NAME` (under qemu when it is given) and
 * GPATCH_TLS=tls; returns its status. */
static int run(const char *qemu, const char *name, const char *tls,
               struct child_result *res)
{
  char *argv[8];
  int n = 0;
  if (qemu) {
    argv[n++] = (char *)qemu;
    argv[n++] = "-cpu";
    argv[n++] = "max";
  }
  argv[n++] = self;
  argv[n++] = "--child";
  argv[n++] = (char *)name;
  argv[n] = NULL;
  setenv("GPATCH_TLS", tls, 1);
  assert_int_equal(run_child(exec_argv, argv, res), 0);
  unsetenv("GPATCH_TLS");
  return res->status;
}

static void test_thread_pointer_each(void **state)
{
  struct child_result res;
  (void)state;
  if (SANITIZED)
    skip(); /* the sanitizers keep their own per-thread state in TLS */
#if !defined(__x86_64__)
  skip();
#endif
  run(NULL, "thread", "thread", &res);
  if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
    fail_msg("GPATCH_TLS=thread: child status 0x%x, stderr:\n%s", res.status,
             res.err);
  assert_null(strstr(res.err, "gpatch:"));
}

static void test_copies_share_pointer(void **state)
{
  struct child_result res;
  (void)state;
  run(NULL, "copy", "copy", &res);
  if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
    fail_msg("GPATCH_TLS=copy: child status 0x%x, stderr:\n%s", res.status,
             res.err);
}

static void test_wrfsbase(void **state)
{
  struct child_result res;
  const char *qemu = NULL;
  (void)state;
#if !defined(__x86_64__)
  skip();
#endif
  if (!(getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE)) {
    if (SANITIZED || RUNNING_ON_VALGRIND ||
        system("command -v qemu-x86_64 >/dev/null 2>&1") != 0)
      skip(); /* nowhere to run it */
    qemu = "qemu-x86_64";
  }
  run(qemu, "insn", "copy", &res);
  if (!WIFEXITED(res.status) || WEXITSTATUS(res.status) != 0)
    fail_msg("wrfsbase%s: child status 0x%x, stderr:\n%s",
             qemu ? " under qemu" : "", res.status, res.err);
}

int main(int argc, char **argv)
{
  unit_self(self, sizeof(self), argv[0]);
  if (argc == 3 && strcmp(argv[1], "--child") == 0) {
    if (strcmp(argv[2], "insn") == 0)
      return child_insn();
    return child_spawn(strcmp(argv[2], "thread") == 0);
  }

  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_thread_pointer_each),
      cmocka_unit_test(test_copies_share_pointer),
      cmocka_unit_test(test_wrfsbase),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
