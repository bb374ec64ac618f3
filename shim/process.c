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
 * Waiting for a child parks only the caller: on a pidfd for one child, and
 * by polling with growing pauses (1 to 16 ms) for "any child"; waitid the
 * same way. glibc's system() waits through an internal alias, so system is
 * written again here as glibc 2.36's (see do_system). */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
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
  if ((fl = gp__real_fcntl(fd, F_GETFL)) < 0)
    return;
  if (u->undo) {
    gp__real_fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    return;
  }
  if (gp__real_fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0) {
    u->changed++;
    if (u->spawn)
      fi->kind = GP__FD_SOCKET; /* shared with the child, blocking now */
  }
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

/* Nonzero when this thread's runtime may have made sockets non-blocking.
 * Never makes a scheduler: exec is often called in a vfork child, which
 * shares the parent's memory. */
static int has_sockets(void)
{
  return gp__tls.sched != NULL && gp__tls.depth == 0;
}

/* Runs an exec with the sockets made blocking for the new program, and
 * puts them back if it fails. */
static int exec_blocking(int (*real)(const char *, char *const[],
                                     char *const[]),
                         const char *what, char *const argv[],
                         char *const envp[])
{
  int r, saved, changed;

  if (!has_sockets())
    return real(what, argv, envp);
  changed = unblock_for_child(0, 0);
  r = real(what, argv, envp);
  saved = errno;
  if (changed)
    unblock_for_child(0, 1);
  errno = saved;
  return r;
}

GP_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
  gp__real_init(); /* a vfork child may be the first caller */
  return exec_blocking(gp__real_execve, path, argv, envp);
}

GP_EXPORT int execv(const char *path, char *const argv[])
{
  return execve(path, argv, environ);
}

GP_EXPORT int execvpe(const char *file, char *const argv[],
                      char *const envp[])
{
  gp__real_init();
  return exec_blocking(gp__real_execvpe, file, argv, envp);
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

/* ---- waiting for children ---- */

/* How a wait for a child waits: on a pidfd of the child, which becomes
 * readable when it ends, or by pauses growing from 1 to 16 ms between
 * looks ("any child", a process group, or a wait for a child that stops
 * or continues, which no pidfd shows). */
struct child_wait {
  int pfd;        /* the pidfd, or -1 */
  int own;        /* opened here (closed by child_wait_end) */
  uint64_t pause; /* the next pause, in ns */
};

/* Sets cw up for a wait on pid (> 0), or on pidfd (>= 0, the app's own),
 * or neither. */
static void child_wait_begin(struct child_wait *cw, pid_t pid, int pidfd,
                             int options)
{
  cw->pfd = -1;
  cw->own = 0;
  cw->pause = 1000000;
  if (options & (WUNTRACED | WCONTINUED))
    return;
  if (pidfd >= 0) {
    cw->pfd = pidfd;
  } else if (pid > 0) {
    cw->pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    cw->own = cw->pfd >= 0;
  }
}

/* Waits once, after a look found nothing to report. Returns 0 to look
 * again, or -1 with errno: EINTR (a signal whose handler has no
 * SA_RESTART, or gp_kill; pthread_cancel ends the thread here), ETIMEDOUT
 * (a gp_timeout block). */
static int child_wait_step(struct child_wait *cw)
{
  int w;
  if (cw->pfd >= 0) {
    w = gp__wait_fd(cw->pfd, EPOLLIN, GP__NEVER, 1);
  } else {
    w = gp__sleep_until(gp__now() + cw->pause, 1);
    if (cw->pause < 16000000)
      cw->pause *= 2;
  }
  if ((w == -EINTR || w == -ECANCELED || w == -GP__EXPIRED) &&
      !gp__shim_wait_failed(w, 0, 0))
    return -1;
  return 0;
}

static void child_wait_end(struct child_wait *cw)
{
  int saved = errno;
  if (cw->own) {
    gp__fd_forget(cw->pfd);
    gp__real_close(cw->pfd);
  }
  errno = saved;
}

/* Waits cooperatively for a child, as wait4 does. */
static pid_t coop_wait4(pid_t pid, int *status, int options,
                        struct rusage *ru)
{
  struct child_wait cw;
  pid_t r;

  child_wait_begin(&cw, pid, -1, options);
  while ((r = gp__real_wait4(pid, status, options | WNOHANG, ru)) == 0 &&
         child_wait_step(&cw) == 0)
    ;
  child_wait_end(&cw);
  return r == 0 ? -1 : r; /* 0 only when a wait step failed */
}

/* Waits cooperatively, as waitid does: each look is a waitid with WNOHANG
 * into a private siginfo, whose si_pid says whether a child was found. */
static int coop_waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
  struct child_wait cw;
  siginfo_t si;
  int r;

  child_wait_begin(&cw, type == P_PID ? (pid_t)id : 0,
                   type == P_PIDFD ? (int)id : -1, options);
  for (;;) {
    memset(&si, 0, sizeof(si));
    r = gp__real_waitid(type, id, &si, options | WNOHANG);
    if (r != 0 || si.si_pid != 0)
      break; /* a child to report, or an error (ECHILD, EINVAL …) */
    if (child_wait_step(&cw) != 0) {
      r = -1;
      break;
    }
  }
  child_wait_end(&cw);
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

/* waitid(2): P_PID and P_PIDFD wait on a pidfd, the others by pauses. */
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
static int system_calls;              /* calls in progress */
static struct sigaction system_intr;  /* SIGINT before the first */
static struct sigaction system_quit;  /* SIGQUIT before the first */

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
  ret = posix_spawn(&pid, "/bin/sh", NULL, &attr, (char *const *)argv,
                    environ);
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
  if (!gp__shim_active(GP__PATCH_PROCESS))
    return gp__real_system(cmd);
  if (cmd == NULL)
    return do_system("exit 0") == 0;
  return do_system(cmd);
}
