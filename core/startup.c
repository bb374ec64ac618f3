/* startup.c: process-wide set-up.
 *
 * While the runtime sets itself up on a thread, that thread counts as
 * running the runtime (gp__tls.depth, the per-thread re-entry guard, as
 * libfaketime keeps one): set-up allocates, and an allocator such as
 * jemalloc or tcmalloc takes pthread mutexes, which are ours. Every
 * interposer tests the guard first, so such calls go straight to libc
 * instead of starting the set-up again from inside itself. */
#define _GNU_SOURCE
#include "../arch/arch.h"
#include "common.h"
#include "config.h"
#include "real.h"
#include "scheduler.h"

void gp__runtime_init(void)
{
  static int done;
  if (__atomic_load_n(&done, __ATOMIC_ACQUIRE))
    return;
  GP__RUNTIME_ENTER();
  gp__real_init();
  gp__config_init();
  gp__ctx_init(gp__config.use_ucontext);
  GP__RUNTIME_LEAVE();
  __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
}
