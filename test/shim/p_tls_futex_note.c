/* p_tls_futex_note (patched only): with each coroutine's TLS a copy
 * swapped in at one address (GPATCH_TLS=copy, the default), a futex word
 * in a thread's own TLS that another thread sets cannot work as unpatched;
 * the runtime says so on stderr, once, at the first such wait. It says
 * nothing for a word in ordinary memory, nor with GPATCH_TLS=thread. The
 * program re-runs itself for each case and reads the child's stderr. */
#include "compat.h"

#include <linux/futex.h>
#include <sys/syscall.h>

static __thread uint32_t tls_word;
static uint32_t global_word;
static uint32_t *volatile published;

/* Waits on its word (TLS or not) a few times, 50 ms at most each. */
static void *waiter(void *arg)
{
  uint32_t *w = arg ? &global_word : &tls_word;
  __atomic_store_n(&published, w, __ATOMIC_RELEASE);
  for (int i = 0; i < 4 && __atomic_load_n(w, __ATOMIC_ACQUIRE) == 0; i++) {
    struct timespec ts = {0, 50000000};
    syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
  }
  return NULL;
}

static void *waker(void *arg)
{
  uint32_t *w;
  (void)arg;
  while ((w = __atomic_load_n(&published, __ATOMIC_ACQUIRE)) == NULL)
    sleep_ms(1);
  sleep_ms(20);
  __atomic_store_n(w, 1, __ATOMIC_RELEASE);
  syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  return NULL;
}

/* The child: twice (the note is said once), a waiter on its TLS word
 * ("tls") or on a global one, and a waker. */
static int child(const char *where)
{
  for (int round = 0; round < 2; round++) {
    pthread_t t[2];
    published = NULL;
    tls_word = global_word = 0;
    pthread_create(&t[0], NULL, waiter,
                   strcmp(where, "tls") ? (void *)1 : NULL);
    pthread_create(&t[1], NULL, waker, NULL);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
  }
  return 0;
}

/* One case, the child run with GPATCH_TLS=tls and one scheduler: whether
 * the note must be there (once) or not at all. */
static int check(const char *where, const char *tls, int want)
{
  char tv[64], label[96];
  const char *set[] = {tv, "GPATCH_CORES=1", NULL};
  snprintf(tv, sizeof(tv), "GPATCH_TLS=%s", tls);
  snprintf(label, sizeof(label), "%s word, GPATCH_TLS=%s", where, tls);
  return check_note(where, set, "futex in its own thread-local storage", want,
                    label);
}

int main(int argc, char **argv)
{
  int fails = 0;

  if (argc > 1)
    return child(argv[1]);
  if (!patched()) {
    fprintf(stderr, "not patched\n");
    return 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  fails += check("tls", "copy", 1);
  fails += check("global", "copy", 0);
  fails += check("tls", "thread", 0);
  return fails ? 1 : 0;
}
