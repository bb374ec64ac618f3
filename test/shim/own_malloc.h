/* own_malloc.h: a program's own allocator, linked into it, for the tests
 * of programs that carry their malloc (rustc carries jemalloc): bump
 * allocation from one mapping, under a spin lock; a block's size sits in
 * the 16 bytes before it; free keeps nothing. The including test defines
 * own_malloc_enter() and own_malloc_leave(), which every allocation calls
 * first and last (empty, or to watch what the allocator is asked). */
#ifndef GP_TEST_OWN_MALLOC_H
#define GP_TEST_OWN_MALLOC_H

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

static char *arena;
static size_t used;
static int arena_lock;
#define ARENA (256u << 20)

static void *bump(size_t n, size_t align)
{
  char *p = NULL;
  size_t at;

  if (align < 16)
    align = 16;
  if (n > ARENA)
    return NULL;
  own_malloc_enter();
  while (__atomic_exchange_n(&arena_lock, 1, __ATOMIC_ACQUIRE))
    ;
  if (arena == NULL) {
    void *m = mmap(NULL, ARENA, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    arena = m == MAP_FAILED ? NULL : m;
  }
  if (arena != NULL) {
    at = (used + 16 + align - 1) & ~(align - 1);
    if (at + n <= ARENA) {
      p = arena + at;
      ((size_t *)p)[-1] = n;
      used = at + n;
    }
  }
  __atomic_store_n(&arena_lock, 0, __ATOMIC_RELEASE);
  own_malloc_leave();
  if (p == NULL)
    errno = ENOMEM;
  return p;
}

void *malloc(size_t n)
{
  return bump(n, 16);
}

void free(void *p)
{
  (void)p;
}

void *calloc(size_t a, size_t b)
{
  if (b != 0 && a > (size_t)-1 / b) {
    errno = ENOMEM;
    return NULL;
  }
  return bump(a * b, 16); /* fresh mapping: already zero */
}

size_t malloc_usable_size(void *p)
{
  return p ? ((size_t *)p)[-1] : 0;
}

void *realloc(void *p, size_t n)
{
  void *q = bump(n, 16);
  size_t old = malloc_usable_size(p);
  if (q && p)
    memcpy(q, p, old < n ? old : n);
  return q;
}

int posix_memalign(void **out, size_t align, size_t n)
{
  void *p = bump(n, align);
  if (p == NULL)
    return ENOMEM;
  *out = p;
  return 0;
}

void *aligned_alloc(size_t align, size_t n)
{
  return bump(n, align);
}

void *memalign(size_t align, size_t n)
{
  return bump(n, align);
}

void *valloc(size_t n)
{
  return bump(n, 4096);
}

void *pvalloc(size_t n)
{
  return bump((n + 4095) & ~(size_t)4095, 4096);
}

#endif
