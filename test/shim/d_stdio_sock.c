/* d_stdio_sock: stdio reading a TCP socket whose data comes in pieces, with
 * what plain glibc reports at each end: getline across pieces and a last
 * line without a newline at end of stream, fread of a block that arrives in
 * pieces and a short fread at end of stream, fscanf across pieces, a reset
 * connection (ECONNRESET), a signal without SA_RESTART (EINTR, then
 * clearerr and the next line), a signal with SA_RESTART (the read goes on),
 * and SO_RCVTIMEO (EAGAIN). Each reader waits while a peer thread sends. */
#include "sockutil.h"

#include <pthread.h>
#include <signal.h>

/* What a peer thread sends: pieces with a pause before each. */
struct script {
  int fd;               /* the peer's socket */
  const char *piece[8]; /* NULL-terminated */
  int end;              /* 0 keep open, 1 shutdown, 2 reset (RST) */
};

static void *peer(void *arg)
{
  struct script *s = arg;
  for (int i = 0; s->piece[i]; i++) {
    size_t len = strlen(s->piece[i]);
    sleep_ms(15);
    if (send(s->fd, s->piece[i], len, 0) != (ssize_t)len)
      abort();
  }
  sleep_ms(15);
  if (s->end == 1) {
    shutdown(s->fd, SHUT_WR);
  } else if (s->end == 2) {
    struct linger l = {1, 0};
    setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    close(s->fd);
    s->fd = -1;
  }
  return NULL;
}

/* Starts a peer on a fresh TCP pair; returns the reader's FILE. */
static FILE *start(struct script *s, pthread_t *t, int *rfd)
{
  int c, srv;
  FILE *f;
  if (tcp_pair(&c, &srv) != 0)
    abort();
  s->fd = srv;
  *rfd = c;
  f = fdopen(c, "r");
  if (f == NULL || pthread_create(t, NULL, peer, s))
    abort();
  return f;
}

static void finish(FILE *f, struct script *s, pthread_t t)
{
  pthread_join(t, NULL);
  fclose(f);
  if (s->fd >= 0)
    close(s->fd);
}

static void show_state(const char *what, FILE *f)
{
  SAY("%s: feof %d ferror %d errno %s\n", what, feof(f) != 0, ferror(f) != 0,
      errno ? strerrorname_np(errno) : "0");
}

static void test_getline(void)
{
  struct script s = {.piece = {"ab", "c\nde", "f\n", "no newline", NULL},
                     .end = 1};
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  pthread_t t;
  int fd;
  FILE *f = start(&s, &t, &fd);

  SAY("-- getline\n");
  while (errno = 0, (n = getline(&line, &cap, f)) >= 0)
    SAY("getline %zd: [%.*s]\n", n, (int)n, line);
  show_state("getline -1", f);
  free(line);
  finish(f, &s, t);
}

static void test_fread(void)
{
  static char pieces[5][2001], got[10000];
  struct script s = {.end = 1};
  size_t n;
  pthread_t t;
  int fd;
  FILE *f;

  SAY("-- fread\n");
  for (int i = 0; i < 5; i++) { /* five 2000-byte pieces, then 37 bytes */
    memset(pieces[i], 'a' + i, 2000);
    s.piece[i] = pieces[i];
  }
  s.piece[5] = "0123456789012345678901234567890123456";
  f = start(&s, &t, &fd);
  errno = 0;
  n = fread(got, 1, 10000, f);
  SAY("fread 10000: %zu, first %c last %c\n", n, got[0], got[9999]);
  n = fread(got, 1, 100, f);
  SAY("fread 100 at the end: %zu [%.*s]\n", n, (int)n, got);
  show_state("after the short fread", f);
  finish(f, &s, t);
}

static void test_fscanf(void)
{
  struct script s = {.piece = {"12", "3 wor", "d\n45 x\n", NULL}, .end = 1};
  char word[32];
  int num, r;
  pthread_t t;
  int fd;
  FILE *f = start(&s, &t, &fd);

  SAY("-- fscanf\n");
  while (errno = 0, (r = fscanf(f, "%d %31s", &num, word)) == 2)
    SAY("fscanf: %d [%s]\n", num, word);
  SAY("fscanf then: %d\n", r);
  show_state("fscanf at the end", f);
  finish(f, &s, t);
}

