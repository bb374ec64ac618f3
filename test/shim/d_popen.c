/* d_popen: popen and pclose while other threads work. The commands wait for
 * input that another thread sends only after a ping-pong with a third, so
 * reading a popen stream and pclose's wait for the child must park only
 * their caller. Also: what pclose and fclose return for a popen stream, a
 * "w" stream, the modes popen refuses, "e" and close-on-exec, orientation
 * (glibc's popen streams are byte streams for good), a child that does not
 * inherit an earlier popen's pipe, and pclose of a stream popen did not
 * make. */
#include "sockutil.h"

#include <pthread.h>
#include <sys/wait.h>
#include <wchar.h>

/* fclose of a popen stream and pclose of an fdopen one are the point. */
#pragma GCC diagnostic ignored "-Wmismatched-dealloc"

/* The commands name the test's pipes as /dev/fd/N: dash takes one digit
 * only in <&N, and the preloaded run's fds are higher. */
static int go[2]; /* the commands read from go[0]; a thread writes go[1] */
static struct ponger pong; /* played by server() */

/* 100 rounds of ping-pong, then a word for the waiting command. */
static void *server(void *arg)
{
  ponger_play(&pong, 100);
  check_threads(1);
  if (write(go[1], (const char *)arg, strlen(arg)) != (ssize_t)strlen(arg))
    abort();
  return NULL;
}

static void start_server(pthread_t *b, const char *word)
{
  ponger_start(&pong);
  if (pthread_create(b, NULL, server, (void *)word))
    abort();
}

static void stop_server(pthread_t b)
{
  pthread_join(b, NULL);
  ponger_stop(&pong);
  SAY("the other threads played 100 rounds meanwhile\n");
}

static void show_status(const char *what, int st)
{
  if (st == -1)
    SAY("%s: -1 %s\n", what, strerrorname_np(errno));
  else
    SAY("%s: exited %d\n", what, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int main(void)
{
  char cmd[128], buf[64];
  pthread_t b;
  FILE *f, *g;
  int fd, r, p[2];

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (pipe(go) != 0)
    abort();

  SAY("-- reading a slow command\n");
  snprintf(cmd, sizeof(cmd), "read x </dev/fd/%d; echo got $x; exit 4", go[0]);
  f = popen(cmd, "r");
  start_server(&b, "word\n");
  SAY("fgets: %s", fgets(buf, sizeof(buf), f) ? buf : "NULL\n");
  show_status("pclose", pclose(f));
  stop_server(b);

  SAY("-- pclose waits for the child\n");
  snprintf(cmd, sizeof(cmd), "read x </dev/fd/%d; exit 3", go[0]);
  f = popen(cmd, "r");
  start_server(&b, "late\n");
  show_status("pclose", pclose(f));
  stop_server(b);

  SAY("-- a \"w\" stream\n");
  if (pipe(p) != 0)
    abort();
  snprintf(cmd, sizeof(cmd), "read l; echo \"got:$l\" >/dev/fd/%d", p[1]);
  f = popen(cmd, "w");
  fputs("to the child\n", f);
  show_status("pclose", pclose(f));
  close(p[1]);
  r = (int)read(p[0], buf, sizeof(buf) - 1);
  SAY("the child said: %.*s", r > 0 ? r : 0, buf);
  close(p[0]);

  SAY("-- fclose of a popen stream\n");
  f = popen("exit 5", "r");
  show_status("fclose", fclose(f));

  SAY("-- modes\n");
  errno = 0;
  f = popen("true", "rw");
  SAY("\"rw\": %s %s\n", f ? "a stream" : "NULL", strerrorname_np(errno));
  errno = 0;
  f = popen("true", "x");
  SAY("\"x\": %s %s\n", f ? "a stream" : "NULL", strerrorname_np(errno));
  f = popen("true", "re");
  g = popen("true", "r");
  SAY("\"re\" close-on-exec %d, \"r\" close-on-exec %d\n",
      (fcntl(fileno(f), F_GETFD) & FD_CLOEXEC) != 0,
      (fcntl(fileno(g), F_GETFD) & FD_CLOEXEC) != 0);
  r = fwide(f, 0);
  fd = fwide(f, 1);
  SAY("orientation %d, wide %d, byte %d\n", r, fd, fwide(g, -1));
  show_status("pclose re", pclose(f));
  show_status("pclose r", pclose(g));

  SAY("-- a later child does not hold an earlier popen's pipe\n");
  f = popen("cat >/dev/null; exit 6", "w");
  snprintf(cmd, sizeof(cmd), "read x </dev/fd/%d; echo second $x", go[0]);
  g = popen(cmd, "r");
  fputs("some input\n", f);
  show_status("pclose of the first", pclose(f)); /* its cat sees EOF */
  if (write(go[1], "done\n", 5) != 5)
    abort();
  SAY("fgets: %s", fgets(buf, sizeof(buf), g) ? buf : "NULL\n");
  show_status("pclose of the second", pclose(g));

  SAY("-- pclose of a stream popen did not make\n");
  if (pipe(p) != 0)
    abort();
  f = fdopen(p[0], "r");
  fd = p[0];
  SAY("pclose: %d\n", pclose(f));
  SAY("its fd closed: %d\n", fcntl(fd, F_GETFD) == -1 && errno == EBADF);
  close(p[1]);
  return 0;
}
