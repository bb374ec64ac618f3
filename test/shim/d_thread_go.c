/* d_thread_go: a program the Go linker built keeps real threads.
 *
 * Go's runtime (in a program built with cgo, which reaches libc and makes
 * its threads with pthread_create) waits on futexes and sleeps with
 * system calls of its own, not libc's: on a scheduler's OS thread such a
 * wait stops every other thread there, and goroutines hung with one or two
 * schedulers. This program carries the section the Go linker writes
 * (.note.go.buildid) and does what Go's runtime does: a thread waits on a
 * futex with its own syscall instruction until main, which runs meanwhile,
 * wakes it the same way. Patched it must run as plain, with real threads
 * (stderr says so). */
#include "compat.h"

#include <linux/futex.h>
#include <sys/syscall.h>

__attribute__((section(".note.go.buildid"), used)) static const char go_note[] =
    "not really Go";

static int word;

/* A futex call made with the syscall instruction itself, as Go's runtime
 * makes it (runtime.futex), which no preloaded library sees. */
static long raw_futex(int *addr, int op, int val)
{
#if defined(__x86_64__)
  long r;
  register long r10 __asm__("r10") = 0;
  __asm__ volatile("syscall"
                   : "=a"(r)
                   : "0"((long)SYS_futex), "D"(addr), "S"((long)op),
                     "d"((long)val), "r"(r10)
                   : "rcx", "r11", "memory");
  return r;
#else
  return syscall(SYS_futex, addr, op, val, NULL);
#endif
}

static void *waiter(void *arg)
{
  (void)arg;
  while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == 0)
    raw_futex(&word, FUTEX_WAIT_PRIVATE, 0);
  printf("waiter: woken, word %d\n", word);
  return NULL;
}

int main(void)
{
  pthread_t th;

  alarm(20);
  pthread_create(&th, NULL, waiter, NULL);
  usleep(50000); /* the waiter is in its futex wait */
  printf("main: runs while the waiter waits\n");
  fflush(stdout);
  __atomic_store_n(&word, 1, __ATOMIC_RELEASE);
  raw_futex(&word, FUTEX_WAKE_PRIVATE, 1);
  pthread_join(th, NULL);
  printf("main: joined (%zu bytes of note)\n", sizeof(go_note));
  return 0;
}
