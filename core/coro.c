/* coro.c: coroutine lifecycle — spawn and placement, exit, join, detach,
 * the registry of valid handles — and what the shim may ask of a
 * coroutine.
 *
 * A coroutine dies on its own stack (gp__coro_exit) and is released by its
 * scheduler's hub once it has switched away for the last time: its stack
 * goes back to the pool, and only then are joiners woken, so that a joiner
 * on another scheduler never frees a struct the hub still uses. */
#define _GNU_SOURCE
#include "coro.h"
#include "preempt.h"
#include "mem.h"
#include "config.h"
#include "scheduler.h"
#include "tls.h"
#include "tp.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef GP__VALGRIND
#include <valgrind/valgrind.h>
#endif
#ifdef GP__ASAN
#include <sanitizer/asan_interface.h>
#endif
#ifdef GP__TSAN
#include <sanitizer/tsan_interface.h>
#endif

void (*gp__coro_exit_hook)(struct gp__coro *co);
void (*gp__coro_local_free_hook)(void *local);

uint32_t gp__live;

/* gp__live += d: seq_cst (gp__coro_exit), or plain while one thread uses
 * the runtime (mt.h). */
static void live_add(int d)
{
  if (gp__mt_plain_begin()) {
    gp__mt_plain_add(&gp__live, (unsigned)d);
    gp__mt_plain_end();
  } else {
    __atomic_fetch_add(&gp__live, (uint32_t)d, __ATOMIC_SEQ_CST);
  }
}
int gp__live_waited;

/* Ids of coroutines, process-wide: a scheduler takes them ID_BLOCK at a
 * time (new_id), so a spawn needs no atomic operation for its id. */
static uint64_t next_id;
#define ID_BLOCK 256

/* ---- the registry of valid handles: a pthread_t the app passes is looked
 * up here before it is used, so that a stale or foreign one is never
 * dereferenced. A struct is entered once, when it is allocated, and stays
 * while it waits in a scheduler's pool to be used again: the handle is
 * valid while its magic is set (from spawn to reap), so spawn and join take
 * no bucket lock. ---- */

#define NREG 1024

static struct {
  struct gp__lock lock;  /* guards head */
  struct gp__coro *head; /* chained by reg_next */
} reg[NREG];

static size_t reg_slot(const void *co)
{
  uintptr_t a = (uintptr_t)co;
  return ((a >> 6) ^ (a >> 16)) & (NREG - 1);
}

static void reg_add(struct gp__coro *co)
{
  size_t i = reg_slot(co);
  gp__lock(&reg[i].lock);
  co->reg_next = reg[i].head;
  reg[i].head = co;
  gp__unlock(&reg[i].lock);
}

static void reg_del(struct gp__coro *co)
{
  size_t i = reg_slot(co);
  struct gp__coro **p;
  gp__lock(&reg[i].lock);
  for (p = &reg[i].head; *p; p = &(*p)->reg_next)
    if (*p == co) {
      *p = co->reg_next;
      break;
    }
  gp__unlock(&reg[i].lock);
}

int gp__coro_valid(const struct gp__coro *co)
{
  size_t i = reg_slot(co);
  struct gp__coro *c;
  gp__lock(&reg[i].lock);
  for (c = reg[i].head; c && c != co; c = c->reg_next)
    ;
  gp__unlock(&reg[i].lock);
  return c != NULL &&
         __atomic_load_n(&c->magic, __ATOMIC_ACQUIRE) == GP__CORO_MAGIC;
}

struct gp__coro *gp__coro_find(int (*pred)(struct gp__coro *co, void *arg),
                               void *arg)
{
  for (size_t i = 0; i < NREG; i++) {
    gp__lock(&reg[i].lock);
    for (struct gp__coro *c = reg[i].head; c; c = c->reg_next)
      if (__atomic_load_n(&c->magic, __ATOMIC_ACQUIRE) == GP__CORO_MAGIC &&
          pred(c, arg)) {
        gp__unlock(&reg[i].lock);
        return c;
      }
    gp__unlock(&reg[i].lock);
  }
  return NULL;
}

