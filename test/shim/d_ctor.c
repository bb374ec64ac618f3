/* d_ctor: interposed functions called from another library's constructor
 * (libctor.so, test/shim/ctorlib.c), before libgpatch's constructors have
 * necessarily run, behave as plain; the program then runs normally.
 *
 * The constructor also makes a pthread key and sets the first thread's
 * value: main reads it, a thread sets and reads its own and its
 * destructor runs as it ends, and a key main makes afterwards is another
 * one. Patched, every pthread_setspecific of such a key said EINVAL (bind9
 * aborted in RAND_bytes at start).
 *
 * At exit the library's destructor, which runs after libgpatch's, ends a
 * thread it started and joins it, as libuv's ends its threadpool: the
 * join went to glibc with the runtime's handle and crashed (a program that
 * had used libuv's threadpool died at exit).
 *
 * A thread the constructor made waits in the kernel on a mutex meanwhile:
 * main destroys 8192 unlocked mutexes of its own, each of which glibc
 * destroys with 0. Patched, a destroy said EBUSY whenever that thread's
 * mutex shared the runtime's wait bucket with it (mosquitto-style
 * teardown, 2 in 8192 with two schedulers). */
#include "compat.h"

#include <poll.h>

extern char ctor_report[];
extern pthread_key_t ctor_key;
extern int ctor_key_value, ctor_key_freed;
extern void ctor_lib_start(void);
extern pthread_mutex_t ctor_held;
extern int ctor_waiter_started;

static void *use_key(void *arg)
{
  static int mine = 8;
  int r = pthread_setspecific(ctor_key, &mine);
  int *v = pthread_getspecific(ctor_key);
  (void)arg;
  SAY("thread: setspecific %d, its value %d\n", r, v ? *v : -1);
  return NULL;
}

static int p[2];

static void *write_pipe_later(void *arg)
{
  (void)arg;
  sleep_ms(30);
  /* main, libuv's 4 threadpool threads (the lookup), the constructor's */
  check_threads(6);
  if (write(p[1], "x", 1) != 1)
    return (void *)1;
  return NULL;
}

int main(void)
{
  struct pollfd f;
  struct task t;

  setvbuf(stdout, NULL, _IOLBF, 0);
  SAY("%s", ctor_report);
  /* And afterwards, the program works as usual. */
  EXPECT("pipe", pipe(p) == 0);
  spawn(&t, write_pipe_later, NULL);
  f = (struct pollfd){p[0], POLLIN, 0};
  {
    int r = poll(&f, 1, -1);
    SAY("poll after: %d revents %#x\n", r, f.revents);
  }
  EXPECT("writer", join(&t) == NULL);

  {
    int *v = pthread_getspecific(ctor_key);
    pthread_key_t other;
    pthread_t th;
    int r, mine = 9;
    SAY("main: the constructor's value %d\n", v ? *v : -1);
    pthread_create(&th, NULL, use_key, NULL);
    pthread_join(th, NULL);
    SAY("destructor ran %d time(s)\n", ctor_key_freed);
    r = pthread_key_create(&other, NULL);
    SAY("another key: %d, the same number %d\n", r, other == ctor_key);
    pthread_setspecific(other, &mine);
    v = pthread_getspecific(ctor_key);
    SAY("main: the constructor's key still %d, the other %d\n", v ? *v : -1,
        *(int *)pthread_getspecific(other));
    r = pthread_key_delete(ctor_key);
    SAY("delete: %d, again %d\n", r, pthread_key_delete(ctor_key));
    SAY("setspecific after delete: %d\n", pthread_setspecific(ctor_key, &mine));
  }
  {
    enum { N = 8192 };
    pthread_mutex_t *m = calloc(N, sizeof(*m));
    int busy = 0;
    while (!__atomic_load_n(&ctor_waiter_started, __ATOMIC_ACQUIRE))
      sleep_ms(1);
    sleep_ms(50); /* into its wait */
    for (int i = 0; i < N; i++) {
      pthread_mutex_init(&m[i], NULL);
      pthread_mutex_lock(&m[i]);
      pthread_mutex_unlock(&m[i]);
      busy += pthread_mutex_destroy(&m[i]) != 0;
    }
    SAY("%d of %d unlocked mutexes not destroyed\n", busy, N);
    pthread_mutex_unlock(&ctor_held);
    free(m);
  }
  /* The library's destructor joins this thread at exit. */
  ctor_lib_start();
  return compat_failures != 0;
}
