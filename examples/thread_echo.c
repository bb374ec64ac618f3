/* thread_echo.c: a thread-per-connection echo server written the 1999 way —
 * blocking accept, recv and send, one detached thread per connection with
 * default attributes. It knows nothing of libgpatch and is built without
 * it: run it plain, then under `gpatch --` (or LD_PRELOAD), and the same
 * binary holds its connections on one OS thread.
 *
 *   thread_echo [port]    (default 16001; 0 picks a free port)
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
  char buf[4096];
  ssize_t n;

  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
    if (send(fd, buf, (size_t)n, 0) != n)
      break;
  close(fd);
  return NULL;
}

int main(int argc, char **argv)
{
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t al = sizeof(a);
  pthread_attr_t attr;
  int one = 1, lfd;

  a.sin_port = htons(argc > 1 ? (uint16_t)atoi(argv[1]) : 16001);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lfd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(lfd, 4096) != 0) {
    perror("thread_echo: bind/listen");
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
