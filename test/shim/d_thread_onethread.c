/* d_thread_onethread: 100 threads blocked on a condition variable. Plain,
 * the process has 101 OS threads; preloaded, they are coroutines on the
 * one OS thread. The printed line is the same when each mode sees what it
 * should. */
#include "compat.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int waiting, released, woken;

static void *waiter(void *p)
{
  pthread_mutex_lock(&m);
  waiting++;
  pthread_cond_broadcast(&c); /* main waits for all 100 */
  while (!released)
    pthread_cond_wait(&c, &m);
  woken++;
  pthread_mutex_unlock(&m);
  return NULL;
}

int main(void)
{
  pthread_t th[100];
  pthread_attr_t a;
  int n, want;

  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 64 * 1024);
  for (int i = 0; i < 100; i++)
    if (pthread_create(&th[i], &a, waiter, NULL) != 0)
      return 1;
  pthread_attr_destroy(&a);
  pthread_mutex_lock(&m);
  while (waiting < 100)
    pthread_cond_wait(&c, &m);
  pthread_mutex_unlock(&m);
  n = os_threads();
  want = patched() ? 1 : 101;
  if (n == want)
    SAY("threads: ok\n");
  else
    SAY("threads: %d, expected %d\n", n, want);
  pthread_mutex_lock(&m);
  released = 1;
  pthread_cond_broadcast(&c);
  pthread_mutex_unlock(&m);
  for (int i = 0; i < 100; i++)
    pthread_join(th[i], NULL);
  SAY("woken: %d\n", woken);
  return 0;
}
