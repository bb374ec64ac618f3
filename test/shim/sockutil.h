/* sockutil.h: helpers of the socket tests (d_sock_*, p_sock_*): a loopback
 * listener, and a way to print a call's result and errno on one line. */
#ifndef GP_TEST_SOCKUTIL_H
#define GP_TEST_SOCKUTIL_H

#include "compat.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* Makes the call, then prints "label: result errno-name" ("-" when it did
 * not fail). The result is left in call_r. */
static long call_r __attribute__((unused));
#define CALL(label, expr)                                                      \
  do {                                                                         \
    int e_;                                                                    \
    errno = 0;                                                                 \
    call_r = (long)(expr);                                                     \
    e_ = errno;                                                                \
    SAY("%s: %ld %s\n", label, call_r,                                         \
        call_r < 0 ? strerrorname_np(e_) : "-");                               \
  } while (0)

/* A TCP socket of type (SOCK_NONBLOCK allowed) listening on 127.0.0.1 with
 * the given backlog; its address in *a. Returns the fd or -1. */
static inline int tcp_listener(struct sockaddr_in *a, int type, int backlog)
{
  socklen_t len = sizeof(*a);
  int fd = socket(AF_INET, SOCK_STREAM | type, 0);
  memset(a, 0, sizeof(*a));
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) != 0 ||
      listen(fd, backlog) != 0 ||
      getsockname(fd, (struct sockaddr *)a, &len) != 0)
    return -1;
  return fd;
}

/* A connected pair of TCP sockets over loopback (c: client, s: server).
 * Returns 0 or -1. */
static inline int tcp_pair(int *c, int *s)
{
  struct sockaddr_in a;
  int l = tcp_listener(&a, 0, 1);
  if (l < 0)
    return -1;
  *c = socket(AF_INET, SOCK_STREAM, 0);
  if (*c < 0 || connect(*c, (struct sockaddr *)&a, sizeof(a)) != 0)
    return -1;
  *s = accept(l, NULL, NULL);
  close(l);
  return *s < 0 ? -1 : 0;
}

/* O_NONBLOCK as the kernel has it, read from /proc (no interposer sees
 * it): 1, 0, or -1. */
static inline int kernel_nonblock(int fd)
{
  char path[64], line[128];
  unsigned flags;
  int r = -1;
  FILE *f;
  snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
  if ((f = fopen(path, "re")) == NULL)
    return -1;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "flags: %o", &flags) == 1)
      r = (flags & O_NONBLOCK) != 0;
  fclose(f);
  return r;
}

/* 1 when fd's F_GETFL has O_NONBLOCK, 0 if not, -1 on error. */
static inline int nonblock_flag(int fd)
{
  int fl = fcntl(fd, F_GETFL);
  return fl < 0 ? -1 : (fl & O_NONBLOCK) != 0;
}

/* A thread to play ping-pong with over a socket pair: a test's thread that
 * plays shows that it runs while a call of another thread waits. */
struct ponger {
  int sv[2];   /* sv[0] the player's end, sv[1] the ponger's */
  pthread_t t; /* the ponger, answering each byte until a 'q' */
};

static inline void *ponger_run(void *arg)
{
  struct ponger *p = arg;
  char c;
  while (read(p->sv[1], &c, 1) == 1 && c != 'q')
    if (write(p->sv[1], &c, 1) != 1)
      abort();
  return NULL;
}

static inline void ponger_start(struct ponger *p)
{
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, p->sv) != 0 ||
      pthread_create(&p->t, NULL, ponger_run, p) != 0)
    abort();
}

/* Plays n rounds from the calling thread, then tells the ponger to end. */
static inline void ponger_play(struct ponger *p, int n)
{
  char c = 'p';
  for (int i = 0; i < n; i++)
    if (write(p->sv[0], &c, 1) != 1 || read(p->sv[0], &c, 1) != 1)
      abort();
  if (write(p->sv[0], "q", 1) != 1)
    abort();
}

/* Joins the ponger and closes the pair. */
static inline void ponger_stop(struct ponger *p)
{
  pthread_join(p->t, NULL);
  close(p->sv[0]);
  close(p->sv[1]);
}

#endif /* GP_TEST_SOCKUTIL_H */