static uint64_t new_id(struct gp__sched *s)
{
  if (s->id_next == s->id_end) {
    s->id_next = __atomic_fetch_add(&next_id, ID_BLOCK, __ATOMIC_RELAXED) + 1;
    s->id_end = s->id_next + ID_BLOCK;
  }
  return s->id_next++;
}

/* ---- structs ---- */

void gp__coro_init_struct(struct gp__sched *s, struct gp__coro *co)
{
  co->sched = s;
  co->block_deadline = GP__NEVER;
  co->heap_idx = GP__NO_HEAP;
  gp__list_init(&co->ready_link);
  gp__list_init(&co->all_link);
  gp__list_init(&co->post_link);
  gp__waitq_init_shared(&co->joiners, &co->lock);
}

/* magic and reg_next, which gp__coro_valid reads from any thread, lie
 * between ctx and the rest: a pooled struct is cleared around them. */
_Static_assert(offsetof(struct gp__coro, reg_next) ==
                       offsetof(struct gp__coro, magic) + sizeof(uint64_t) &&
                   offsetof(struct gp__coro, sched) ==
                       offsetof(struct gp__coro, reg_next) +
                           sizeof(struct gp__coro *),
               "the registry's fields sit together after ctx");

static struct gp__coro *alloc_coro(struct gp__sched *s)
{
  struct gp__coro *co = s->free;
  if (co) {
    s->free = co->free_next;
    s->nfree--;
    memset(&co->ctx, 0, sizeof(co->ctx));
    memset(&co->sched, 0, sizeof(*co) - offsetof(struct gp__coro, sched));
  } else {
    co = gp__calloc(1, sizeof(*co));
    if (co)
      reg_add(co);
  }
  if (co)
    gp__coro_init_struct(s, co);
  return co;
}

/* Structs a scheduler keeps for reuse. They stay in the registry, whose
 * lookups walk them too: past a peak of threads, the rest are freed. */
#define POOL_MAX 1024

/* Back to the calling thread's pool (the struct may have come from
 * another's: pools only hold memory). */
static void pool_coro(struct gp__coro *co)
{
  struct gp__sched *s = gp__tls.sched;
  if (co->local != NULL && gp__coro_local_free_hook)
    gp__coro_local_free_hook(co->local);
  co->local = NULL;
  if (s == NULL || s->nfree >= POOL_MAX) {
    reg_del(co);
    gp__free(co);
    return;
  }
  co->free_next = s->free;
  s->free = co;
  s->nfree++;
}

/* A coroutine another thread posted to (a pthread_cancel of it just
 * before it ended, say) may still be in that scheduler's inbox: it cannot
 * be reused until that hub has taken it from there, so that hub frees it
 * (gp__coro_free_posted). Setting a bit also keeps any later post from
 * queueing it again. */
static void free_coro(struct gp__coro *co)
{
  int posted;

  __atomic_store_n(&co->magic, 0, __ATOMIC_RELEASE);
  if (gp__mt_plain_begin()) { /* no other thread can post it (mt.h) */
    posted = gp__mt_plain_or(&co->posted, GP__POST_FREE);
    gp__mt_plain_end();
  } else {
    posted = __atomic_fetch_or(&co->posted, GP__POST_FREE, __ATOMIC_ACQ_REL);
  }
  if (posted != 0)
    return;
  pool_coro(co);
}

void gp__coro_free_posted(struct gp__coro *co)
{
  pool_coro(co);
}

