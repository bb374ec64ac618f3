/* shim.h: what every interposer needs — the test that decides between the
 * cooperative path and the plain libc call, the core rooms it builds on,
 * and the helpers the families share. A shim file never builds a wait by
 * hand, never names libuv and never reads a coroutine's fields: struct
 * gp__coro, gp__sched and gp__wait are core's alone (GP__CORE). */
#ifndef GP_SHIM_H
#define GP_SHIM_H

#include "../core/clock.h"
#include "../core/common.h"
#include "../core/config.h"
#include "../core/coro.h"
#include "../core/debug.h"
#include "../core/fdtab.h"
#include "../core/helper.h"
#include "../core/preempt.h"
#include "../core/real.h"
#include "../core/sud.h"
#include "../core/scheduler.h"
#include "../core/tls.h"
#include "../core/wait.h"
#include "../core/work.h"

#include <stdio.h>
#include <sys/types.h>

/* Decides, once per thread, whether this thread runs application code that
 * should be patched. Returns 1 (and makes the scheduler) or 0. */
int gp__shim_adopt(unsigned family);

/* Nonzero when the caller is an application coroutine on a scheduler's
 * thread (or, for the thread family alone, a signal handler that landed in
 * its hub), the runtime is not itself running, and family is patched. Every
 * interposer starts with this test and, when it fails, makes the real call
 * untouched. */
static inline int gp__shim_active(unsigned family)
{
  if (gp__tls.depth)
    return 0;
  /* A handler in the hub makes system calls as they are (it cannot park);
   * the thread family's objects stay the runtime's, so that a lock or a
   * key the program shares with its threads means the same there (OpenSSL's
   * random numbers, in PostgreSQL's postmaster's handlers, failed). */
  if (gp__tls.on_hub && family != GP__PATCH_THREAD)
    return 0;
  if (gp__tls.sched)
    return (gp__config.patch & family) != 0;
  return gp__shim_adopt(family);
}

/* gp__shim_active, for a coroutine that may park (not a handler in the
 * hub): what the waits with no fd of their own ask (fd.c's file locks,
 * mqueue.c, splice.c, sysvipc.c) before they wait the runtime's way. */
static inline int gp__shim_parks(unsigned family)
{
  return gp__shim_active(family) && gp__self() != NULL && !gp__tls.on_hub;
}

/* ---- fd kinds (fdkind.c) ---- */

/* The shim's record of fd, classified on first sight: its kind, whether it
 * is a byte stream, its socket timeouts. NULL when fd is not open. */
struct gp__fdinfo *gp__shim_classify(int fd);

/* Nonzero when fd, named by the program (not the runtime itself), is one
 * of the runtime's fds: unpatched that number is not open, so a probe of
 * it (fstat, fcntl, dup) says EBADF (procfd.c). */
int gp__shim_fd_hidden(int fd);

/* Nonzero when the caller is a thread the shim does not own (no
 * scheduler: made before the library loaded, or by such a thread) and fd
 * is a socket the process made, non-blocking underneath while the app
 * believes it blocking. Plain, that thread's call would block; passed
 * through it would fail with EAGAIN, so the I/O interposers drive it as
 * for a coroutine, its waits in poll(2) in the kernel (gp__wait_fd). */
int gp__shim_unowned_blocking(int fd);

/* An fd the process just made: a socket made non-blocking underneath
 * (app_nonblock: the app's view), or with owned 0, anything else, to be
 * classified on first use. Drops state left by an earlier file with the
 * same number. */
void gp__shim_fresh_fd(int fd, int owned, int app_nonblock);

/* A socket the process made and the app believes blocking is shared now
 * with another program that must see it blocking (a spawned child, the
 * receiver of an fd passed over a Unix socket): its O_NONBLOCK underneath
 * is cleared for good, and from now on the shim handles it as a blocking
 * socket it did not make (GP__FD_SOCKET: each try with MSG_DONTWAIT).
 * Returns 1 if it was changed, 0 if not (not such a socket, or the kernel
 * refused). */
int gp__shim_share(int fd, struct gp__fdinfo *fi);

