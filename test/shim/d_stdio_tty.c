/* d_stdio_tty: stdio on a terminal (a pty's slave): the stream is line
 * buffered as glibc decides for a tty, and reading it first flushes a
 * line-buffered stdout — here a prompt without a newline, which a peer
 * thread waits to see on stdout (a pipe) before it types the answer into
 * the pty's master, after a ping-pong with a third thread. The reader waits
 * in fgets meanwhile: the conversation finishes only if that wait parks the
 * reader alone. */
#include "sockutil.h"

#include <pthread.h>
#include <stdio_ext.h>
#include <termios.h>

static int master, prompt_pipe;
static struct ponger pong; /* played by the typist */

/* Waits for the prompt on stdout, plays 50 rounds of ping-pong, then types
 * a line into the terminal. */
static void *typist(void *arg)
{
  char buf[64];
  size_t n = 0;
  (void)arg;
  while (n < 8 && read(prompt_pipe, buf + n, 1) == 1)
    n++;
  buf[n] = 0;
  ponger_play(&pong, 50);
  check_threads(1);
  if (write(master, "hello tty\n", 10) != 10)
    abort();
  return strcmp(buf, "prompt> ") == 0 ? NULL : (void *)1;
}

int main(void)
{
  struct termios t;
  pthread_t b;
  void *typist_ret;
  char buf[64], *r;
  int slave, p[2], saved_stdout;
  FILE *tin;

  setvbuf(stdout, NULL, _IOLBF, 0);
  master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
      (slave = open(ptsname(master), O_RDWR | O_NOCTTY)) < 0) {
    SAY("no pty here: skipped\n");
    return 0;
  }
  tcgetattr(slave, &t);
  t.c_lflag &= ~(tcflag_t)ECHO; /* no echo for the master to drain */
  tcsetattr(slave, TCSANOW, &t);
  tin = fdopen(slave, "r");
  if (pipe(p) != 0)
    abort();
  prompt_pipe = p[0];
  /* stdout is the pipe the typist watches, for the prompt. */
  saved_stdout = dup(1);
  dup2(p[1], 1);
  ponger_start(&pong);
  if (pthread_create(&b, NULL, typist, NULL))
    abort();
  printf("prompt> ");
  r = fgets(buf, sizeof(buf), tin);
  fflush(stdout);
  dup2(saved_stdout, 1);
  pthread_join(b, &typist_ret);
  ponger_stop(&pong);
  SAY("the typist saw the prompt before typing: %d\n", typist_ret == NULL);
  SAY("fgets: %s", r ? r : "NULL\n");
  SAY("line buffered (a tty): %d, ferror %d\n", __flbf(tin) != 0,
      ferror(tin) != 0);
  fclose(tin);
  close(master);
  return 0;
}
