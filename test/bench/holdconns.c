/* holdconns.c: opens many TCP connections to an echo server and holds them
 * idle.
 *
 * Connection i (counting from -o offset) binds to 127.0.0.(1 + i % nsrc)
 * with IP_BIND_ADDRESS_NO_PORT before connecting to 127.0.0.1:PORT, so
 * that more than the ~28k ephemeral ports of one (source, destination)
 * pair can be used. At most 256 connect at a time. Each connection, once
 * up, sends one byte and counts as echoed when the byte comes back; it
 * then stays idle. Connecting stops when every connection is up or has
 * failed, or when nothing has progressed for -s seconds (a server that
 * stopped accepting leaves connects hanging in SYN retries). Then it
 * prints one line and holds every connection until killed or -H seconds
 * pass:
 *   held conns=N up=U failed=F echoed=E secs=S
 * One thread, one epoll set, non-blocking; it does not link libgpatch.
 * Each connection is an fd here: split a large N over several processes
 * (-o keeps their source addresses spread). Figures, not a test.
 *
 *   holdconns [-n conns] [-o offset] [-a nsrc] [-s stall_secs]
 *             [-H hold_secs] port */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_EVENTS     1024
#define MAX_CONNECTING 256

enum { C_IDLE, C_CONNECTING, C_UP, C_ECHOED, C_DEAD };

static int *fds;    /* each connection's socket, or -1 */
static char *state; /* each connection's C_* */
static int nconns, offset, nsrc = 8, ep, port;
static int nup, nfailed, nechoed, nconnecting;

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fail(int i)
{
  if (state[i] == C_CONNECTING)
    nconnecting--;
  if (state[i] == C_UP || state[i] == C_ECHOED)
    nup--;
  if (state[i] == C_ECHOED)
    nechoed--;
  if (fds[i] >= 0)
    close(fds[i]);
  fds[i] = -1;
  state[i] = C_DEAD;
  nfailed++;
}

/* Starts connecting connection i. Returns 0, or -1 when this process is
 * out of fds (no point opening more). */
static int open_one(int i)
{
  struct sockaddr_in a = {.sin_family = AF_INET};
  struct sockaddr_in src = {.sin_family = AF_INET};
  struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLET,
                           .data.u32 = (uint32_t)i};
  int one = 1, fd;

  fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    state[i] = C_DEAD;
    nfailed++;
    return errno == EMFILE || errno == ENFILE ? -1 : 0;
  }
  fds[i] = fd;
  state[i] = C_CONNECTING;
  nconnecting++;
  src.sin_addr.s_addr =
      htonl(INADDR_LOOPBACK + (uint32_t)((offset + i) % nsrc));
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0 ||
      (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 &&
       errno != EINPROGRESS) ||
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
    fail(i);
  return 0;
}

/* Connection i has an event. Returns 1 when it made progress. */
static int on_ready(int i, uint32_t events)
{
  char c = 'x';

  if (state[i] == C_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
      return 0;
    if (getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err ||
        send(fds[i], &c, 1, MSG_NOSIGNAL) != 1) {
      fail(i);
      return 1;
    }
    nconnecting--;
    nup++;
    state[i] = C_UP;
  }
  if (state[i] == C_UP && (events & EPOLLIN)) {
    ssize_t n = recv(fds[i], &c, 1, 0);
    if (n == 1) {
      state[i] = C_ECHOED;
      nechoed++;
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      fail(i);
    }
  } else if (state[i] == C_ECHOED && (events & (EPOLLHUP | EPOLLERR))) {
    fail(i);
  }
  return 1;
}

static void usage(void)
{
  fprintf(stderr, "usage: holdconns [-n conns] [-o offset] [-a nsrc] "
                  "[-s stall_secs] [-H hold_secs] port\n");
  exit(2);
}

int main(int argc, char **argv)
{
  struct epoll_event evs[MAX_EVENTS];
  double stall = 3, hold = 600;
  uint64_t t0, last_progress, t_held = 0;
  int opt, next = 0, out_of_fds = 0;

  nconns = 1000;
  while ((opt = getopt(argc, argv, "n:o:a:s:H:")) != -1) {
    switch (opt) {
    case 'n':
      nconns = atoi(optarg);
      break;
    case 'o':
      offset = atoi(optarg);
      break;
    case 'a':
      nsrc = atoi(optarg);
      break;
    case 's':
      stall = atof(optarg);
      break;
    case 'H':
      hold = atof(optarg);
      break;
    default:
      usage();
    }
  }
  if (optind != argc - 1 || nconns <= 0 || nsrc <= 0 || nsrc > 254)
    usage();
  port = atoi(argv[optind]);
  fds = malloc((size_t)nconns * sizeof(*fds));
  state = calloc((size_t)nconns, 1);
  if (fds == NULL || state == NULL || (ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
    perror("holdconns");
    return 2;
  }
  for (int i = 0; i < nconns; i++)
    fds[i] = -1;

  t0 = last_progress = now_ns();
  for (;;) {
    uint64_t now = now_ns();
    int n;

    if (!t_held) {
      while (!out_of_fds && nconnecting < MAX_CONNECTING && next < nconns)
        if (open_one(next++) != 0)
          out_of_fds = 1;
      if (out_of_fds)
        for (; next < nconns; next++)
          state[next] = C_DEAD, nfailed++;
      /* Done once nothing connects and every echo is in, or stalled. */
      if ((next == nconns && nconnecting == 0 && nechoed == nup) ||
          now - last_progress > (uint64_t)(stall * 1e9)) {
        for (int i = 0; i < nconns; i++)
          if (state[i] == C_CONNECTING || state[i] == C_IDLE) {
            if (state[i] == C_IDLE)
              state[i] = C_DEAD, nfailed++;
            else
              fail(i);
          }
        next = nconns;
        t_held = now;
        printf("held conns=%d up=%d failed=%d echoed=%d secs=%.2f\n", nconns,
               nup, nfailed, nechoed, (double)(now - t0) / 1e9);
        fflush(stdout);
      }
    } else if (now - t_held > (uint64_t)(hold * 1e9)) {
      break;
    }
    n = epoll_wait(ep, evs, MAX_EVENTS, 100);
    if (n < 0 && errno != EINTR) {
      perror("holdconns: epoll_wait");
      return 2;
    }
    for (int i = 0; i < n; i++) {
      int k = (int)evs[i].data.u32;
      if (state[k] != C_DEAD && on_ready(k, evs[i].events) && !t_held)
        last_progress = now_ns();
    }
  }
  return 0;
}
