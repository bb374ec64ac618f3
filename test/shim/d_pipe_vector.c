/* d_pipe_vector: writes of more than a pipe holds, by writev (a few big
 * buffers, one huge one, many small ones) and by sendfile from a file,
 * into a blocking pipe that another thread of the program reads. Plain,
 * writev blocks until everything is written and sendfile until it has
 * moved what the pipe had room for; the reader checks every byte.
 *
 * Patched, the two threads share one OS thread, so a write on such a pipe
 * may only be made when the pipe has room for it: a real writev of more
 * than that blocked the OS thread, and the reader never ran (the run hung
 * until its alarm). */
#include "compat.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#define MIB (1 << 20)

static int p[2];

/* The byte at offset i of everything written, in order. */
static unsigned char pattern(size_t i)
{
  return (unsigned char)(i * 7 + i / 4093);
}

/* Reads the pipe to its end; returns the count, or -1 at the first byte
 * that is not the pattern's. */
static void *reader(void *arg)
{
  static unsigned char buf[6000];
  size_t got = 0;
  ssize_t n;

  (void)arg;
  while ((n = read(p[0], buf, sizeof(buf))) > 0)
    for (ssize_t i = 0; i < n; i++, got++)
      if (buf[i] != pattern(got))
        return (void *)-1L;
  return (void *)(long)got;
}

static unsigned char *data; /* the pattern from offset 0 to 4 MiB */
static size_t sent;         /* bytes written so far */

/* writev of the next bytes of the pattern, cut into n buffers of len. */
static void put_vector(const char *what, int n, size_t len)
{
  struct iovec *iov = calloc((size_t)n, sizeof(*iov));
  ssize_t r;

  for (int i = 0; i < n; i++) {
    iov[i].iov_base = data + sent + (size_t)i * len;
    iov[i].iov_len = len;
  }
  r = writev(p[1], iov, n);
  SAY("%s: %zd of %zu bytes\n", what, r, (size_t)n * len);
  if (r > 0)
    sent += (size_t)r;
  free(iov);
}

int main(void)
{
  char path[64];
  struct task t;
  size_t total;
  off_t pos = 0;
  int f;

  setvbuf(stdout, NULL, _IOLBF, 0);
  alarm(30);
  data = malloc(4 * MIB);
  for (size_t i = 0; i < 4 * MIB; i++)
    data[i] = pattern(i);
  EXPECT("pipe", pipe(p) == 0);
  spawn(&t, reader, NULL);

  put_vector("writev of 4 buffers of 256 KiB", 4, 256 * 1024);
  put_vector("writev of one buffer of 300 KiB", 1, 300 * 1024);
  put_vector("writev of 1000 buffers of 100 bytes", 1000, 100);
  put_vector("writev of 3 buffers of 4095 bytes", 3, 4095);

  /* sendfile from a file holding the pattern from where the writes ended:
   * each call moves at most what the pipe has room for. */
  snprintf(path, sizeof(path), "/tmp/d_pipe_vector.%d", (int)getpid());
  f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  EXPECT("the file", f >= 0 && write(f, data + sent, MIB) == MIB);
  unlink(path);
  total = 0;
  while (total < MIB) {
    ssize_t r = sendfile(p[1], f, &pos, MIB - total);
    if (r <= 0)
      break;
    total += (size_t)r;
  }
  sent += total;
  SAY("sendfile moved %zu of %d bytes, offset %lld\n", total, MIB,
      (long long)pos);
  close(f);
  close(p[1]);
  SAY("the reader got %ld bytes, all in order; %zu were written\n",
      (long)join(&t), sent);
  return compat_failures != 0;
}
