/* fdtab.c: per-fd state, and waiting for fd readiness.
 *
 * The table is indexed by fd number, in chunks allocated on first use, and
 * shared by every scheduler. A record keeps the coroutines parked on the fd,
 * from any scheduler, under its lock. Each scheduler adds the fd to its own
 * poller the first time one of its coroutines waits on it (a bit per
 * scheduler in regmask) and it stays there until the fd is closed: no
 * epoll_ctl per message. A scheduler's poller reports the fd's edges to
 * that scheduler, which wakes its own waiters; the others hear from their
 * own pollers. A record has a generation, bumped whenever it is dropped
 * (close, or a new file with the same number), which the poller's event
 * data carries: an event of an earlier file is recognised and ignored.
 *
 * Waits marked exclusive (accept on a listener shared by many threads)
 * wake one waiter per edge and scheduler; the one that got something wakes
 * the next (gp__fd_pass), as the kernel wakes one thread blocked in accept
 * per connection. */
#define _GNU_SOURCE
#include "fdtab.h"
#include "mem.h"
#include "clock.h"
#include "coro.h"
#include "lock.h"
#include "real.h"
#include "scheduler.h"
#include "wait.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* Entries per chunk, and chunks: enough for fd numbers up to 2^20 * 64. */
#define CHUNK   1024
#define NCHUNKS (1 << 16)

struct gp__fd {
  struct gp__lock lock;    /* guards waiters, regmask, owner, hints */
  struct gp__fdinfo info;  /* the shim's view of the fd */
  struct gp__list waiters; /* struct gp__wait of coroutines parked on it */
  uint64_t regmask;        /* the schedulers whose poller holds it */
  int unpollable;          /* epoll refused it (a regular file): ready */
  int read_idle;           /* a read came back short since the last input
                              edge (gp__fd_read_short) */
  int no_hint;             /* the hub saw end of input, an error or urgent
                              data: a read after a short one may have an
                              answer (0, the error, the data behind the
                              urgent mark) that no new edge announces */
  int dup_next;            /* 1 + the next fd of a ring of fds naming one
                              open file description (dup and friends),
                              0 when the fd is alone */
  int dup_prev;            /* 1 + the previous fd of that ring */
  uint32_t gen;            /* bumped each time the record is dropped */
};

static struct gp__fd *chunks[NCHUNKS];

/* Guards the rings of duplicates, which span records. */
static struct gp__lock dup_lock;

static uint64_t bit_of(const struct gp__sched *s)
{
  return 1ULL << s->index;
}

uint32_t gp__fd_epoch;

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
    fresh = gp__calloc(CHUNK, sizeof(*fresh));
    if (fresh == NULL)
      return NULL;
    for (int i = 0; i < CHUNK; i++)
      gp__list_init(&fresh[i].waiters);
    if (!__atomic_compare_exchange_n(&chunks[c], &chunk, fresh, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
      gp__free(fresh); /* another thread won; chunk holds its table */
    else
      chunk = fresh;
  }
  return &chunk[fd % CHUNK];
}

/* Takes w out of its fd's list, if it is still there (e locked). */
static void remove_waiter(struct gp__fd *e, struct gp__wait *w)
{
  (void)e;
  if (gp__list_linked(&w->link)) {
    gp__list_remove(&w->link);
    __atomic_fetch_sub(&w->co->sched->nfdwait, 1, __ATOMIC_RELAXED);
  }
}

static void fd_unlink(struct gp__wait *w)
{
  struct gp__fd *e = entry(w->fd, 0);
  gp__lock(&e->lock);
  remove_waiter(e, w);
  gp__unlock(&e->lock);
}

/* Makes sure fd is in s's poller (e locked). Returns 0, 1 when it cannot
 * be polled (a regular file: always ready), or a negative errno. */
static int attach(struct gp__sched *s, int fd, struct gp__fd *e)
{
  int r;

  if (e->unpollable)
    return 1;
  if (e->regmask & bit_of(s))
    return 0;
  r = gp__poller_add(&s->poller, fd, gp__poll_token(fd, e->gen));
  if (r == 1)
    e->unpollable = 1;
  if (r != 0)
    return r;
  e->regmask |= bit_of(s);
  return 0;
}

