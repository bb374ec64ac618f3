/* io.c: read, write and the socket send/receive family.
 *
 * Every call goes through one driver, drive(), which acts on the kind of the
 * fd (core/fdtab.h, enum gp__fd_kind):
 *   - files, and fds the app made non-blocking itself: the plain call;
 *   - sockets the process made (non-blocking underneath): try, and on EAGAIN
 *     park until the fd is ready, unless the app asked not to wait;
 *   - blocking sockets it inherited: the same, each try with MSG_DONTWAIT,
 *     so that the shared file description's flags are never touched;
 *   - blocking pipes, FIFOs and ttys it inherited: wait for readiness first,
 *     then make the call (write and writev of more than PIPE_BUF go in
 *     PIPE_BUF pieces, each after the pipe has room; sendfile into a pipe
 *     moves what there is room for, as it does plain).
 * A blocking write on a byte stream continues until everything is written,
 * as the kernel's does; SO_RCVTIMEO and SO_SNDTIMEO end a wait with EAGAIN
 * (or with the bytes moved so far). */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

/* The calls the driver knows. */
enum op_kind {
  OP_READ,
  OP_READV,
  OP_RECV,
  OP_RECVFROM,
  OP_RECVMSG,
  OP_RECVMMSG,
  OP_WRITE,
  OP_WRITEV,
  OP_SEND,
  OP_SENDTO,
  OP_SENDMSG,
  OP_SENDMMSG,
  OP_SENDFILE
};

/* One call in progress; buf/len/iov advance as a write makes progress. */
struct op {
  int kind;              /* enum op_kind */
  int fd;                /* the fd */
  void *buf;             /* OP_READ, OP_RECV*, OP_WRITE, OP_SEND* */
  size_t len;            /* bytes still to move */
  int flags;             /* MSG_* flags of the app */
  struct sockaddr *addr; /* OP_RECVFROM, OP_SENDTO */
  socklen_t *alen;       /* OP_RECVFROM */
  socklen_t salen;       /* OP_SENDTO */
  struct msghdr *msg;    /* OP_RECVMSG, OP_SENDMSG (a private copy while
                            a send advances) */
  struct iovec *iov;     /* OP_READV, OP_WRITEV */
  int iovcnt;            /* its length */
  struct mmsghdr *vec;   /* OP_RECVMMSG, OP_SENDMMSG: the messages */
  unsigned vlen;         /* how many */
  uint64_t mm_deadline;  /* OP_RECVMMSG: the end of its timeout argument,
                            looked at after each message (or GP__NEVER) */
  int in;                /* OP_SENDFILE: the file read from */
  off_t *offset;         /* OP_SENDFILE: where, or NULL */
};

static int is_write(const struct op *op)
{
  return op->kind >= OP_WRITE;
}

/* The calls of sockets only: on anything else they fail at once
 * (ENOTSOCK). */
static int socket_only(const struct op *op)
{
  return op->kind != OP_READ && op->kind != OP_READV && op->kind != OP_WRITE &&
         op->kind != OP_WRITEV && op->kind != OP_SENDFILE;
}

/* recvmmsg and sendmmsg return a count of messages, not of bytes. */
static int counts_messages(const struct op *op)
{
  return op->kind == OP_RECVMMSG || op->kind == OP_SENDMMSG;
}

/* A blocking sendmmsg sends every message, and a blocking recvmmsg takes
 * vlen of them unless MSG_WAITFORONE asks for what is there once one
 * came (or its timeout has passed when a message comes). */
static int messages_all(const struct op *op)
{
  return op->kind == OP_SENDMMSG || !(op->flags & MSG_WAITFORONE);
}

/* One try of the real call. dontwait adds MSG_DONTWAIT (sockets only); read
 * and write become recv and send for it, readv and writev recvmsg and
 * sendmsg. */