static void coro_entry(void *arg)
{
  struct gp__coro *co = arg;
  void *ret = (void *)-1; /* GP_CANCELED */

  errno = 0; /* a new thread's, not the one that switched here */
  gp__sched_started(co->sched);
  co->started = 1;
  co->home_tid = co->sched->tid;
  if (co->tp)
    gp__tp_started();
  if (!__atomic_load_n(&co->canceled, __ATOMIC_ACQUIRE))
    ret = co->fn(co->arg);
  else
    __atomic_store_n(&co->cancel_pending, 0, __ATOMIC_RELAXED);
  gp__coro_exit(ret);
}

int gp__coro_spawn(struct gp__coro **out, void *(*fn)(void *), void *arg,
                   const struct gp__spawn_opts *opts)
{
  struct gp__sched *s = gp__sched_get(), *to;
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
#ifdef GP__TSAN
  co->tsan_fiber = __tsan_create_fiber(0);
#endif
  co->stack = st;
  if ((err = gp__tp_alloc(s, co)) < 0)
    goto fail_stack;
  co->fn = fn;
  co->arg = arg;
  co->id = new_id(s);
  co->detached = (opts && opts->detached) || out == NULL;
  if (opts && opts->name)
    strncpy(co->name, opts->name, sizeof(co->name) - 1);
  if (opts)
    co->local = opts->local;
  __atomic_store_n(&co->magic, GP__CORO_MAGIC, __ATOMIC_RELEASE);
  live_add(1);
  if (out)
    *out = co; /* before it can run: it may look at its own handle */
  to = opts && opts->place ? gp__sched_place() : s;
  if (gp__config.cores > 1) /* placement's figure; one scheduler has none */
    __atomic_fetch_add(&to->load, 1, __ATOMIC_RELAXED);
  if (to == s) {
    co->sched = s;
    gp__list_push_back(&s->all, &co->all_link);
    s->nlive++;
    gp__sched_make_ready(s, co);
  } else {
    co->sched = to;
    co->state = GP__READY;
    gp__sched_spawn_remote(to, co);
  }
  return 0;

fail_stack:
  gp__stack_put(st);
fail_coro:
  free_coro(co);
  return err;
}

void gp__coro_release(struct gp__sched *s, struct gp__coro *co)
{
  struct gp__stack *st = co->stack;
  struct gp__wait *joiners;
  int detached;

  co->stack = NULL;
  gp__tls_release(s, co);
  gp__tp_release(s, co);
#ifdef GP__VALGRIND
  VALGRIND_STACK_DEREGISTER(co->vg_stack_id);
#endif
#ifdef GP__TSAN
  __tsan_destroy_fiber(co->tsan_fiber);
  co->tsan_fiber = NULL;
#endif
#ifdef GP__ASAN
  /* The frames of the exit path never returned, so their redzones are
   * still poisoned: the stack's next coroutine must not inherit them
   * (uninstrumented code, libuv's included, would trip over them). */
  __asan_unpoison_memory_region(st->lo, st->size);
#endif
  gp__stack_put(st);
  gp__list_remove(&co->all_link);
  gp__lock(&co->lock);
  co->released = 1;
  detached = co->detached;
  joiners = gp__waitq_take_locked(&co->joiners, SIZE_MAX);
  gp__unlock(&co->lock);
  gp__wake_list(joiners, 0);
  if (detached)
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
  if (co->cancel_async)
    gp__preempt_cancel_clear(co);
  co->state = GP__DEAD;
  s->nlive--;
  if (gp__config.cores > 1)
    __atomic_fetch_sub(&s->load, 1, __ATOMIC_RELAXED);
  /* seq_cst, with gp__wait_others's store and load: one of the two sees
   * the other's (plain only while that waiter is this thread, mt.h) */
  live_add(-1);
  if (__atomic_load_n(&gp__live_waited, __ATOMIC_SEQ_CST))
    gp__addr_wake(&gp__live, SIZE_MAX);
  gp__sched_leave_dead(s);
}

