/* coro.c: coroutine lifecycle — spawn, exit, join, detach — and what the
 * shim may ask of a coroutine. */
#define _GNU_SOURCE
#include "coro.h"
#include "config.h"
#include "scheduler.h"
#include "tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef GP__VALGRIND
#include <valgrind/valgrind.h>
#endif
#ifdef GP__ASAN
#include <sanitizer/asan_interface.h>
#endif

void (*gp__coro_exit_hook)(struct gp__coro *co);

/* Sets up a fresh struct (zeroed) for scheduler s. */
void gp__coro_init_struct(struct gp__sched *s, struct gp__coro *co)
{
  co->sched = s;
  co->block_deadline = GP__NEVER;
  gp__list_init(&co->ready_link);
  gp__list_init(&co->all_link);
  gp__waitq_init(&co->joiners);
  GP__RUNTIME_ENTER();
  uv_timer_init(&s->loop, &co->timer);
  GP__RUNTIME_LEAVE();
}

static struct gp__coro *alloc_coro(struct gp__sched *s)
{
  struct gp__coro *co = s->free;
  if (co) {
    uv_timer_t timer = co->timer;
    s->free = co->free_next;
    memset(co, 0, sizeof(*co));
    co->timer = timer; /* stays initialised, stopped, on the same loop */
    co->sched = s;
    co->block_deadline = GP__NEVER;
    gp__list_init(&co->ready_link);
    gp__list_init(&co->all_link);
    gp__waitq_init(&co->joiners);
    return co;
  }
  co = calloc(1, sizeof(*co));
  if (co)
    gp__coro_init_struct(s, co);
  return co;
}

static void free_coro(struct gp__coro *co)
{
  struct gp__sched *s = co->sched;
  co->magic = 0;
  gp__list_remove(&co->all_link);
  co->free_next = s->free;
  s->free = co;
}

static void coro_entry(void *arg)
{
  struct gp__coro *co = arg;
  void *ret = (void *)-1; /* GP_CANCELED */

  gp__sched_started(co->sched);
  co->started = 1;
  if (!co->canceled)
    ret = co->fn(co->arg);
  gp__coro_exit(ret);
}

int gp__coro_spawn(struct gp__coro **out, void *(*fn)(void *), void *arg,
                   const struct gp__spawn_opts *opts)
{
  struct gp__sched *s = gp__sched_get();
  struct gp__coro *co;
  struct gp__stack *st;
  size_t size = gp__config.stack_size;
  int err;

  if (s == NULL)
    return -ENOMEM;
  gp__tls_setup(); /* from the first coroutine on, TLS per coroutine */
  if (opts && opts->stack_size)
    size = opts->stack_size;
  co = alloc_coro(s);
  if (co == NULL)
    return -ENOMEM;
  err = gp__stack_get(&st, size);
  if (err < 0)
    goto fail_coro;
  err = gp__ctx_make(&co->ctx, st->lo, st->size, coro_entry, co);
  if (err < 0)
    goto fail_stack;
#ifdef GP__VALGRIND
  co->vg_stack_id = VALGRIND_STACK_REGISTER(st->lo, st->lo + st->size);
#endif
  co->stack = st;
  co->magic = GP__CORO_MAGIC;
  co->fn = fn;
  co->arg = arg;
  co->id = ++s->next_id;
  co->detached = (opts && opts->detached) || out == NULL;
  if (opts && opts->name)
    strncpy(co->name, opts->name, sizeof(co->name) - 1);
  gp__list_push_back(&s->all, &co->all_link);
  gp__sched_make_ready(s, co);
  s->nlive++;
  if (out)
    *out = co;
  return 0;

fail_stack:
  gp__stack_put(st);
fail_coro:
  co->free_next = s->free;
  s->free = co;
  return err;
}

/* Called by the hub once a coroutine has switched away for the last time:
 * its stack can be reused now that nothing runs on it. */