static ssize_t try_once(struct op *op, int dontwait)
{
  int fl = op->flags | (dontwait ? MSG_DONTWAIT : 0);
  struct msghdr m;

  switch (op->kind) {
  case OP_READ:
    return dontwait ? gp__real_recv(op->fd, op->buf, op->len, fl)
                    : gp__real_read(op->fd, op->buf, op->len);
  case OP_WRITE:
    return dontwait ? gp__real_send(op->fd, op->buf, op->len, fl)
                    : gp__real_write(op->fd, op->buf, op->len);
  case OP_READV:
  case OP_WRITEV:
    /* A count recvmsg would judge otherwise (EMSGSIZE): the kernel's own
     * answer to readv and writev (EINVAL). */
    if (!dontwait || op->iovcnt < 0 || op->iovcnt > IOV_MAX)
      return op->kind == OP_READV
                 ? gp__real_readv(op->fd, op->iov, op->iovcnt)
                 : gp__real_writev(op->fd, op->iov, op->iovcnt);
    memset(&m, 0, sizeof(m));
    m.msg_iov = op->iov;
    m.msg_iovlen = (size_t)op->iovcnt;
    return op->kind == OP_READV ? gp__real_recvmsg(op->fd, &m, fl)
                                : gp__real_sendmsg(op->fd, &m, fl);
  case OP_RECV:
    return gp__real_recv(op->fd, op->buf, op->len, fl);
  case OP_RECVFROM:
    return gp__real_recvfrom(op->fd, op->buf, op->len, fl, op->addr, op->alen);
  case OP_RECVMSG:
    return gp__real_recvmsg(op->fd, op->msg, fl);
  case OP_RECVMMSG:
    /* The kernel's timeout argument means nothing to a call that does not
     * wait (see README). */
    return gp__real_recvmmsg(op->fd, op->vec, op->vlen, fl, NULL);
  case OP_SENDMMSG:
    return gp__real_sendmmsg(op->fd, op->vec, op->vlen, fl);
  case OP_SENDFILE:
    return gp__real_sendfile(op->fd, op->in, op->offset, op->len);
  case OP_SEND:
    return gp__real_send(op->fd, op->buf, op->len, fl);
  case OP_SENDTO:
    return gp__real_sendto(op->fd, op->buf, op->len, fl, op->addr, op->salen);
  default:
    return gp__real_sendmsg(op->fd, op->msg, fl);
  }
}

/* try_once; a write with the calling thread's SIGPIPE and SIGXFSZ
 * blocked on the OS thread when its mask blocks them (shim.h). */
static ssize_t attempt(struct op *op, int dontwait)
{
  sigset_t old;
  ssize_t r;

  if (!is_write(op) || !gp__thread_write_shield(&old))
    return try_once(op, dontwait);
  r = try_once(op, dontwait);
  gp__thread_write_unshield(r, &old);
  return r;
}

/* Bytes the op still has to move (iovec calls count every buffer). */
static size_t remaining(const struct op *op)
{
  const struct iovec *iov = op->iov;
  int n = op->iovcnt;
  size_t sum = 0;

  if (counts_messages(op))
    return op->vlen;
  if (op->kind == OP_RECVMSG || op->kind == OP_SENDMSG) {
    iov = op->msg->msg_iov;
    n = (int)op->msg->msg_iovlen;
  } else if (op->kind != OP_READV && op->kind != OP_WRITEV) {
    return op->len;
  }
  for (int i = 0; i < n; i++)
    sum += iov[i].iov_len;
  return sum;
}

/* Moves the op past r bytes that were transferred. The iovec arrays
 * advanced here are private copies (see copy_iov). */
static void advance(struct op *op, size_t r)
{
  struct iovec **piov;
  size_t *pn, n;

  if (counts_messages(op)) { /* r messages */
    op->vec += r;
    op->vlen -= (unsigned)r;
    return;
  }
  if (op->kind == OP_RECVMSG || op->kind == OP_SENDMSG) {
    piov = &op->msg->msg_iov;
    pn = &op->msg->msg_iovlen;
  } else if (op->kind == OP_READV || op->kind == OP_WRITEV) {
    n = (size_t)op->iovcnt;
    piov = &op->iov;
    pn = &n;
  } else {
    if (op->kind != OP_SENDFILE) /* the kernel moves sendfile's offset */
      op->buf = (char *)op->buf + r;
    op->len -= r;
    return;
  }
  while (*pn > 0 && r >= (*piov)[0].iov_len) {
    r -= (*piov)[0].iov_len;
    (*piov)++;
    (*pn)--;
  }
  if (*pn > 0 && r > 0) {
    (*piov)[0].iov_base = (char *)(*piov)[0].iov_base + r;
    (*piov)[0].iov_len -= r;
  }
  if (op->kind == OP_READV || op->kind == OP_WRITEV)
    op->iovcnt = (int)n;
}

