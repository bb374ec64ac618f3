/* work.c: calls run on libuv's threadpool while the caller waits. */
#define _GNU_SOURCE
#include "work.h"
#include "real.h"
#include "config.h"
#include "coro.h"
#include "scheduler.h"
#include "wait.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

/* One call, carried to a threadpool thread and back. */
struct work {
  uv_work_t req;         /* libuv's request */
  struct gp__wait w;     /* the caller's wait */
  void (*fn)(void *arg); /* the call */
  void *arg;             /* its argument */
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

/* libuv starts its threadpool at the first work queued (init_once in
 * libuv 1.44), and sizes it from getenv("UV_THREADPOOL_SIZE") then, once
 * per process (again in a forked child). GPATCH_THREADPOOL must reach it
 * that way, and in a program that runs set-uid (AT_SECURE) nothing from
 * the environment may: whoever started it could ask for 1,024 threads. So
 * for the moment libuv takes to start the pool, the process's environment
 * pointer names a private copy of the environment, the same strings with
 * UV_THREADPOOL_SIZE replaced (or removed under AT_SECURE), then names the
 * program's own array again. The program's array and strings are never
 * written: setenv and unsetenv, which the old way used, rewrite or move
 * the array under getenv in other real threads (a use after free, or a
 * variable missed). A getenv in another thread meanwhile reads one array
 * or the other, both whole; only a setenv made by another thread in that
 * window would be undone, which is why the copy is made only when there is
 * something to change. The copy is never freed: a reader may hold it. */
static int pool_state; /* 0 not started, 1 starting, 2 started */

static void pool_forked(void)
{
  pool_state = 0; /* libuv starts a new pool in the child */
}

/* The environment libuv must see when it starts its pool, or NULL when
 * the program's own will do (or no copy could be made). */
static char **pool_env(void)
{
  static char entry[32];
  static const char name[] = "UV_THREADPOOL_SIZE=";
  int secure = getauxval(AT_SECURE) != 0;
  size_t n = 0, k = 0;
  char **env = environ, **out;

  if (!secure && !gp__config.threadpool)
    return NULL;
  while (env && env[n])
    n++;
  if ((out = malloc((n + 2) * sizeof(*out))) == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (strncmp(env[i], name, sizeof(name) - 1) != 0)
      out[k++] = env[i];
  if (gp__config.threadpool) { /* never set under AT_SECURE */
    snprintf(entry, sizeof(entry), "%s%u", name, gp__config.threadpool);
    out[k++] = entry;
  }
  out[k] = NULL;
  return out;
}

/* Queues the work; the first of the process starts libuv's pool, sized as
 * above. Returns 0 or a negative errno. */
static int queue(struct gp__sched *s, struct work *k)
{
  char **mine = NULL, **theirs = NULL;
  int expected = 0, r;

  if (__atomic_compare_exchange_n(&pool_state, &expected, 1, 0,
                                  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    static int hooked;
    if (!hooked++)
      pthread_atfork(NULL, NULL, pool_forked);
    mine = pool_env();
    if (mine == NULL && getauxval(AT_SECURE)) {
      __atomic_store_n(&pool_state, 0, __ATOMIC_RELEASE);
      return -ENOMEM; /* not without the copy: the caller looks up itself */
    }
    if (mine)
      theirs = __atomic_exchange_n(&environ, mine, __ATOMIC_ACQ_REL);
  } else {
    /* Another scheduler is starting the pool: libuv's once would start it
     * here instead if this queued first, sized from the program's own
     * environment (curl --parallel with four schedulers got 4 threads for
     * GPATCH_THREADPOOL=2). It takes a few microseconds. */
    while (__atomic_load_n(&pool_state, __ATOMIC_ACQUIRE) == 1)
      gp__real_sched_yield();
  }
  GP__RUNTIME_ENTER();
  r = uv_queue_work(&s->loop, &k->req, work_cb, after_cb);
  GP__RUNTIME_LEAVE();
  if (mine) /* unless another thread's setenv replaced it meanwhile */
    __atomic_compare_exchange_n(&environ, &mine, theirs, 0, __ATOMIC_ACQ_REL,
                                __ATOMIC_ACQUIRE);
  if (expected == 0)
    __atomic_store_n(&pool_state, 2, __ATOMIC_RELEASE);
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