/* Before a call that has no MSG_DONTWAIT (connect, sendfile): a socket the
 * process made whose O_NONBLOCK underneath is gone — cleared by a child's
 * exec on the open file description it shares — is from now on handled
 * as a blocking socket the process did not make. Returns fi->kind. */
int gp__shim_owned_check(int fd, struct gp__fdinfo *fi);

/* Copies n bytes of the caller's memory at src, for a call the shim
 * makes later or elsewhere than the caller (a connect on a helper thread,
 * the fds a message passes): a bad address fails with EFAULT, as in the
 * kernel, instead of crashing. Returns 0, or -1 with errno. */
int gp__shim_copy_in(void *dst, const void *src, size_t n);

/* GP__TCP_YES when fd is a TCP socket (the shim records sockets it makes;
 * others are asked once, by gp__shim_tcp_probe, and the answer kept in
 * fi). */
int gp__shim_tcp_probe(int fd, struct gp__fdinfo *fi);
static inline int gp__shim_tcp(int fd, struct gp__fdinfo *fi)
{
  return fi->tcp != GP__TCP_UNKNOWN ? fi->tcp : gp__shim_tcp_probe(fd, fi);
}

/* io_uring_enter, cooperative when it waits for completions (uring.c).
 * Returns 1 with the result in *ret (libc-style), or 0 when the kernel is
 * to make the call. */
int gp__shim_uring_enter(const long a[6], long *ret);

/* Asks the kernel's poll, without waiting, whether fd is ready for events
 * (POLLIN or POLLOUT): for a call that, once made, blocks the OS thread for
 * real (a blocking pipe it did not make, an accept on a listener that blocks
 * underneath), so it is made only when this says ready. Returns 1 when fd
 * is ready, or has an error or hang-up the call will report; 0 when it is
 * not; or, when a caught signal interrupted the look (as it would have
 * interrupted the call plain), -EINTR — never "ready": the caller hands it
 * to gp__shim_wait_failed. */
int gp__shim_poll_ready(int fd, short events);

/* How many of the program's handlers have run on this OS thread: a call
 * that failed with EINTR while it stayed the same was interrupted by the
 * runtime's own signal (core/preempt.c), not the program's. */
unsigned gp__signal_caught(void);

/* Evaluates call (one that does not wait: a poll or select with a zero
 * timeout, which fails with EINTR when a signal is pending as it starts)
 * again while it fails with an EINTR that no handler of the program's
 * caused: the runtime's preemption signal is not the program's. */
#define GP__AGAIN_IF_OWN_EINTR(call)                                           \
  ({                                                                           \
    unsigned gp__before_;                                                      \
    __typeof__(call) gp__r_;                                                   \
    do {                                                                       \
      gp__before_ = gp__signal_caught();                                       \
      gp__r_ = (call);                                                         \
    } while (gp__r_ < 0 && errno == EINTR &&                                   \
             gp__signal_caught() == gp__before_);                              \
    gp__r_;                                                                    \
  })

/* ---- what the families share (init.c, signal.c, thread.c) ---- */

/* Nonzero when the last signal the app caught has SA_RESTART: interrupted
 * restartable calls continue (signal.c). */
int gp__signal_restarts(void);

/* Decides what a failed wait of a blocking call becomes (init.c): returns 1
 * to wait again (a signal whose handler has SA_RESTART, and no timeout
 * timeo on the fd, as the kernel restarts the call), else 0 with errno set:
 * EINTR for a signal or gp_kill (a pthread_cancel ends the thread here),
 * timeout_errno when the wait's own deadline passed, ETIMEDOUT for a
 * gp_timeout block, or the wait's own error. */
int gp__shim_wait_failed(int w, uint64_t timeo, int timeout_errno);

/* For a wait with a form that does not wait and no fd that says when to
 * try again (file locks, System V IPC): calls again(arg), which asks
 * without waiting, until it returns >= 0 or fails with an errno other
 * than busy, parking 1 ms, then 2, 4, 8 and 16 ms between tries, until
 * deadline (then -1 with errno timeout_errno). A caught signal ends it
 * with EINTR, or goes on when GP__RETRY_RESTARTS and the handler has
 * SA_RESTART; a pthread_cancel ends the thread when GP__RETRY_CANCEL
 * (a cancellation point), else waits for the next cancellation point.
 * Returns what again returned, or -1 with errno. */
