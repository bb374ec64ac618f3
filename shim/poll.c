/* poll.c: poll, ppoll, select, pselect, epoll_wait, epoll_pwait.
 *
 * Each first asks the kernel with a zero timeout; if nothing is ready and
 * the caller would wait, the coroutine parks on all the fds at once and asks
 * again when one of them changes. The kernel computes every result (revents,
 * POLLNVAL, EBADF for select, the fd sets), so the answers are its own. None
 * of these calls restarts after a signal, whatever SA_RESTART says. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>

static uint32_t to_epoll(short ev)
{
  uint32_t e = 0;
  if (ev & (POLLIN | POLLRDNORM | POLLRDBAND))
    e |= EPOLLIN;
  if (ev & (POLLOUT | POLLWRNORM | POLLWRBAND))
    e |= EPOLLOUT;
  if (ev & POLLPRI)
    e |= EPOLLPRI;
  if (ev & POLLRDHUP)
    e |= EPOLLRDHUP | EPOLLIN;
  return e ? e : EPOLLIN; /* errors and hang-ups come with any interest */
}

/* Ends a wait that did not find anything: what the call returns. */
static int wait_failed(int w)
{
  switch (w) {
  case -ETIMEDOUT:
    if (gp__tls.sched->current->block_expired) {
      errno = ETIMEDOUT;
      return -1;
    }
    return 0;
  case -ECANCELED:
    gp__thread_cancel_point(); /* a cancellation point; else gp_kill */
    errno = EINTR;
    return -1;
  case -EINTR:
    errno = EINTR;
    return -1;
  default:
    errno = -w;
    return -1;
  }
}

static int64_t ms_left(uint64_t deadline)
{
  uint64_t now;
  if (deadline == GP__NEVER)
    return -1;
  now = gp__now();
  return deadline > now ? (int64_t)((deadline - now + 999999) / 1000000) : 0;
}

/* The cooperative poll: deadline is absolute (GP__NEVER for none). */
static int coop_poll(struct pollfd *fds, nfds_t n, uint64_t deadline)
{
  struct gp__fdwait small[16], *ws = small;
  int r, w;

  /* The kernel looks first: a bad fds pointer or nfds fails here, before
   * the array is read. */
  r = gp__real_poll(fds, n, 0);
  if (r != 0)
    return r;
  if (n > 16 && (ws = malloc(sizeof(*ws) * n)) == NULL) {
    errno = ENOMEM;
    return -1;
  }
  for (nfds_t i = 0; i < n; i++) {
    ws[i].fd = fds[i].fd;
    ws[i].events = to_epoll(fds[i].events);
  }
  for (;;) {
    w = gp__wait_fds(ws, n, deadline, 1);
    if (w == -EXDEV) {
      int64_t ms = ms_left(deadline);
      r = gp__real_poll(fds, n, ms > INT32_MAX ? INT32_MAX : (int)ms);
      break;
    }
    if (w < 0) {
      r = wait_failed(w);
      break;
    }
    r = gp__real_poll(fds, n, 0);
    if (r != 0)
      break;
  }
  if (ws != small) {
    int saved = errno;
    free(ws);
    errno = saved;
  }
  return r;
}

/* Nonzero when a call of the family is made the cooperative way. A zero
 * timeout never waits: that call goes straight through, after the time
 * slice check of a coroutine that may be polling in a loop (gp__slice). */
static int coop(int zero_timeout)
{
  if (!gp__shim_active(GP__PATCH_SELECT))
    return 0;
  gp__slice();
  return !zero_timeout;
}

/* poll(2). */
GP_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
  if (!coop(timeout == 0))
    return gp__real_poll(fds, n, timeout);
  return coop_poll(fds, n, timeout < 0 ? GP__NEVER : gp__deadline_ms(timeout));
}

/* ppoll(2). The signal mask is in force while the coroutine waits (for the
 * whole thread: see README). */
GP_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
                    const sigset_t *mask)
{
  sigset_t old;
  int64_t ns;
  int r, saved;

  if (!coop(tmo && tmo->tv_sec == 0 && tmo->tv_nsec == 0))
    return gp__real_ppoll(fds, n, tmo, mask);
  if (tmo && (ns = gp__ts_to_ns(tmo)) < 0) {
    errno = EINVAL;
    return -1;
  }
  if (mask)
    pthread_sigmask(SIG_SETMASK, mask, &old);
  r = coop_poll(fds, n, tmo ? gp__now() + (uint64_t)ns : GP__NEVER);
  saved = errno;
  if (mask)
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return r;
}