/* Ends a call that moved `done` bytes before failing with err: bytes moved
 * win over the error, as in the kernel. */
static ssize_t finish(size_t done, int err)
{
  if (done > 0)
    return (ssize_t)done;
  errno = err;
  return -1;
}

/* Whether a call whose wait ended with w (gp__wait_fd's) waits again,
 * done bytes moved so far; else errno is set. A signal handler that runs
 * once some bytes have moved ends the call with their count, whatever
 * SA_RESTART says, as the kernel's does (write(2), recv's MSG_WAITALL). */
static int waits_again(int w, size_t done, uint64_t timeo)
{
  if (w == -EINTR && done > 0) {
    errno = EINTR;
    return 0;
  }
  return gp__shim_wait_failed(w, timeo, EAGAIN);
}

/* MSG_PEEK|MSG_WAITALL: TCP waits until the whole length can be peeked
 * (or EOF, an error); AF_UNIX peeks what the first message holds. Returns
 * nonzero when the socket waits. */
static int peek_waits_all(int fd)
{
  int domain = 0;
  socklen_t len = sizeof(domain);
  return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
         (domain == AF_INET || domain == AF_INET6);
}

/* A peek came back short: nonzero when no more data will come (end of
 * stream, error), so that what was peeked is the answer. Asked each time:
 * the edge of that event may have gone by before anyone waited. */