#define GP__RETRY_RESTARTS 1
#define GP__RETRY_CANCEL   2
long gp__shim_retry(long (*again)(void *arg), void *arg, int busy,
                    uint64_t deadline, int flags, int timeout_errno);

/* Nonzero in a vfork child (process.c), which shares the parent's memory
 * until it execs or exits: every interposer passes straight through there
 * (gp__tls.depth is raised), and nothing of the parent's state may change. */
int gp__shim_vfork_child(void);

/* Before a spawn, posix_spawn's or one through glibc's internal aliases
 * (its own popen and system; process.c): makes the sockets the command
 * inherits blocking. */
void gp__shim_before_spawn(void);

/* A cancellation point (thread.c): if pthread_cancel is pending for the
 * calling thread and enabled, it exits as canceled, running its cleanup
 * handlers; otherwise returns. */
void gp__thread_cancel_point(void);

/* The robust mutexes the calling thread holds (sync.c links them), or NULL
 * for a caller that is not one of the runtime's threads; and, as a thread
 * ends, each of them given to its next locker with EOWNERDEAD. */
__pthread_list_t *gp__thread_robust_list(void);
void gp__sync_robust_died(__pthread_list_t *list);

/* Signals sent to one thread with pthread_kill while its mask blocks them
 * are kept pending for that thread alone (thread.c), as the kernel keeps
 * a thread-directed signal: its OS thread is shared, so a real pending
 * signal there could be taken by another thread's sigwait. The calling
 * thread says which signals its sigwait waits for (NULL once it is over),
 * and takes one of set that is pending for it: its number, or 0. */
void gp__thread_sigwaiting(const sigset_t *set);
/* Runs sig's action on the calling OS thread now, for a thread that does
 * not block it, with info (NULL: as pthread_kill sends it): let through
 * this thread's mask for the moment, and not counted as interrupting this
 * thread's own waits. Returns 0 or an error number. */
int gp__signal_run_here(int sig, siginfo_t *info);
/* For sigsuspend on a thread other than main: sets its kept mask to set,
 * the old one in *old, and runs the actions of the signals kept pending
 * for it that set lets through. Returns how many ran. */
int gp__thread_suspend_mask(const sigset_t *set, sigset_t *old);
int gp__thread_take_signal(const sigset_t *set);
/* Signals sent to the process that main blocks but another thread does
 * not (signal.c): gp__signal_watch starts watching for them, once the
 * program has threads; a thread whose mask now lets through those of
 * open takes the ones pending, its action taken on its own OS thread
 * (returns how many). */
void gp__signal_watch(void);
int gp__signal_take_unblocked(const sigset_t *open);
/* A thread, not main, that does not block sig: its handle and *id; NULL
 * when none. */
struct gp__coro *gp__thread_taker(int sig, uint64_t *id);
/* Takes sig's action for thread co, which does not block it, with info
 * (NULL: as pthread_kill sends it): when co (not main, not the caller)
 * waits where a signal interrupts, its wait ends with EINTR and co takes
 * the action itself, on its own stack, before its call returns, as the
 * kernel does; else the action is taken now on this OS thread
 * (gp__signal_run_here) and co's wait interrupted. Returns 0 or an error
 * number. */
int gp__thread_signal(struct gp__coro *co, int sig, siginfo_t *info);

/* After a write-family call failed with err: EPIPE and EFBIG come with a
 * signal the kernel sends to the OS thread (SIGPIPE, SIGXFSZ). On an OS
 * thread whose mask blocks it (a scheduler worker's blocks every signal)
 * it was left pending there, and neither the default action (the
 * program's end) nor a handler happened: it is taken and given to the
 * calling thread, as pthread_kill gives one (pending if its mask blocks
 * it). Keeps errno. */