void gp__coro_release(struct gp__sched *s, struct gp__coro *co)
{
  struct gp__stack *st = co->stack;
  co->stack = NULL;
  gp__tls_release(s, co);
#ifdef GP__VALGRIND
  VALGRIND_STACK_DEREGISTER(co->vg_stack_id);
#endif
#ifdef GP__ASAN
  /* The frames of the exit path never returned, so their redzones are
   * still poisoned: the stack's next coroutine must not inherit them
   * (uninstrumented code, libuv's included, would trip over them). */
  __asan_unpoison_memory_region(st->lo, st->size);
#endif
  gp__stack_put(st);
  if (co->detached)
    free_coro(co);
}

void gp__coro_exit(void *retval)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__coro *co = s->current;

  GP__ASSERT(co->stack != NULL); /* not the thread's own context */
  if (gp__coro_exit_hook)
    gp__coro_exit_hook(co);
  co->retval = retval;
  co->state = GP__DEAD;
  s->nlive--;
  gp__waitq_wake_all(&co->joiners, 0);
  gp__addr_wake(&s->nlive, SIZE_MAX, 0); /* gp__wait_others */
  gp__sched_leave_dead(s);
}

int gp__coro_wait_dead(struct gp__coro *co, uint64_t deadline)
{
  struct gp__sched *s = gp__sched_get();
  int r;

  if (s && co == s->current)
    return -EDEADLK;
  if (co->detached)
    return -EINVAL;
  while (co->state != GP__DEAD) {
    r = gp__waitq_wait(&co->joiners, deadline, "join", co);
    if (r < 0)
      return r;
  }
  return 0;
}

void *gp__coro_reap(struct gp__coro *co)
{
  void *ret = co->retval;
  GP__ASSERT(co->state == GP__DEAD);
  free_coro(co);
  return ret;
}

int gp__coro_join(struct gp__coro *co, void **retval, uint64_t deadline)
{
  struct gp__sched *s = gp__sched_get();
  int r;

  /* pthread_join's order: detached, then self, then already joined. */
  if (co->detached)
    return -EINVAL;
  if (s && co == s->current)
    return -EDEADLK;
  if (co->joining)
    return -EINVAL;
  co->joining = 1;
  r = gp__coro_wait_dead(co, deadline);
  co->joining = 0;
  if (r < 0)
    return r;
  void *value = gp__coro_reap(co);
  if (retval)
    *retval = value;
  return 0;
}

int gp__coro_detach(struct gp__coro *co)
{
  if (co->detached)
    return -EINVAL;
  co->detached = 1;
  if (co->state == GP__DEAD && co->stack == NULL)
    free_coro(co);
  return 0;
}


/* In the child of fork(): the coroutines joining the one that goes on are
 * gone with their threads; its exit must not wake them. */
static void coro_atfork_child(void)
{
  struct gp__sched *s = gp__tls.sched;
  if (s != NULL && s->current != NULL) {
    gp__waitq_init(&s->current->joiners);
    s->current->joining = 0;
  }
}

__attribute__((constructor)) static void coro_ctor(void)
{
  pthread_atfork(NULL, NULL, coro_atfork_child);
}

int gp__coro_valid(const struct gp__coro *co)
{
  return co->magic == GP__CORO_MAGIC && co->sched == gp__tls.sched;
}

int gp__coro_is_main(const struct gp__coro *co)
{
  return co == co->sched->main;
}

int gp__coro_finished(const struct gp__coro *co)
{
  return co->state == GP__DEAD;
}

int gp__coro_detached(const struct gp__coro *co)
{
  return co->detached;
}

const char *gp__coro_name(const struct gp__coro *co)
{
  return co->name;
}

void gp__coro_set_name(struct gp__coro *co, const char *name)
{
  strncpy(co->name, name, sizeof(co->name) - 1);
  co->name[sizeof(co->name) - 1] = '\0';
}

void **gp__coro_local(struct gp__coro *co)
{
  return &co->local;
}

int gp__coro_stack(const struct gp__coro *co, void **lo, size_t *size)
{
  if (co->stack == NULL)
    return -EINVAL;
  *lo = co->stack->lo;
  *size = co->stack->size;
  return 0;
}