static int peek_ended(int fd)
{
  struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
  int n;

  /* A signal caught while looking says nothing of the socket: look again
   * (the edge that announced the end may have gone by already). */
  while ((n = gp__real_poll(&p, 1, 0)) < 0 && errno == EINTR)
    ;
  return n > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

/* Tries the op until it completes, parking on EAGAIN. dontwait: each try
 * with MSG_DONTWAIT (a blocking socket that is not ours).
 *
 * A plain read of a TCP socket that came back short left its receive queue
 * empty, so the next one waits for input before it tries (no read that
 * only says EAGAIN): see gp__fd_read_short. */
static ssize_t loop(struct op *op, struct gp__fdinfo *fi, int dontwait)
{
  int out = is_write(op);
  uint64_t timeo = out ? fi->sndtimeo_ns : fi->rcvtimeo_ns;
  uint64_t deadline = timeo ? gp__now() + timeo : GP__NEVER;
  int all =
      op->kind == OP_SENDFILE ||
      (counts_messages(op)
           ? messages_all(op)
           : (out ? fi->stream : fi->stream && (op->flags & MSG_WAITALL)));
  int peek = !out && (op->flags & MSG_PEEK);
  int hint =
      !out &&
      (op->kind == OP_READ || op->kind == OP_RECV || op->kind == OP_RECVFROM) &&
      (op->flags & ~(MSG_WAITALL | MSG_NOSIGNAL)) == 0 &&
      gp__shim_tcp(op->fd, fi) == GP__TCP_YES;
  size_t done = 0;

  if (all && peek && !peek_waits_all(op->fd))
    all = 0;
  for (;;) {
    /* Looked at before the peek, so that the peek holds every byte sent. */
    int ended = all && peek && peek_ended(op->fd);
    ssize_t r;
    if (hint && gp__fd_read_idle(op->fd)) {
      errno = EAGAIN;
      r = -1;
    } else {
      r = attempt(op, dontwait);
    }
    if (hint && r > 0 && remaining(op) > (size_t)r)
      gp__fd_read_short(op->fd);
    if (r >= 0 && peek) {
      /* A peek does not consume: the next try sees the same bytes again,
       * so it starts over with the whole buffer once more has arrived. */
      if (!all || r == 0 || remaining(op) == (size_t)r || ended)
        return r;
      done = (size_t)r;
      errno = EAGAIN;
      r = -1;
    } else if (r >= 0) {
      done += (size_t)r;
      if (!all || r == 0 || remaining(op) == (size_t)r)
        return (ssize_t)done;
      advance(op, (size_t)r);
      if (counts_messages(op)) {
        /* Each message is a call of its own to the kernel: its own
         * SO_RCVTIMEO or SO_SNDTIMEO; recvmmsg's timeout is looked at
         * once a message came, never while it waits (recvmmsg(2), BUGS). */
        if (op->kind == OP_RECVMMSG && op->mm_deadline != GP__NEVER &&
            gp__now() >= op->mm_deadline)
          return (ssize_t)done;
        deadline = timeo ? gp__now() + timeo : GP__NEVER;
      }
      continue;
    }
    if (errno == EINTR)
      continue; /* cannot happen on a non-blocking try, but harmless */
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return finish(done, errno);
    for (;;) {
      int w = gp__wait_fd(op->fd, out ? EPOLLOUT : EPOLLIN, deadline, 1);
      if (w >= 0)
        break;
      if (!waits_again(w, done, timeo))
        return finish(done, errno);
    }
  }
}

/* A tty in non-canonical mode with VMIN 0 returns from read after VTIME
 * even without data: readiness says nothing about it, so it is called
 * straight. */
static int tty_timed(int fd)
{
  struct termios t;
  return tcgetattr(fd, &t) == 0 && !(t.c_lflag & ICANON) && t.c_cc[VMIN] == 0;
}

/* One try of a write that moves at most max bytes: the op's length, or
 * its (private) iovec array, is cut for the call and restored after. */
static ssize_t attempt_at_most(struct op *op, size_t max)
{
  size_t sum = 0, len;
  ssize_t r;
  int k, n;

  if (op->kind == OP_WRITE) {
    if (op->len <= max)
      return attempt(op, 0);
    len = op->len;
    op->len = max;
    r = attempt(op, 0);
    op->len = len;
    return r;
  }
  /* OP_WRITEV: the buffers that fit whole, and a part of the next. */
  for (k = 0; k < op->iovcnt && sum + op->iov[k].iov_len <= max; k++)
    sum += op->iov[k].iov_len;
  if (k == op->iovcnt)
    return attempt(op, 0);
  n = op->iovcnt;
  len = op->iov[k].iov_len;
  op->iovcnt = k + 1;
  op->iov[k].iov_len = max - sum;
  r = attempt(op, 0);
  op->iov[k].iov_len = len;
  op->iovcnt = n;
  return r;
}

/* A blocking read of a signalfd: the signals of its mask that pthread_kill
 * keeps pending for the calling thread are read first (signal.c), and one
 * kept for it while it waits ends the wait. */
static ssize_t loop_signalfd(struct op *op)
{
  uint64_t mask = gp__signalfd_mask(op->fd);
  ssize_t r;
  int saved;

  gp__thread_sigwaiting_bits(mask);
  for (;;) {
    int w;
    if ((r = gp__signalfd_take(op->buf, op->len, mask)) > 0)
      break;
    w = gp__shim_poll_ready(op->fd, POLLIN);
    if (w > 0) {
      r = attempt(op, 0);
      break;
    }
    if (w == 0 && (w = gp__wait_fd(op->fd, EPOLLIN, GP__NEVER, 1)) >= 0)
      continue;
    if (w == -EINTR && (gp__thread_kept_bits() & mask))
      continue; /* pthread_kill's, for this read */
    if (!waits_again(w, 0, 0)) {
      r = -1;
      break;
    }
  }
  saved = errno;
  gp__thread_sigwaiting_bits(0);
  errno = saved;
  return r;
}

/* Blocking pipes, FIFOs, ttys and event fds that are not ours: wait, then
 * call. A call the kernel answers without waiting goes straight through:
 * one in a direction the fd never becomes ready for (reading a pipe's write
 * end), a socket call, nothing to move, a size an event fd refuses, a read
 * of a tty that times its reads. */
static ssize_t loop_stream(struct op *op, const struct gp__fdinfo *fi)
{
  int out = is_write(op);
  size_t done = 0, total;

  if (!(fi->waits & (out ? GP__FD_OUT : GP__FD_IN)) || socket_only(op))
    return attempt(op, 0);
  total = remaining(op);
  if (total == 0 || total < fi->min_read || (!out && tty_timed(op->fd)))
    return attempt(op, 0);
  if (fi->sigfd && op->kind == OP_READ)
    return loop_signalfd(op);
  for (;;) {
    ssize_t r;
    /* The call blocks the thread unless the fd is ready: a signal caught
     * while looking is a signal caught while the call waited. */
    int w = gp__shim_poll_ready(op->fd, out ? POLLOUT : POLLIN);
    if (w == 0) {
      w = gp__wait_fd(op->fd, out ? EPOLLOUT : EPOLLIN, GP__NEVER, 1);
      if (w >= 0)
        continue; /* look again: the call is made only when ready */
    }
    if (w < 0) {
      if (waits_again(w, done, 0))
        continue;
      return finish(done, errno);
    }
    /* Room for PIPE_BUF bytes is all a writable pipe promises. sendfile
     * into a pipe moves what there is room for and returns. */
    r = out && op->kind != OP_SENDFILE ? attempt_at_most(op, PIPE_BUF)
                                       : attempt(op, 0);
    if (r < 0)
      return finish(done, errno);
    done += (size_t)r;
    if (!out || done == total || op->kind == OP_SENDFILE)
      return (ssize_t)done;
    advance(op, (size_t)r);
  }
}

/* Where a sendfile_copy left the input: *offset, or the file's own
 * offset when the caller gave none (as the kernel moves them). */
static void sendfile_moved(const struct op *op, off_t pos)
{
  if (op->offset)
    *op->offset = pos;
  else
    lseek(op->in, pos, SEEK_SET);
}

/* sendfile to a socket that blocks underneath (one the process did not
 * make, or one whose O_NONBLOCK a child's exec cleared): sendfile has no
 * MSG_DONTWAIT, so the file is read with pread and sent with MSG_DONTWAIT,
 * the caller parked while the socket has no room, and the input's offset
 * moves by what was sent: a blocking sendfile's result, while only the
 * caller waits. An input that cannot be read at an offset (not a regular
 * file) gets the real call. */
static ssize_t sendfile_copy(struct op *op, struct gp__fdinfo *fi)
{
  uint64_t timeo = fi->sndtimeo_ns;
  uint64_t deadline = timeo ? gp__now() + timeo : GP__NEVER;
  size_t done = 0, chunk = op->len < 65536 ? op->len : 65536;
  int err = 0;
  ssize_t r;
  off_t pos;
  char *buf;

  /* The kernel judges the fds, the offset and the count first. */
  r = gp__real_sendfile(op->fd, op->in, op->offset, 0);
  if (r < 0 || op->len == 0)
    return r;
  pos = op->offset ? *op->offset : lseek(op->in, 0, SEEK_CUR);
  if (pos < 0 || (buf = malloc(chunk)) == NULL)
    return attempt(op, 0);
  while (done < op->len && err == 0) {
    size_t want = op->len - done < chunk ? op->len - done : chunk, sent = 0;
    ssize_t n = pread(op->in, buf, want, pos);
    if (n <= 0) {
      err = n < 0 ? errno : 0;
      break; /* the end of the input, or its error */
    }
    while (sent < (size_t)n) {
      sigset_t old;
      int shield = gp__thread_write_shield(&old), w;
      ssize_t k =
          gp__real_send(op->fd, buf + sent, (size_t)n - sent, MSG_DONTWAIT);
      if (shield)
        gp__thread_write_unshield(k, &old);
      if (k >= 0) {
        sent += (size_t)k;
        done += (size_t)k;
        pos += k;
        continue;
      }
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN) {
        err = errno;
        break;
      }
      w = gp__wait_fd(op->fd, EPOLLOUT, deadline, 1);
      if (w < 0 && !waits_again(w, done, timeo)) {
        err = errno;
        break;
      }
    }
  }
  free(buf);
  sendfile_moved(op, pos);
  return err ? finish(done, err) : (ssize_t)done;
}