void gp__thread_write_signal(int err);
/* Around one try of a write-family call by a thread that blocks SIGPIPE
 * or SIGXFSZ on an OS thread whose mask lets them through (main's, on the
 * first scheduler): they are blocked there for the try, else the kernel
 * would take the action at once, for a thread that blocks the signal.
 * Returns 1 when it blocked them (old: the mask to put back). Unshield
 * gives such a signal that came with the try's failure (r < 0) to the
 * thread, then puts the mask back. Both keep errno. */
int gp__thread_write_shield(sigset_t *old);
void gp__thread_write_unshield(ssize_t r, const sigset_t *old);

/* Around the installation of a seccomp filter (prctl PR_SET_SECCOMP, or
 * seccomp(2) through syscall), which may refuse the system calls the shim
 * adds (sshd's pre-authentication sandbox killed its child at the first
 * fcntl): in a process that has no other thread, the sockets the program
 * believes blocking are made blocking for real first (enter 1; returns a
 * count for leave), and once the filter is in (ok), every call but the
 * thread family's passes straight through, as after an exec; a failed
 * installation undoes the first step. With other threads the shim goes on
 * as it is. */
int gp__shim_sandbox_enter(void);
void gp__shim_sandbox_leave(int changed, int ok);
/* The signals of set, one bit each (bit sig - 1; 1 to 64); and those of
 * bits added to set. */
uint64_t gp__sig_bits(const sigset_t *set);
void gp__sig_add_bits(sigset_t *set, uint64_t bits);
/* Set as a fork's child exits whose parent had started libuv's pool
 * (thread.c): the parent's threads counted as waiting on the pool's
 * condition variable are gone, and its destroy must not fail. */
extern int gp__shim_child_exiting;
/* Adds to *set the signals kept pending for the calling thread. */
void gp__thread_kept_signals(sigset_t *set);
/* Those signals, one bit each (bit sig - 1). */
uint64_t gp__thread_kept_bits(void);
/* gp__thread_sigwaiting, with the signals as such bits (0: over). */
void gp__thread_sigwaiting_bits(uint64_t bits);
/* Set once a signal has been kept pending for a thread: until then no
 * call needs to look for one. */
extern int gp__thread_kept_ever;

/* A signalfd and the signals kept pending for a thread (signal.c): the
 * mask of fd, as bits, or 0 when fd is not a signalfd; and a read of
 * count bytes into buf that takes the calling thread's kept signals of
 * mask, as the kernel would read them: the bytes read, or 0 when there
 * is none (or no room for one). */
uint64_t gp__signalfd_mask(int fd);
ssize_t gp__signalfd_take(void *buf, size_t count, uint64_t mask);

/* ---- stdio (stdio.c; the calls themselves in stdio_in.c, stdio_out.c) ---- */

/* What an interposed stdio call does with its stream. */
enum {
  GP__STDIO_IN,  /* reads it (it may refill its buffer) */
  GP__STDIO_OUT, /* writes it */
  GP__STDIO_CTL, /* anything else under its lock (seek, setvbuf …) */
  GP__STDIO_LOCK /* flockfile: taken over whatever its fd */
};

/* One interposed stdio call in progress. */
struct gp__stdio_call {
  void *rec; /* the stream's record whose lock the call holds */
};

/* Nonzero once stdio goes through the shim (glibc's tables patched). */
extern int gp__stdio_on;

/* Before the real stdio call on fp: a stream that a coroutine uses and
 * whose calls may wait (socket, pipe, FIFO, terminal, no fd) is taken over
 * by the shim, and the shim's lock of a stream it has taken over is taken:
 * glibc takes none of its own on such a stream, and the call may then park
 * inside. Every caller of a taken-over stream takes that lock, coroutine or
 * thread. A stream over a regular file that nobody locks with flockfile
 * is left to glibc at the cost of a look at its fd's record (the fast
 * path, inline). Does not touch errno. */
void gp__stdio_enter_slow(struct gp__stdio_call *c, FILE *fp, int what);

/* The last stream the fast path found over a regular file (or an fd the
 * app made non-blocking), per OS thread: a getc loop looks at no record. */
