/* api.c: the public coroutine API of include/gpatch.h, over coro.h,
 * wait.h and fdtab.h. A gp_timeout block's expiry is -ETIMEDOUT here, as
 * gpatch.h documents: the runtime's distinct -GP__EXPIRED stays inside. */
#define _GNU_SOURCE
#include "../include/gpatch.h"
#include "api.h"
#include "coro.h"
#include "fdtab.h"
#include "real.h"
#include "scheduler.h"

#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <string.h>

GP_EXPORT const char *gp_version(void)
{
#define STR2(x) #x
#define STR(x)  STR2(x)
  return STR(GP_VERSION_MAJOR) "." STR(GP_VERSION_MINOR) "." STR(
      GP_VERSION_PATCH);
}

GP_EXPORT int gp_spawn_ex(gp_coro_t **co, const gp_spawn_opts_t *opts,
                          void *(*fn)(void *), void *arg)
{
  struct gp__spawn_opts o = {0};
  if (fn == NULL)
    return -EINVAL;
  if (opts) {
    o.stack_size = opts->stack_size;
    o.name = opts->name;
    o.detached = opts->detached;
  }
  return gp__coro_spawn(co, fn, arg, &o);
}

GP_EXPORT int gp_spawn(gp_coro_t **co, void *(*fn)(void *), void *arg)
{
  return gp_spawn_ex(co, NULL, fn, arg);
}

GP_EXPORT int gp_join_timeout(gp_coro_t *co, void **retval, int64_t timeout_ms)
{
  if (co == NULL)
    return -EINVAL;
  if (gp__sched_get() == NULL)
    return -ENOMEM;
  return gp__api_err(gp__coro_join(co, retval, gp__deadline_ms(timeout_ms)));
}

GP_EXPORT int gp_join(gp_coro_t *co, void **retval)
{
  return gp_join_timeout(co, retval, GP_FOREVER);
}

GP_EXPORT int gp_joinall(gp_coro_t *const *cos, size_t n, void **retvals,
                         int64_t timeout_ms)
{
  uint64_t deadline = gp__deadline_ms(timeout_ms);
  size_t i;
  int r;

  if (n > 0 && cos == NULL)
    return -EINVAL;
  if (gp__sched_get() == NULL)
    return -ENOMEM;
  for (i = 0; i < n; i++)
    if (cos[i] == NULL || cos[i]->detached || cos[i]->joining)
      return -EINVAL;
  for (i = 0; i < n; i++) {
    cos[i]->joining = 1;
    r = gp__coro_wait_dead(cos[i], deadline);
    cos[i]->joining = 0;
    if (r < 0)
      return gp__api_err(r);
  }
  for (i = 0; i < n; i++) {
    void *v = gp__coro_reap(cos[i]);
    if (retvals)
      retvals[i] = v;
  }
  return 0;
}

GP_EXPORT int gp_detach(gp_coro_t *co)
{
  return co ? gp__coro_detach(co) : -EINVAL;
}

GP_EXPORT int gp_kill(gp_coro_t *co)
{
  return co ? gp__coro_kill(co) : -EINVAL;
}

GP_EXPORT int gp_sleep(uint64_t ms)
{
  if (gp__sched_get() == NULL)
    return -ENOMEM;
  if (ms == 0)
    return gp__yield();
  return gp__api_err(gp__sleep_until(gp__now() + ms * 1000000u, 0));
}

GP_EXPORT int gp_yield(void)
{
  return gp_sleep(0);
}

GP_EXPORT gp_coro_t *gp_current(void)
{
  return gp__coro_current();
}

GP_EXPORT uint64_t gp_id(const gp_coro_t *co)
{
  if (co == NULL)
    co = gp__coro_current();
  return co ? co->id : 0;
}

GP_EXPORT const char *gp_name(const gp_coro_t *co)
{
  if (co == NULL)
    co = gp__coro_current();
  return co ? gp__coro_name(co) : "";
}

GP_EXPORT int gp_set_name(gp_coro_t *co, const char *name)
{
  if (co == NULL)
    co = gp__coro_current();
  if (co == NULL || name == NULL)
    return -EINVAL;
  gp__coro_set_name(co, name);
  return 0;
}

GP_EXPORT int gp_wait_fd(int fd, int events, int64_t timeout_ms)
{
  uint32_t ev = 0;
  int r;

  if (events & ~(GP_READABLE | GP_WRITABLE) || events == 0)
    return -EINVAL;
  if (gp__sched_get() == NULL)
    return -ENOMEM;
  if (events & GP_READABLE)
    ev |= EPOLLIN;
  if (events & GP_WRITABLE)
    ev |= EPOLLOUT;
  /* The fd may be ready already: this API promises no EAGAIN first, so look
   * before parking. */
  {
    struct pollfd p = {.fd = fd,
                       .events =
                           (short)(((events & GP_READABLE) ? POLLIN : 0) |
                                   ((events & GP_WRITABLE) ? POLLOUT : 0))};
    int n;
    /* A signal caught while looking says nothing of the fd: look again
     * (the edge a wait needs may have gone by). */
    while ((n = gp__real_poll(&p, 1, 0)) < 0 && errno == EINTR)
      ;
    if (n > 0) {
      if (p.revents & POLLNVAL)
        return -EBADF;
      r = 0;
      if (p.revents & (POLLIN | POLLHUP | POLLERR))
        r |= GP_READABLE;
      if (p.revents & (POLLOUT | POLLERR))
        r |= GP_WRITABLE;
      if (r & events)
        return r & events;
    }
  }
  r = gp__wait_fd(fd, ev, gp__deadline_ms(timeout_ms), 0);
  if (r < 0)
    return gp__api_err(r);
  return ((r & EPOLLIN) ? GP_READABLE : 0) | ((r & EPOLLOUT) ? GP_WRITABLE : 0);
}

GP_EXPORT void gp_timeout_begin(gp_timeout_t *t, int64_t timeout_ms)
{
  t->deadline = gp__deadline_ms(timeout_ms);
  gp__block_begin(t->deadline, &t->saved);
}

GP_EXPORT int gp_timeout_end(gp_timeout_t *t)
{
  gp__block_end(t->saved);
  return t->deadline != GP__NEVER && gp__now() >= t->deadline;
}
