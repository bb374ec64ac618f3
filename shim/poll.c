/* poll.c: poll, ppoll, select, pselect, epoll_wait, epoll_pwait,
 * epoll_pwait2.
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
    return 0; /* the call's own timeout: nothing is ready */
  case -GP__EXPIRED:
    errno = ETIMEDOUT; /* a gp_timeout block */
    return -1;
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

/* The masks of the signalfds among fds that are polled for input, as
 * bits (signal.c), for a thread that signals may be kept pending for. */
static uint64_t signalfd_masks(const struct pollfd *fds, nfds_t n)
{
  uint64_t bits = 0;
  for (nfds_t i = 0; i < n; i++) {
    struct gp__fdinfo *fi;
    if (fds[i].fd >= 0 && (fds[i].events & POLLIN) &&
        (fi = gp__shim_classify(fds[i].fd)) != NULL && fi->sigfd)
      bits |= gp__signalfd_mask(fds[i].fd);
  }
  return bits;
}

/* A poll's look (r: the kernel's count), with the signalfds readable that
 * hold a signal kept pending for the calling thread, which the kernel does
 * not see. */
static int with_kept(struct pollfd *fds, nfds_t n, int r, uint64_t masks)
{
  uint64_t kept = gp__thread_kept_bits();
  if (r < 0 || (kept & masks) == 0)
    return r;
  for (nfds_t i = 0; i < n; i++) {
    struct gp__fdinfo *fi;
    if (fds[i].fd >= 0 && (fds[i].events & POLLIN) &&
        (fi = gp__shim_classify(fds[i].fd)) != NULL && fi->sigfd &&
        (kept & gp__signalfd_mask(fds[i].fd))) {
      if (fds[i].revents == 0)
        r++;
      fds[i].revents |= POLLIN;
    }
  }
  return r;
}

/* The kernel's look, and the signalfds' (with_kept). */
static int look(struct pollfd *fds, nfds_t n, uint64_t masks)
{
  int r = GP__AGAIN_IF_OWN_EINTR(gp__real_poll(fds, n, 0));
  return masks ? with_kept(fds, n, r, masks) : r;
}

/* The cooperative poll: deadline is absolute (GP__NEVER for none). A
 * signal kept for the calling thread that a polled signalfd holds ends
 * the wait, which that thread says as a sigwait does (gp__thread_sigwaiting).
 */