struct gp__stdio_seen {
  FILE *fp;       /* the stream */
  int fd;         /* its fd then */
  uint32_t epoch; /* gp__fd_epoch then */
};
extern __thread struct gp__stdio_seen gp__stdio_seen
    __attribute__((tls_model("initial-exec")));

/* Nonzero when fp's fd is a regular file or non-blocking in the app's own
 * right: calls on it never wait, and glibc's lock does. */
static inline int gp__stdio_plain(FILE *fp)
{
  uint32_t epoch = __atomic_load_n(&gp__fd_epoch, __ATOMIC_ACQUIRE);
  struct gp__fdinfo *fi;
  int fd = fp->_fileno;

  if (gp__stdio_seen.fp == fp && gp__stdio_seen.fd == fd &&
      gp__stdio_seen.epoch == epoch)
    return 1;
  if (fd < 0 || (fi = gp__fd_info(fd)) == NULL ||
      (fi->kind != GP__FD_FILE && fi->kind != GP__FD_NONBLOCK))
    return 0;
  gp__stdio_seen.fp = fp;
  gp__stdio_seen.fd = fd;
  gp__stdio_seen.epoch = epoch;
  return 1;
}

static inline void gp__stdio_enter(struct gp__stdio_call *c, FILE *fp, int what)
{
  c->rec = NULL;
  /* 0x0202: glibc's _IO_LINE_BUF and _IO_UNBUFFERED. */
  if (__builtin_expect(gp__stdio_on && fp != NULL &&
                           !(fp->_flags & _IO_USER_LOCK) &&
                           what != GP__STDIO_LOCK &&
                           (what != GP__STDIO_IN || !(fp->_flags & 0x0202)) &&
                           gp__stdio_plain(fp),
                       1))
    return;
  gp__stdio_enter_slow(c, fp, what);
}

/* After it: the lock goes. Does not touch errno. */
void gp__stdio_leave_slow(struct gp__stdio_call *c);
static inline void gp__stdio_leave(struct gp__stdio_call *c)
{
  if (c->rec)
    gp__stdio_leave_slow(c);
}

/* The body of an interposer of a stdio call: call (of type type, the real
 * function) under fp's lock, as gp__stdio_enter says. The interposer's
 * name and prototype are written out; only its body is this. */
#define GP__STDIO_CALL(fp, what, type, call)                                   \
  do {                                                                         \
    struct gp__stdio_call c_;                                                  \
    type r_;                                                                   \
    gp__stdio_enter(&c_, (fp), (what));                                        \
    r_ = (call);                                                               \
    gp__stdio_leave(&c_);                                                      \
    return r_;                                                                 \
  } while (0)
#define GP__STDIO_CALL_VOID(fp, what, call)                                    \
  do {                                                                         \
    struct gp__stdio_call c_;                                                  \
    gp__stdio_enter(&c_, (fp), (what));                                        \
    (call);                                                                    \
    gp__stdio_leave(&c_);                                                      \
  } while (0)

/* At exit, once the program's destructors have run: the streams the shim
 * took over go back into glibc's list, for glibc's exit-time flush. */
void gp__stdio_exit(void);

/* Waits in poll, as a thread (never parking), until fd is ready for events:
 * the blocking call a caller that cannot park expects, on a socket the shim
 * made non-blocking underneath. timeout_ms -1 for none. Returns 0, or -1
 * with errno (EAGAIN at the timeout; EINTR for a signal whose handler has
 * no SA_RESTART). */
int gp__shim_poll_wait(int fd, short events, int timeout_ms);

/* Takes fp over as the stream of popen's child pid (popen.c): its close
 * then waits for the child. Returns 0 or -1. */
int gp__stdio_set_pid(FILE *fp, pid_t pid);

/* ---- popen (popen.c) ---- */

/* What closing a popen stream does, as glibc's _IO_new_proc_close: the
 * stream leaves the list of popen streams, its fd is closed and the child
 * waited for (parking the caller when park is set, else as a thread).
 * Returns the child's wait status, or -1 with errno. */
int gp__popen_close(int fd, pid_t pid, int park);

#endif /* GP_SHIM_H */
