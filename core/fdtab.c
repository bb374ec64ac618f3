/* fdtab.c: per-fd state, and waiting for fd readiness.
 *
 * An fd is added to its scheduler's epoll set the first time a coroutine
 * waits on it, edge-triggered for both directions, and stays there until it
 * is closed: no epoll_ctl per message. Edge triggering is exact here because
 * a coroutine parks only right after its own call reported EAGAIN, with no
 * switch in between, so every later change to ready is reported.
 *
 * The table is indexed by fd number, in chunks allocated on first use. */
#define _GNU_SOURCE
#include "runtime.h"
#include "real.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

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

/* Makes sure fd is in s's epoll set. Returns 0, 1 when it cannot be polled
 * (a regular file: always ready), or a negative errno. */
static int attach(struct gp__sched *s, int fd, struct gp__fd *e)
{
  struct epoll_event ev = {
      .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET,
      .data.u64 = (uint64_t)fd};

  if (e->unpollable)
    return 1;
  if (e->registered)
    return 0;
  if (gp__real_epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int err = errno;
    if (err == EEXIST) {
      /* Left from a file closed behind our back: refresh it. */
      gp__real_epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
      if (gp__real_epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        return -errno;
    } else if (err == EPERM) {
      e->unpollable = 1; /* regular files and the like */
      return 1;
    } else {
      return -err;
    }
  }
  e->registered = 1;
  e->owner = s;
  return 0;
}

int gp__wait_fd(int fd, uint32_t events, uint64_t deadline, int interruptible)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__fd *e = entry(fd, 1);
  struct gp__wait w = {.unlink = fd_unlink, .fd = fd, .events = events,
                       .interruptible = interruptible, .what = "fd"};
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
  gp__list_init(&w.link);
  gp__list_push_back(&e->waiters, &w.link);
  s->nfdwait++;
  r = gp__park(&w, deadline);
  return r < 0 ? r : (int)w.events;
}

void gp__fd_ready(struct gp__sched *s, int fd, uint32_t events)
{
  struct gp__fd *e = entry(fd, 0);
  struct gp__list *l, *next;

  (void)s;
  if (e == NULL)
    return;
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
      fd_unlink(w);
      w->events &= events;
      if (w->parent) {
        w->parent->unlink(w->parent);
        gp__wake(w->parent, 0);
      } else {
        gp__wake(w, 0);
      }
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
  while (!gp__list_empty(&e->waiters)) {
    struct gp__wait *w =
        GP__CONTAINER(e->waiters.next, struct gp__wait, link);
    fd_unlink(w);
    if (w->parent) {
      /* poll and select report a closed fd themselves (POLLNVAL, EBADF):
       * wake them to look again. */
      w->parent->unlink(w->parent);
      gp__wake(w->parent, 0);
    } else {
      gp__wake(w, result);
    }
  }
  if (e->registered && e->owner)
    gp__real_epoll_ctl(e->owner->epfd, EPOLL_CTL_DEL, fd, NULL);
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
  struct gp__wait group = {.unlink = group_unlink, .fd = -1,
                           .interruptible = interruptible, .what = "poll"};
  struct gp__wait small[16], *subs = small;
  size_t i, k = 0;
  int r = 0;

  if (n > 16 && (subs = calloc(n, sizeof(*subs))) == NULL)
    return -ENOMEM;
  gp__list_init(&group.link);
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
    memset(&subs[k], 0, sizeof(subs[k]));
    subs[k].fd = fds[i].fd;
    subs[k].events = fds[i].events;
    subs[k].parent = &group;
    subs[k].unlink = fd_unlink;
    subs[k].what = "poll";
    subs[k].co = s->current;
    gp__list_init(&subs[k].link);
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
