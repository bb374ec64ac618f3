/* process.c: exec*, posix_spawn, waitpid and its family, system.
 *
 * exec and spawn: sockets the process made are O_NONBLOCK underneath, which
 * a new program must not inherit. Before an exec, every such fd that
 * survives it (no FD_CLOEXEC) and that the app believes blocking is made
 * blocking for real; if the exec fails, it goes back. A spawned child
 * shares those file descriptions with the parent, which goes on using
 * them: they stay blocking, and the parent's own I/O on them becomes
 * per-call non-blocking (MSG_DONTWAIT), as for fds it inherited.
 *
 * Waiting for a child parks only the caller, while a helper thread waits
 * for the state change with waitid(WNOWAIT) (core/helper.h): exits, stops,
 * continues and ptrace stops alike, which no fd announces; waitid the same
 * way. glibc's system() waits through an internal alias, so system is
 * written again here as glibc 2.36's (see do_system); popen is popen.c's. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- exec and spawn ---- */

/* What unblock_one does: for a spawn (the parent keeps using the fds) or
 * an exec, and whether it puts O_NONBLOCK back (an exec that failed). */
struct unblock {
  int spawn;   /* the parent goes on sharing the file descriptions */
  int undo;    /* put back what an earlier call took away */
  int changed; /* how many fds were changed */
};

static void unblock_one(int fd, struct gp__fdinfo *fi, void *arg)
{
  struct unblock *u = arg;
  int fl, fdfl;

  if (fi->kind != GP__FD_OWNED || fi->app_nonblock)
    return;
  if ((fdfl = gp__real_fcntl(fd, F_GETFD)) < 0 || (fdfl & FD_CLOEXEC))
    return;
  if (u->spawn) {
    /* Shared with the child, blocking now and for good. */
    u->changed += gp__shim_share(fd, fi);
    return;
  }
  if ((fl = gp__real_fcntl(fd, F_GETFL)) < 0)
    return;
  if (u->undo) {
    gp__real_fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    return;
  }
  if (gp__real_fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0)
    u->changed++;
}

/* Makes every socket of ours that survives an exec, and that the app
 * believes blocking, blocking for real (undo: the reverse, after an exec
 * that failed). Returns how many were changed. */
static int unblock_for_child(int spawn, int undo)
{
  struct unblock u = {spawn, undo, 0};
  gp__fd_each(unblock_one, &u);
  return u.changed;
}

/* ---- vfork ----
 *
 * A vfork child runs in the parent's memory, on the parent's stack, until
 * it execs or exits; everything an interposer changes there (the fd
 * records, the poller's registrations, the table of signal handlers, the
 * ready queue) is the parent's. So the child passes every call straight
 * through: vfork raises gp__tls.depth, which the child sees, and the parent
 * lowers it again when it resumes. The exec only (exec_prepare) still
 * makes the program's sockets blocking for the new program, reading the
 * records without changing them.
 *
 * vfork cannot be a C function that calls the real one: the child would
 * return through the frame the parent returns through afterwards. Like
 * glibc's own, it keeps its return address in a register across the
 * system call. */

/* Nonzero in a vfork child of this thread, until it execs or exits. */
static __thread int in_vfork_child __attribute__((tls_model("initial-exec")));

/* Called by vfork before the system call: the child will see the raised
 * depth. Leaves errno alone. */
__attribute__((used, visibility("hidden"))) void gp__vfork_enter(void)
{
  gp__tls.depth++;
  in_vfork_child++;
}

/* The parent resumes with r, the child's pid or -errno: lowers the depth
 * again and returns vfork's result, setting errno on failure. */
__attribute__((used, visibility("hidden"))) pid_t gp__vfork_parent(long r)
{
  in_vfork_child--;
  gp__tls.depth--;
  if (r < 0) {
    errno = (int)-r;
    return -1;
  }
  return (pid_t)r;
}

int gp__shim_vfork_child(void)
{
  return in_vfork_child != 0;
}

/* vfork(2), defined in assembly below (a C function has a frame). */
GP_EXPORT pid_t vfork(void);

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl vfork\n"
        ".type vfork, @function\n"
        "vfork:\n\t"
        "sub $8, %rsp\n\t" /* the call needs a 16-byte aligned stack */
        "call gp__vfork_enter\n\t"
        "add $8, %rsp\n\t"
        "pop %rdi\n\t"      /* the return address, kept across the call */
        "mov $58, %eax\n\t" /* SYS_vfork */
        "syscall\n\t"
        "push %rdi\n\t"
        "test %rax, %rax\n\t"
        "jz 1f\n\t"
        "mov %rax, %rdi\n\t"
        "jmp gp__vfork_parent\n" /* the parent, or an error */
        "1:\n\t"
        "ret\n" /* the child: 0 */
        ".size vfork, .-vfork\n");
