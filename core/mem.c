/* mem.c: libuv's memory from glibc's allocator too, when that is safe;
 * what is known of the program's allocator with several schedulers. */
#define _GNU_SOURCE
#include "mem.h"
#include "config.h"
#include "debug.h"

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

void gp__mem_cores_note(void)
{
  /* jemalloc keeps its thread cache in thread-local storage, which the
   * threads of one OS thread share as copies (README, Limitations): with
   * several schedulers it has been seen to crash (test/real/allocators.sh,
   * about 1 run in 25 of d_thread_alloc with GPATCH_CORES=4), with one it
   * has not. */
  if (gp__config.cores > 1 && dlsym(RTLD_DEFAULT, "mallctl") != NULL)
    gp__debug_out(2,
                  "gpatch: jemalloc with GPATCH_CORES=%u: known to crash "
                  "now and then (its thread cache in thread-local "
                  "storage); GPATCH_CORES=1 does not\n",
                  gp__config.cores);
}
