/* compat.h: what the differential test programs share.
 *
 * Each program in test/shim/ is built without libgpatch and run twice, plain
 * and with LD_PRELOAD=libgpatch.so (test/shim/run.sh); both runs must print
 * the same thing and exit the same way. For concurrency a program calls
 * spawn()/join() below: real threads when it runs plain, coroutines when
 * libgpatch is preloaded (gp_spawn is then defined). Under the preload,
 * check_threads() fails the run if more OS threads than expected exist.
 *
 * Programs named p_*.c are patched-only: they test what only the shim
 * promises (a close() waking a waiter, for instance) and run preloaded
 * only; they must exit 0. */
#ifndef GP_TEST_COMPAT_H
#define GP_TEST_COMPAT_H

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* From libgpatch, when preloaded. */
typedef struct gp__coro gp_coro_t;
extern int gp_spawn(gp_coro_t **co, void *(*fn)(void *), void *arg)
    __attribute__((weak));
extern int gp_join(gp_coro_t *co, void **retval) __attribute__((weak));
extern gp_coro_t *gp_current(void) __attribute__((weak));

/* Runs this program again with name=value in its environment (a setting
 * the runtime reads as it starts). Returns only when the exec failed: the
 * exit status for main to return. */
static inline int rerun_with(const char *name, const char *value, char **argv)
{
  setenv(name, value, 1);
  execv("/proc/self/exe", argv);
  perror("execv");
  return 127;
}

/* Nonzero when libgpatch is preloaded and its runtime started (it says on
 * stderr when it cannot, and the program then runs unpatched). */
static inline int patched(void)
{
  return gp_spawn != NULL && gp_current != NULL && gp_current() != NULL;
}

/* A thread or a coroutine. */
struct task {
  pthread_t t;   /* plain run */
  gp_coro_t *co; /* patched run */
};

static inline void spawn(struct task *k, void *(*fn)(void *), void *arg)
{
  if (patched()) {
    if (gp_spawn(&k->co, fn, arg) != 0)
      abort();
  } else if (pthread_create(&k->t, NULL, fn, arg) != 0) {
    abort();
  }
}

static inline void *join(struct task *k)
{
  void *r = NULL;
  if (patched())
    gp_join(k->co, &r);
  else
    pthread_join(k->t, &r);
  return r;
}

/* Runs this program again (/proc/self/exe) with the one argument arg, in
 * the environment without GPATCH_CORES and GPATCH_TLS, plus the
 * "NAME=value" strings of set (NULL-terminated); its stdout and stderr in
 * out and err, NUL-terminated (out may be NULL). Returns its exit status
 * (128 + the signal that ended it), or -1. */