/* Links w, set up for fd, into e's waiters (e locked). */
static void add_waiter(struct gp__sched *s, struct gp__fd *e,
                       struct gp__wait *w)
{
  gp__list_push_back(&e->waiters, &w->link);
  __atomic_fetch_add(&s->nfdwait, 1, __ATOMIC_RELAXED);
}

/* gp__wait_fd_ex for a thread without a scheduler: poll(2) in the kernel,
 * where it may wait. */
static int wait_fd_kernel(int fd, uint32_t events, uint64_t deadline, int flags)
{
  for (;;) {
    struct pollfd p = {fd, 0, 0};
    int ms = -1, r;

    p.events = (short)(((events & EPOLLIN) ? POLLIN : 0) |
                       ((events & EPOLLOUT) ? POLLOUT : 0));
    if (deadline != GP__NEVER) {
      uint64_t now = gp__now();
      if (now >= deadline)
        return -ETIMEDOUT;
      ms = (int)((deadline - now + 999999) / 1000000);
    }
    r = gp__real_poll(&p, 1, ms);
    if (r > 0) {
      if (p.revents & POLLNVAL)
        return -EBADF;
      if (p.revents & (POLLERR | POLLHUP))
        return (int)(EPOLLIN | EPOLLOUT); /* the retried call sees it */
      return (int)(((p.revents & POLLIN) ? EPOLLIN : 0) |
                   ((p.revents & POLLOUT) ? EPOLLOUT : 0));
    }
    if (r < 0 && errno == EINTR && (flags & GP__WAIT_INTERRUPTIBLE))
      return -EINTR;
    if (r < 0 && errno != EINTR)
      return -errno;
  }
}

int gp__wait_fd_ex(int fd, uint32_t events, uint64_t deadline, int flags)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__fd *e = entry(fd, 1);
  struct gp__wait w;
  int r;

  if (fd < 0)
    return -EBADF;
  if (s == NULL)
    return wait_fd_kernel(fd, events, deadline, flags);
  if (e == NULL)
    return -ENOMEM;
  gp__wait_init(&w, fd_unlink, flags & GP__WAIT_INTERRUPTIBLE, "fd", NULL);
  w.fd = fd;
  w.events = events;
  w.exclusive = (flags & GP__FD_EXCLUSIVE) != 0;
  gp__lock(&e->lock);
  r = attach(s, fd, e);
  if (r != 0) {
    gp__unlock(&e->lock);
    return r > 0 ? (int)events : r; /* cannot be polled: always ready */
  }
  add_waiter(s, e, &w);
  gp__unlock(&e->lock);
  r = gp__park(&w, deadline);
  return r < 0 ? r : (int)w.events;
}

int gp__wait_fd(int fd, uint32_t events, uint64_t deadline, int interruptible)
{
  return gp__wait_fd_ex(fd, events, deadline,
                        interruptible ? GP__WAIT_INTERRUPTIBLE : 0);
}

/* Under e's lock: claims w's wait (or the multi-fd wait it is part of),
 * takes it out, and adds what is to be woken to *list. Returns 1 if it
 * claimed. */
static int claim_waiter(struct gp__fd *e, struct gp__wait *w,
                        struct gp__wait ***tail)
{
  struct gp__wait *end = w->parent ? w->parent : w;

  if (!gp__wait_claim(end))
    return 0; /* its deadline or a cancel ends it: they unlink it */
  remove_waiter(e, w);
  end->next_wake = NULL;
  **tail = end;
  *tail = &end->next_wake;
  return 1;
}

/* Wakes what claim_waiter collected: a multi-fd wait's other records are
 * unlinked first (each under its own fd's lock, none held here). */
static void wake_claimed(struct gp__wait *list, int result)
{
  while (list) {
    struct gp__wait *next = list->next_wake;
    if (list->subs) {
      list->unlink(list);
      gp__wake(list, 0); /* poll and select look again themselves */
    } else {
      gp__wake(list, result);
    }
    list = next;
  }
}

