/* startup.c: process-wide set-up, and the notice when the runtime cannot
 * start.
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
#include "msg.h"
#include "real.h"
#include "scheduler.h"
#include "startup.h"

#include <string.h>
#include <unistd.h>

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

/* The line of gp__startup_failed and gp__startup_worker_failed, once per
 * process: how the step failed, then the consequence (tail). */
static void say_failed(const char *what, int err, int worker)
{
  static int said;
  struct gp__msg m = {.len = 0};
  const char *name = strerrorname_np(-err), *desc = strerrordesc_np(-err);
  pid_t tid = gettid();

  if (__atomic_exchange_n(&said, 1, __ATOMIC_ACQ_REL))
    return;
  gp__msg_put(&m, worker ? "gpatch: cannot start a scheduler of "
                           "GPATCH_CORES: "
                         : "gpatch: cannot start the runtime: ");
  gp__msg_put(&m, what);
  gp__msg_put(&m, " failed (");
  gp__msg_put(&m, name ? name : "error");
  gp__msg_put(&m, ": ");
  gp__msg_put(&m, desc ? desc : "unknown error");
  if (worker) {
    gp__msg_put(&m, "); the program runs on the schedulers that started");
  } else if (tid == getpid()) {
    gp__msg_put(&m, "); the program runs unpatched");
  } else {
    gp__msg_put(&m, "); thread ");
    gp__msg_num(&m, (unsigned long)tid);
    gp__msg_put(&m, " runs unpatched");
  }
  gp__msg_send(&m);
}

void gp__startup_failed(const char *what, int err)
{
  say_failed(what, err, 0);
}

void gp__startup_worker_failed(const char *what, int err)
{
  say_failed(what, err, 1);
}
