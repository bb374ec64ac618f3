/* d_stdio_err: what glibc prints to stderr by itself — perror (through a
 * stream of its own on a dup of fd 2 while stderr is unoriented), error and
 * error_at_line (stdout flushed first, error_one_per_line), warn and warnx,
 * psignal, herror — and dprintf, all written to a stderr that is a small
 * pipe read slowly by a thread of this process: once the pipe is full each
 * writer waits, and only a wait that parks the writer alone lets the
 * reader run. The reader's copy is printed at the end. */
#define _GNU_SOURCE
#include "sockutil.h"

#include <err.h>
#include <error.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>

#define ROUNDS 40

static int rd;
static char got[65536];
static size_t ngot;

static void *slow_reader(void *arg)
{
  ssize_t n;
  (void)arg;
  while ((n = read(rd, got + ngot, 512)) > 0) {
    ngot += (size_t)n;
    sleep_ms(1);
  }
  return NULL;
}

int main(void)
{
  int p[2], saved_err;
  pthread_t t;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (pipe(p) != 0)
    abort();
  fcntl(p[1], F_SETPIPE_SZ, 4096);
  rd = p[0];
  saved_err = dup(2);
  dup2(p[1], 2);
  close(p[1]);
  if (pthread_create(&t, NULL, slow_reader, NULL))
    abort();
  for (int i = 0; i < ROUNDS; i++) {
    errno = EPIPE;
    perror(i % 2 ? "perror" : NULL);
    error(0, ENOENT, "error %d", i);
    error_at_line(0, 0, "file.c", 7, "at line, round %d", i);
    warn("warn %d", i);
    warnx("warnx %d", i);
    psignal(SIGTERM, "psignal");
    herror("herror");
    dprintf(2, "dprintf %d %s\n", i, "to fd 2");
  }
  error_one_per_line = 1;
  error_at_line(0, 0, "same.c", 9, "once");
  error_at_line(0, 0, "same.c", 9, "not again");
  fflush(stderr);
  check_threads(1);
  dup2(saved_err, 2);
  pthread_join(t, NULL);
  SAY("error_message_count %u, %zu bytes on stderr:\n", error_message_count,
      ngot);
  fwrite(got, 1, ngot, stdout);
  return 0;
}