void gp__fd_ready(struct gp__sched *s, uint64_t token, uint32_t events)
{
  int fd = gp__poll_token_fd(token);
  struct gp__fd *e = entry(fd, 0);
  struct gp__wait *list = NULL, **tail = &list;
  struct gp__list *l, *next;
  int exclusive_woken = 0;

  if (e == NULL)
    return;
  gp__lock(&e->lock);
  if (e->gen != gp__poll_token_gen(token)) {
    gp__unlock(&e->lock);
    return; /* an event of an earlier file with this number */
  }
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
    if (w->co->sched != s || !(w->events & events))
      continue; /* another scheduler's: its own poller tells it */
    if (w->exclusive && !(events & (EPOLLERR | EPOLLHUP))) {
      if (exclusive_woken)
        continue;
      exclusive_woken = 1;
    }
    w->events &= events;
    claim_waiter(e, w, &tail);
  }
  gp__unlock(&e->lock);
  wake_claimed(list, 0);
}

void gp__fd_pass(int fd)
{
  struct gp__fd *e = entry(fd, 0);
  struct gp__wait *list = NULL, **tail = &list;
  struct gp__list *l;

  if (e == NULL)
    return;
  gp__lock(&e->lock);
  for (l = e->waiters.next; l != &e->waiters; l = l->next) {
    struct gp__wait *w = GP__CONTAINER(l, struct gp__wait, link);
    if (w->exclusive && claim_waiter(e, w, &tail))
      break;
  }
  gp__unlock(&e->lock);
  wake_claimed(list, 0);
}

/* A short read empties the queue only as of the read: input arriving after
 * it makes an edge the hub has not taken yet, since the hub runs on this
 * thread, after the reader parks. An fd not in the set yet is added when
 * the reader waits, and the add reports input already there. What a short
 * read leaves behind without a new edge (end of input, an error, data past
 * an urgent mark) was announced by an edge the hub took before: no_hint.
 * Kept only while one scheduler alone polls the fd: the edges another
 * scheduler takes are not seen here. */
void gp__fd_read_short(int fd)
{
  struct gp__fd *e = entry(fd, 0);
  struct gp__sched *s = gp__tls.sched;
  if (e && s && e->regmask == bit_of(s) && !e->no_hint)
    e->read_idle = 1;
}

int gp__fd_read_idle(int fd)
{
  struct gp__fd *e = entry(fd, 0);
  struct gp__sched *s = gp__tls.sched;
  return e && s && e->read_idle && e->regmask == bit_of(s);
}

struct gp__fdinfo *gp__fd_info(int fd)
{
  struct gp__fd *e = entry(fd, 1);
  return e ? &e->info : NULL;
}

/* Takes fd out of its ring of duplicates (dup_lock held). */
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

/* Drops the record of fd: its waiters wake with result (poll and select
 * look again), every poller lets it go, and its generation moves on. */
static void drop(int fd, struct gp__fd *e, int result)
{
  struct gp__wait *list = NULL, **tail = &list;
  uint64_t mask;

  gp__lock(&e->lock);
  while (!gp__list_empty(&e->waiters)) {
    struct gp__wait *w = GP__CONTAINER(e->waiters.next, struct gp__wait, link);
    if (!claim_waiter(e, w, &tail))
      remove_waiter(e, w); /* its ender finds it gone: unlink is safe */
  }
  mask = e->regmask;
  e->regmask = 0;
  e->unpollable = 0;
  e->read_idle = 0;
  e->no_hint = 0;
  e->gen++;
  gp__unlock(&e->lock);
  for (int i = 0; mask != 0; i++, mask >>= 1)
    if ((mask & 1) && gp__scheds[i])
      gp__poller_del(&gp__scheds[i]->poller, fd);
  gp__lock(&dup_lock);
  dup_unlink(e);
  gp__unlock(&dup_lock);
  memset(&e->info, 0, sizeof(e->info));
  __atomic_fetch_add(&gp__fd_epoch, 1, __ATOMIC_RELEASE);
  wake_claimed(list, result);
}

void gp__fd_forget(int fd)
{
  struct gp__fd *e = entry(fd, 0);
  if (e)
    drop(fd, e, -EBADF);
}

