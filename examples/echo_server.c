/* echo_server.c: the seeds' gevent echo server. One coroutine per
 * connection, written with plain blocking accept, recv and send.
 *
 *   echo_server [port]    (default 16000; 0 picks a free port)
 * Prints "listening on 127.0.0.1:PORT" once ready. */
#include <gpatch.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void *handle(void *arg)
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
  int one = 1, lfd;

  a.sin_port = htons(argc > 1 ? (uint16_t)atoi(argv[1]) : 16000);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lfd = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(lfd, 4096) != 0) {
    perror("echo_server: bind/listen");
    return 1;
  }
  getsockname(lfd, (struct sockaddr *)&a, &al);
  printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
  fflush(stdout);
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
      perror("accept");
      continue;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (gp_spawn(NULL, handle, (void *)(intptr_t)fd) < 0)
      close(fd);
  }
}
