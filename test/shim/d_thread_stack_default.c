/* d_thread_stack_default: a thread that sets no stack size gets the stack
 * it would get unpatched, glibc's default (RLIMIT_STACK's soft limit,
 * normally 8 MiB), and can use megabytes of it: siege keeps ~390 KiB of
 * locals on each user thread's stack. Threads made with no attributes, with
 * pthread_attr_init's, and with glibc's default size asked for explicitly
 * each fill 2 MiB of their stack in 64 KiB frames and report whether their
 * stack is at least the default size. Before stacks followed glibc's
 * default (256 KiB), the first one died of an overflow patched. */
#include "compat.h"

#define FRAME (64 * 1024)
#define DEPTH 32 /* 2 MiB */

static __attribute__((noinline)) long fill(int depth)
{
  volatile char buf[FRAME];
  long sum;
  memset((char *)buf, depth, sizeof(buf));
  sum = depth > 1 ? fill(depth - 1) : 0;
  return sum + buf[FRAME / 2];
}

static size_t default_size(void)
{
  pthread_attr_t a;
  size_t size = 0;
  if (pthread_getattr_default_np(&a) == 0) {
    pthread_attr_getstacksize(&a, &size);
    pthread_attr_destroy(&a);
  }
  return size;
}

static void *use_stack(void *arg)
{
  pthread_attr_t a;
  size_t size = 0;
  long sum = fill(DEPTH);

  (void)arg;
  if (pthread_getattr_np(pthread_self(), &a) == 0) {
    pthread_attr_getstacksize(&a, &size);
    pthread_attr_destroy(&a);
  }
  SAY("  filled %d KiB of stack (sum %ld); stack at least the default: %s\n",
      DEPTH * FRAME / 1024, sum, size >= default_size() ? "yes" : "no");
  return NULL;
}

static void run(const char *how, const pthread_attr_t *attr)
{
  pthread_t t;
  SAY("%s:\n", how);
  /* Judged after the join: the thread's lines come first, whichever OS
   * thread runs first. */
  int created = pthread_create(&t, attr, use_stack, NULL);
  int joined = created == 0 ? pthread_join(t, NULL) : -1;
  EXPECT("create", created == 0);
  EXPECT("join", joined == 0);
}

int main(void)
{
  pthread_attr_t a;

  setvbuf(stdout, NULL, _IOLBF, 0);
  SAY("glibc's default thread stack is at least 4 MiB: %s\n",
      default_size() >= 4 * 1024 * 1024 ? "yes" : "no");
  run("no attributes", NULL);
  pthread_attr_init(&a);
  run("pthread_attr_init's attributes", &a);
  pthread_attr_setstacksize(&a, default_size());
  run("glibc's default size asked for", &a);
  pthread_attr_destroy(&a);
  return compat_failures != 0;
}