void gp__fd_forget_range(unsigned first, unsigned last)
{
  for (unsigned c = first / CHUNK; c < NCHUNKS && c <= last / CHUNK; c++) {
    struct gp__fd *chunk = __atomic_load_n(&chunks[c], __ATOMIC_ACQUIRE);
    unsigned lo = c == first / CHUNK ? first % CHUNK : 0;
    unsigned hi = c == last / CHUNK ? last % CHUNK : CHUNK - 1;
    if (chunk == NULL)
      continue;
    for (unsigned i = lo; i <= hi; i++)
      drop((int)(c * CHUNK + i), &chunk[i], -EBADF);
  }
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
  gp__lock(&dup_lock);
  to->info = from->info;
  if (from->dup_next == 0)
    from->dup_next = from->dup_prev = old + 1;
  next = entry(from->dup_next - 1, 0);
  to->dup_next = from->dup_next;
  to->dup_prev = old + 1;
  next->dup_prev = nfd + 1;
  from->dup_next = nfd + 1;
  gp__unlock(&dup_lock);
}

void gp__fd_info_changed(int fd)
{
  struct gp__fd *e = entry(fd, 0), *d;

  __atomic_fetch_add(&gp__fd_epoch, 1, __ATOMIC_RELEASE);
  if (e == NULL || e->dup_next == 0)
    return;
  gp__lock(&dup_lock);
  for (int n = e->dup_next - 1; e->dup_next && n != fd; n = d->dup_next - 1) {
    d = entry(n, 0);
    d->info = e->info;
  }
  gp__unlock(&dup_lock);
}

/* Unlinks every per-fd record of a multi-fd wait (idempotent). */
static void group_unlink(struct gp__wait *w)
{
  size_t n = __atomic_load_n(&w->nsubs, __ATOMIC_ACQUIRE);
  for (size_t i = 0; i < n; i++)
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

  if (n > 16 && (subs = gp__calloc(n, sizeof(*subs))) == NULL)
    return -ENOMEM;
  gp__wait_init(&group, group_unlink,
                interruptible ? GP__WAIT_INTERRUPTIBLE : 0, "poll", NULL);
  /* The records point at the group before any is linked: a waker may
   * claim the group as soon as the first is. */
  group.subs = subs;
  for (i = 0; i < n; i++) {
    struct gp__fd *e;
    if (fds[i].fd < 0)
      continue;
    e = entry(fds[i].fd, 1);
    if (e == NULL) {
      r = -ENOMEM;
      break;
    }
    gp__wait_init(&subs[k], fd_unlink, 0, "poll", NULL);
    subs[k].fd = fds[i].fd;
    subs[k].events = fds[i].events;
    subs[k].parent = &group;
    gp__lock(&e->lock);
    r = attach(s, fds[i].fd, e);
    if (r == 0) {
      add_waiter(s, e, &subs[k]);
      __atomic_store_n(&group.nsubs, ++k, __ATOMIC_RELEASE);
    }
    gp__unlock(&e->lock);
    if (r != 0)
      break; /* cannot be polled (ready), or an error */
  }
  if (r != 0) {
    /* Not parking, unless a waker claimed the group meanwhile: then its
     * wake is on its way and must be taken. */
    if (!gp__wait_claim(&group))
      gp__park(&group, GP__NEVER);
    r = r > 0 ? 0 : r;
  } else if (k == 0) {
    /* Nothing to watch (only negative fds): a sleep, which ends at its
     * deadline as a poll does, with -ETIMEDOUT. */
    r = gp__sleep_until(deadline, interruptible);
    if (r == 0)
      r = -ETIMEDOUT;
  } else {
    r = gp__park(&group, deadline);
  }
  /* Whoever ended the wait unlinked what was linked by then; a waker on
   * another thread may have done so before the last records were. */
  group_unlink(&group);
  if (subs != small)
    gp__free(subs);
  return r;
}

void gp__fd_forget_all(void)
{
  gp__lock_reset(&dup_lock);
  for (unsigned c = 0; c < NCHUNKS; c++) {
    struct gp__fd *chunk = chunks[c];
    if (chunk == NULL)
      continue;
    for (int i = 0; i < CHUNK; i++) {
      gp__lock_reset(&chunk[i].lock);
      gp__list_init(&chunk[i].waiters); /* their coroutines are gone */
      chunk[i].regmask = 0;
      chunk[i].read_idle = 0;
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