#elif defined(__aarch64__)
__asm__(".text\n"
        ".globl vfork\n"
        ".type vfork, %function\n"
        "vfork:\n\t"
        "stp x29, x30, [sp, #-16]!\n\t"
        "bl gp__vfork_enter\n\t"
        "ldp x29, x30, [sp], #16\n\t" /* x30, the return address,
                                          survives the system call */
        "mov x0, #0x4111\n\t"         /* CLONE_VM | CLONE_VFORK | SIGCHLD */
        "mov x1, sp\n\t"
        "mov x8, #220\n\t" /* SYS_clone */
        "svc #0\n\t"
        "cbz x0, 1f\n\t"
        "b gp__vfork_parent\n" /* the parent, or an error */
        "1:\n\t"
        "ret\n" /* the child: 0 */
        ".size vfork, .-vfork\n");
#else
/* Other CPUs: vfork is glibc's; a vfork child is recognised by sigaction
 * alone (shim/signal.c), by its pid. */
#endif

/* Nonzero when this thread's runtime may have made sockets non-blocking.
 * Never makes a scheduler. In a vfork child, the records are read only. */
static int has_sockets(void)
{
  return gp__tls.sched != NULL &&
         (gp__tls.depth == 0 || gp__tls.depth == in_vfork_child);
}

/* Before an exec: the sockets made blocking for the new program. Returns
 * how many were changed, for exec_failed. */
static int exec_prepare(void)
{
  gp__real_init(); /* a vfork child may be the first caller */
  gp__preempt_exec(1);
  return has_sockets() ? unblock_for_child(0, 0) : 0;
}

/* The exec failed and the program goes on: what exec_prepare changed goes
 * back. Keeps errno. */
static void exec_failed(int changed)
{
  int saved = errno;
  if (changed)
    unblock_for_child(0, 1);
  gp__preempt_exec(0);
  errno = saved;
}

int gp__shim_sandbox_enter(void)
{
  /* The filter may forbid membarrier, which a later switch from plain to
   * locked instructions needs (core/mt.h): switch now. */
  gp__mt_force();
  if (gp__tls.depth || !gp__sched_alone())
    return -1;
  return has_sockets() ? unblock_for_child(0, 0) : 0;
}

void gp__shim_sandbox_leave(int changed, int ok)
{
  int saved = errno;
  if (changed < 0) /* other threads: nothing was done */
    return;
  if (!ok) {
    if (changed)
      unblock_for_child(0, 1);
  } else {
    /* One thread and no way back (a filter is for good): every family but
     * the thread family's, whose objects keep their state, is left to
     * libc. */
    __atomic_and_fetch(&gp__config.patch, GP__PATCH_THREAD, __ATOMIC_RELEASE);
    /* A coroutine made now would wait in I/O passed straight through, for
     * real, and stop every other one of its OS thread: threads made from
     * now on are real, and share the sync objects with it. */
    __atomic_store_n(&gp__config.sandbox_real_threads, 1, __ATOMIC_RELEASE);
  }
  errno = saved;
}

/* prctl(2): PR_SET_SECCOMP installs a filter (gp__shim_sandbox_enter). */
GP_EXPORT int prctl(int option, ...)
{
  unsigned long a[4];
  va_list ap;
  int changed, r;

  va_start(ap, option);
  for (int i = 0; i < 4; i++)
    a[i] = va_arg(ap, unsigned long);
  va_end(ap);
  gp__real_init();
  if (option != PR_SET_SECCOMP)
    return gp__real_prctl(option, a[0], a[1], a[2], a[3]);
  changed = gp__shim_sandbox_enter();
  r = gp__real_prctl(option, a[0], a[1], a[2], a[3]);
  gp__shim_sandbox_leave(changed, r == 0);
  return r;
}

GP_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
  int changed = exec_prepare(), r;
  r = gp__real_execve(path, argv, envp);
  exec_failed(changed);
  return r;
}

/* fexecve(3) and execveat(2): glibc reaches the kernel without execve, so
 * each is interposed itself. execveat by its system call, which older
 * glibcs do not wrap. */
GP_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
  int changed = exec_prepare(), r;
  r = gp__real_fexecve(fd, argv, envp);
  exec_failed(changed);
  return r;
}

GP_EXPORT int execveat(int dirfd, const char *path, char *const argv[],
                       char *const envp[], int flags)
{
  int changed = exec_prepare(), r;
  r = (int)gp__real_syscall(SYS_execveat, dirfd, path, argv, envp, flags);
  exec_failed(changed);
  return r;
}

