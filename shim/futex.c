/* futex.c: futex(2) called through syscall(3), or made outside libc
 * (core/sud.h), and the other system calls the shim makes its own there.
 *
 * libstdc++ (std::future, std::atomic::wait, std::counting_semaphore) and
 * Rust's std (Mutex, Condvar, thread parking) wait on futexes of their own
 * with syscall(SYS_futex, …). A real FUTEX_WAIT would stop the OS thread,
 * and with it the coroutine that is to wake it. So while other coroutines
 * live, a wait parks on the address (the table pthread objects use, so
 * FUTEX_WAKE through here wakes it at once); a futex that is not private
 * may also be woken from another process, so its value is looked at again
 * after 1, 2, 4 … 16 ms. A wake wakes our waiters, then the kernel's. The
 * other operations, other system calls, and a lone coroutine's wait go to
 * the kernel. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

/* The kernel's answer to a wait that would not wait: EAGAIN when *addr is
 * not val, EFAULT, EINVAL (misaligned) — or -ETIMEDOUT when it would. 0
 * when a FUTEX_WAKE from another OS thread reached it in the kernel (a
 * wake passes on to the kernel what it did not find parked here): the
 * caller was woken. */
static long probe(uint32_t *addr, int op, uint32_t val)
{
  struct timespec zero = {0, 0};
  if (gp__real_syscall(SYS_futex, addr, op & FUTEX_PRIVATE_FLAG, val, &zero,
                       NULL, 0) == 0)
    return 0;
  return -errno;
}

/* The deadline of a wait: relative on CLOCK_MONOTONIC for FUTEX_WAIT,
 * absolute for FUTEX_WAIT_BITSET (CLOCK_REALTIME with its flag). Returns
 * 0, or -EINVAL for a bad timespec. */
static int deadline_of(int cmd, int op, const struct timespec *ts,
                       uint64_t *out)
{
  int64_t ns;
  if (ts == NULL) {
    *out = GP__NEVER;
    return 0;
  }
  if ((ns = gp__ts_to_ns(ts)) < 0)
    return -EINVAL;
  if (cmd != FUTEX_WAIT) /* absolute */
    ns = (int64_t)gp__ns_until(
        op & FUTEX_CLOCK_REALTIME ? CLOCK_REALTIME : CLOCK_MONOTONIC, ns);
  *out = gp__now() + (uint64_t)ns;
  return 0;
}

/* FUTEX_WAIT and FUTEX_WAIT_BITSET. Returns the syscall's result, or 1
 * when the kernel is to make the call. */
static long futex_wait(uint32_t *addr, int op, uint32_t val,
                       const struct timespec *ts, uint32_t bitset)
{
  int cmd = op & FUTEX_CMD_MASK, private = op & FUTEX_PRIVATE_FLAG;
  uint64_t deadline, pause = 1000000;
  long r;

  if (gp__sched_alone() || (cmd == FUTEX_WAIT_BITSET && bitset == 0) ||
      (cmd == FUTEX_WAIT && (op & FUTEX_CLOCK_REALTIME)) ||
      deadline_of(cmd, op, ts, &deadline) != 0)
    return 1; /* alone, or the kernel's EINVAL */
  if ((r = probe(addr, op, val)) == 0)
    return 0; /* woken already */
  if (r != -ETIMEDOUT) {
    errno = (int)-r;
    return -1; /* EAGAIN, EFAULT, EINVAL */
  }
  for (;;) {
    uint64_t until = private ? deadline : gp__now() + pause;
    int w =
        gp__addr_wait(addr, val, until < deadline ? until : deadline, "futex",
                      GP__WAIT_UNCANCELABLE | GP__WAIT_INTERRUPTIBLE);
    if (w == 0 || w == -EAGAIN)
      return 0; /* woken, or changed since it was queued: as woken */
    if (w == -EINTR && gp__signal_restarts())
      continue;
    if (w == -ETIMEDOUT && until < deadline) {
      /* Another process may have changed and woken it. */
      if (__atomic_load_n(addr, __ATOMIC_ACQUIRE) != val)
        return 0;
      pause = pause < 16000000 ? 2 * pause : pause;
      continue;
    }
    errno = w == -ETIMEDOUT ? ETIMEDOUT : EINTR;
    return -1;
  }
}

