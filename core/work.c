/* work.c: calls run on libuv's threadpool while the caller waits. */
#define _GNU_SOURCE
#include "work.h"
#include "config.h"
#include "coro.h"
#include "scheduler.h"
#include "wait.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* One call, carried to a threadpool thread and back. */
struct work {
  uv_work_t req;            /* libuv's request */
  struct gp__wait w;        /* the caller's wait */
  void (*fn)(void *arg);    /* the call */
  void *arg;                /* its argument */
};

static void work_cb(uv_work_t *req)
{
  struct work *k = req->data;
  gp__tls.foreign = 1; /* a threadpool thread: every call passes through */
  k->fn(k->arg);
}

static void after_cb(uv_work_t *req, int status)
{
  struct work *k = req->data;
  (void)status;
  if (gp__wait_claim(&k->w))
    gp__wake(&k->w, 0);
}

static void nothing(struct gp__wait *w)
{
  (void)w; /* the request is libuv's until it completes */
}

/* Queues the work, after sizing the pool: libuv reads UV_THREADPOOL_SIZE
 * once, when its first work starts. */
static int queue(struct gp__sched *s, struct work *k)
{
  static int sized;
  const char *old = NULL;
  char num[16];
  int r;

  if (gp__config.threadpool && !sized) {
    old = getenv("UV_THREADPOOL_SIZE");
    snprintf(num, sizeof(num), "%u", gp__config.threadpool);
    setenv("UV_THREADPOOL_SIZE", num, 1);
  }
  GP__RUNTIME_ENTER();
  r = uv_queue_work(&s->loop, &k->req, work_cb, after_cb);
  GP__RUNTIME_LEAVE();
  if (gp__config.threadpool && !sized) {
    sized = 1;
    if (old)
      setenv("UV_THREADPOOL_SIZE", old, 1);
    else
      unsetenv("UV_THREADPOOL_SIZE");
  }
  return r;
}

int gp__offload(void (*fn)(void *arg), void *arg, const char *what)
{
  struct gp__sched *s = gp__tls.sched;
  struct work k = {.fn = fn, .arg = arg};

  k.req.data = &k;
  gp__wait_init(&k.w, nothing, GP__WAIT_UNCANCELABLE, what, NULL);
  if (queue(s, &k) != 0)
    return -ENOMEM;
  /* Only the after-work callback ends this wait. */
  gp__park(&k.w, GP__NEVER);
  return 0;
}