static inline int rerun_self(const char *arg, const char *const *set, char *out,
                             size_t outsz, char *err, size_t errsz)
{
  extern char **environ;
  char *env[256];
  char *argv[] = {"/proc/self/exe", (char *)arg, NULL};
  int fo = open("/tmp", O_TMPFILE | O_RDWR, 0600);
  int fe = open("/tmp", O_TMPFILE | O_RDWR, 0600);
  int n = 0, status = -1;
  pid_t pid;
  ssize_t k;

  for (char **e = environ; *e && n < 240; e++)
    if (strncmp(*e, "GPATCH_CORES=", 13) != 0 &&
        strncmp(*e, "GPATCH_TLS=", 11) != 0)
      env[n++] = *e;
  for (; set && *set && n < 255; set++)
    env[n++] = (char *)*set;
  env[n] = NULL;
  if (fo < 0 || fe < 0)
    return -1;
  if ((pid = fork()) == 0) {
    dup2(fo, 1);
    dup2(fe, 2);
    execve(argv[0], argv, env);
    _exit(127);
  }
  if (pid < 0 || waitpid(pid, &status, 0) != pid)
    return -1;
  if (out) {
    k = pread(fo, out, outsz - 1, 0);
    out[k > 0 ? k : 0] = '\0';
  }
  k = pread(fe, err, errsz - 1, 0);
  err[k > 0 ? k : 0] = '\0';
  close(fo);
  close(fe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* How many times needle occurs in hay (a rerun_self child's stderr, say). */
static inline int occurrences(const char *hay, const char *needle)
{
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
    n++;
  return n;
}

/* Runs this program again with arg, the environment set adds, and checks
 * that its stderr has note exactly once (want) or nothing of the
 * runtime's at all; prints ok or FAIL, with label. Returns 1 on failure. */
static inline int check_note(const char *arg, const char *const *set,
                             const char *note, int want, const char *label)
{
  char err[4096];
  int rc = rerun_self(arg, set, NULL, 0, err, sizeof(err));
  if (rc != 0 ||
      (want ? occurrences(err, note) != 1 : strstr(err, "gpatch:") != NULL)) {
    printf("FAIL %s: exit %d, stderr '%s'\n", label, rc, err);
    return 1;
  }
  printf("ok: %s: %s\n", label, want ? "said once" : "nothing said");
  return 0;
}

/* The number of this process's OS threads whose name (comm) keep()
 * accepts. */
static inline int count_tasks(int (*keep)(const char *comm))
{
  char path[300], comm[32];
  int n = 0;
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;

  if (d == NULL)
    return -1;
  while ((e = readdir(d)) != NULL) {
    FILE *f;
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
    comm[0] = '\0';
    if ((f = fopen(path, "re")) != NULL) {
      if (fgets(comm, sizeof(comm), f) == NULL)
        comm[0] = '\0';
      fclose(f);
    }
    n += keep(comm);
  }
  closedir(d);
  return n;
}

static inline int program_comm(const char *comm)
{
  return strncmp(comm, "gpatch-", 7) != 0 &&
         strncmp(comm, "libuv-worker", 12) != 0;
}

/* The number of OS threads of this process that run its own code: the
 * runtime's scheduler workers (GPATCH_CORES above 1, named gpatch-sched),
 * its blocking monitor (gpatch-monitor), its helper threads (gpatch-helper,
 * which make only blocking calls that have no readiness to wait for) and
 * libuv's threadpool (libuv-worker) are not counted. */
static inline int os_threads(void)
{
  return count_tasks(program_comm);
}

/* Under the preload, exits with 99 (and says why on stderr) when the
 * process has more than max OS threads. Call it while work is waiting. */
static inline void check_threads(int max)
{
  int n;
  if (!patched())
    return;
  n = os_threads();
  /* A thread the runtime has just made bears the program's name until it
   * names itself: look again before judging. */
  for (int i = 0; i < 5 && n > max; i++) {
    usleep(20000);
    n = os_threads();
  }
  if (n > max) {
    fprintf(stderr, "check_threads: %d OS threads, expected at most %d\n", n,
            max);
    exit(99);
  }
}

/* Milliseconds on CLOCK_MONOTONIC. */
static inline double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Sleeps ms milliseconds (patched: only the caller). */
static inline void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* A task that writes one byte to the fd *arg after 50 ms, proving meanwhile
 * that the waiting process runs on one OS thread when patched. */
static inline void *write_later(void *arg)
{
  int fd = *(int *)arg;
  sleep_ms(50);
  check_threads(1);
  if (write(fd, "x", 1) != 1)
    return (void *)1;
  return NULL;
}

/* A task that sends SIGUSR1 to the thread *arg (a pthread_t) after 100 ms:
 * a signal that lands while that thread waits. */
static inline void *kill_later(void *arg)
{
  sleep_ms(100);
  pthread_kill(*(pthread_t *)arg, SIGUSR1);
  return NULL;
}

/* Sets *ts to ms milliseconds from now on clock (for timed waits). */
static inline void abs_in(struct timespec *ts, clockid_t clock, long ms)
{
  clock_gettime(clock, ts);
  ts->tv_nsec += ms * 1000000L;
  ts->tv_sec += ts->tv_nsec / 1000000000L;
  ts->tv_nsec %= 1000000000L;
}

/* Nonzero when clock has reached the absolute time abs (a timed wait must
 * not return before it). */
static inline int reached(clockid_t clock, const struct timespec *abs)
{
  struct timespec now;
  clock_gettime(clock, &now);
  return now.tv_sec > abs->tv_sec ||
         (now.tv_sec == abs->tv_sec && now.tv_nsec >= abs->tv_nsec);
}

/* Prints a check's outcome: the same line plain and patched when the
 * behaviour agrees. */
#define SAY(...) (printf(__VA_ARGS__), fflush(stdout))

/* Prints "name: ok" or "name: FAILED (why)" and counts failures. */
static int compat_failures __attribute__((unused));
#define EXPECT(name, cond)                                                     \
  do {                                                                         \
    if (cond) {                                                                \
      SAY("%s: ok\n", name);                                                   \
    } else {                                                                   \
      SAY("%s: FAILED (%s; errno %d %s)\n", name, #cond, errno,                \
          strerror(errno));                                                    \
      compat_failures++;                                                       \
    }                                                                          \
  } while (0)

/* main returns its status through main_done; an exit before that (the
 * process ended under main's feet) fails with status 1 instead of passing
 * with whatever status the exit had. Call must_reach_end() first. */
static int compat_main_done __attribute__((unused));
static void compat_check_end(void)
{
  if (!compat_main_done) {
    SAY("the process ended before main did\n");
    _exit(1);
  }
}
static inline void must_reach_end(void)
{
  atexit(compat_check_end);
}
static inline int main_done(int status)
{
  compat_main_done = 1;
  return status;
}

#endif /* GP_TEST_COMPAT_H */
