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
#include "../core/real.h"
#include "../core/sud.h"
#include "../core/scheduler.h"
#include "../core/tls.h"
#include "../core/wait.h"
#include "../core/work.h"

/* Decides, once per thread, whether this thread runs application code that
 * should be patched. Returns 1 (and makes the scheduler) or 0. */
int gp__shim_adopt(unsigned family);

/* Nonzero when the caller is an application coroutine on a scheduler's
 * thread, the runtime is not itself running, and family is patched. Every
 * interposer starts with this test and, when it fails, makes the real call
 * untouched. */
static inline int gp__shim_active(unsigned family)
{
  if (gp__tls.depth)
    return 0;
  if (gp__tls.sched)
    return (gp__config.patch & family) != 0;
  return gp__shim_adopt(family);
}

/* ---- fd kinds (fdkind.c) ---- */

/* The shim's record of fd, classified on first sight: its kind, whether it
 * is a byte stream, its socket timeouts. NULL when fd is not open. */
struct gp__fdinfo *gp__shim_classify(int fd);

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

/* Nonzero in a vfork child (process.c), which shares the parent's memory
 * until it execs or exits: every interposer passes straight through there
 * (gp__tls.depth is raised), and nothing of the parent's state may change. */
int gp__shim_vfork_child(void);

/* A cancellation point (thread.c): if pthread_cancel is pending for the
 * calling thread and enabled, it exits as canceled, running its cleanup
 * handlers; otherwise returns. */
void gp__thread_cancel_point(void);

#endif /* GP_SHIM_H */
