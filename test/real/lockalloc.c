/* lockalloc: a malloc that takes a pthread mutex around glibc's, preloaded
 * after libgpatch by test/real/allocators.sh, for the case where the
 * runtime's own start calls back into the allocator while it resolves the
 * real libc functions. Its constructor, which runs before libgpatch's,
 * leaves a dlerror string behind (a failed dlsym); the next dlsym frees
 * it, so the first dlsym of libgpatch's resolution calls free, which
 * takes the mutex, whose interposer is libgpatch's: a call back into a
 * runtime that is still resolving its table, on the same thread. Before
 * the re-entry guard that call waited for the resolution to finish, for
 * ever. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int locking; /* set once the constructor has left its dlerror */

void *malloc(size_t n)
{
  void *p;
  if (!locking)
    return __libc_malloc(n);
  pthread_mutex_lock(&lock);
  p = __libc_malloc(n);
  pthread_mutex_unlock(&lock);
  return p;
}

void *calloc(size_t n, size_t size)
{
  void *p;
  if (!locking)
    return __libc_calloc(n, size);
  pthread_mutex_lock(&lock);
  p = __libc_calloc(n, size);
  pthread_mutex_unlock(&lock);
  return p;
}

void *realloc(void *old, size_t n)
{
  void *p;
  if (!locking)
    return __libc_realloc(old, n);
  pthread_mutex_lock(&lock);
  p = __libc_realloc(old, n);
  pthread_mutex_unlock(&lock);
  return p;
}

void free(void *p)
{
  if (!locking) {
    __libc_free(p);
    return;
  }
  pthread_mutex_lock(&lock);
  __libc_free(p);
  pthread_mutex_unlock(&lock);
}

__attribute__((constructor)) static void ctor(void)
{
  static const char msg[] = "lockalloc: a dlsym that should fail found it\n";
  if (dlsym(RTLD_DEFAULT, "gp_lockalloc_no_such_symbol") != NULL &&
      write(2, msg, sizeof(msg) - 1) < 0)
    return;
  locking = 1;
  free(malloc(1));
}
