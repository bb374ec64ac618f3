/* d_splice: splice, tee and vmsplice wait as plain, and a thread waiting
 * in one lets the others run.
 *
 * Each wait ends when another thread writes or reads a moment later.
 * Patched, glibc's calls waited in the kernel, holding the OS thread: with
 * one scheduler that thread never ran, and the program hung.
 * - splice from an empty socket into a pipe;
 * - tee from an empty pipe into another;
 * - vmsplice into a full pipe, and out of an empty one;
 * - SPLICE_F_NONBLOCK with nothing there: EAGAIN at once; EBADF; EINVAL
 *   when neither end is a pipe.
 * - O_NONBLOCK the program set on either end: EAGAIN at once, as the
 *   kernel takes either end's flag for the call's. */
#define _GNU_SOURCE
#include "compat.h"

#include <sys/socket.h>
#include <sys/uio.h>

static int sv[2], p1[2], p2[2];

static void *hello_later(void *arg)
{
  int fd = (int)(intptr_t)arg;
  sleep_ms(100);
  if (write(fd, "hello", 5) != 5)
    exit(1);
  return NULL;
}

static void *read_later(void *arg)
{
  static char big[65536];
  int fd = (int)(intptr_t)arg;
  sleep_ms(100);
  if (read(fd, big, sizeof(big)) <= 0)
    exit(1);
  return NULL;
}

static void said(const char *what, long r)
{
  int e = errno;
  printf("%s: %ld %s\n", what, r, r < 0 ? strerror(e) : "");
}

static void drain(int fd, const char *what)
{
  char b[16] = {0};
  long n = read(fd, b, sizeof(b) - 1);
  printf("%s: %ld \"%s\"\n", what, n, n > 0 ? b : "");
}

int main(void)
{
  pthread_t t;
  char buf[8];

  setvbuf(stdout, NULL, _IONBF, 0);
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(p1) || pipe(p2))
    return 1;

  pthread_create(&t, NULL, hello_later, (void *)(intptr_t)sv[1]);
  said("splice socket -> pipe", splice(sv[0], NULL, p1[1], NULL, 64, 0));
  pthread_join(t, NULL);
  drain(p1[0], "pipe");

  pthread_create(&t, NULL, hello_later, (void *)(intptr_t)p1[1]);
  said("tee pipe -> pipe", tee(p1[0], p2[1], 64, 0));
  pthread_join(t, NULL);
  drain(p2[0], "tee's copy");
  drain(p1[0], "the original");

  /* a full pipe of one page */
  int sz = fcntl(p1[1], F_SETPIPE_SZ, 4096);
  static char page[65536];
  memset(page, 'x', sizeof(page));
  fcntl(p1[1], F_SETFL, O_NONBLOCK);
  while (write(p1[1], page, sizeof(page)) > 0)
    ;
  fcntl(p1[1], F_SETFL, 0);
  printf("pipe size set: %d\n", sz > 0);
  struct iovec iov = {.iov_base = "vm", .iov_len = 2};
  pthread_create(&t, NULL, read_later, (void *)(intptr_t)p1[0]);
  said("vmsplice into a full pipe", vmsplice(p1[1], &iov, 1, 0));
  pthread_join(t, NULL);
  while (read(p1[0], page, sizeof(page)) == (ssize_t)sizeof(page))
    ;

  struct iovec into = {.iov_base = buf, .iov_len = 5};
  memset(buf, 0, sizeof(buf));
  pthread_create(&t, NULL, hello_later, (void *)(intptr_t)p2[1]);
  said("vmsplice out of an empty pipe", vmsplice(p2[0], &into, 1, 0));
  pthread_join(t, NULL);
  printf("got \"%s\"\n", buf);

  said("SPLICE_F_NONBLOCK, empty",
       splice(sv[0], NULL, p2[1], NULL, 64, SPLICE_F_NONBLOCK));
  said("tee SPLICE_F_NONBLOCK, empty",
       tee(p2[0], p1[1], 64, SPLICE_F_NONBLOCK));
  said("splice bad fd", splice(-1, NULL, p2[1], NULL, 64, 0));
  /* a socket the program made non-blocking: EAGAIN, as the kernel takes
   * its O_NONBLOCK for the call's */
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  said("splice, non-blocking socket", splice(sv[0], NULL, p2[1], NULL, 64, 0));
  fcntl(sv[0], F_SETFL, 0);
  /* a non-blocking pipe: EAGAIN too (either end's flag counts) */
  fcntl(p2[1], F_SETFL, O_NONBLOCK);
  said("splice into a non-blocking pipe",
       splice(sv[0], NULL, p2[1], NULL, 64, 0));
  fcntl(p2[0], F_SETFL, O_NONBLOCK);
  said("tee from a non-blocking pipe", tee(p2[0], p1[1], 64, 0));
  said("splice, no pipe", splice(sv[0], NULL, sv[1], NULL, 64, 0));
  return 0;
}