/* __poll_chk: _FORTIFY_SOURCE's poll. */
_Noreturn void __chk_fail(void);
GP_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout,
                         size_t fdslen)
{
  if (fdslen / sizeof(*fds) < n)
    __chk_fail();
  return poll(fds, n, timeout);
}

/* __ppoll_chk: _FORTIFY_SOURCE's ppoll. */
GP_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n,
                          const struct timespec *tmo, const sigset_t *mask,
                          size_t fdslen)
{
  if (fdslen / sizeof(*fds) < n)
    __chk_fail();
  return ppoll(fds, n, tmo, mask);
}

/* Bits in one word of an fd_set. */
#define WORD_BITS (8 * (int)sizeof(unsigned long))

/* The size of the calling process's fd table (/proc/self/status FDSize), or
 * -1. The kernel never looks at fd_set bits past it, so neither may select:
 * select(getdtablesize(), ...) with one fd_set is common. */
static int fd_table_size(void)
{
  char buf[2048], *p;
  ssize_t n;
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  n = gp__real_read(fd, buf, sizeof(buf) - 1);
  gp__real_close(fd);
  if (n <= 0)
    return -1;
  buf[n] = 0;
  p = strstr(buf, "\nFDSize:");
  return p ? atoi(p + 8) : -1;
}

/* One fd_set, as much of it as the kernel reads. */
static void set_copy(unsigned long *to, const fd_set *from, size_t words)
{
  if (from)
    memcpy(to, from, words * sizeof(long));
}

static void set_restore(fd_set *to, const unsigned long *from, size_t words)
{
  if (to)
    memcpy(to, from, words * sizeof(long));
}

/* The cooperative select: asks the kernel with a zero timeout, and waits on
 * the fds of the sets until one changes. The sets may be larger than an
 * fd_set (nfds > FD_SETSIZE), as the kernel allows. */
static int coop_select(int nfds, fd_set *r, fd_set *w, fd_set *e,
                       uint64_t deadline, const sigset_t *mask)
{
  unsigned long small_copy[3 * FD_SETSIZE / WORD_BITS], *copy = small_copy;
  struct gp__fdwait small[64], *ws = small;
  struct timeval zero = {0, 0};
  size_t n = 0, words;
  int res, saved, limit = nfds;
  sigset_t old;

  if (nfds < 0)
    return gp__real_select(nfds, r, w, e, &zero); /* EINVAL */
  if (nfds > FD_SETSIZE) {
    int size = fd_table_size();
    if (size >= 0 && size < limit)
      limit = size;
  }
  words = ((size_t)limit + WORD_BITS - 1) / WORD_BITS;
  if (words > FD_SETSIZE / WORD_BITS &&
      (copy = malloc(3 * words * sizeof(long))) == NULL) {
    errno = ENOMEM;
    return -1;
  }
  set_copy(copy, r, words);
  set_copy(copy + words, w, words);
  set_copy(copy + 2 * words, e, words);
  for (int fd = 0; fd < limit; fd++) {
    uint32_t ev = 0;
    size_t i = (size_t)fd / WORD_BITS;
    unsigned long bit = 1UL << (fd % WORD_BITS);
    if (r && (copy[i] & bit))
      ev |= EPOLLIN;
    if (w && (copy[words + i] & bit))
      ev |= EPOLLOUT;
    if (e && (copy[2 * words + i] & bit))
      ev |= EPOLLPRI;
    if (ev == 0)
      continue;
    if (n == 64 && ws == small) {
      ws = malloc(sizeof(*ws) * (size_t)limit);
      if (ws == NULL) {
        res = -1;
        errno = ENOMEM;
        goto out_copy;
      }
      memcpy(ws, small, sizeof(small));
    }
    ws[n].fd = fd;
    ws[n].events = ev;
    n++;
  }
  if (mask)
    pthread_sigmask(SIG_SETMASK, mask, &old);
  for (;;) {
    int wr;
    res = gp__real_select(nfds, r, w, e, &zero);
    if (res != 0)
      break;
    set_restore(r, copy, words);
    set_restore(w, copy + words, words);
    set_restore(e, copy + 2 * words, words);
    wr = gp__wait_fds(ws, n, deadline, 1);
    if (wr == -EXDEV) {
      int64_t ms = ms_left(deadline);
      struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
      res = gp__real_select(nfds, r, w, e, ms < 0 ? NULL : &tv);
      break;
    }
    if (wr == -ETIMEDOUT && !gp__tls.sched->current->block_expired) {
      /* The deadline: the kernel's last word on the sets. */
      res = gp__real_select(nfds, r, w, e, &zero);
      break;
    }
    if (wr < 0) {
      res = wait_failed(wr); /* the sets stay as the app passed them */
      break;
    }
  }
  saved = errno;
  if (mask)
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (ws != small)
    free(ws);
  errno = saved;
out_copy:
  if (copy != small_copy) {
    saved = errno;
    free(copy);
    errno = saved;
  }
  return res;
}

