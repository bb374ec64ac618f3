/* poller.c: a scheduler's epoll set. */
#define _GNU_SOURCE
#include "poller.h"
#include "ownfd.h"
#include "real.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Every readiness event, edge-triggered: a coroutine parks only right
 * after its own call said EAGAIN, with no switch in between, so every
 * later change is reported. */
#define EVENTS (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET)

int gp__poller_add_loop(struct gp__poller *p, int loop_fd)
{
  struct epoll_event ev;

  memset(&ev, 0, sizeof(ev));
  ev.events = EPOLLIN;
  ev.data.u64 = GP__POLL_LOOP;
  return gp__real_epoll_ctl(p->epfd, EPOLL_CTL_ADD, loop_fd, &ev) == 0 ? 0
                                                                       : -errno;
}

int gp__poller_init(struct gp__poller *p)
{
  p->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (p->epfd < 0)
    return -errno;
  p->epfd = gp__ownfd_move(p->epfd); /* out of the program's way */
  return 0;
}

int gp__poller_remake(struct gp__poller *p, int loop_fd)
{
  int r;

  gp__ownfd_forget(p->epfd);
  gp__real_close(p->epfd);
  if ((r = gp__poller_init(p)) < 0)
    return r;
  return gp__poller_add_loop(p, loop_fd);
}

int gp__poller_add(struct gp__poller *p, int fd, uint64_t token)
{
  struct epoll_event ev = {.events = EVENTS, .data.u64 = token};

  if (gp__real_epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
    return 0;
  switch (errno) {
  case EEXIST:
    /* Left from a file closed behind our back: refresh it. */
    gp__real_epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
    return gp__real_epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0
                                                                    : -errno;
  case EPERM:
    return 1; /* regular files and the like */
  default:
    return -errno;
  }
}

void gp__poller_del(struct gp__poller *p, int fd)
{
  gp__real_epoll_ctl(p->epfd, EPOLL_CTL_DEL, fd, NULL);
}

int gp__poller_wait(struct gp__poller *p, struct epoll_event *ev, int max,
                    int64_t timeout_ns)
{
  static int no_pwait2;
  int64_t ms;
  int n;

  if (timeout_ns > 0 && !__atomic_load_n(&no_pwait2, __ATOMIC_RELAXED)) {
    struct timespec ts = {.tv_sec = timeout_ns / 1000000000,
                          .tv_nsec = timeout_ns % 1000000000};
    n = gp__real_epoll_pwait2(p->epfd, ev, max, &ts, NULL);
    if (n >= 0 || errno != ENOSYS)
      return n < 0 ? -errno : n;
    __atomic_store_n(&no_pwait2, 1, __ATOMIC_RELAXED);
  }
  ms = timeout_ns < 0 ? -1 : (timeout_ns + 999999) / 1000000;
  n = gp__real_epoll_wait(p->epfd, ev, max,
                          ms > INT32_MAX ? INT32_MAX : (int)ms);
  return n < 0 ? -errno : n;
}