GP_EXPORT int execv(const char *path, char *const argv[])
{
  return execve(path, argv, environ);
}

GP_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
  int changed = exec_prepare(), r;
  r = gp__real_execvpe(file, argv, envp);
  exec_failed(changed);
  return r;
}

GP_EXPORT int execvp(const char *file, char *const argv[])
{
  return execvpe(file, argv, environ);
}

/* Collects execl's variable arguments into an argv on the stack. */
#define COLLECT_ARGS(arg0, argv, last_ap)                                      \
  size_t n_ = 1;                                                               \
  va_list ap_;                                                                 \
  va_start(ap_, arg0);                                                         \
  while (va_arg(ap_, const char *) != NULL)                                    \
    n_++;                                                                      \
  va_end(ap_);                                                                 \
  const char *argv[n_ + 1];                                                    \
  argv[0] = arg0;                                                              \
  va_start(ap_, arg0);                                                         \
  for (size_t i_ = 1; i_ <= n_; i_++)                                          \
    argv[i_] = va_arg(ap_, const char *);                                      \
  last_ap;                                                                     \
  va_end(ap_)

GP_EXPORT int execl(const char *path, const char *arg, ...)
{
  COLLECT_ARGS(arg, argv, (void)0);
  return execve(path, (char *const *)argv, environ);
}

GP_EXPORT int execlp(const char *file, const char *arg, ...)
{
  COLLECT_ARGS(arg, argv, (void)0);
  return execvpe(file, (char *const *)argv, environ);
}

GP_EXPORT int execle(const char *path, const char *arg, ...)
{
  char *const *envp;
  COLLECT_ARGS(arg, argv, envp = va_arg(ap_, char *const *));
  return execve(path, (char *const *)argv, envp);
}

/* The spawn functions' common type. */
typedef int (*spawn_fn)(pid_t *, const char *,
                        const posix_spawn_file_actions_t *,
                        const posix_spawnattr_t *, char *const[],
                        char *const[]);

/* Before any spawn — posix_spawn's, or one through glibc's internal
 * aliases (its own popen and system): the sockets the command inherits are
 * made blocking for good. */
void gp__shim_before_spawn(void)
{
  if (has_sockets())
    unblock_for_child(1, 0);
}

/* Spawns with the sockets the child inherits made blocking for good. */
static int spawn_blocking(spawn_fn real, pid_t *pid, const char *what,
                          const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[],
                          char *const envp[])
{
  gp__shim_before_spawn();
  return real(pid, what, fa, attr, argv, envp);
}

GP_EXPORT int posix_spawn(pid_t *pid, const char *path,
                          const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[],
                          char *const envp[])
{
  gp__real_init();
  return spawn_blocking(gp__real_posix_spawn, pid, path, fa, attr, argv, envp);
}

GP_EXPORT int posix_spawnp(pid_t *pid, const char *file,
                           const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[],
                           char *const envp[])
{
  gp__real_init();
  return spawn_blocking(gp__real_posix_spawnp, pid, file, fa, attr, argv, envp);
}

/* ---- waiting for children ---- */

/* What a helper thread waits for: the state change that waitid(idtype, id,
 * options) would report, left in place for the caller to collect
 * (WNOWAIT). */
struct child_watch {
  idtype_t idtype; /* P_PID, P_PGID, P_ALL or P_PIDFD */
  id_t id;         /* the pid, process group or pidfd */
  int options;     /* waitid's options */
  int err;         /* 0, or waitid's errno */
};

/* On a helper thread: blocks until the state change is there. The raw
 * system call, so that no interposer of waitid is met. */
static void watch_child(void *arg)
{
  struct child_watch *c = arg;
  siginfo_t si;
  long r;

  do
    r = gp__real_syscall(SYS_waitid, c->idtype, c->id, &si, c->options, NULL);
  while (r < 0 && errno == EINTR);
  c->err = r < 0 ? errno : 0;
}

/* Parks the caller until a child state change that waitid(idtype, id,
 * options) reports is there: every change plain would see — exits, stops
 * and continues, ptrace stops, of any child or group — for which no fd
 * tells. A helper thread blocks in waitid with WNOWAIT, which leaves the
 * change for the caller's own wait to take. Returns 0 (look again), 1 when
 * no helper helps (wait by polling), or a wait's error. */
