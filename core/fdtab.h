/* fdtab.h: what the runtime knows of each fd, process-wide — the shim's
 * record (its kind, the app's view of O_NONBLOCK, timeouts, hints) and the
 * coroutines parked on it — and waiting for an fd's readiness. An fd is
 * added to its scheduler's poller the first time a coroutine waits on it
 * and stays until it is closed. */
#ifndef GP_FDTAB_H
#define GP_FDTAB_H

#include <stddef.h>
#include <stdint.h>

struct gp__sched;

/* What the shim knows of an fd. */
enum gp__fd_kind {
  GP__FD_UNKNOWN = 0, /* not looked at yet (or state dropped) */
  GP__FD_OWNED,       /* a socket the process made: O_NONBLOCK underneath,
                         the app's view kept in app_nonblock */
  GP__FD_SOCKET,      /* a blocking socket it did not make (inherited):
                         I/O with MSG_DONTWAIT, flags never touched */
  GP__FD_STREAM,      /* a blocking pipe, FIFO, tty, character device,
                         eventfd, timerfd, signalfd or inotify fd it did
                         not make: wait for readiness, then call */
  GP__FD_FILE,        /* regular file, directory, block device: the call
                         goes straight through */
  GP__FD_NONBLOCK     /* non-blocking in the app's own right: straight
                         through, EAGAIN and all */
};

struct gp__fdinfo {
  int kind;             /* enum gp__fd_kind */
  int app_nonblock;     /* GP__FD_OWNED: O_NONBLOCK as the app set it */
  int stream;           /* a byte stream (SOCK_STREAM, pipe): partial writes
                           continue until everything is written */
  uint64_t rcvtimeo_ns; /* SO_RCVTIMEO, 0 for none */
  uint64_t sndtimeo_ns; /* SO_SNDTIMEO, 0 for none */
  unsigned min_read;    /* GP__FD_STREAM: a read (or a write) of fewer
                           bytes fails at once (EINVAL: eventfd, timerfd,
                           signalfd), so it is not waited for */
  unsigned waits;       /* GP__FD_STREAM: the directions a call may wait in
                           (GP__FD_IN, GP__FD_OUT); a call in another fails
                           at once (EBADF reading a pipe's write end, EINVAL
                           writing a timerfd), so it is not waited for */
  int tcp;              /* GP__TCP_*: whether a short read empties it */
  int sigfd;            /* a signalfd (shim/signal.c) */
};

/* gp__fdinfo.tcp: a TCP socket's receive queue is empty when a read comes
 * back short (other stream sockets can stop early: at passed fds, say). */
enum { GP__TCP_UNKNOWN, GP__TCP_YES, GP__TCP_NO };

/* Moves on whenever a record is dropped or changed (gp__fd_forget,
 * gp__fd_fresh, gp__fd_dup, gp__fd_info_changed): what a caller learnt
 * from a record while it had one value still holds while it has it. */
extern uint32_t gp__fd_epoch;

/* gp__fdinfo.waits: directions. */
enum { GP__FD_IN = 1, GP__FD_OUT = 2 };

/* The record of fd, made on first use (all zero: GP__FD_UNKNOWN), or NULL
 * for a negative or absurd fd number or without memory. */
struct gp__fdinfo *gp__fd_info(int fd);

/* Calls fn for every fd that has a record of a known kind. */
void gp__fd_each(void (*fn)(int fd, struct gp__fdinfo *fi, void *arg),
                 void *arg);

/* The fd is about to be closed (or replaced by dup2): its waiters wake with
 * -EBADF and its registration goes, so that the number can be reused at
 * once. */
void gp__fd_forget(int fd);

/* gp__fd_forget for every fd from first to last that has a record
 * (close_range, closefrom). */
void gp__fd_forget_range(unsigned first, unsigned last);

/* The fd number was just returned by a call that creates an fd: any state
 * left from an earlier file with that number (closed behind the runtime's
 * back) is dropped. */
void gp__fd_fresh(int fd);

/* nfd was just made from old (dup, dup2, dup3, F_DUPFD): both name one open
 * file description, so nfd starts with old's record, and from now on a
 * change to either is made to both (gp__fd_info_changed). */
void gp__fd_dup(int old, int nfd);

/* The record of fd was changed (the app's O_NONBLOCK, a socket timeout,
 * its kind): the fds that share its open file description get the same. */
void gp__fd_info_changed(int fd);

/* After fork, in the child: every registration and waiter belonged to the
 * parent's poller and coroutines. Keeps the records (kinds, the app's
 * flags), which the child shares. */
void gp__fd_forget_all(void);

/* Parks the running coroutine until fd is ready for events (EPOLLIN,
 * EPOLLOUT). Call it only after the operation itself reported EAGAIN.
 * Returns the events seen (> 0; error and hang-up conditions are reported
 * as both directions, so that the retried call sees them), or -EBADF (the
 * fd was closed under the wait), -ETIMEDOUT, -GP__EXPIRED, -ECANCELED,
 * -EINTR (when interruptible). An fd that cannot be polled (a regular
 * file) is always ready. A thread without a scheduler (one the runtime
 * does not own) waits in poll(2), in the kernel, as it may. */
int gp__wait_fd(int fd, uint32_t events, uint64_t deadline, int interruptible);

/* gp__wait_fd with flags: GP__WAIT_INTERRUPTIBLE, and GP__FD_EXCLUSIVE for
 * a wait of which one per readiness edge is woken (accept on a listener
 * many threads wait on); whoever then takes something calls gp__fd_pass,
 * which wakes the next. */
#define GP__FD_EXCLUSIVE 0x100
int gp__wait_fd_ex(int fd, uint32_t events, uint64_t deadline, int flags);

/* Wakes one exclusive waiter of fd, on any scheduler, to try again: the
 * caller took something (a connection) and more may be there. */
void gp__fd_pass(int fd);

/* One fd of a multi-fd wait. */
struct gp__fdwait {
  int fd;          /* the fd; negative entries are skipped */
  uint32_t events; /* EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLRDHUP */
};

/* Parks the running coroutine until one of the n fds is ready (poll and
 * select). Call it only after a zero-timeout poll found none ready. Returns
 * 0 when one is (look again to see which), or -ETIMEDOUT, -GP__EXPIRED,
 * -ECANCELED, -EINTR (when interruptible), -ENOMEM. */
int gp__wait_fds(const struct gp__fdwait *fds, size_t n, uint64_t deadline,
                 int interruptible);

/* A read-readiness hint, which saves the read that would only say EAGAIN.
 * gp__fd_read_short notes that a read of fd came back short with its
 * receive queue empty (the caller knows: a TCP socket); until the hub next
 * sees input or an exceptional condition on fd, gp__fd_read_idle then says
 * nonzero, and the next read may wait first. Only the fd's own scheduler
 * keeps the hint: it alone sees the fd's edges, in order with its reads. */
void gp__fd_read_short(int fd);
int gp__fd_read_idle(int fd);

#ifdef GP__CORE
/* For the hub: the poller reported events for the fd of token (a stale
 * token, from an earlier file of that number, is ignored). */
void gp__fd_ready(struct gp__sched *s, uint64_t token, uint32_t events);
#endif /* GP__CORE */

#endif /* GP_FDTAB_H */
