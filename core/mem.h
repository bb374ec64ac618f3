/* mem.h: the runtime's own memory comes from glibc's allocator, by the
 * names glibc keeps for it, whatever malloc the program brings (jemalloc,
 * tcmalloc, one of its own). A program's allocator takes the program's
 * mutexes, which a coroutine may hold while it is not running; the hub
 * allocating through it (a coroutine's TLS copy, a freed coroutine, a
 * scheduler made) would then wait in the kernel for a coroutine only it
 * can run. glibc's allocator takes only its own internal locks, which no
 * coroutine holds across a switch. Memory from here is freed here, never
 * by the program's free. */
#ifndef GP_MEM_H
#define GP_MEM_H

#include <stddef.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static inline void *gp__malloc(size_t n)
{
  return __libc_malloc(n);
}

static inline void *gp__calloc(size_t n, size_t size)
{
  return __libc_calloc(n, size);
}

static inline void *gp__realloc(void *p, size_t n)
{
  return __libc_realloc(p, n);
}

static inline void gp__free(void *p)
{
  __libc_free(p);
}

/* Before libuv's first allocation: libuv's memory from here too, when the
 * program's malloc is not glibc's and the libuv the runtime calls is its
 * own (not a copy the program carries and exports, as node does, whose
 * memory the program's code may free). */
void gp__mem_uv_setup(void);

#endif /* GP_MEM_H */
