/* d_socketpair_basic: a reader waiting on a socketpair gets what a writer
 * sends later, then EOF; the reader's wait keeps the process on one OS
 * thread when patched. */
#include "compat.h"

#include <sys/socket.h>

static int sv[2];

static void *writer(void *arg)
{
  (void)arg;
  sleep_ms(50);
  check_threads(1);
  if (write(sv[1], "hello", 5) != 5)
    return (void *)1;
  sleep_ms(20);
  close(sv[1]);
  return NULL;
}

int main(void)
{
  struct task t;
  char buf[16];
  ssize_t n;

  setvbuf(stdout, NULL, _IOLBF, 0);
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  spawn(&t, writer, NULL);
  n = read(sv[0], buf, sizeof(buf));
  EXPECT("read waits for the data", n == 5 && memcmp(buf, "hello", 5) == 0);
  n = read(sv[0], buf, sizeof(buf));
  EXPECT("then EOF", n == 0);
  EXPECT("writer", join(&t) == NULL);
  return compat_failures != 0;
}
