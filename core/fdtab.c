/* fdtab.c: per-fd state, and waiting for fd readiness.
 *
 * An fd is added to its scheduler's poller the first time a coroutine
 * waits on it and stays there until it is closed: no epoll_ctl per
 * message. Each record has a generation, bumped whenever the record is
 * dropped (close, or a new file with the same number), which the poller's
 * event data carries: an event of an earlier file is recognised and
 * ignored.
 *
 * The table is indexed by fd number, in chunks allocated on first use. */
#define _GNU_SOURCE
#include "fdtab.h"
#include "clock.h"
#include "coro.h"
#include "real.h"
#include "scheduler.h"
#include "wait.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* Entries per chunk, and chunks: enough for fd numbers up to 2^20 * 64. */
#define CHUNK 1024
#define NCHUNKS (1 << 16)

struct gp__fd {
  struct gp__fdinfo info;   /* the shim's view of the fd */
  struct gp__list waiters;  /* struct gp__wait of coroutines parked on it */
  struct gp__sched *owner;  /* the scheduler whose epoll set holds it */
  int registered;           /* in owner's epoll set */
  int unpollable;           /* epoll refused it (a regular file): ready */
  int read_idle;            /* a read came back short since the last input
                               edge (gp__fd_read_short) */
  int no_hint;              /* the hub saw end of input, an error or urgent
                               data: a read after a short one may have an
                               answer (0, the error, the data behind the
                               urgent mark) that no new edge announces */
  int dup_next;             /* 1 + the next fd of a ring of fds naming one
                               open file description (dup and friends),
                               0 when the fd is alone */
  int dup_prev;             /* 1 + the previous fd of that ring */
  uint32_t gen;             /* bumped each time the record is dropped */
};

static struct gp__fd *chunks[NCHUNKS];

static struct gp__fd *entry(int fd, int create)
{
  unsigned c = (unsigned)fd / CHUNK;
  struct gp__fd *chunk;

