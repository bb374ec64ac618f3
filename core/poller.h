/* poller.h: the epoll set of a scheduler, in one place (as Go keeps its
 * netpoll): made with the scheduler, fds added once (edge-triggered, both
 * directions) on their first wait, deleted on close, waited on by the hub,
 * and made anew in a fork's child. Each fd's event data carries a
 * generation with the fd number, so that an event left over from an
 * earlier file of the same number is recognised as stale. */
#ifndef GP_POLLER_H
#define GP_POLLER_H

#include <stdint.h>
#include <sys/epoll.h>

struct gp__poller {
  int epfd; /* the epoll set, close-on-exec */
};

/* The event data of the libuv loop's backend fd. */
#define GP__POLL_LOOP UINT64_MAX

/* The event data of fd in its generation gen. */
static inline uint64_t gp__poll_token(int fd, uint32_t gen)
{
  return (uint64_t)gen << 32 | (uint32_t)fd;
}
static inline int gp__poll_token_fd(uint64_t t)
{
  return (int)(uint32_t)t;
}
static inline uint32_t gp__poll_token_gen(uint64_t t)
{
  return (uint32_t)(t >> 32);
}

/* Makes the set. Returns 0 or a negative errno. */
int gp__poller_init(struct gp__poller *p);

/* Adds loop_fd, libuv's backend, with the data GP__POLL_LOOP. Returns 0 or
 * a negative errno. */
int gp__poller_add_loop(struct gp__poller *p, int loop_fd);

/* In a fork's child: the set was shared with the parent; makes a new one
 * with loop_fd in it. Every fd must be added again. Returns 0 or -errno. */
int gp__poller_remake(struct gp__poller *p, int loop_fd);

/* Adds fd, edge-triggered for every event, with token. An fd of the same
 * number left in the set (its file closed behind the runtime's back) is
 * replaced. Returns 0, 1 when fd cannot be polled (a regular file: always
 * ready), or a negative errno. */
int gp__poller_add(struct gp__poller *p, int fd, uint64_t token);

/* Takes fd out of the set (errors ignored: it may be gone already). */
void gp__poller_del(struct gp__poller *p, int fd);

/* Waits up to timeout_ns nanoseconds (-1: no limit) for events: to the
 * nanosecond with epoll_pwait2 (Linux >= 5.11), else rounded up to a
 * millisecond. Returns how many, or a negative errno (-EINTR: a signal
 * was caught). */
int gp__poller_wait(struct gp__poller *p, struct epoll_event *ev, int max,
                    int64_t timeout_ns);

#endif /* GP_POLLER_H */
