/* d_stdio_share: one FILE over a socket used by several threads while its
 * writes wait for a slow reader — the FILE lock must keep each call whole
 * (two threads fprintf whole lines into one stream), flockfile must keep
 * out another thread across a wait, fflush(NULL) must wait for a thread in
 * the middle of an fwrite and flush the rest, and exit() must flush what a
 * stream still holds, with another thread of the process still waiting. */
#include "sockutil.h"

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/wait.h>

#define PER_WRITER 500

/* A slow reader of a socket: counts what it gets, pausing now and then so
 * that the writer's socket buffer fills up. */
struct sink {
  int fd;          /* what it reads */
  int check_lines; /* parse "L nnnn xxx…" lines and check them */
  char *text;      /* check_lines == 0: the first bytes received */
  size_t total;    /* bytes received */
  int lines[2];    /* per writer: lines in order */
  int bad;         /* malformed or out-of-order lines */
};

static void *sink_run(void *arg)
{
  struct sink *s = arg;
  char buf[1000], line[256];
  size_t ll = 0;
  ssize_t n;
  int reads = 0;

  while ((n = recv(s->fd, buf, sizeof(buf), 0)) > 0) {
    if (!s->check_lines && s->text && s->total < 64)
      memcpy(s->text + s->total, buf,
             (size_t)n < 64 - s->total ? (size_t)n : 64 - s->total);
    s->total += (size_t)n;
    for (ssize_t i = 0; s->check_lines && i < n; i++) {
      if (ll < sizeof(line) - 1)
        line[ll++] = buf[i];
      if (buf[i] != '\n')
        continue;
      line[ll] = 0;
      int w = line[0] - 'A', seq = -1;
      if (w < 0 || w > 1 || sscanf(line + 2, "%d", &seq) != 1 ||
          seq != s->lines[w] || strlen(line) != 80)
        s->bad++;
      else
        s->lines[w]++;
      ll = 0;
    }
    if (++reads % 8 == 0)
      sleep_ms(1);
  }
  return NULL;
}

/* A socket pair with small buffers: the writer's side, and a sink
 * thread on the other. */
static int small_pair(struct sink *s, pthread_t *t)
{
  int sv[2], small = 4096;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    abort();
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  s->fd = sv[1];
  if (pthread_create(t, NULL, sink_run, s))
    abort();
  return sv[0];
}

static FILE *shared;

static void *line_writer(void *arg)
{
  char letter = (char)(intptr_t)arg;
  for (int i = 0; i < PER_WRITER; i++)
    fprintf(shared, "%c %04d %-72s\n", letter, i, "xxxxxxxxxxxxxxxxxxxxxxxx");
  return NULL;
}

static void test_two_writers(void)
{
  struct sink s = {.check_lines = 1};
  pthread_t a, b, t;
  int err;

  SAY("-- two threads fprintf into one stream\n");
  shared = fdopen(small_pair(&s, &t), "w");
  if (pthread_create(&a, NULL, line_writer, (void *)'A') ||
      pthread_create(&b, NULL, line_writer, (void *)'B'))
    abort();
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  err = ferror(shared) != 0;
  SAY("ferror %d, fclose %d\n", err, fclose(shared));
  pthread_join(t, NULL);
  SAY("sink: A %d lines, B %d lines, in order; bad %d; %zu bytes\n", s.lines[0],
      s.lines[1], s.bad, s.total);
  close(s.fd);
}

static sem_t locked, trying;

static void *holder(void *arg)
{
  (void)arg;
  flockfile(shared);
  fputs("X1 ", shared);
  fflush(shared);
  sem_post(&locked);
  sem_wait(&trying);
  sleep_ms(20); /* the other thread is most likely waiting by now */
  fputs("X2\n", shared);
  funlockfile(shared);
  return NULL;
}

static void *intruder(void *arg)
{
  (void)arg;
  sem_wait(&locked);
  sem_post(&trying);
  fputs("Y\n", shared); /* waits for the holder's funlockfile */
  return NULL;
}

static void test_flockfile(void)
{
  struct sink s = {.text = calloc(1, 65)};
  pthread_t a, b, t;

  SAY("-- flockfile across a wait\n");
  sem_init(&locked, 0, 0);
  sem_init(&trying, 0, 0);
  shared = fdopen(small_pair(&s, &t), "w");
  if (pthread_create(&a, NULL, holder, NULL) ||
      pthread_create(&b, NULL, intruder, NULL))
    abort();
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  fclose(shared);
  pthread_join(t, NULL);
  SAY("sink got: %s", s.text);
  free(s.text);
  close(s.fd);
}

static FILE *bulk;
static sem_t started;
static size_t bulk_written;

static void *bulk_writer(void *arg)
{
  static char block[300000];
  (void)arg;
  memset(block, 'z', sizeof(block));
  sem_post(&started);
  bulk_written = fwrite(block, 1, sizeof(block), bulk);
  return NULL;
}

static void test_flush_all(void)
{
  struct sink s1 = {0}, s2 = {.text = calloc(1, 65)};
  pthread_t w, t1, t2;
  FILE *other;

  SAY("-- fflush(NULL) while a thread is in fwrite\n");
  sem_init(&started, 0, 0);
  bulk = fdopen(small_pair(&s1, &t1), "w");
  other = fdopen(small_pair(&s2, &t2), "w");
  if (pthread_create(&w, NULL, bulk_writer, NULL))
    abort();
  sem_wait(&started);
  sleep_ms(10); /* the writer is most likely waiting for room by now */
  fputs("pending", other);
  SAY("fflush(NULL): %d\n", fflush(NULL));
  pthread_join(w, NULL);
  SAY("fwrite of 300000: %zu\n", bulk_written);
  fclose(bulk);
  fclose(other);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  SAY("sinks: %zu bytes; %zu bytes [%s]\n", s1.total, s2.total, s2.text);
  free(s2.text);
  close(s1.fd);
  close(s2.fd);
}

static void *wait_forever(void *arg)
{
  char c;
  return read(*(int *)arg, &c, 1) < 0 ? NULL : NULL;
}

/* A child writes 100 KB into a stream and exits without fflush: exit's
 * flush sends the rest, with another of its threads blocked in a read. */
static void test_exit_flush(void)
{
  struct sink s = {0};
  pthread_t t;
  int fd = small_pair(&s, &t);
  pid_t pid;
  int status, p[2];

  SAY("-- exit flushes a stream\n");
  if (pipe(p) != 0)
    abort();
  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    static char block[100000];
    pthread_t r;
    FILE *f = fdopen(fd, "w");
    memset(block, 'e', sizeof(block));
    pthread_create(&r, NULL, wait_forever, &p[0]);
    fwrite(block, 1, sizeof(block) - 5, f);
    fputs("tail", f);
    exit(0);
  }
  close(fd);
  waitpid(pid, &status, 0);
  pthread_join(t, NULL);
  SAY("child exit %d; sink got %zu bytes\n",
      WIFEXITED(status) ? WEXITSTATUS(status) : -1, s.total);
  close(s.fd);
  close(p[0]);
  close(p[1]);
}

int main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  test_two_writers();
  test_flockfile();
  test_flush_all();
  test_exit_flush();
  check_threads(1);
  return 0;
}