static ssize_t drive_op(struct op *op)
{
  struct gp__fdinfo *fi = gp__shim_classify(op->fd);

  gp__slice();
  if (fi == NULL)
    return attempt(op, 0);
  /* A signalfd of any kind, by a thread with signals kept for it. */
  if (fi->sigfd && op->kind == OP_READ &&
      __atomic_load_n(&gp__thread_kept_ever, __ATOMIC_RELAXED) &&
      gp__thread_kept_bits() != 0) {
    ssize_t r = gp__signalfd_take(op->buf, op->len, gp__signalfd_mask(op->fd));
    if (r > 0)
      return r;
  }
  if (op->kind == OP_SENDFILE) {
    /* sendfile has no MSG_DONTWAIT: tried as it is only to a socket that
     * is non-blocking underneath, and into a pipe once it has room. */
    if (gp__shim_owned_check(op->fd, fi) == GP__FD_SOCKET)
      return sendfile_copy(op, fi);
    if (fi->kind != GP__FD_OWNED && fi->kind != GP__FD_STREAM)
      return attempt(op, 0);
  }
  switch (fi->kind) {
  case GP__FD_OWNED:
    if (fi->app_nonblock || (op->flags & MSG_DONTWAIT))
      return attempt(op, 0);
    /* Each try non-blocking by itself: the file description's O_NONBLOCK
     * is shared with forked children, whose exec clears it (process.c). */
    return loop(op, fi, 1);
  case GP__FD_SOCKET:
    if (op->flags & MSG_DONTWAIT)
      return attempt(op, 0);
    return loop(op, fi, 1);
  case GP__FD_STREAM:
    return loop_stream(op, fi);
  default:
    return attempt(op, 0);
  }
}

