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
 * continues and ptrace stops alike, which no fd announces. glibc's
 * system() waits through an internal alias, so system is reimplemented
 * here with POSIX's semantics (SIGINT and SIGQUIT ignored and SIGCHLD
 * blocked in the caller while the command runs). */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- exec and spawn ---- */

/* What unblock_one does: for a spawn (the parent keeps using the fds) or
 * an exec, and whether it puts O_NONBLOCK back (an exec that failed). */
struct unblock {
  int spawn;    /* the parent goes on sharing the file descriptions */
  int undo;     /* put back what an earlier call took away */
  int changed;  /* how many fds were changed */
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
static __thread int in_vfork_child
    __attribute__((tls_model("initial-exec")));

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
        "pop %rdi\n\t" /* the return address, kept across the call */
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
        "mov x0, #0x4111\n\t" /* CLONE_VM | CLONE_VFORK | SIGCHLD */
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
  return has_sockets() ? unblock_for_child(0, 0) : 0;
}

/* The exec failed and the program goes on: what exec_prepare changed goes
 * back. Keeps errno. */
static void exec_failed(int changed)
{
  int saved = errno;
  if (changed)
    unblock_for_child(0, 1);
  errno = saved;
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

GP_EXPORT int execvpe(const char *file, char *const argv[],
                      char *const envp[])
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

/* Spawns with the sockets the child inherits made blocking for good. */
static int spawn_blocking(spawn_fn real, pid_t *pid, const char *what,
                          const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[],
                          char *const envp[])
{
  if (has_sockets())
    unblock_for_child(1, 0);
  return real(pid, what, fa, attr, argv, envp);
}

GP_EXPORT int posix_spawn(pid_t *pid, const char *path,
                          const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[],
                          char *const envp[])
{
  gp__real_init();
  return spawn_blocking(gp__real_posix_spawn, pid, path, fa, attr, argv,
                        envp);
}

GP_EXPORT int posix_spawnp(pid_t *pid, const char *file,
                           const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[],
                           char *const envp[])
{
  gp__real_init();
  return spawn_blocking(gp__real_posix_spawnp, pid, file, fa, attr, argv,
                        envp);
}

/* popen(3): glibc spawns the command through an internal alias of
 * posix_spawn, so the sockets the command inherits are made blocking here,
 * as for posix_spawn. (pclose's wait is glibc's own: see README.) */
GP_EXPORT FILE *popen(const char *cmd, const char *type)
{
  gp__real_init();
  if (has_sockets())
    unblock_for_child(1, 0);
  return gp__real_popen(cmd, type);
}

/* ---- waiting for children ---- */

/* What a helper thread waits for: the state change that wait4(pid,
 * options) would report, left in place for wait4 to collect (WNOWAIT). */
struct child_watch {
  idtype_t idtype;         /* P_PID, P_PGID or P_ALL */
  id_t id;                 /* the pid or process group */
  int options;             /* waitid's options */
  int err;                 /* 0, or waitid's errno */
};

/* On a helper thread: blocks until the state change is there. The raw
 * system call, so that no interposer of waitid is met. */
static void watch_child(void *arg)
{
  struct child_watch *c = arg;
  siginfo_t si;
  long r;

  do
    r = gp__real_syscall(SYS_waitid, c->idtype, c->id, &si, c->options,
                         NULL);
  while (r < 0 && errno == EINTR);
  c->err = r < 0 ? errno : 0;
}

/* Parks the caller until a child state change that wait4(pid, options)
 * reports is there: every change plain would see — exits, stops and
 * continues (WUNTRACED, WCONTINUED), ptrace stops, of any child or group —
 * for which no fd tells. A helper thread blocks in waitid with WNOWAIT,
 * which leaves the change for the caller's own wait4 to take. Returns 0
 * (look again), 1 when no helper helps (wait by polling), or a wait's
 * error. */
static int wait_change(pid_t pid, int options)
{
  struct child_watch *c;
  int w;

  /* A helper is another thread: it would not see the children of this
   * one alone. */
  if (options & __WNOTHREAD)
    return 1;
  if ((c = malloc(sizeof(*c))) == NULL)
    return 1;
  c->idtype = pid < -1 ? P_PGID : pid == -1 ? P_ALL : pid == 0 ? P_PGID
                                                                : P_PID;
  c->id = (id_t)(pid < -1 ? -pid : pid == 0 ? getpgrp() : pid);
  c->options = (options & (WUNTRACED | WCONTINUED | __WALL | __WCLONE)) |
               WEXITED | WNOWAIT;
  c->err = 0;
  w = gp__helper_call(watch_child, c, free, 1);
  if (w == -EAGAIN || w == -ENOMEM) {
    free(c);
    return 1;
  }
  if (w == 0) {
    /* waitid refused what wait4 accepted (an old kernel): poll. */
    w = c->err != 0 && c->err != ECHILD ? 1 : 0;
    free(c);
  }
  return w;
}

/* Waits cooperatively for a child, as wait4 does. */
static pid_t coop_wait4(pid_t pid, int *status, int options,
                        struct rusage *ru)
{
  uint64_t pause = 1000000; /* 1 ms, doubling to 16 ms */
  int poll_only = 0;
  pid_t r;

  for (;;) {
    int w = 1;
    r = gp__real_wait4(pid, status, options | WNOHANG, ru);
    if (r != 0)
      break; /* a child changed state, or an error (ECHILD …) */
    if (!poll_only && (w = wait_change(pid, options)) == 1)
      poll_only = 1;
    if (w == 1) {
      /* No helper: look again after growing pauses. */
      w = gp__sleep_until(gp__now() + pause, 1);
      if (pause < 16000000)
        pause *= 2;
    }
    if (w < 0 && !gp__shim_wait_failed(w, 0, 0)) {
      r = -1; /* EINTR, or ETIMEDOUT for a gp_timeout block */
      break;
    }
  }
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

/* system(3), with POSIX's signal handling. */
GP_EXPORT int system(const char *cmd)
{
  struct sigaction ign, old_int, old_quit;
  sigset_t chld, old_mask, defs;
  posix_spawnattr_t attr;
  const char *argv[] = {"sh", "-c", "--", cmd, NULL};
  pid_t pid;
  int status = -1, err;

  gp__real_init();
  if (cmd == NULL || !gp__shim_active(GP__PATCH_PROCESS)) {
    /* glibc's system spawns through an internal alias. */
    if (cmd && has_sockets())
      unblock_for_child(1, 0);
    return gp__real_system(cmd);
  }
  memset(&ign, 0, sizeof(ign));
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  sigaction(SIGINT, &ign, &old_int);
  sigaction(SIGQUIT, &ign, &old_quit);
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, &old_mask);

  posix_spawnattr_init(&attr);
  sigemptyset(&defs);
  if (old_int.sa_handler != SIG_IGN)
    sigaddset(&defs, SIGINT);
  if (old_quit.sa_handler != SIG_IGN)
    sigaddset(&defs, SIGQUIT);
  posix_spawnattr_setsigdefault(&attr, &defs);
  posix_spawnattr_setsigmask(&attr, &old_mask);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  err = posix_spawn(&pid, "/bin/sh", NULL, &attr, (char *const *)argv,
                    environ);
  posix_spawnattr_destroy(&attr);
  if (err == 0) {
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
  } else {
    status = W_EXITCODE(127, 0); /* as glibc: the shell could not run */
  }
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGQUIT, &old_quit, NULL);
  sigprocmask(SIG_SETMASK, &old_mask, NULL);
  return status;
}
