/* init.c: which threads the shim patches, and how the families end a wait
 * that failed. The process's main thread is the application's; so are
 * threads the application creates through the thread shim. Everything else
 * — libuv's threadpool, the blocking monitor, threads made before the
 * library loaded — passes straight through. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <unistd.h>

/* Set by this library's constructor. */
static int constructed;

int gp__shim_adopt(unsigned family)
{
  if (gp__tls.foreign)
    return 0;
  gp__runtime_init(); /* the real functions, even to pass through */
  /* Before this library's constructor, a call of the thread family does
   * not start the runtime: allocators make such calls from inside their
   * own locks (tcmalloc's first allocation, made by libstdc++'s
   * constructor, calls pthread_once under a spinlock), and the set-up,
   * which allocates, would wait on that lock for ever. With no coroutine
   * yet, the real call is exact. */
  if (family == GP__PATCH_THREAD &&
      !__atomic_load_n(&constructed, __ATOMIC_ACQUIRE))
    return 0;
  if (!gp__tls.app && gettid() != getpid()) {
    gp__tls.foreign = 1;
    return 0;
  }
  if ((gp__config.patch & family) == 0)
    return 0;
  return gp__sched_get() != NULL;
}

/* Starts the runtime on the main thread from a place where this thread
 * holds no lock: the constructor, called by the dynamic linker. Started
 * later, at the program's first patched call, the set-up could run inside
 * an allocator that took its lock before calling a pthread function. */
__attribute__((constructor)) static void shim_init(void)
{
  __atomic_store_n(&constructed, 1, __ATOMIC_RELEASE);
  gp__shim_adopt(GP__PATCH_ALL);
}

/* At exit, once the program's own destructors have run (ours run after
 * theirs, and before those of the libraries it links, libuv's among
 * them). Calls go on being patched after it: a library's destructor that
 * joins a thread it made (libuv's ends its threadpool so) holds the
 * runtime's handle, which glibc's join took for its own and crashed on;
 * the locks it shares with real threads work with both. */
__attribute__((destructor)) static void shim_fini(void)
{
  gp__stdio_exit(); /* glibc's exit-time flush sees the shim's streams */
}

#define RETRY_FIRST_NS 1000000
#define RETRY_MAX_NS   16000000

long gp__shim_retry(long (*again)(void *arg), void *arg, int busy,
                    uint64_t deadline, int flags, int timeout_errno)
{
  uint64_t pause = RETRY_FIRST_NS;

  if (flags & GP__RETRY_CANCEL)
    gp__thread_cancel_point(); /* as glibc's, before the call */
  for (;;) {
    long r = again(arg);
    uint64_t now, until;
    int w;
    if (r >= 0 || errno != busy)
      return r;
    now = gp__now();
    if (now >= deadline) {
      errno = timeout_errno;
      return -1;
    }
    until = deadline - now < pause ? deadline : now + pause;
    w = gp__sleep_until(until, 1);
    if (w == -ECANCELED && !(flags & GP__RETRY_CANCEL))
      w = 0; /* a pthread_cancel waits for the next cancellation point */
    if (w == -EINTR && !(flags & GP__RETRY_RESTARTS)) {
      errno = EINTR; /* never restarted, SA_RESTART or not */
      return -1;
    }
    if (w < 0 && !gp__shim_wait_failed(w, 0, timeout_errno))
      return -1;
    if (pause < RETRY_MAX_NS)
      pause *= 2;
  }
}

int gp__shim_wait_failed(int w, uint64_t timeo, int timeout_errno)
{
  switch (w) {
  case -EINTR:
    if (timeo == 0 && gp__signal_restarts())
      return 1;
    errno = EINTR;
    return 0;
  case -ECANCELED:
    gp__thread_cancel_point(); /* pthread_cancel: the thread ends here */
    errno = EINTR;             /* gp_kill: the call is interrupted */
    return 0;
  case -ETIMEDOUT:
    errno = timeout_errno; /* the call's own timeout */
    return 0;
  case -GP__EXPIRED:
    errno = ETIMEDOUT; /* a gp_timeout block */
    return 0;
  default:
    errno = -w;
    return 0;
  }
}
