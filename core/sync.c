/* sync.c: waiting on an address, the way futexes do.
 *
 * The pthread and semaphore emulation keeps every object's state in the
 * object's own bytes, in glibc's layout, so the program's static
 * initializers and sizes stay valid. The coroutines waiting on an object are
 * kept here instead, in a table of wait queues keyed by the object's
 * address. */
#define _GNU_SOURCE
#include "runtime.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>

/* Buckets of the table; a power of two. */
#define NBUCKETS 4096

static struct gp__list buckets[NBUCKETS];

static struct gp__list *bucket(const void *addr)
{
  uintptr_t a = (uintptr_t)addr;
  struct gp__list *b = &buckets[((a >> 3) ^ (a >> 15)) & (NBUCKETS - 1)];
  if (b->next == NULL)
    gp__list_init(b);
  return b;
}

static void addr_unlink(struct gp__wait *w)
{
  gp__list_remove(&w->link);
}

int gp__addr_wait(const void *addr, uint64_t deadline, const char *what,
                  int flags)
{
  struct gp__wait w = {.unlink = addr_unlink, .fd = -1, .what = what,
                       .obj = addr,
                       .uncancelable = (flags & GP__WAIT_UNCANCELABLE) != 0,
                       .interruptible = (flags & GP__WAIT_INTERRUPTIBLE) != 0};
  gp__list_init(&w.link);
  gp__list_push_back(bucket(addr), &w.link);
  return gp__park(&w, deadline);
}

size_t gp__addr_wake(const void *addr, size_t n, int result)
{
  struct gp__list *b = bucket(addr), *l, *next;
  size_t woken = 0;

  for (l = b->next; l != b && woken < n; l = next) {
    struct gp__wait *w = GP__CONTAINER(l, struct gp__wait, link);
    next = l->next;
    if (w->obj != addr)
      continue;
    gp__list_remove(&w->link);
    gp__wake(w, result);
    woken++;
  }
  return woken;
}

int gp__addr_has_waiters(const void *addr)
{
  struct gp__list *b = bucket(addr), *l;
  for (l = b->next; l != b; l = l->next)
    if (GP__CONTAINER(l, struct gp__wait, link)->obj == addr)
      return 1;
  return 0;
}

/* In the child of fork(): every coroutine that waited on an address is gone
 * with its thread (the caller of fork was running, not waiting), so its
 * wait must not be woken by a later unlock or post. */
static void addr_atfork_child(void)
{
  for (size_t i = 0; i < NBUCKETS; i++)
    if (buckets[i].next != NULL)
      gp__list_init(&buckets[i]);
}

__attribute__((constructor)) static void addr_ctor(void)
{
  pthread_atfork(NULL, NULL, addr_atfork_child);
}