static int coop_poll(struct pollfd *fds, nfds_t n, uint64_t deadline)
{
  struct gp__fdwait small[16], *ws = small;
  uint64_t masks;
  int r, w, saved;

  /* The kernel looks first: a bad fds pointer or nfds fails here, before
   * the array is read. */
  r = GP__AGAIN_IF_OWN_EINTR(gp__real_poll(fds, n, 0));
  masks = r < 0 ? 0 : signalfd_masks(fds, n);
  if (masks) {
    gp__thread_sigwaiting_bits(masks);
    r = with_kept(fds, n, r, masks);
  }
  if (r != 0)
    goto out;
  if (n > 16 && (ws = malloc(sizeof(*ws) * n)) == NULL) {
    errno = ENOMEM;
    r = -1;
    goto out;
  }
  for (nfds_t i = 0; i < n; i++) {
    ws[i].fd = fds[i].fd;
    ws[i].events = to_epoll(fds[i].events);
  }
  for (;;) {
    w = gp__wait_fds(ws, n, deadline, 1);
    if (w < 0 && !(w == -EINTR && (gp__thread_kept_bits() & masks))) {
      r = wait_failed(w);
      break;
    }
    if ((r = look(fds, n, masks)) != 0)
      break;
  }
  if (ws != small) {
    saved = errno;
    free(ws);
    errno = saved;
  }
out:
  if (masks) {
    saved = errno;
    gp__thread_sigwaiting_bits(0);
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
    return timeout == 0 ? GP__AGAIN_IF_OWN_EINTR(gp__real_poll(fds, n, 0))
                        : gp__real_poll(fds, n, timeout);
  return coop_poll(fds, n, timeout < 0 ? GP__NEVER : gp__deadline_ms(timeout));
}

/* Sets the mask of a ppoll, pselect or epoll_pwait for its wait (none:
 * 0). A handler that it lets run at once (a signal pending, blocked until
 * then) ends the call with EINTR before it waits, as the kernel's would:
 * returns nonzero then, errno EINTR and the old mask back. */
static int mask_in(const sigset_t *mask, sigset_t *old)
{
  unsigned before = gp__signal_caught();
  if (mask == NULL)
    return 0;
  pthread_sigmask(SIG_SETMASK, mask, old);
  if (gp__signal_caught() == before)
    return 0;
  pthread_sigmask(SIG_SETMASK, old, NULL);
  errno = EINTR;
  return 1;
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
  if (mask_in(mask, &old))
    return -1;
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

/* What a select waits on: a copy of its sets, as much of them as the
 * kernel reads (the kernel's answer overwrites the app's), and the fds
 * they name. */
struct selset {
  unsigned long small_copy[3 * FD_SETSIZE / WORD_BITS];
  unsigned long *copy; /* small_copy, or allocated past FD_SETSIZE */
  size_t words;        /* words of each set */
  struct gp__fdwait small[64];
  struct gp__fdwait *ws; /* small, or allocated past 64 fds */
  size_t n;              /* fds in ws */
};

static void selset_free(struct selset *ss)
{
  int saved = errno;
  if (ss->ws != ss->small)
    free(ss->ws);
  if (ss->copy != ss->small_copy)
    free(ss->copy);
  errno = saved;
}

/* The sets' bits for fd, as epoll events. */
static uint32_t selset_events(const struct selset *ss, const fd_set *r,
                              const fd_set *w, const fd_set *e, int fd)
{
  size_t i = (size_t)fd / WORD_BITS, words = ss->words;
  unsigned long bit = 1UL << (fd % WORD_BITS);
  uint32_t ev = 0;

  if (r && (ss->copy[i] & bit))
    ev |= EPOLLIN;
  if (w && (ss->copy[words + i] & bit))
    ev |= EPOLLOUT;
  if (e && (ss->copy[2 * words + i] & bit))
    ev |= EPOLLPRI;
  return ev;
}

/* Copies the sets' first limit bits and lists their fds. Returns 0, or -1
 * with errno ENOMEM. */
static int selset_make(struct selset *ss, int limit, const fd_set *r,
                       const fd_set *w, const fd_set *e)
{
  size_t words = ((size_t)limit + WORD_BITS - 1) / WORD_BITS;

  ss->copy = ss->small_copy;
  ss->ws = ss->small;
  ss->n = 0;
  ss->words = words;
  if (words > FD_SETSIZE / WORD_BITS &&
      (ss->copy = malloc(3 * words * sizeof(long))) == NULL)
    goto fail;
  if (r)
    memcpy(ss->copy, r, words * sizeof(long));
  if (w)
    memcpy(ss->copy + words, w, words * sizeof(long));
  if (e)
    memcpy(ss->copy + 2 * words, e, words * sizeof(long));
  for (int fd = 0; fd < limit; fd++) {
    uint32_t ev = selset_events(ss, r, w, e, fd);
    if (ev == 0)
      continue;
    if (ss->n == 64 && ss->ws == ss->small) {
      if ((ss->ws = malloc(sizeof(*ss->ws) * (size_t)limit)) == NULL)
        goto fail;
      memcpy(ss->ws, ss->small, sizeof(ss->small));
    }
    ss->ws[ss->n].fd = fd;
    ss->ws[ss->n].events = ev;
    ss->n++;
  }
  return 0;

fail:
  if (ss->ws == NULL)
    ss->ws = ss->small;
  if (ss->copy == NULL)
    ss->copy = ss->small_copy;
  selset_free(ss);
  errno = ENOMEM;
  return -1;
}

/* Puts the app's sets back as they were passed. */
static void selset_restore(const struct selset *ss, fd_set *r, fd_set *w,
                           fd_set *e)
{
  size_t words = ss->words;
  if (r)
    memcpy(r, ss->copy, words * sizeof(long));
  if (w)
    memcpy(w, ss->copy + words, words * sizeof(long));
  if (e)
    memcpy(e, ss->copy + 2 * words, words * sizeof(long));
}

/* Asks the kernel with a zero timeout until an fd is ready, parking on the
 * sets' fds in between. Returns what select returns. */
static int select_wait(int nfds, fd_set *r, fd_set *w, fd_set *e,
                       const struct selset *ss, uint64_t deadline)
{
  struct timeval zero = {0, 0};

  for (;;) {
    int res = GP__AGAIN_IF_OWN_EINTR(gp__real_select(nfds, r, w, e, &zero)), wr;
    if (res != 0)
      return res;
    selset_restore(ss, r, w, e);
    wr = gp__wait_fds(ss->ws, ss->n, deadline, 1);
    if (wr == -ETIMEDOUT) /* the deadline: the kernel's last word */
      return GP__AGAIN_IF_OWN_EINTR(gp__real_select(nfds, r, w, e, &zero));
    if (wr < 0)
      return wait_failed(wr); /* the sets stay as the app passed them */
  }
}

/* The cooperative select: asks the kernel with a zero timeout, and waits on
 * the fds of the sets until one changes. The sets may be larger than an
 * fd_set (nfds > FD_SETSIZE), as the kernel allows. */
static int coop_select(int nfds, fd_set *r, fd_set *w, fd_set *e,
                       uint64_t deadline, const sigset_t *mask)
{
  struct timeval zero = {0, 0};
  struct selset ss;
  int res, saved, limit = nfds;
  sigset_t old;

  if (nfds < 0)
    return gp__real_select(nfds, r, w, e, &zero); /* EINVAL */
  if (nfds > FD_SETSIZE) {
    int size = fd_table_size();
    if (size >= 0 && size < limit)
      limit = size;
  }
  if (selset_make(&ss, limit, r, w, e) != 0)
    return -1;
  if (mask_in(mask, &old)) {
    selset_free(&ss);
    return -1;
  }
  res = select_wait(nfds, r, w, e, &ss, deadline);
  saved = errno;
  if (mask)
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  selset_free(&ss);
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
      deadline =
          now + sec * 1000000000u + (uint64_t)tmo->tv_usec % 1000000u * 1000u;
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
static int coop_epoll(int epfd, struct epoll_event *ev, int max,
                      uint64_t deadline)
{
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
GP_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
  if (!coop(timeout == 0))
    return gp__real_epoll_wait(epfd, ev, max, timeout);
  return coop_epoll(epfd, ev, max,
                    timeout < 0 ? GP__NEVER : gp__deadline_ms(timeout));
}

/* What epoll_pwait and epoll_pwait2 share: the mask for the wait. */
static int coop_epoll_mask(int epfd, struct epoll_event *ev, int max,
                           uint64_t deadline, const sigset_t *mask)
{
  sigset_t old;
  int r, saved;

  if (mask_in(mask, &old))
    return -1;
  r = coop_epoll(epfd, ev, max, deadline);
  saved = errno;
  if (mask)
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return r;
}

/* epoll_pwait(2). */
GP_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max,
                          int timeout, const sigset_t *mask)
{
  if (!coop(timeout == 0))
    return gp__real_epoll_pwait(epfd, ev, max, timeout, mask);
  return coop_epoll_mask(
      epfd, ev, max, timeout < 0 ? GP__NEVER : gp__deadline_ms(timeout), mask);
}

/* epoll_pwait2(2) (glibc 2.35): epoll_pwait with a timespec; NULL waits
 * for good. The timeout is checked first (EFAULT, EINVAL), as the
 * kernel checks it. */
GP_EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max,
                           const struct timespec *tmo, const sigset_t *mask)
{
  struct timespec t;
  int64_t ns = 0;

  gp__real_init();
  if (tmo != NULL && gp__shim_copy_in(&t, tmo, sizeof(t)) != 0)
    return gp__real_epoll_pwait2(epfd, ev, max, tmo, mask); /* EFAULT */
  if (!coop(tmo != NULL && t.tv_sec == 0 && t.tv_nsec == 0))
    return gp__real_epoll_pwait2(epfd, ev, max, tmo, mask);
  if (tmo != NULL && (ns = gp__ts_to_ns(&t)) < 0) {
    errno = EINVAL;
    return -1;
  }
  return coop_epoll_mask(
      epfd, ev, max, tmo != NULL ? gp__now() + (uint64_t)ns : GP__NEVER, mask);
}
