/* fetch.c: the seeds' urlopen example. Three coroutines each resolve a name
 * with getaddrinfo, connect, send an HTTP GET and read the response — all
 * with plain libc calls. The servers (started here, in child processes, on
 * 127.0.0.1) answer after 300, 100 and 200 ms.
 *
 * Patched, the three requests wait at the same time: the fastest server's
 * answer is printed first and the whole run takes about 300 ms. With
 * GPATCH_PATCH=none the libc calls block the thread, the coroutines run one
 * after another, and it takes the sum, about 600 ms. */
#define _GNU_SOURCE
#include <gpatch.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const int delays_ms[3] = {300, 100, 200};

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A tiny HTTP server: answers every request after delay_ms. */
static void serve(int lfd, int delay_ms)
{
  char buf[1024], body[64], resp[256];
  for (;;) {
    int c = accept(lfd, NULL, NULL);
    struct timespec d = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
    int n, len;
    if (c < 0)
      continue;
    n = (int)read(c, buf, sizeof(buf));
    (void)n;
    nanosleep(&d, NULL);
    len = snprintf(body, sizeof(body), "answered after %d ms\n", delay_ms);
    n = snprintf(resp, sizeof(resp),
                 "HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s", len, body);
    if (write(c, resp, (size_t)n) < 0)
      perror("write");
    close(c);
  }
}

static pid_t start_server(int delay_ms, int *port)
{
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t al = sizeof(a);
  int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
  pid_t pid;

  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 16)) {
    perror("bind/listen");
    exit(1);
  }
  getsockname(lfd, (struct sockaddr *)&a, &al);
  *port = ntohs(a.sin_port);
  pid = fork();
  if (pid == 0) {
    serve(lfd, delay_ms);
    _exit(0);
  }
  close(lfd);
  return pid;
}

struct job {
  char url[64]; /* what is fetched */
  int port;     /* the server's port */
  double start; /* when the run began */
};

static void *fetch(void *arg)
{
  struct job *j = arg;
  struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
  struct addrinfo *res;
  char port[8], req[128], resp[512];
  size_t got = 0;
  ssize_t n;
  int fd, err;

  snprintf(port, sizeof(port), "%d", j->port);
  if ((err = getaddrinfo("localhost", port, &hints, &res)) != 0) {
    fprintf(stderr, "getaddrinfo: %s\n", gai_strerror(err));
    return (void *)1;
  }
  fd = socket(res->ai_family, res->ai_socktype, 0);
  if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    perror("connect");
    freeaddrinfo(res);
    return (void *)1;
  }
  freeaddrinfo(res);
  n = snprintf(req, sizeof(req), "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n");
  if (send(fd, req, (size_t)n, 0) != n) {
    perror("send");
    return (void *)1;
  }
  while ((n = recv(fd, resp + got, sizeof(resp) - 1 - got, 0)) > 0)
    got += (size_t)n;
  resp[got] = '\0';
  close(fd);
  printf("%6.0f ms  %s: %s", now_ms() - j->start, j->url,
         strstr(resp, "\r\n\r\n") ? strstr(resp, "\r\n\r\n") + 4 : "?\n");
  return NULL;
}

int main(void)
{
  struct job jobs[3];
  gp_coro_t *co[3];
  pid_t pids[3];
  void *rets[3];
  double start;
  int status = 0;

  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 0; i < 3; i++)
    pids[i] = start_server(delays_ms[i], &jobs[i].port);
  start = now_ms();
  for (int i = 0; i < 3; i++) {
    snprintf(jobs[i].url, sizeof(jobs[i].url), "http://localhost:%d/",
             jobs[i].port);
    jobs[i].start = start;
    if (gp_spawn(&co[i], fetch, &jobs[i]) < 0)
      return 1;
  }
  gp_joinall(co, 3, rets, GP_FOREVER);
  printf("all three fetched in %.0f ms\n", now_ms() - start);
  for (int i = 0; i < 3; i++) {
    kill(pids[i], SIGTERM);
    waitpid(pids[i], NULL, 0);
    status |= rets[i] != NULL;
  }
  return status;
}
