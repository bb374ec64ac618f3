/* spawn.c: the first seed program. Three coroutines each print 0..4.
 *
 * Without a yield, each runs to the end before the next starts: scheduling
 * is cooperative, as in gevent. With gp_sleep(0) after each line they take
 * turns: a 0, b 0, c 0, a 1 … */
#include <gpatch.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int yield_each_step;

static void *count(void *arg)
{
  const char *name = arg;
  for (int i = 0; i < 5; i++) {
    printf("%s %d\n", name, i);
    if (yield_each_step)
      gp_sleep(0);
  }
  return NULL;
}

static int run(int yield)
{
  static char *names[] = {"a", "b", "c"};
  gp_coro_t *co[3];
  int err;

  yield_each_step = yield;
  printf("-- %s\n", yield ? "with gp_sleep(0): they interleave"
                          : "without yielding: one after another");
  for (int i = 0; i < 3; i++)
    if ((err = gp_spawn(&co[i], count, names[i])) < 0) {
      fprintf(stderr, "gp_spawn: %s\n", strerror(-err));
      return 1;
    }
  err = gp_joinall(co, 3, NULL, GP_FOREVER);
  if (err < 0) {
    fprintf(stderr, "gp_joinall: %s\n", strerror(-err));
    return 1;
  }
  return 0;
}

int main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  return run(0) || run(1);
}
