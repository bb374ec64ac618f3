/* d_thread_locale: the locale uselocale sets belongs to the calling thread.
 * A thread that sets C.UTF-8 (built into glibc) and waits does not change
 * what another thread sees (MB_CUR_MAX 1 in the C locale, 6 in UTF-8); a
 * thread made meanwhile starts with the global locale; each keeps its own
 * across waits; uselocale(0) gives each its own object back; main's own
 * stays across a wait in which another thread runs. */
#include "compat.h"

#include <locale.h>
#include <semaphore.h>

static sem_t set_done, looked;
static locale_t utf8;

static void *with_utf8(void *arg)
{
  char *out = arg;
  uselocale(utf8);
  size_t before = MB_CUR_MAX;
  sem_post(&set_done);
  sem_wait(&looked); /* the others look meanwhile */
  sleep_ms(5);
  snprintf(out, 128, "utf8 thread: MB_CUR_MAX %zu then %zu, its own back %d",
           before, MB_CUR_MAX, uselocale((locale_t)0) == utf8);
  uselocale(LC_GLOBAL_LOCALE);
  return NULL;
}

static void *plain_thread(void *arg)
{
  char *out = arg;
  size_t before = MB_CUR_MAX;
  sleep_ms(5);
  snprintf(out, 128, "new thread: MB_CUR_MAX %zu then %zu, global %d", before,
           MB_CUR_MAX, uselocale((locale_t)0) == LC_GLOBAL_LOCALE);
  return NULL;
}

int main(void)
{
  pthread_t a, b;
  char out_a[128], out_b[128];

  setvbuf(stdout, NULL, _IOLBF, 0);
  sem_init(&set_done, 0, 0);
  sem_init(&looked, 0, 0);
  utf8 = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
  if (utf8 == (locale_t)0) {
    perror("newlocale C.UTF-8");
    return 1;
  }
  pthread_create(&a, NULL, with_utf8, out_a);
  sem_wait(&set_done);
  SAY("main while the other has UTF-8: MB_CUR_MAX %zu\n", MB_CUR_MAX);
  pthread_create(&b, NULL, plain_thread, out_b);
  pthread_join(b, NULL);
  SAY("%s\n", out_b);
  sleep_ms(5);
  SAY("main after a wait: MB_CUR_MAX %zu\n", MB_CUR_MAX);
  sem_post(&looked);
  pthread_join(a, NULL);
  SAY("%s\n", out_a);

  /* main's own, set and kept across a wait in which another thread runs */
  uselocale(utf8);
  pthread_create(&b, NULL, plain_thread, out_b);
  pthread_join(b, NULL);
  SAY("%s\n", out_b);
  SAY("main with UTF-8 after the thread: MB_CUR_MAX %zu, its own back %d\n",
      MB_CUR_MAX, uselocale((locale_t)0) == utf8);
  uselocale(LC_GLOBAL_LOCALE);
  SAY("main back to global: MB_CUR_MAX %zu\n", MB_CUR_MAX);
  freelocale(utf8);
  return 0;
}
