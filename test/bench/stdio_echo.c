/* stdio_echo.c: thread_echo written with stdio, as the old inetd-era
 * servers were — a detached thread per connection that wraps its socket in
 * two streams (fdopen of the fd and of a dup), reads lines with fgets and
 * echoes each with fputs and fflush. Built without libgpatch, run plain and
 * preloaded by scripts/bench-threads (the "stdio" part), under loadgen -l.
 *
 *   stdio_echo [port]    (0 picks a free port)
 * Prints "listening on 127.0.0.1:PORT" once ready. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void *serve(void *arg)
{
  int fd = (int)(intptr_t)arg;
  FILE *in = fdopen(fd, "r"), *out = fdopen(dup(fd), "w");
  char line[4096];

  if (in == NULL || out == NULL)
    abort();
  while (fgets(line, sizeof(line), in) != NULL)
    if (fputs(line, out) == EOF || fflush(out) == EOF)
      break;
  fclose(in);
  fclose(out);
  return NULL;
}

int main(int argc, char **argv)
{
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t al = sizeof(a);
  pthread_attr_t attr;
  int one = 1, lfd;

  a.sin_port = htons(argc > 1 ? (uint16_t)atoi(argv[1]) : 0);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lfd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(lfd, 4096) != 0) {
    perror("stdio_echo: bind/listen");
    return 1;
  }
  getsockname(lfd, (struct sockaddr *)&a, &al);
  printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
  fflush(stdout);
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (;;) {
    pthread_t t;
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      perror("accept");
      continue;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (pthread_create(&t, &attr, serve, (void *)(intptr_t)fd) != 0) {
      perror("pthread_create");
      close(fd);
    }
  }
}
