/* d_thread_tls_own: each thread's TLS at an address of its own, which
 * other threads may use (GPATCH_TLS=thread; the patched run re-executes
 * itself with it when it is not set).
 *
 * - a futex word in one thread's __thread variable, set and woken by
 *   another thread (MariaDB's InnoDB waits so), once and then 2000 times
 *   back and forth between two threads;
 * - libc's per-thread state stays per thread across waits: the locale set
 *   with uselocale (shared by the coroutines of an OS thread with copies),
 *   errno;
 * - threads that allocate and end do not leave memory behind: 20000 of
 *   them, each with a few malloc/free, grow the peak RSS by less than
 *   16 MiB (glibc's per-thread malloc cache, lost with each coroutine,
 *   grew it by 66 MiB). */
#include "compat.h"

#include <linux/futex.h>
#include <locale.h>
#include <semaphore.h>
#include <sys/resource.h>
#include <sys/syscall.h>

static __thread uint32_t word;
static __thread int marker = 42;
static uint32_t *volatile published[2];
static char said[2][128]; /* what each thread found, printed by main */

static long futex(uint32_t *w, int op, uint32_t val, long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  return syscall(SYS_futex, w, op, val, ms >= 0 ? &ts : NULL, NULL, 0);
}

/* Waits until *w is not 0 (at most 10 s); returns its value, or 0. */
static uint32_t wait_set(uint32_t *w)
{
  for (int i = 0; i < 100; i++) {
    uint32_t v = __atomic_load_n(w, __ATOMIC_ACQUIRE);
    if (v != 0)
      return v;
    futex(w, FUTEX_WAIT_PRIVATE, 0, 100);
  }
  return __atomic_load_n(w, __ATOMIC_ACQUIRE);
}

static void set_wake(uint32_t *w, uint32_t v)
{
  __atomic_store_n(w, v, __ATOMIC_RELEASE);
  futex(w, FUTEX_WAKE_PRIVATE, 1, -1);
}

static uint32_t *await_published(int i)
{
  uint32_t *p;
  while ((p = __atomic_load_n(&published[i], __ATOMIC_ACQUIRE)) == NULL)
    sleep_ms(1);
  return p;
}

/* ---- one handoff ---- */

static void *waiter(void *arg)
{
  (void)arg;
  word = 0;
  __atomic_store_n(&published[0], &word, __ATOMIC_RELEASE);
  snprintf(said[0], sizeof(said[0]),
           "waiter: woken through its own word, value %u, marker %d",
           wait_set(&word), marker);
  return NULL;
}

static void *waker(void *arg)
{
  uint32_t *p = await_published(0);
  (void)arg;
  word = 5; /* its own, not the waiter's */
  sleep_ms(20);
  set_wake(p, 1);
  snprintf(said[1], sizeof(said[1]),
           "waker: its own word is another (%d) and kept %u", p != &word, word);
  return NULL;
}

/* ---- back and forth ---- */

#define ROUNDS 2000

static void *player(void *arg)
{
  int me = (int)(intptr_t)arg, got = 0;
  uint32_t *other;

  word = 0;
  __atomic_store_n(&published[me], &word, __ATOMIC_RELEASE);
  other = await_published(!me);
  if (me == 0)
    set_wake(other, 1);
  for (uint32_t i = 1; i <= ROUNDS; i++) {
    uint32_t v = wait_set(&word);
    if (v == 0)
      break;
    __atomic_store_n(&word, 0, __ATOMIC_RELAXED);
    got++;
    if (me == 1 || i < ROUNDS)
      set_wake(other, 1);
  }
  snprintf(said[me], sizeof(said[me]), "player %d: woken %d times of %d", me,
           got, ROUNDS);
  return NULL;
}

/* ---- libc's per-thread state ---- */

static sem_t turn[2];

/* Thread 1 sets its locale (UTF-8) and errno, then waits while thread 0
 * looks at its own (the C locale) and sets its errno; then thread 1 looks
 * at its own again. */
static void *localized(void *arg)
{
  int me = (int)(intptr_t)arg;
  locale_t utf8 = me ? newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0) : 0;
  size_t before, after;
  int err;

  if (me) {
    uselocale(utf8);
    close(-1); /* errno EBADF */
    err = errno;
    before = MB_CUR_MAX;
    sem_post(&turn[0]);
    sem_wait(&turn[1]);
  } else {
    sem_wait(&turn[0]);
    errno = ENOENT;
    err = errno;
    before = MB_CUR_MAX;
    sleep_ms(10); /* thread 1 may run meanwhile: it is waiting */
  }
  after = MB_CUR_MAX;
  snprintf(said[me], sizeof(said[me]),
           "thread %d: MB_CUR_MAX %zu then %zu, errno %s kept %d", me, before,
           after, me ? "EBADF" : "ENOENT", errno == err);
  if (me) {
    uselocale(LC_GLOBAL_LOCALE);
    freelocale(utf8);
  } else {
    sem_post(&turn[1]);
  }
  return NULL;
}

/* ---- many threads that allocate ---- */

static void *allocate(void *arg)
{
  void *p[16];
  for (int i = 0; i < 16; i++)
    p[i] = malloc(32 + 16 * (size_t)i);
  for (int i = 0; i < 16; i++)
    free(p[i]);
  return arg;
}

static long peak_kib(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* Runs fn in two threads (argument 0 and 1) and prints what they found. */
static void pair(void *(*fn)(void *), void *(*fn1)(void *))
{
  pthread_t t[2];
  published[0] = published[1] = NULL;
  for (long i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, i ? fn1 : fn, (void *)i);
  for (int i = 0; i < 2; i++) {
    pthread_join(t[i], NULL);
    SAY("%s\n", said[i]);
  }
}

int main(int argc, char **argv)
{
  pthread_t t;
  long before;

  (void)argc;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (patched() && getenv("GPATCH_TLS") == NULL) {
    return rerun_with("GPATCH_TLS", "thread", argv);
  }

  pair(waiter, waker);
  pair(player, player);
  sem_init(&turn[0], 0, 0);
  sem_init(&turn[1], 0, 0);
  pair(localized, localized);

  before = peak_kib();
  for (int i = 0; i < 20000; i++) {
    pthread_create(&t, NULL, allocate, NULL);
    pthread_join(t, NULL);
  }
  SAY("20000 threads that allocate: peak RSS grew under 16 MiB: %d\n",
      peak_kib() - before < 16 * 1024);
  SAY("main: marker %d, MB_CUR_MAX %zu\n", marker, MB_CUR_MAX);
  return 0;
}
