/* d_futex: futex(2) through syscall(3), as libstdc++ (std::future,
 * std::atomic::wait) and other runtimes use it for their own locks: a
 * wait woken by another thread's FUTEX_WAKE (private and not), the count a
 * wake returns, EAGAIN when the value differs, ETIMEDOUT for a relative
 * FUTEX_WAIT timeout and an absolute FUTEX_WAIT_BITSET one, a wait ended
 * by another process (shared memory, its own FUTEX_WAKE), the kernel's
 * errors (EFAULT, EINVAL for an empty bitset), and two threads handing a
 * word back and forth 20000 times, as std::counting_semaphore does: every
 * wait returns 0 or EAGAIN (on several schedulers a wake that reached the
 * runtime's look in the kernel made the wait fail with errno 0, and
 * libstdc++ threw std::system_error "Success"). */
#include "compat.h"

#include <linux/futex.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static uint32_t word, word2;
static uint32_t *shared;

static long futex(uint32_t *a, int op, uint32_t val, const struct timespec *ts,
                  uint32_t bitset)
{
  return syscall(SYS_futex, a, op, val, ts, NULL, bitset);
}

static const char *res(long r)
{
  return r >= 0 ? "ok" : strerrorname_np(errno);
}

/* After 30 ms, sets the word to 1 and wakes up to *arg waiters: returns
 * how many the wake reported. */
static void *waker(void *arg)
{
  int n = *(int *)arg;
  sleep_ms(30);
  check_threads(1);
  __atomic_store_n(&word, 1, __ATOMIC_RELEASE);
  return (void *)(intptr_t)futex(&word, FUTEX_WAKE_PRIVATE, (uint32_t)n, NULL,
                                 0);
}

static void *waiter(void *arg)
{
  (void)arg;
  while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == 0)
    futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, 0);
  return NULL;
}

/* Hands pong back and forth with the other side: waits while it is
 * mine (0 or 1), then gives it over and wakes. Returns how many waits
 * failed otherwise than with EAGAIN or EINTR. */
static uint32_t pong;
#define HANDS 20000
static void *hand(void *arg)
{
  uint32_t mine = (uint32_t)(uintptr_t)arg;
  intptr_t odd = 0;
  for (int i = 0; i < HANDS; i++) {
    while (__atomic_load_n(&pong, __ATOMIC_ACQUIRE) == mine) {
      errno = 0;
      if (futex(&pong, FUTEX_WAIT_PRIVATE, mine, NULL, 0) != 0 &&
          errno != EAGAIN && errno != EINTR)
        odd++;
    }
    __atomic_store_n(&pong, mine, __ATOMIC_RELEASE);
    futex(&pong, FUTEX_WAKE_PRIVATE, 1, NULL, 0);
  }
  return (void *)odd;
}

int main(void)
{
  struct timespec rel = {0, 40000000}, abs;
  struct task t, w1, w2;
  int n = 1;
  double t0;
  long r;
  void *ret;
  pid_t pid;

  setvbuf(stdout, NULL, _IOLBF, 0);
  spawn(&t, waker, &n);
  r = futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, 0);
  SAY("wait, woken by a thread: %s, word %u\n", res(r), word);
  ret = join(&t);
  SAY("the wake woke %ld\n", (long)(intptr_t)ret);

  word = 0;
  n = 5;
  spawn(&w1, waiter, NULL);
  spawn(&w2, waiter, NULL);
  spawn(&t, waker, &n);
  ret = join(&t);
  SAY("a wake of up to 5 with two waiting woke %ld\n", (long)(intptr_t)ret);
  EXPECT("waiter 1", join(&w1) == NULL);
  EXPECT("waiter 2", join(&w2) == NULL);

  SAY("wait on a changed value: %s\n",
      res(futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL, 0)));
  t0 = now_ms();
  r = futex(&word2, FUTEX_WAIT, 0, &rel, 0);
  SAY("relative 40 ms timeout: %s\n", res(r));
  EXPECT("waited 40 ms", now_ms() - t0 >= 39.5);
  spawn(&t, waker, &n); /* a thread is alive meanwhile */
  abs_in(&abs, CLOCK_REALTIME, 20);
  r = futex(&word2, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &abs,
            FUTEX_BITSET_MATCH_ANY);
  SAY("absolute realtime timeout: %s\n", res(r));
  EXPECT("reached its deadline", reached(CLOCK_REALTIME, &abs));
  join(&t);

  shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                -1, 0);
  pid = fork();
  if (pid == 0) {
    sleep_ms(30);
    __atomic_store_n(shared, 1, __ATOMIC_RELEASE);
    syscall(SYS_futex, shared, FUTEX_WAKE, 1, NULL, NULL, 0);
    _exit(0);
  }
  spawn(&t, waker, &n); /* a thread is alive meanwhile */
  while (__atomic_load_n(shared, __ATOMIC_ACQUIRE) == 0)
    r = futex(shared, FUTEX_WAIT, 0, NULL, 0);
  SAY("shared wait ended by another process: value %u\n", *shared);
  waitpid(pid, NULL, 0);
  join(&t);

  SAY("bad address: %s\n",
      res(futex((uint32_t *)8, FUTEX_WAIT_PRIVATE, 0, NULL, 0)));
  SAY("empty bitset: %s\n",
      res(futex(&word2, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, 0)));
  SAY("wake with nobody waiting: %ld\n",
      futex(&word2, FUTEX_WAKE_PRIVATE, 1, NULL, 0));

  {
    /* pthreads, placed on any scheduler (spawn's stay on this one). */
    pthread_t h1, h2;
    void *odd1, *odd2;
    pthread_create(&h1, NULL, hand, (void *)(uintptr_t)1);
    pthread_create(&h2, NULL, hand, (void *)(uintptr_t)0);
    pthread_join(h1, &odd1);
    pthread_join(h2, &odd2);
    SAY("%d hand-overs each way: waits that failed otherwise: %ld\n", HANDS,
        (long)((intptr_t)odd1 + (intptr_t)odd2));
  }
  return compat_failures != 0;
}
