/* d_stdio_server: the 1999 server shape — a thread per connection that wraps
 * its socket in stdio (in = fdopen(fd, "r"), out = fdopen(dup(fd), "w"),
 * fgets, fprintf, fflush) — under 1,000 concurrent clients, each sending
 * its lines in pieces with pauses between them, so that every fgets has to
 * put a line together from several reads and waits in between. Every
 * client must get back exactly its own lines, in order, and the patched run
 * must hold all 2,001 threads on one OS thread. */
#include "sockutil.h"

#include <pthread.h>
#include <semaphore.h>
#include <sys/resource.h>

#define CLIENTS 1000
#define LINES   3

static struct sockaddr_in addr;
static int listener;
static int transcripts_ok;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t served; /* posted by each connection's thread as it ends */

/* One connection's server side, as the old servers wrote it. */
static void *serve(void *arg)
{
  int fd = (int)(intptr_t)arg;
  FILE *in = fdopen(fd, "r"), *out = fdopen(dup(fd), "w");
  char line[256];
  int n = 0;

  if (in == NULL || out == NULL)
    abort();
  while (fgets(line, sizeof(line), in) != NULL) {
    fprintf(out, "echo %d: %s", ++n, line);
    fflush(out);
  }
  fprintf(out, "bye after %d lines, eof %d error %d\n", n, feof(in) != 0,
          ferror(in) != 0);
  fclose(in);
  fclose(out);
  sem_post(&served); /* its client saw end of stream inside that fclose */
  return NULL;
}

static void *acceptor(void *arg)
{
  pthread_attr_t attr;
  (void)arg;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  for (int i = 0; i < CLIENTS; i++) {
    pthread_t t;
    int fd = accept(listener, NULL, NULL);
    if (fd < 0 || pthread_create(&t, &attr, serve, (void *)(intptr_t)fd))
      abort();
  }
  return NULL;
}

/* Reads one line (up to '\n') with recv into buf; returns its length, 0 at
 * end of stream. */
static size_t recv_line(int fd, char *buf, size_t size)
{
  size_t n = 0;
  while (n + 1 < size) {
    ssize_t r = recv(fd, buf + n, 1, 0);
    if (r <= 0)
      break;
    if (buf[n++] == '\n')
      break;
  }
  buf[n] = 0;
  return n;
}

static void *client(void *arg)
{
  int id = (int)(intptr_t)arg, fd = socket(AF_INET, SOCK_STREAM, 0);
  char line[128], got[256], want[256], all[1024] = "";
  int ok = 1;

  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
    abort();
  for (int l = 1; l <= LINES; l++) {
    int len = snprintf(line, sizeof(line), "client %d says line %d\n", id, l);
    int cut1 = len / 3, cut2 = 2 * len / 3;
    /* The line in three pieces, with pauses: the server's fgets waits in
     * the middle of a line. */
    if (send(fd, line, (size_t)cut1, 0) != cut1)
      abort();
    sleep_ms(1 + id % 3);
    if (send(fd, line + cut1, (size_t)(cut2 - cut1), 0) != cut2 - cut1)
      abort();
    sleep_ms(1 + id % 2);
    if (send(fd, line + cut2, (size_t)(len - cut2), 0) != len - cut2)
      abort();
    recv_line(fd, got, sizeof(got));
    snprintf(want, sizeof(want), "echo %d: %s", l, line);
    ok &= strcmp(got, want) == 0;
    strncat(all, got, sizeof(all) - strlen(all) - 1);
    if (id == 0 && l == 1)
      check_threads(1);
  }
  shutdown(fd, SHUT_WR);
  recv_line(fd, got, sizeof(got));
  ok &= strcmp(got, "bye after 3 lines, eof 1 error 0\n") == 0;
  strncat(all, got, sizeof(all) - strlen(all) - 1);
  recv_line(fd, got, sizeof(got));
  ok &= got[0] == 0; /* then end of stream */
  close(fd);
  pthread_mutex_lock(&lock);
  transcripts_ok += ok;
  pthread_mutex_unlock(&lock);
  if (!ok)
    fprintf(stderr, "client %d: %s", id, all);
  return NULL;
}

int main(void)
{
  static pthread_t clients[CLIENTS];
  struct rlimit rl;
  pthread_attr_t attr;
  pthread_t acc;

  setvbuf(stdout, NULL, _IOLBF, 0);
  sem_init(&served, 0, 0);
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  listener = tcp_listener(&addr, 0, CLIENTS);
  EXPECT("listener", listener >= 0);
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  if (pthread_create(&acc, &attr, acceptor, NULL))
    abort();
  for (int i = 0; i < CLIENTS; i++)
    if (pthread_create(&clients[i], &attr, client, (void *)(intptr_t)i))
      abort();
  for (int i = 0; i < CLIENTS; i++)
    pthread_join(clients[i], NULL);
  pthread_join(acc, NULL);
  /* The detached connection threads too: exit's flush of every stream
   * must not meet one still inside fclose (a race plain has as well). */
  for (int i = 0; i < CLIENTS; i++)
    while (sem_wait(&served) != 0)
      ;
  SAY("clients %d, transcripts as expected %d\n", CLIENTS, transcripts_ok);
  return transcripts_ok != CLIENTS;
}