/* drive_op, leaving errno as it was when the call succeeds, as libc's
 * wrappers do: the tries and looks along the way set it (EAGAIN from a
 * try before the wait, ENOTTY from the look at whether the fd is a
 * terminal), and a program that clears errno and checks it after a read
 * took those for a failure. */
static ssize_t drive(struct op *op)
{
  int saved = errno;
  ssize_t r = drive_op(op);
  if (r >= 0)
    errno = saved;
  else if (is_write(op) && (errno == EPIPE || errno == EFBIG))
    gp__thread_write_signal(errno);
  return r;
}

/* Runs an iovec op on a private copy of the app's array, which the driver
 * may advance. */
static ssize_t drive_iov(struct op *op, const struct iovec *iov, int iovcnt)
{
  struct iovec small[16], *copy = small;
  ssize_t r;
  int saved;

  if (iovcnt < 0 || iovcnt > IOV_MAX || (iovcnt > 0 && iov == NULL))
    return attempt(op, 0); /* the kernel's EINVAL or EFAULT */
  if (iovcnt > 16 && (copy = malloc(sizeof(*copy) * (size_t)iovcnt)) == NULL) {
    errno = ENOMEM;
    return -1;
  }
  memcpy(copy, iov, sizeof(*copy) * (size_t)iovcnt);
  if (op->msg)
    op->msg->msg_iov = copy;
  else
    op->iov = copy;
  r = drive(op);
  saved = errno;
  if (copy != small)
    free(copy);
  errno = saved;
  return r;
}

/* Calls fn for each fd an SCM_RIGHTS message of the control data ctl
 * (len bytes, readable) passes. */
static void each_passed(void *ctl, size_t len, void (*fn)(int fd))
{
  struct msghdr m;
  struct cmsghdr *c;

  memset(&m, 0, sizeof(m));
  m.msg_control = ctl;
  m.msg_controllen = len;
  for (c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
    const char *p = (const char *)CMSG_DATA(c), *end = (const char *)c;
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
        c->cmsg_len < CMSG_LEN(0))
      continue;
    end += c->cmsg_len;
    if (end > (const char *)ctl + len)
      end = (const char *)ctl + len;
    for (; p + sizeof(int) <= end; p += sizeof(int)) {
      int fd;
      memcpy(&fd, p, sizeof(fd));
      fn(fd);
    }
  }
}

/* An fd a message sends away: a socket the process made and the app
 * believes blocking is made blocking underneath for good, so that the
 * receiver (this process or another, patched or not) finds it as the app
 * believes it, as plain. */
static void share_one(int fd)
{
  struct gp__fdinfo *fi = gp__fd_info(fd);
  if (fi)
    gp__shim_share(fd, fi);
}

/* Before msg is sent: the fds it passes (SCM_RIGHTS), read from a copy of
 * the caller's control data (a bad address is the kernel's to report). */
static void share_passed(const struct msghdr *msg)
{
  char small[256], *ctl = small;
  size_t len = msg->msg_controllen;

  if (msg->msg_control == NULL || len < sizeof(struct cmsghdr) || len > 65536)
    return; /* nothing, or what the kernel refuses (ENOBUFS, EINVAL) */
  if (len > sizeof(small) && (ctl = malloc(len)) == NULL)
    return;
  if (gp__shim_copy_in(ctl, msg->msg_control, len) == 0)
    each_passed(ctl, len, share_one);
  if (ctl != small)
    free(ctl);
}