  if (fd < 0 || c >= NCHUNKS)
    return NULL;
  chunk = __atomic_load_n(&chunks[c], __ATOMIC_ACQUIRE);
  if (chunk == NULL) {
    struct gp__fd *fresh;
    if (!create)
      return NULL;
    fresh = calloc(CHUNK, sizeof(*fresh));
    if (fresh == NULL)
      return NULL;
    for (int i = 0; i < CHUNK; i++)
      gp__list_init(&fresh[i].waiters);
    if (!__atomic_compare_exchange_n(&chunks[c], &chunk, fresh, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      free(fresh); /* another thread won; chunk holds its table */
    else
      chunk = fresh;
  }
  return &chunk[fd % CHUNK];
}

static void fd_unlink(struct gp__wait *w)
{
  if (gp__list_linked(&w->link)) {
    gp__list_remove(&w->link);
    w->co->sched->nfdwait--;
  }
}

/* A thread that is not the fd's owner waits the plain way: a real poll, in
 * slices so that deadlines still hold. */
static int wait_foreign(int fd, uint32_t events, uint64_t deadline)
{
  struct pollfd p = {.fd = fd, .events = 0};
  if (events & EPOLLIN)
    p.events |= POLLIN;
  if (events & EPOLLOUT)
    p.events |= POLLOUT;
  for (;;) {
    uint64_t now = gp__now();
    int ms = -1, n;
    if (deadline != GP__NEVER) {
      if (now >= deadline)
        return -ETIMEDOUT;
      ms = (int)((deadline - now + 999999) / 1000000);
    }
    n = gp__real_poll(&p, 1, ms);
    if (n < 0)
      return -errno;
    if (n > 0)
      return (p.revents & POLLNVAL) ? -EBADF : (int)(EPOLLIN | EPOLLOUT);
  }
}

/* Makes sure fd is in s's poller. Returns 0, 1 when it cannot be polled
 * (a regular file: always ready), or a negative errno. */
static int attach(struct gp__sched *s, int fd, struct gp__fd *e)
{
  int r;

  if (e->unpollable)
    return 1;
  if (e->registered)
    return 0;
  r = gp__poller_add(&s->poller, fd, gp__poll_token(fd, e->gen));
  if (r == 1)
    e->unpollable = 1;
  if (r != 0)
    return r;
  e->registered = 1;
  e->owner = s;
  return 0;
}

int gp__wait_fd(int fd, uint32_t events, uint64_t deadline, int interruptible)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__fd *e = entry(fd, 1);
  struct gp__wait w;
  int r;

  if (fd < 0)
    return -EBADF;
  if (e == NULL)
    return -ENOMEM;
  if (e->owner && e->owner != s)
    return wait_foreign(fd, events, deadline);
  r = attach(s, fd, e);
  if (r < 0)
    return r;
  if (r > 0)
    return (int)events; /* cannot be polled: always ready */
  gp__wait_init(&w, fd_unlink, interruptible ? GP__WAIT_INTERRUPTIBLE : 0,
                "fd", NULL);
  w.fd = fd;
  w.events = events;
  gp__list_push_back(&e->waiters, &w.link);
  s->nfdwait++;
  r = gp__park(&w, deadline);
  return r < 0 ? r : (int)w.events;
}

/* Wakes the waiter w (or the multi-fd wait it is part of). */
static void wake_waiter(struct gp__wait *w, int result)
{
  fd_unlink(w);
  if (w->parent) {
    /* poll and select report what happened themselves (POLLNVAL, EBADF):
     * wake them to look again. */
    gp__wait_end(w->parent, 0);
  } else {
    gp__wake(w, result);
  }
}

void gp__fd_ready(struct gp__sched *s, uint64_t token, uint32_t events)
{
  int fd = gp__poll_token_fd(token);
  struct gp__fd *e = entry(fd, 0);
  struct gp__list *l, *next;

  (void)s;
  if (e == NULL || e->gen != gp__poll_token_gen(token))
    return; /* an event of an earlier file with this number */
  if (events & (EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
    e->read_idle = 0;
  if (events & (EPOLLPRI | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
    e->no_hint = 1;
  /* Errors and hang-ups concern both directions: the retried call reports
   * them. */
  if (events & (EPOLLERR | EPOLLHUP))
    events |= EPOLLIN | EPOLLOUT;
  if (events & EPOLLRDHUP)
    events |= EPOLLIN;
  for (l = e->waiters.next; l != &e->waiters; l = next) {
    struct gp__wait *w = GP__CONTAINER(l, struct gp__wait, link);
    next = l->next;
    if (w->events & events) {
      w->events &= events;
      wake_waiter(w, 0);
    }
  }
}

/* A short read empties the queue only as of the read: input arriving after
 * it makes an edge the hub has not taken yet, since the hub runs on this
 * thread, after the reader parks. An fd not in the set yet is added when
 * the reader waits, and the add reports input already there. What a short
 * read leaves behind without a new edge (end of input, an error, data past
 * an urgent mark) was announced by an edge the hub took before: no_hint. */
void gp__fd_read_short(int fd)
{
  struct gp__fd *e = entry(fd, 0);
  if (e && e->registered && e->owner == gp__tls.sched && !e->no_hint)
    e->read_idle = 1;
}

int gp__fd_read_idle(int fd)
{
  struct gp__fd *e = entry(fd, 0);
  return e && e->read_idle && e->owner == gp__tls.sched;
}

struct gp__fdinfo *gp__fd_info(int fd)
{
  struct gp__fd *e = entry(fd, 1);
  return e ? &e->info : NULL;
}

/* Takes fd out of its ring of duplicates. */
static void dup_unlink(struct gp__fd *e)
{
  struct gp__fd *prev, *next;

  if (e->dup_next == 0)
    return;
  prev = entry(e->dup_prev - 1, 0);
  next = entry(e->dup_next - 1, 0);
  if (prev == next) {
    prev->dup_next = prev->dup_prev = 0; /* it is alone now */
  } else {
    prev->dup_next = e->dup_next;
    next->dup_prev = e->dup_prev;
  }
  e->dup_next = e->dup_prev = 0;
}

static void drop(int fd, struct gp__fd *e, int result)
{
  while (!gp__list_empty(&e->waiters))
    wake_waiter(GP__CONTAINER(e->waiters.next, struct gp__wait, link),
                result);
  if (e->registered && e->owner)
    gp__poller_del(&e->owner->poller, fd);
  e->gen++;
  e->registered = 0;
  e->unpollable = 0;
  e->read_idle = 0;
  e->no_hint = 0;
  e->owner = NULL;
  dup_unlink(e);
  memset(&e->info, 0, sizeof(e->info));
}

void gp__fd_forget(int fd)
{
  struct gp__fd *e = entry(fd, 0);
  if (e)
    drop(fd, e, -EBADF);
}

void gp__fd_fresh(int fd)
{
  struct gp__fd *e = entry(fd, 0);
  if (e)
    drop(fd, e, -EBADF);
}

void gp__fd_dup(int old, int nfd)
{
  struct gp__fd *from = entry(old, 1), *to, *next;

  gp__fd_fresh(nfd);
  to = entry(nfd, 1);
  if (from == NULL || to == NULL || from == to)
    return;
  to->info = from->info;
  if (from->dup_next == 0)
    from->dup_next = from->dup_prev = old + 1;
  next = entry(from->dup_next - 1, 0);
  to->dup_next = from->dup_next;
  to->dup_prev = old + 1;
  next->dup_prev = nfd + 1;
  from->dup_next = nfd + 1;
}

void gp__fd_info_changed(int fd)
{
  struct gp__fd *e = entry(fd, 0), *d;

  if (e == NULL || e->dup_next == 0)
    return;
  for (int n = e->dup_next - 1; n != fd; n = d->dup_next - 1) {
    d = entry(n, 0);
    d->info = e->info;
  }
}

/* Unlinks every per-fd record of a multi-fd wait. */
static void group_unlink(struct gp__wait *w)
{
  for (size_t i = 0; i < w->nsubs; i++)
    fd_unlink(&w->subs[i]);
}

int gp__wait_fds(const struct gp__fdwait *fds, size_t n, uint64_t deadline,
                 int interruptible)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__wait group;
  struct gp__wait small[16], *subs = small;
  size_t i, k = 0;
  int r = 0;

  if (n > 16 && (subs = calloc(n, sizeof(*subs))) == NULL)
    return -ENOMEM;
  gp__wait_init(&group, group_unlink,
                interruptible ? GP__WAIT_INTERRUPTIBLE : 0, "poll", NULL);
  for (i = 0; i < n; i++) {
    struct gp__fd *e;
    if (fds[i].fd < 0)
      continue;
    e = entry(fds[i].fd, 1);
    if (e == NULL) {
      r = -ENOMEM;
      break;
    }
    if (e->owner && e->owner != s) {
      r = -EXDEV; /* another thread's fd: the caller polls for real */
      break;
    }
    r = attach(s, fds[i].fd, e);
    if (r != 0)
      break; /* cannot be polled (ready), or an error */
    gp__wait_init(&subs[k], fd_unlink, 0, "poll", NULL);
    subs[k].fd = fds[i].fd;
    subs[k].events = fds[i].events;
    subs[k].parent = &group;
    subs[k].co = s->current;
    gp__list_push_back(&e->waiters, &subs[k].link);
    s->nfdwait++;
    k++;
  }
  group.subs = subs;
  group.nsubs = k;
  if (r != 0) {
    group_unlink(&group);
    if (subs != small)
      free(subs);
    return r > 0 ? 0 : r;
  }
  if (k == 0) {
    /* Nothing to watch (only negative fds): a sleep, which ends at its
     * deadline as a poll does, with -ETIMEDOUT. */
    r = gp__sleep_until(deadline, interruptible);
    if (r == 0)
      r = -ETIMEDOUT;
  } else
    r = gp__park(&group, deadline);
  if (subs != small)
    free(subs);
  return r;
}

void gp__fd_forget_all(void)
{
  for (unsigned c = 0; c < NCHUNKS; c++) {
    struct gp__fd *chunk = chunks[c];
    if (chunk == NULL)
      continue;
    for (int i = 0; i < CHUNK; i++) {
      gp__list_init(&chunk[i].waiters); /* their coroutines are gone */
      chunk[i].registered = 0;
      chunk[i].read_idle = 0;
      chunk[i].owner = NULL;
    }
  }
}

void gp__fd_each(void (*fn)(int fd, struct gp__fdinfo *fi, void *arg),
                 void *arg)
{
  for (unsigned c = 0; c < NCHUNKS; c++) {
    struct gp__fd *chunk = __atomic_load_n(&chunks[c], __ATOMIC_ACQUIRE);
    if (chunk == NULL)
      continue;
    for (int i = 0; i < CHUNK; i++)
      if (chunk[i].info.kind != GP__FD_UNKNOWN)
        fn((int)(c * CHUNK + (unsigned)i), &chunk[i].info, arg);
  }
}
