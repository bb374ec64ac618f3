/* p_thread_off: with GPATCH_PATCH=-thread (gevent's patch_all(thread=False))
 * threads stay real OS threads, and each gets a scheduler of its own: two
 * coroutines spawned inside one real thread sleep at the same time, so the
 * pair takes one sleep, not two. */
#include "compat.h"

static double t0;

static void *nap(void *arg)
{
  (void)arg;
  sleep_ms(200); /* a plain nanosleep, patched: parks this coroutine only */
  return NULL;
}

/* A real thread: runs two coroutines that sleep 200 ms each. */
static void *real_thread(void *arg)
{
  gp_coro_t *a, *b;
  double start = now_ms();
  (void)arg;
  if (gp_spawn(&a, nap, NULL) || gp_spawn(&b, nap, NULL))
    return (void *)1;
  gp_join(a, NULL);
  gp_join(b, NULL);
  return (void *)(intptr_t)(now_ms() - start < 380 ? 0 : 2);
}

int main(int argc, char **argv)
{
  pthread_t t[2];
  void *r[2];
  int threads;

  (void)argc;
  if (getenv("GPATCH_PATCH") == NULL) {
    return rerun_with("GPATCH_PATCH", "-thread", argv);
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  must_reach_end(); /* the last of the coroutines ended the process */
  t0 = now_ms();
  EXPECT("pthread_create makes real threads",
         pthread_create(&t[0], NULL, real_thread, NULL) == 0 &&
             pthread_create(&t[1], NULL, real_thread, NULL) == 0);
  sleep_ms(50);
  threads = os_threads();
  EXPECT("there are three OS threads", threads == 3);
  pthread_join(t[0], &r[0]);
  pthread_join(t[1], &r[1]);
  EXPECT("each thread's two coroutines slept at the same time",
         r[0] == NULL && r[1] == NULL);
  EXPECT("both threads ran at the same time", now_ms() - t0 < 380);
  return main_done(compat_failures != 0);
}