/* A received fd is new to the process: what the shim knew of an earlier
 * file with its number goes, and it is classified on first use by what
 * its open file description says (see share_one). */
static void fresh_one(int fd)
{
  gp__shim_fresh_fd(fd, 0, 0);
}

/* After msg was received (the kernel wrote its control data). */
static void fresh_passed(const struct msghdr *msg)
{
  if (msg->msg_control != NULL)
    each_passed(msg->msg_control, msg->msg_controllen, fresh_one);
}

/* read(2). */
GP_EXPORT ssize_t read(int fd, void *buf, size_t count)
{
  struct op op = {.kind = OP_READ, .fd = fd, .buf = buf, .len = count};
  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd))
    return gp__real_read(fd, buf, count);
  return drive(&op);
}

/* write(2). */
GP_EXPORT ssize_t write(int fd, const void *buf, size_t count)
{
  struct op op = {.kind = OP_WRITE, .fd = fd, .buf = (void *)buf, .len = count};
  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd))
    return gp__real_write(fd, buf, count);
  return drive(&op);
}

/* readv(2). */
GP_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
  struct op op = {
      .kind = OP_READV, .fd = fd, .iov = (struct iovec *)iov, .iovcnt = iovcnt};
  if ((!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd)) ||
      iovcnt < 0 || iovcnt > IOV_MAX || (iovcnt > 0 && iov == NULL))
    return gp__real_readv(fd, iov, iovcnt); /* and the kernel's EINVAL */
  return drive(&op); /* reads do not advance: the app's array is enough */
}

/* writev(2). */
GP_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
  struct op op = {.kind = OP_WRITEV,
                  .fd = fd,
                  .iov = (struct iovec *)iov,
                  .iovcnt = iovcnt};
  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd))
    return gp__real_writev(fd, iov, iovcnt);
  return drive_iov(&op, iov, iovcnt);
}

/* recv(2). */
GP_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
  struct op op = {
      .kind = OP_RECV, .fd = fd, .buf = buf, .len = len, .flags = flags};
  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd))
    return gp__real_recv(fd, buf, len, flags);
  return drive(&op);
}

/* recvfrom(2). */
GP_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
                           struct sockaddr *addr, socklen_t *alen)
{
  struct op op = {.kind = OP_RECVFROM,
                  .fd = fd,
                  .buf = buf,
                  .len = len,
                  .flags = flags,
                  .addr = addr,
                  .alen = alen};
  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd))
    return gp__real_recvfrom(fd, buf, len, flags, addr, alen);
  return drive(&op);
}

/* recvmsg(2). With MSG_WAITALL the driver works on a copy of the header
 * and its iovec array; what the kernel reports back is copied out. */
GP_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
  struct msghdr m;
  struct op op = {.kind = OP_RECVMSG, .fd = fd, .msg = msg, .flags = flags};
  ssize_t r;

  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd))
    return gp__real_recvmsg(fd, msg, flags);
  if (msg == NULL || !(flags & MSG_WAITALL)) {
    r = drive(&op);
  } else {
    m = *msg;
    op.msg = &m;
    r = drive_iov(&op, msg->msg_iov, (int)msg->msg_iovlen);
    msg->msg_namelen = m.msg_namelen;
    msg->msg_controllen = m.msg_controllen;
    msg->msg_flags = m.msg_flags;
  }
  if (r >= 0)
    fresh_passed(msg);
  return r;
}

/* send(2). */
GP_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
  struct op op = {.kind = OP_SEND,
                  .fd = fd,
                  .buf = (void *)buf,
                  .len = len,
                  .flags = flags};
  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd))
    return gp__real_send(fd, buf, len, flags);
  return drive(&op);
}

/* sendto(2). */
GP_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                         const struct sockaddr *addr, socklen_t alen)
{
  struct op op = {.kind = OP_SENDTO,
                  .fd = fd,
                  .buf = (void *)buf,
                  .len = len,
                  .flags = flags,
                  .addr = (struct sockaddr *)addr,
                  .salen = alen};
  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd))
    return gp__real_sendto(fd, buf, len, flags, addr, alen);
  return drive(&op);
}

