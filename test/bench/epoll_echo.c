/* epoll_echo.c: a hand-written echo server, the physical limit the
 * gpatch echo server (examples/echo_server.c) is compared with.
 *
 * One thread, one edge-triggered epoll set. The listener is non-blocking
 * and accepted from until EAGAIN; each connection is registered once for
 * both directions (as libgpatch registers the fds it waits on), read until
 * EAGAIN, and everything read is sent straight back. Bytes the kernel would
 * not take are kept and sent when the socket says it has room; reading
 * stops meanwhile. It does not link libgpatch.
 *
 *   epoll_echo [port]    (default 16001; 0 picks a free port)
 * Prints "listening on 127.0.0.1:PORT" once ready. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF        4096
#define MAX_EVENTS 256

/* A connection: what it still has to send back. */
struct conn {
  int fd;            /* the socket */
  size_t off;        /* first byte of pending[] not yet sent */
  size_t len;        /* end of the pending bytes */
  char pending[BUF]; /* bytes read but not yet echoed */
};

/* Sends what c has pending. Returns 0 when all went, 1 when the socket is
 * full, -1 when the connection is finished. */
static int flush(struct conn *c)
{
  while (c->off < c->len) {
    ssize_t n = send(c->fd, c->pending + c->off, c->len - c->off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
    }
    c->off += (size_t)n;
  }
  c->off = c->len = 0;
  return 0;
}

/* Reads until EAGAIN, echoing as it goes. Returns -1 when the connection
 * is finished (EOF or error), else 0. */
static int serve(struct conn *c)
{
  int r = flush(c);
  if (r != 0)
    return r < 0 ? -1 : 0; /* still full: EPOLLOUT comes back */
  for (;;) {
    ssize_t n = recv(c->fd, c->pending, BUF, 0);
    if (n == 0)
      return -1;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    }
    c->off = 0;
    c->len = (size_t)n;
    r = flush(c);
    if (r != 0)
      return r < 0 ? -1 : 0;
  }
}

int main(int argc, char **argv)
{
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t al = sizeof(a);
  struct epoll_event ev, evs[MAX_EVENTS];
  int one = 1, lfd, ep;

  a.sin_port = htons(argc > 1 ? (uint16_t)atoi(argv[1]) : 16001);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      listen(lfd, 4096) != 0) {
    perror("epoll_echo: bind/listen");
    return 1;
  }
  getsockname(lfd, (struct sockaddr *)&a, &al);
  ep = epoll_create1(EPOLL_CLOEXEC);
  memset(&ev, 0, sizeof(ev));
  ev.events = EPOLLIN | EPOLLET;
  ev.data.ptr = NULL; /* the listener */
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
    perror("epoll_echo: epoll");
    return 1;
  }
  printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port));
  fflush(stdout);

  for (;;) {
    int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      perror("epoll_echo: epoll_wait");
      return 1;
    }
    for (int i = 0; i < n; i++) {
      struct conn *c = evs[i].data.ptr;
      if (c == NULL) {
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
              continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
              perror("epoll_echo: accept4");
            break;
          }
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          c = calloc(1, sizeof(*c));
          if (c == NULL) {
            close(fd);
            continue;
          }
          c->fd = fd;
          ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
          ev.data.ptr = c;
          if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            free(c);
            continue;
          }
          /* Data may already be there: the edge came before the add. */
          if (serve(c) < 0) {
            close(fd); /* also leaves the epoll set */
            free(c);
          }
        }
        continue;
      }
      if (serve(c) < 0) {
        close(c->fd);
        free(c);
      }
    }
  }
}