int gp__coro_wait_dead(struct gp__coro *co, uint64_t deadline)
{
  struct gp__sched *s = gp__sched_get();
  int r;

  if (s && co == s->current)
    return -EDEADLK;
  gp__lock(&co->lock);
  if (co->detached) {
    gp__unlock(&co->lock);
    return -EINVAL;
  }
  while (!co->released) {
    r = gp__waitq_wait_locked(&co->joiners, deadline, "join", co);
    if (r < 0)
      return r;
    gp__lock(&co->lock);
  }
  gp__unlock(&co->lock);
  return 0;
}

void *gp__coro_reap(struct gp__coro *co)
{
  void *ret = co->retval;
  GP__ASSERT(co->released);
  free_coro(co);
  return ret;
}

int gp__coro_join(struct gp__coro *co, void **retval, uint64_t deadline)
{
  struct gp__sched *s = gp__sched_get();
  int r;

  /* pthread_join's order: detached, then self, then already joined. */
  gp__lock(&co->lock);
  if (co->detached) {
    gp__unlock(&co->lock);
    return -EINVAL;
  }
  if (s && co == s->current) {
    gp__unlock(&co->lock);
    return -EDEADLK;
  }
  if (co->joining) {
    gp__unlock(&co->lock);
    return -EINVAL;
  }
  co->joining = 1;
  /* as gp__coro_wait_dead, under the lock taken once */
  while (!co->released) {
    r = gp__waitq_wait_locked(&co->joiners, deadline, "join", co);
    /* Only its release ends the wait with 0, after setting released: the
     * struct is the joiner's alone now (joining goes with it). */
    if (r == 0 && co->released)
      goto reap;
    gp__lock(&co->lock);
    if (r < 0) {
      co->joining = 0;
      gp__unlock(&co->lock);
      return r;
    }
  }
  co->joining = 0;
  gp__unlock(&co->lock);
reap:;
  void *value = gp__coro_reap(co);
  if (retval)
    *retval = value;
  return 0;
}

int gp__coro_detach(struct gp__coro *co)
{
  int gone;

  gp__lock(&co->lock);
  if (co->detached) {
    gp__unlock(&co->lock);
    return -EINVAL;
  }
  co->detached = 1;
  gone = co->released;
  gp__unlock(&co->lock);
  if (gone)
    free_coro(co);
  return 0;
}

/* In the child of fork(): the coroutines joining the one that goes on are
 * gone with their threads; its exit must not wake them. Every handle but
 * its own and its thread's is stale. */
void gp__coro_fork_child(struct gp__coro *self)
{
  int listed = 0;

  /* The structs stay entered (the pools they wait in are still there):
   * only their handles end. */
  for (size_t i = 0; i < NREG; i++) {
    gp__lock_reset(&reg[i].lock);
    for (struct gp__coro *c = reg[i].head; c; c = c->reg_next)
      if (c == self)
        listed = 1;
      else
        c->magic = 0;
  }
  if (self == NULL)
    return;
  gp__lock_reset(&self->lock);
  gp__waitq_init_shared(&self->joiners, &self->lock);
  self->joining = 0;
  if (self->magic == GP__CORO_MAGIC && !listed)
    reg_add(self);
  gp__live = 1;
}

void gp__coro_register_main(struct gp__coro *co)
{
  reg_add(co);
  live_add(1);
}

int gp__coro_is_main(const struct gp__coro *co)
{
  return co == co->sched->main;
}

pid_t gp__coro_elsewhere(const struct gp__coro *co)
{
  struct gp__sched *s = __atomic_load_n(&co->sched, __ATOMIC_ACQUIRE);
  return s == gp__tls.sched ? 0 : s->tid;
}

pid_t gp__coro_tid(const struct gp__coro *co)
{
  return __atomic_load_n(&co->sched, __ATOMIC_ACQUIRE)->tid;
}

int gp__coro_finished(const struct gp__coro *co)
{
  return co->state == GP__DEAD;
}

int gp__coro_detached(const struct gp__coro *co)
{
  return co->detached;
}

uint64_t gp__coro_id(const struct gp__coro *co)
{
  return co->id;
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