static void test_reset(void)
{
  struct script s = {.piece = {"partial", NULL}, .end = 2};
  char buf[64];
  char *r;
  pthread_t t;
  int fd;
  FILE *f = start(&s, &t, &fd);

  SAY("-- reset\n");
  errno = 0;
  r = fgets(buf, sizeof(buf), f);
  SAY("fgets: %s%s%s\n", r ? "[" : "NULL", r ? buf : "", r ? "]" : "");
  if (r) {
    errno = 0;
    r = fgets(buf, sizeof(buf), f);
    SAY("fgets again: %s\n", r ? buf : "NULL");
  }
  show_state("after the reset", f);
  finish(f, &s, t);
}

static volatile sig_atomic_t caught;
static void on_usr1(int sig)
{
  (void)sig;
  caught++;
}

/* A reader in fgets, interrupted by SIGUSR1 sent until it returns. */
struct interrupted {
  FILE *f;           /* what it reads */
  pthread_t self;    /* the reader */
  volatile int done; /* its fgets returned */
  char buf[64];      /* what it got */
  char *r;           /* fgets's result */
  int err;           /* errno after it */
};

static void *reader(void *arg)
{
  struct interrupted *in = arg;
  errno = 0;
  in->r = fgets(in->buf, sizeof(in->buf), in->f);
  in->err = errno;
  in->done = 1;
  return NULL;
}

static void test_signal(int restart)
{
  struct sigaction sa;
  struct interrupted in = {0};
  pthread_t t;
  int c, srv;

  SAY("-- signal %s SA_RESTART\n", restart ? "with" : "without");
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_usr1;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(SIGUSR1, &sa, NULL);
  caught = 0;
  if (tcp_pair(&c, &srv) != 0)
    abort();
  in.f = fdopen(c, "r");
  if (pthread_create(&t, NULL, reader, &in))
    abort();
  /* Until the reader gives up (no SA_RESTART), or for a few signals. */
  while (!in.done && (!restart || caught < 3)) {
    pthread_kill(t, SIGUSR1);
    sleep_ms(20);
  }
  if (restart) {
    SAY("three signals caught, reader still waiting: %d\n", !in.done);
    if (send(srv, "after signals\n", 14, 0) != 14)
      abort();
  }
  pthread_join(t, NULL);
  if (in.r)
    in.buf[strcspn(in.buf, "\n")] = 0;
  SAY("fgets: %s errno %s ferror %d\n", in.r ? in.buf : "NULL",
      in.err ? strerrorname_np(in.err) : "0", ferror(in.f) != 0);
  if (!restart) {
    clearerr(in.f);
    SAY("after clearerr: ferror %d\n", ferror(in.f) != 0);
    if (send(srv, "next line\n", 10, 0) != 10)
      abort();
    in.r = fgets(in.buf, sizeof(in.buf), in.f);
    SAY("fgets: %s", in.r ? in.buf : "NULL\n");
  }
  fclose(in.f);
  close(srv);
  signal(SIGUSR1, SIG_DFL);
}

static void test_rcvtimeo(void)
{
  struct timeval tv = {0, 50000};
  char buf[64];
  char *r;
  int c, srv;
  FILE *f;

  SAY("-- SO_RCVTIMEO\n");
  if (tcp_pair(&c, &srv) != 0)
    abort();
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  f = fdopen(c, "r");
  if (send(srv, "no end", 6, 0) != 6)
    abort();
  errno = 0;
  r = fgets(buf, sizeof(buf), f);
  SAY("fgets: %s%s%s\n", r ? "[" : "NULL", r ? buf : "", r ? "]" : "");
  show_state("after the timeout", f);
  fclose(f);
  close(srv);
}

int main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  signal(SIGPIPE, SIG_IGN);
  test_getline();
  test_fread();
  test_fscanf();
  test_reset();
  test_signal(0);
  test_signal(1);
  test_rcvtimeo();
  check_threads(1);
  return 0;
}
