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
#include "real.h"
#include "scheduler.h"
#include "startup.h"

#include <errno.h>
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

/* Appends s to buf (of size n) at *len, cutting it short when full. */
static void put(char *buf, size_t n, size_t *len, const char *s)
{
  while (*s && *len + 1 < n)
    buf[(*len)++] = *s++;
  buf[*len] = '\0';
}

/* Appends the decimal v. */
static void put_num(char *buf, size_t n, size_t *len, unsigned long v)
{
  char d[24];
  int i = sizeof(d) - 1;
  d[i] = '\0';
  do
    d[--i] = (char)('0' + v % 10);
  while ((v /= 10) != 0 && i > 0);
  put(buf, n, len, &d[i]);
}

void gp__startup_failed(const char *what, int err)
{
  static int said;
  char msg[320];
  size_t len = 0;
  const char *name = strerrorname_np(-err), *desc = strerrordesc_np(-err);
  int saved = errno;
  pid_t tid = gettid();

  if (__atomic_exchange_n(&said, 1, __ATOMIC_ACQ_REL))
    return;
  put(msg, sizeof(msg), &len, "gpatch: cannot start the runtime: ");
  put(msg, sizeof(msg), &len, what);
  put(msg, sizeof(msg), &len, " failed (");
  put(msg, sizeof(msg), &len, name ? name : "error");
  put(msg, sizeof(msg), &len, ": ");
  put(msg, sizeof(msg), &len, desc ? desc : "unknown error");
  if (tid == getpid()) {
    put(msg, sizeof(msg), &len, "); the program runs unpatched\n");
  } else {
    put(msg, sizeof(msg), &len, "); thread ");
    put_num(msg, sizeof(msg), &len, (unsigned long)tid);
    put(msg, sizeof(msg), &len, " runs unpatched\n");
  }
  if (gp__real_write)
    (void)!gp__real_write(2, msg, len);
  errno = saved;
}