/* select(2): like Linux, leaves the time not slept in *tmo. */
GP_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e,
                     struct timeval *tmo)
{
  uint64_t deadline = GP__NEVER;
  int res;

  if (!coop(tmo && tmo->tv_sec == 0 && tmo->tv_usec == 0))
    return gp__real_select(nfds, r, w, e, tmo);
  if (tmo) {
    /* Linux carries whole seconds out of tv_usec; negatives are EINVAL. */
    uint64_t sec, now = gp__now();
    if (tmo->tv_sec < 0 || tmo->tv_usec < 0) {
      errno = EINVAL;
      return -1;
    }
    sec = (uint64_t)tmo->tv_sec + (uint64_t)tmo->tv_usec / 1000000u;
    if (sec < (GP__NEVER - now) / 1000000000u - 1)
      deadline = now + sec * 1000000000u +
                 (uint64_t)tmo->tv_usec % 1000000u * 1000u;
  }
  res = coop_select(nfds, r, w, e, deadline, NULL);
  if (tmo && deadline != GP__NEVER) {
    uint64_t now = gp__now(), left = deadline > now ? deadline - now : 0;
    tmo->tv_sec = (time_t)(left / 1000000000u);
    tmo->tv_usec = (suseconds_t)(left % 1000000000u / 1000u);
  }
  return res;
}

/* pselect(2). */
GP_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e,
                      const struct timespec *tmo, const sigset_t *mask)
{
  int64_t ns = 0;

  if (!coop(tmo && tmo->tv_sec == 0 && tmo->tv_nsec == 0))
    return gp__real_pselect(nfds, r, w, e, tmo, mask);
  if (tmo && (ns = gp__ts_to_ns(tmo)) < 0) {
    errno = EINVAL;
    return -1;
  }
  return coop_select(nfds, r, w, e, tmo ? gp__now() + (uint64_t)ns : GP__NEVER,
                     mask);
}

/* The cooperative epoll_wait: the app's epoll fd is itself pollable. */
static int coop_epoll(int epfd, struct epoll_event *ev, int max, int timeout)
{
  uint64_t deadline = timeout < 0 ? GP__NEVER : gp__deadline_ms(timeout);

  for (;;) {
    int r = gp__real_epoll_wait(epfd, ev, max, 0), w;
    if (r != 0)
      return r;
    w = gp__wait_fd(epfd, EPOLLIN, deadline, 1);
    if (w == -EBADF) {
      errno = EBADF;
      return -1;
    }
    if (w < 0)
      return wait_failed(w);
  }
}

/* epoll_wait(2). */
GP_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max,
                         int timeout)
{
  if (!coop(timeout == 0))
    return gp__real_epoll_wait(epfd, ev, max, timeout);
  return coop_epoll(epfd, ev, max, timeout);
}

/* epoll_pwait(2). */
GP_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max,
                          int timeout, const sigset_t *mask)
{
  sigset_t old;
  int r, saved;

  if (!coop(timeout == 0))
    return gp__real_epoll_pwait(epfd, ev, max, timeout, mask);
  if (mask)
    pthread_sigmask(SIG_SETMASK, mask, &old);
  r = coop_epoll(epfd, ev, max, timeout);
  saved = errno;
  if (mask)
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return r;
}
