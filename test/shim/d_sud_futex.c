/* d_sud_futex: a futex waited on and woken with syscall instructions of the
 * program's own (as Go-style runtimes and some lock libraries make them),
 * which no preload sees. With GPATCH_SUD=on (the program sets it and runs
 * itself again) the runtime routes them: patched on one OS thread, the
 * waiter parks only its thread, and the waker, which runs after it, wakes
 * it. */
#include "compat.h"

#include <linux/futex.h>
#include <sys/syscall.h>

/* A system call made here, not through libc. */
static long raw6(long nr, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
  long r;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(r)
                   : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return r;
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = nr;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  return x0;
#else
  return syscall(nr, a, b, c, d, e, f);
#endif
}

static uint32_t word;
static long woke;

static void *waker(void *arg)
{
  sleep_ms(30);
  __atomic_store_n(&word, 1, __ATOMIC_RELEASE);
  woke = raw6(SYS_futex, (long)&word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
  return arg;
}

int main(int argc, char **argv)
{
  pthread_t t;
  long r;

  (void)argc;
  if (getenv("GPATCH_SUD") == NULL) {
    return rerun_with("GPATCH_SUD", "on", argv);
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_create(&t, NULL, waker, NULL);
  do
    r = raw6(SYS_futex, (long)&word, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
  while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == 0 &&
         (r == 0 || r == -EAGAIN || r == -EINTR));
  pthread_join(t, NULL);
  SAY("woken: word %u, the wake woke %s\n", word,
      woke <= 1 ? "at most one" : "more");
  /* A wait that does not wait: the word is not the value. */
  r = raw6(SYS_futex, (long)&word, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
  SAY("wait on a changed word: %s\n", r == -EAGAIN ? "EAGAIN" : "other");
  /* A bad address fails with EFAULT. */
  r = raw6(SYS_futex, 8, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
  SAY("bad address: %s\n", r == -EFAULT ? "EFAULT" : "other");
  return 0;
}