static int wait_change(idtype_t idtype, id_t id, int options)
{
  struct child_watch *c;
  int w;

  /* A helper is another thread: it would not see the children of this
   * one alone. */
  if (options & __WNOTHREAD)
    return 1;
  if ((c = malloc(sizeof(*c))) == NULL)
    return 1;
  c->idtype = idtype;
  c->id = id;
  c->options =
      (options & (WEXITED | WSTOPPED | WCONTINUED | __WALL | __WCLONE)) |
      WNOWAIT;
  c->err = 0;
  w = gp__helper_call(watch_child, c, free, 1);
  if (w == -EAGAIN || w == -ENOMEM) {
    free(c);
    return 1;
  }
  if (w == 0) {
    /* waitid refused what the caller's call accepted (an old kernel):
     * poll. */
    w = c->err != 0 && c->err != ECHILD ? 1 : 0;
    free(c);
  }
  return w;
}

/* A wait for a child in progress. */
struct child_wait {
  int poll_only;  /* no helper helps: pauses */
  uint64_t pause; /* the next pause, in ns */
};

/* Parks the caller once, after a look found nothing to report: on a helper
 * (wait_change), or for a pause growing from 1 to 16 ms when no helper
 * helps. Returns 0 to look again, or -1 with errno: EINTR (a signal whose
 * handler has no SA_RESTART, or gp_kill; pthread_cancel ends the thread
 * here), ETIMEDOUT (a gp_timeout block). */
static int child_wait_step(struct child_wait *cw, idtype_t idtype, id_t id,
                           int options)
{
  int w = 1;
  if (!cw->poll_only && (w = wait_change(idtype, id, options)) == 1)
    cw->poll_only = 1;
  if (w == 1) {
    w = gp__sleep_until(gp__now() + cw->pause, 1);
    if (cw->pause < 16000000)
      cw->pause *= 2;
  }
  if (w < 0 && !gp__shim_wait_failed(w, 0, 0))
    return -1;
  return 0;
}

/* Waits cooperatively for a child, as wait4 does. */
static pid_t coop_wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
  struct child_wait cw = {.poll_only = 0, .pause = 1000000};
  idtype_t idtype = pid < -1    ? P_PGID
                    : pid == -1 ? P_ALL
                    : pid == 0  ? P_PGID
                                : P_PID;
  id_t id = (id_t)(pid < -1 ? -pid : pid == 0 ? getpgrp() : pid);
  /* wait4's WUNTRACED is waitid's WSTOPPED; it always waits for exits. */
  int wopts =
      (options & (WUNTRACED | WCONTINUED | __WALL | __WCLONE | __WNOTHREAD)) |
      WEXITED;
  pid_t r;

  while ((r = gp__real_wait4(pid, status, options | WNOHANG, ru)) == 0)
    if (child_wait_step(&cw, idtype, id, wopts) != 0) {
      /* EINTR, or ETIMEDOUT for a gp_timeout block. The kernel's wait,
       * woken by a child's exit, reports it though the exit's SIGCHLD
       * runs a handler: one more look. */
      int e = errno;
      if (e == EINTR &&
          (r = gp__real_wait4(pid, status, options | WNOHANG, ru)) > 0)
        return r;
      errno = e;
      return -1;
    }
  return r; /* a child changed state, or an error (ECHILD …) */
}

/* Waits cooperatively, as waitid does: each look is a waitid with WNOHANG
 * into a private siginfo, whose si_pid says whether a child was found. */
static int coop_waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
  struct child_wait cw = {.poll_only = 0, .pause = 1000000};
  siginfo_t si;
  int r;

  for (;;) {
    memset(&si, 0, sizeof(si));
    r = gp__real_waitid(type, id, &si, options | WNOHANG);
    if (r != 0 || si.si_pid != 0)
      break; /* a child to report, or an error (ECHILD, EINVAL …) */
    if (child_wait_step(&cw, type, id, options) != 0) {
      int e = errno; /* as coop_wait4: one more look after EINTR */
      memset(&si, 0, sizeof(si));
      if (e == EINTR &&
          gp__real_waitid(type, id, &si, options | WNOHANG) == 0 &&
          si.si_pid != 0)
        break;
      errno = e;
      return -1;
    }
  }
  if (r == 0 && info)
    *info = si;
  return r;
}

/* Nonzero when the call waits cooperatively; a WNOHANG call, which never
 * waits, may first yield the time slice of a coroutine polling for a
 * child's exit (gp__slice). */
static int waits(int options)
{
  gp__real_init();
  if (!gp__shim_active(GP__PATCH_PROCESS))
    return 0;
  if (options & WNOHANG) {
    gp__slice();
    return 0;
  }
  return 1;
}

GP_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
  if (!waits(options))
    return gp__real_wait4(pid, status, options, ru);
  return coop_wait4(pid, status, options, ru);
}

