/* mem.c: libuv's memory from glibc's allocator too, when that is safe. */
#define _GNU_SOURCE
#include "mem.h"

#include <dlfcn.h>
#include <uv.h>

void gp__mem_uv_setup(void)
{
  void *h, *ours, *global;

  if (dlsym(RTLD_DEFAULT, "malloc") == (void *)__libc_malloc)
    return; /* the program's malloc is glibc's already */
  h = dlopen("libuv.so.1", RTLD_LAZY | RTLD_NOLOAD);
  ours = h ? dlsym(h, "uv_replace_allocator") : NULL;
  global = dlsym(RTLD_DEFAULT, "uv_replace_allocator");
  if (h)
    dlclose(h);
  if (ours != NULL && ours == global)
    uv_replace_allocator(__libc_malloc, __libc_realloc, __libc_calloc,
                         __libc_free);
}
