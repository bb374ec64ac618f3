/* ownfd.c: the runtime's own fds, above a floor. */
#define _GNU_SOURCE
#include "ownfd.h"
#include "lock.h"
#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

/* The runtime's fds: a bitmap of fd numbers (the runtime has a few dozen
 * at most, all above the floor, which is at most 256: 4096 bits cover the
 * floor and far more). */
#define MAX_FD 4096
static unsigned long mine[MAX_FD / (8 * sizeof(unsigned long))];
#define WORD(fd) ((unsigned)(fd) / (8 * sizeof(unsigned long)))
#define BIT(fd)  (1UL << ((unsigned)(fd) % (8 * sizeof(unsigned long))))

static struct gp__lock hold_lock;

/* Whether a release still takes every fd that appeared above the floor as
 * the runtime's: only the first, in the process and in each fork's child,
 * when libuv makes its process-wide signal lock pipe, which has no name
 * the runtime can reach, and the program has no other thread yet. Later
 * ones take only the fds their callers name (the loop's): the program's
 * other threads may open fds up there meanwhile, and a close of one of
 * those then failed with EBADF (Chromium stopped at a CHECK). */
static int blanket = 1;

/* The floor: 256, or half the soft limit on fds when that is lower. */
static int floor_fd(void)
{
  static int f;
  struct rlimit rl;

  if (f > 0)
    return f;
  f = 256;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      rl.rlim_cur / 2 < (rlim_t)f)
    f = rl.rlim_cur >= 8 ? (int)(rl.rlim_cur / 2) : 3;
  return f;
}

void gp__ownfd_note(int fd)
{
  if (fd >= 0 && fd < MAX_FD)
    __atomic_fetch_or(&mine[WORD(fd)], BIT(fd), __ATOMIC_RELEASE);
}

void gp__ownfd_forget(int fd)
{
  if (fd >= 0 && fd < MAX_FD)
    __atomic_fetch_and(&mine[WORD(fd)], ~BIT(fd), __ATOMIC_RELEASE);
}

int gp__ownfd_is(int fd)
{
  return fd >= 0 && fd < MAX_FD &&
         (__atomic_load_n(&mine[WORD(fd)], __ATOMIC_ACQUIRE) & BIT(fd));
}

int gp__ownfd_next(int from)
{
  int fd = from < 0 ? 0 : from;

  while (fd < MAX_FD) {
    unsigned long w = __atomic_load_n(&mine[WORD(fd)], __ATOMIC_ACQUIRE);
    w &= ~(BIT(fd) - 1); /* the bits from fd on */
    if (w)
      return (int)(WORD(fd) * 8 * sizeof(unsigned long)) + __builtin_ctzl(w);
    fd = (int)((WORD(fd) + 1) * 8 * sizeof(unsigned long));
  }
  return -1;
}

int gp__ownfd_move(int fd)
{
  int saved = errno, nfd;

  if (fd < 0)
    return fd;
  if (fd >= floor_fd()) {
    gp__ownfd_note(fd);
    return fd;
  }
  nfd = gp__real_fcntl(fd, F_DUPFD_CLOEXEC, floor_fd());
  if (nfd < 0) {
    errno = saved;
    gp__ownfd_note(fd);
    return fd; /* nothing free up there: it stays */
  }
  gp__real_close(fd);
  gp__ownfd_note(nfd);
  errno = saved;
  return nfd;
}

/* Which of the 64 fds from the floor are open (bit i: floor + i), by one
 * poll: a closed fd comes back POLLNVAL. */
static unsigned long long open_window(void)
{
  struct pollfd p[64];
  struct rlimit rl;
  unsigned long long open = 0;
  int n = 64;

  /* poll refuses more entries than the fd limit allows fds */
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      rl.rlim_cur < (rlim_t)floor_fd() + 64)
    n = rl.rlim_cur > (rlim_t)floor_fd() ? (int)(rl.rlim_cur - floor_fd()) : 0;
  for (int i = 0; i < n; i++)
    p[i] = (struct pollfd){.fd = floor_fd() + i};
  if (n == 0 || gp__real_poll(p, (nfds_t)n, 0) < 0)
    return 0;
  for (int i = 0; i < n; i++)
    if (!(p[i].revents & POLLNVAL))
      open |= 1ULL << i;
  return open;
}

void gp__ownfd_hold(struct gp__ownfd_hold *h)
{
  int saved = errno, fd, max = (int)(sizeof(h->fds) / sizeof(h->fds[0]));

  gp__lock(&hold_lock);
  h->n = 0;
  /* Each takes the lowest free number: the first an open, the rest
   * duplicates of it. */
  fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  while (fd >= 0 && fd < floor_fd() && h->n < max) {
    h->fds[h->n++] = fd;
    fd = gp__real_fcntl(h->fds[0], F_DUPFD_CLOEXEC, 0);
  }
  if (fd >= 0)
    gp__real_close(fd); /* above the floor, or past what h can hold */
  h->open = open_window();
  errno = saved;
}

void gp__ownfd_release(struct gp__ownfd_hold *h)
{
  int saved = errno;
  unsigned long long now = open_window(), opened = now & ~h->open,
                     closed = h->open & ~now;

  for (int i = 0; i < 64; i++) {
    if ((opened & (1ULL << i)) && blanket)
      gp__ownfd_note(floor_fd() + i);
    else if (closed & (1ULL << i))
      gp__ownfd_forget(floor_fd() + i);
  }
  blanket = 0;
  while (h->n > 0)
    gp__real_close(h->fds[--h->n]);
  gp__unlock(&hold_lock);
  errno = saved;
}

void gp__ownfd_fork_child(void)
{
  gp__lock_reset(&hold_lock);
  blanket = 1;
}
