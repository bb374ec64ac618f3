/* d_ctor: interposed functions called from another library's constructor
 * (libctor.so, test/shim/ctorlib.c), before libgpatch's constructors have
 * necessarily run, behave as plain; the program then runs normally. */
#include "compat.h"

#include <poll.h>

extern char ctor_report[];

static int p[2];

static void *write_pipe_later(void *arg)
{
  (void)arg;
  sleep_ms(30);
  check_threads(5); /* main, and libuv's 4 threadpool threads (the lookup) */
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
  return compat_failures != 0;
}