/* sendmsg(2). */
GP_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
  struct msghdr m;
  struct op op = {.kind = OP_SENDMSG, .fd = fd, .msg = &m, .flags = flags};
  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd))
    return gp__real_sendmsg(fd, msg, flags);
  if (msg == NULL)
    return gp__real_sendmsg(fd, msg, flags); /* EFAULT, from the kernel */
  m = *msg;
  share_passed(&m);
  return drive_iov(&op, msg->msg_iov, (int)msg->msg_iovlen);
}

/* recvmmsg(2): blocking, takes n messages, waiting for each (with
 * MSG_WAITFORONE, what is there once the first came; with a timeout, what
 * came by the time it passed, looked at after each message, as the
 * kernel does). What is left of the timeout is written back. */
GP_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags,
                       struct timespec *timeout)
{
  struct op op = {.kind = OP_RECVMMSG,
                  .fd = fd,
                  .vec = vec,
                  .vlen = n,
                  .flags = flags,
                  .mm_deadline = GP__NEVER};
  struct timespec t;
  int64_t ns;
  int r;

  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd))
    return gp__real_recvmmsg(fd, vec, n, flags, timeout);
  if (timeout) {
    /* The kernel's answers to a bad timeout, before anything is read. */
    if (gp__shim_copy_in(&t, timeout, sizeof(t)) != 0) {
      errno = EFAULT;
      return -1;
    }
    if ((ns = gp__ts_to_ns(&t)) < 0) {
      errno = EINVAL;
      return -1;
    }
    op.mm_deadline = gp__now() + (uint64_t)ns; /* saturated: no overflow */
  }
  r = (int)drive(&op);
  for (int i = 0; i < r; i++)
    fresh_passed(&vec[i].msg_hdr);
  if (r > 0 && timeout) {
    uint64_t now = gp__now(),
             left = now < op.mm_deadline ? op.mm_deadline - now : 0;
    t.tv_sec = (time_t)(left / 1000000000u);
    t.tv_nsec = (long)(left % 1000000000u);
    *timeout = t;
  }
  return r;
}

/* sendmmsg(2): blocking, sends every message, waiting for room for each. */
GP_EXPORT int sendmmsg(int fd, struct mmsghdr *vec, unsigned int n, int flags)
{
  struct op op = {
      .kind = OP_SENDMMSG, .fd = fd, .vec = vec, .vlen = n, .flags = flags};
  unsigned sent = n < UIO_MAXIOV ? n : UIO_MAXIOV; /* the kernel's limit */
  struct mmsghdr *copy;

  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(fd))
    return gp__real_sendmmsg(fd, vec, n, flags);
  /* The headers read from a copy: a bad address is the kernel's to say. */
  if (sent > 0 && (copy = malloc(sizeof(*copy) * sent)) != NULL) {
    if (gp__shim_copy_in(copy, vec, sizeof(*copy) * sent) == 0)
      for (unsigned i = 0; i < sent; i++)
        share_passed(&copy[i].msg_hdr);
    free(copy);
  }
  return (int)drive(&op);
}

/* sendfile(2): to a socket of ours, waits for room and continues until
 * count bytes went (or the input ended), as a blocking sendfile does. */
GP_EXPORT ssize_t sendfile(int out, int in, off_t *offset, size_t count)
{
  struct op op = {
      .kind = OP_SENDFILE, .fd = out, .in = in, .offset = offset, .len = count};
  if (!gp__shim_active(GP__PATCH_SOCKET) && !gp__shim_unowned_blocking(out))
    return gp__real_sendfile(out, in, offset, count);
  return drive(&op);
}

/* The _FORTIFY_SOURCE entry points: the checks glibc makes, then the
 * patched call. */
_Noreturn void __chk_fail(void);

GP_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
  if (n > buflen)
    __chk_fail();
  return read(fd, buf, n);
}

GP_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen,
                             int flags)
{
  if (n > buflen)
    __chk_fail();
  return recv(fd, buf, n, flags);
}

GP_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen,
                                 int flags, struct sockaddr *addr,
                                 socklen_t *alen)
{
  if (n > buflen)
    __chk_fail();
  return recvfrom(fd, buf, n, flags, addr, alen);
}

/* sendfile64: what programs built with _FILE_OFFSET_BITS=64 call (off_t
 * is 64 bits here already). */
GP_EXPORT ssize_t sendfile64(int out, int in, off_t *offset, size_t count)
{
  return sendfile(out, in, offset, count);
}