GP_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
  if (!waits(options))
    return gp__real_wait4(pid, status, options, NULL);
  return coop_wait4(pid, status, options, NULL);
}

GP_EXPORT pid_t wait(int *status)
{
  return waitpid(-1, status, 0);
}

GP_EXPORT pid_t wait3(int *status, int options, struct rusage *ru)
{
  return wait4(-1, status, options, ru);
}

/* waitid(2), as wait4. */
GP_EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
  if (!waits(options))
    return gp__real_waitid(type, id, info, options);
  return coop_waitid(type, id, info, options);
}

/* ---- system ---- */

/* glibc's system counts the calls in progress: the first sets SIGINT and
 * SIGQUIT to be ignored, the last puts back what it found and the signal
 * mask, whichever thread that is. */
static pthread_mutex_t system_lock = PTHREAD_MUTEX_INITIALIZER;
static int system_calls;             /* calls in progress */
static struct sigaction system_intr; /* SIGINT before the first */
static struct sigaction system_quit; /* SIGQUIT before the first */

/* A thread canceled in system(): its shell is killed and reaped, and the
 * last call puts the signals back (not the mask), as glibc does. The reap
 * waits as a thread: a real thread (GPATCH_PATCH=-thread) is unwound by
 * glibc from wherever the cancel caught it, the runtime's own poll
 * included, and the killed shell is gone at once. */
static void system_canceled(void *arg)
{
  pid_t pid = *(pid_t *)arg;
  int state;

  kill(pid, SIGKILL);
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
  while (gp__real_wait4(pid, NULL, 0, NULL) < 0 && errno == EINTR)
    ;
  pthread_setcancelstate(state, NULL);
  pthread_mutex_lock(&system_lock);
  if (--system_calls == 0) {
    sigaction(SIGQUIT, &system_quit, NULL);
    sigaction(SIGINT, &system_intr, NULL);
  }
  pthread_mutex_unlock(&system_lock);
}

/* glibc 2.36's do_system: sh -c line, its wait status (127 when the shell
 * cannot run, with errno the spawn's error). */
static int do_system(const char *line)
{
  const char *argv[] = {"sh", "-c", line, NULL};
  struct sigaction ign;
  sigset_t omask, reset;
  posix_spawnattr_t attr;
  int status = -1, ret;
  pid_t pid;

  memset(&ign, 0, sizeof(ign));
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  pthread_mutex_lock(&system_lock);
  if (system_calls++ == 0) {
    sigaction(SIGINT, &ign, &system_intr);
    sigaction(SIGQUIT, &ign, &system_quit);
  }
  pthread_mutex_unlock(&system_lock);
  sigaddset(&ign.sa_mask, SIGCHLD);
  sigprocmask(SIG_BLOCK, &ign.sa_mask, &omask);
  sigemptyset(&reset);
  if (system_intr.sa_handler != SIG_IGN)
    sigaddset(&reset, SIGINT);
  if (system_quit.sa_handler != SIG_IGN)
    sigaddset(&reset, SIGQUIT);
  posix_spawnattr_init(&attr);
  posix_spawnattr_setsigmask(&attr, &omask);
  posix_spawnattr_setsigdefault(&attr, &reset);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  ret = posix_spawn(&pid, "/bin/sh", NULL, &attr, (char *const *)argv, environ);
  posix_spawnattr_destroy(&attr);
  if (ret == 0) {
    pid_t r;
    /* system() is a cancellation point, through waitpid. */
    pthread_cleanup_push(system_canceled, &pid);
    while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
      ;
    if (r != pid)
      status = -1;
    pthread_cleanup_pop(0);
  } else {
    status = W_EXITCODE(127, 0);
  }
  pthread_mutex_lock(&system_lock);
  if (--system_calls == 0) {
    sigaction(SIGINT, &system_intr, NULL);
    sigaction(SIGQUIT, &system_quit, NULL);
    sigprocmask(SIG_SETMASK, &omask, NULL);
  }
  pthread_mutex_unlock(&system_lock);
  if (ret != 0)
    errno = ret;
  return status;
}

/* system(3): glibc's waits through an internal alias, so it is written
 * again here, as glibc 2.36 does it. system(NULL) asks whether a shell can
 * run. */
GP_EXPORT int system(const char *cmd)
{
  gp__real_init();
  if (!gp__shim_active(GP__PATCH_PROCESS)) {
    if (cmd)
      gp__shim_before_spawn();
    return gp__real_system(cmd);
  }
  if (cmd == NULL)
    return do_system("exit 0") == 0;
  return do_system(cmd);
}
