/* d_stdio_inetd: a program whose stdin and stdout are a socket (as inetd
 * starts it) or pipes (a shell pipeline), reading with stdio in one thread
 * while another thread writes. The parent plays the peer: it sends line k
 * only after the child's second thread has printed "tick k", which that
 * thread can do only while the first waits in fgets/getline on stdin. So
 * the conversation finishes only if a stdio read on stdin parks its thread
 * alone. The same binary is the child (argv[1] = "child"). */
#include "sockutil.h"

#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

#define LINES 3

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int lines_done;

/* The child's second thread: tick k once line k-1 has been echoed. */
static void *ticker(void *arg)
{
  (void)arg;
  for (int k = 1; k <= LINES; k++) {
    pthread_mutex_lock(&lock);
    while (lines_done < k - 1)
      pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    sleep_ms(10); /* the reader is most likely in its read by now */
    check_threads(1);
    printf("tick %d\n", k);
    fflush(stdout);
  }
  return NULL;
}

static int child(int use_getline)
{
  pthread_t t;
  char buf[256], *line = NULL;
  size_t cap = 0;
  ssize_t n;

  if (pthread_create(&t, NULL, ticker, NULL))
    abort();
  for (;;) {
    if (use_getline) {
      if ((n = getline(&line, &cap, stdin)) < 0)
        break;
    } else {
      if (fgets(buf, sizeof(buf), stdin) == NULL)
        break;
      line = buf;
    }
    printf("echo %s", line);
    fflush(stdout);
    pthread_mutex_lock(&lock);
    lines_done++;
    pthread_cond_signal(&cond);
    pthread_mutex_unlock(&lock);
  }
  printf("end of input: feof %d ferror %d\n", feof(stdin) != 0,
         ferror(stdin) != 0);
  pthread_join(t, NULL);
  if (use_getline)
    free(line);
  return 0;
}

/* Reads a line from fd into buf (raw reads, one byte at a time). */
static int read_line(int fd, char *buf, size_t size)
{
  size_t n = 0;
  while (n + 1 < size && read(fd, buf + n, 1) == 1)
    if (buf[n++] == '\n')
      break;
  buf[n] = 0;
  return (int)n;
}

/* Runs the child with stdin reading from in and stdout writing to out (the
 * same socket, or two pipes), and plays its peer over to/from. */
static void conversation(const char *title, int in, int out, int to, int from,
                         int use_getline)
{
  posix_spawn_file_actions_t fa;
  char *argv[] = {"d_stdio_inetd", "child", use_getline ? "getline" : "fgets",
                  NULL};
  char buf[256];
  pid_t pid;
  int status, k = 0;

  SAY("-- %s\n", title);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in, 0);
  posix_spawn_file_actions_adddup2(&fa, out, 1);
  if (posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ) != 0)
    abort();
  posix_spawn_file_actions_destroy(&fa);
  close(in);
  if (out != in)
    close(out);
  while (read_line(from, buf, sizeof(buf)) > 0) {
    SAY("child: %s", buf);
    if (strncmp(buf, "tick ", 5) == 0) {
      char msg[64];
      int len = snprintf(msg, sizeof(msg), "line %d\n", ++k);
      /* The line in two pieces. */
      if (write(to, msg, 3) != 3 || (sleep_ms(5), 0) ||
          write(to, msg + 3, (size_t)len - 3) != len - 3)
        abort();
      if (k == LINES) {
        if (to == from)
          shutdown(to, SHUT_WR);
        else
          close(to);
      }
    }
  }
  waitpid(pid, &status, 0);
  SAY("child exit status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  close(from);
  if (to != from && k < LINES)
    close(to);
}

int main(int argc, char **argv)
{
  int sv[2], p1[2], p2[2];

  if (argc > 2 && strcmp(argv[1], "child") == 0)
    return child(strcmp(argv[2], "getline") == 0);
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* Not close-on-exec: the child also holds the parent's end, which the
   * parent's shutdown still ends the input of. */
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  conversation("stdin and stdout one socket (inetd), fgets", sv[1], sv[1],
               sv[0], sv[0], 0);
  EXPECT("pipes", pipe2(p1, O_CLOEXEC) == 0 && pipe2(p2, O_CLOEXEC) == 0);
  conversation("stdin and stdout pipes (a pipeline), getline", p1[0], p2[1],
               p1[1], p2[0], 1);
  return compat_failures != 0;
}