/* FUTEX_WAKE and FUTEX_WAKE_BITSET, from any thread: coroutines parked on
 * addr first, then threads in the kernel. Returns how many woke. */
static long futex_wake(uint32_t *addr, long nr, const long *a)
{
  long woken = (long)gp__addr_wake(addr, (size_t)(int)a[2]), r;

  if (woken >= (int)a[2])
    return woken;
  r = gp__real_syscall(nr, a[0], a[1], (long)((int)a[2] - woken), a[3], a[4],
                       a[5]);
  return r < 0 ? (woken > 0 ? woken : r) : woken + r;
}

/* The shim's version of system call nr with args a: a futex the runtime
 * waits on and wakes itself; io_uring_enter waiting cooperatively
 * (uring.c). Returns 1 with the result in *ret, libc-style (-1 and errno
 * on failure), or 0 when the kernel is to make the call as it is. */
/* thread: the caller must not switch coroutines (an allocator's code,
 * core/tls.c), so it waits as a thread does. */
static int emulate(long nr, const long a[6], long *ret, int thread)
{
  if (nr == SYS_rt_sigprocmask && a[1] != 0)
    gp__preempt_mask_changed(); /* thread.c's kept copy of the mask */
  if (nr == SYS_io_uring_enter)
    return gp__shim_uring_enter(a, ret);
  if (nr == SYS_futex && (gp__config.patch & GP__PATCH_THREAD)) {
    uint32_t *addr = (uint32_t *)a[0];
    int op = (int)a[1], cmd = op & FUTEX_CMD_MASK;
    long r;
    switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
      if (thread || !gp__shim_active(GP__PATCH_THREAD))
        return 0; /* a thread: the kernel's wait, which a wake reaches */
      gp__tls_check_wait(addr);
      r = futex_wait(addr, op, (uint32_t)a[2], (const struct timespec *)a[3],
                     (uint32_t)a[5]);
      if (r == 1)
        return 0;
      *ret = r;
      return 1;
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET:
      if (a[2] <= 0)
        return 0;
      *ret = futex_wake(addr, nr, a);
      return 1;
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
      /* Ours move nowhere: they wake (a spurious wake-up, which every
       * futex user allows for) and look again. */
      gp__addr_wake(addr, SIZE_MAX);
      return 0;
    }
  }
  return 0;
}

GP_EXPORT long syscall(long nr, ...)
{
  long a[6], r;
  va_list ap;

  va_start(ap, nr);
  for (int i = 0; i < 6; i++)
    a[i] = va_arg(ap, long);
  va_end(ap);
  gp__real_init();
  if (nr == SYS_seccomp &&
      (a[0] == SECCOMP_SET_MODE_STRICT || a[0] == SECCOMP_SET_MODE_FILTER)) {
    int changed = gp__shim_sandbox_enter();
    r = gp__real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    gp__shim_sandbox_leave(changed, r >= 0);
    return r;
  }
  if (emulate(nr, a, &r, gp__tls_os_thread_code(__builtin_return_address(0))))
    return r;
  return gp__real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* A system call made outside libc and routed here (core/sud.h): the same
 * as through syscall(3), its result as the kernel gives it (-errno). */
static int sud_hook(long nr, const long a[6], long *ret)
{
  int saved = errno;
  if (!emulate(nr, a, ret, 0))
    return 0;
  if (*ret == -1)
    *ret = -errno;
  errno = saved;
  return 1;
}

__attribute__((constructor)) static void futex_ctor(void)
{
  gp__sud_hook = sud_hook;
}
