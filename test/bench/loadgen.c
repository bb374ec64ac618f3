/* loadgen.c: a load generator for echo servers.
 *
 * Opens N TCP connections to 127.0.0.1:PORT (at most 256 connecting at a
 * time, so that a listen backlog does not overflow), and has each play
 * 64-byte ping-pong: send 64 bytes, wait for all 64 to come back, send
 * again. Each connection sends one ping as soon as it is up and then
 * waits; once every one has had that echo back (or has failed), all play,
 * a warm-up runs, then the measured window. So a server that accepts
 * slowly (a thread per connection, the acceptor competing for the CPU with
 * the threads it made) is measured with all its connections. It is one thread
 * with one epoll set, non-blocking throughout, and does not link libgpatch.
 *
 *   loadgen [-c conns] [-d secs] [-w warmup_secs] [-p server_pid] port
 *
 * Output, one "key=value ..." line at the end of the window (flushed):
 *   conns failed msgs secs msgs_per_s p50_us p99_us max_us
 * and with -p, the server's CPU seconds (utime + stime from /proc/PID/stat)
 * over exactly the measured window, and its VmRSS and VmPTE (page tables,
 * KiB) and Threads at the window's end:
 *   server_cpu_s server_rss_kib server_pte_kib server_threads
 * Before the window it prints "connected up=N failed=M" and "measuring",
 * so that a script can attach tracers to the server in steady state. A
 * connection fails when it cannot connect and get its first echo within
 * 30 s, or is closed or reset by the server before the window ends. Figures, not a test: the exit status is
 * nonzero only when nothing could be measured. */
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
#include <time.h>
#include <unistd.h>

#define MSG 64
#define MAX_EVENTS 1024
#define MAX_CONNECTING 256
/* How long connecting may take, all connections together. */
#define CONNECT_TIMEOUT_NS (30 * 1000000000ull)

enum { C_IDLE, C_CONNECTING, C_ACTIVE, C_DEAD };

/* One client connection. */
struct conn {
  int fd;            /* its socket, -1 before connecting and once dead */
  int state;         /* C_* */
  size_t sent;       /* bytes of the current ping sent */
  size_t got;        /* bytes of the current echo received */
  uint64_t t0;       /* when the current ping was first sent, ns */
  int echoed;        /* a whole echo has come back */
};

static struct conn *conns;
static int nconns, ep, port;
/* Round trips of the window, in units of 100 ns, sorted at the end. */
static uint32_t *lat;
static size_t nlat, lat_cap;
static uint64_t nmsgs, max_ns;
static int recording, pinging, nfailed, nup, nechoed, nconnecting,
    next_to_open;
static char ping[MSG];

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
  perror(what);
  exit(2);
}

static void fail(struct conn *c)
{
  if (c->state == C_CONNECTING)
    nconnecting--;
  if (c->state == C_ACTIVE)
    nup--;
  if (c->echoed)
    nechoed--;
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  c->state = C_DEAD;
  nfailed++;
}

/* Starts connecting connection i. */
static void open_one(int i)
{
  struct conn *c = &conns[i];
  struct sockaddr_in a = {.sin_family = AF_INET};
  struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
  int one = 1;

  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    perror("loadgen: socket");
    c->state = C_DEAD;
    nfailed++;
    return;
  }
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->state = C_CONNECTING;
  nconnecting++;
  if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0 &&
      errno != EINPROGRESS) {
    fail(c);
    return;
  }
  if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
    fail(c);
}

/* Sends what is left of the current ping. Returns 0, or -1 on failure. */
static int push(struct conn *c)
{
  while (c->sent < MSG) {
    ssize_t n = send(c->fd, ping + c->sent, MSG - c->sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        /* Never with 64 bytes in flight, but be correct: wait for room. */
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT,
                                 .data.u32 = (uint32_t)(c - conns)};
        return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
      }
      return -1;
    }
    c->sent += (size_t)n;
  }
  return 0;
}

static int start_ping(struct conn *c)
{
  c->sent = 0;
  c->got = 0;
  c->t0 = now_ns();
  return push(c);
}

/* The connection has data, or room: receive, count and ping again. */
static void on_ready(struct conn *c, uint32_t events)
{
  char buf[MSG];

  if (c->state == C_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof(err);
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u32 = (uint32_t)(c - conns)};
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err ||
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
      fail(c);
      return;
    }
    nconnecting--;
    nup++;
    c->state = C_ACTIVE;
    if (start_ping(c) != 0)
      fail(c);
    return;
  }
  if ((events & EPOLLOUT) && c->sent < MSG) {
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u32 = (uint32_t)(c - conns)};
    if (push(c) != 0) {
      fail(c);
      return;
    }
    if (c->sent == MSG && epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
      fail(c);
      return;
    }
  }
  for (;;) {
    ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
    if (n == 0) {
      fail(c);
      return;
    }
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        fail(c);
      return;
    }
    c->got += (size_t)n;
    if (c->got > MSG) {
      fprintf(stderr, "loadgen: the server sent more than was sent\n");
      exit(2);
    }
    if (c->got == MSG) {
      int first = !c->echoed;
      if (first)
        c->echoed = 1, nechoed++;
      if (first && !pinging)
        return; /* it waits for the others: see main */
      if (recording) {
        uint64_t d = now_ns() - c->t0;
        if (nlat == lat_cap) {
          lat_cap = lat_cap ? 2 * lat_cap : 1 << 16;
          if ((lat = realloc(lat, lat_cap * sizeof(*lat))) == NULL)
            die("loadgen: realloc");
        }
        lat[nlat++] = d / 100 > UINT32_MAX ? UINT32_MAX : (uint32_t)(d / 100);
        if (d > max_ns)
          max_ns = d;
        nmsgs++;
      }
      if (start_ping(c) != 0) {
        fail(c);
        return;
      }
    }
  }
}

static int cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* Latency in µs at quantile q of the recorded samples (sorted). */
static double quantile(double q)
{
  size_t i = (size_t)(q * (double)nlat);
  if (nlat == 0)
    return 0;
  if (i >= nlat)
    i = nlat - 1;
  return (double)lat[i] / 10.0;
}

/* The server's CPU seconds so far (utime + stime), or -1. */
static double server_cpu(int pid)
{
  char path[64], buf[1024], *p;
  unsigned long ut, st;
  FILE *f;
  size_t n;

  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  if ((f = fopen(path, "re")) == NULL)
    return -1;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = 0;
  /* Fields after the command name, which may hold spaces and ')'. */
  if ((p = strrchr(buf, ')')) == NULL ||
      sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
             &ut, &st) != 2)
    return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A "Key:   value" number of /proc/PID/status, or -1. */
static long server_status(int pid, const char *key)
{
  char path[64], line[256];
  size_t kl = strlen(key);
  long v = -1;
  FILE *f;

  snprintf(path, sizeof(path), "/proc/%d/status", pid);
  if ((f = fopen(path, "re")) == NULL)
    return -1;
  while (fgets(line, sizeof(line), f))
    if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
      v = strtol(line + kl + 1, NULL, 10);
      break;
    }
  fclose(f);
  return v;
}

static void usage(void)
{
  fprintf(stderr, "usage: loadgen [-c conns] [-d secs] [-w warmup_secs] "
                  "[-p server_pid] port\n");
  exit(2);
}

int main(int argc, char **argv)
{
  struct epoll_event evs[MAX_EVENTS];
  double secs = 5, warmup = 1, cpu0 = 0, cpu1 = 0;
  uint64_t t_connect, t_warm = 0, t_start = 0, t_end = 0;
  int opt, pid = 0;

  nconns = 100;
  while ((opt = getopt(argc, argv, "c:d:w:p:")) != -1) {
    switch (opt) {
    case 'c':
      nconns = atoi(optarg);
      break;
    case 'd':
      secs = atof(optarg);
      break;
    case 'w':
      warmup = atof(optarg);
      break;
    case 'p':
      pid = atoi(optarg);
      break;
    default:
      usage();
    }
  }
  if (optind != argc - 1 || nconns <= 0 || secs <= 0 || warmup < 0)
    usage();
  port = atoi(argv[optind]);
  memset(ping, 'x', sizeof(ping));
  if ((conns = calloc((size_t)nconns, sizeof(*conns))) == NULL)
    die("loadgen: calloc");
  for (int i = 0; i < nconns; i++)
    conns[i].fd = -1;
  if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
    die("loadgen: epoll_create1");

  t_connect = now_ns();
  for (;;) {
    uint64_t now = now_ns();
    int timeout = 100, n;

    /* Phases: connecting, warm-up, measuring; then report. */
    if (t_warm == 0) {
      while (nconnecting < MAX_CONNECTING && next_to_open < nconns)
        open_one(next_to_open++);
      if (next_to_open == nconns && nconnecting == 0 && nechoed == nup) {
        t_warm = now;
        pinging = 1;
        for (int i = 0; i < nconns; i++)
          if (conns[i].state == C_ACTIVE && start_ping(&conns[i]) != 0)
            fail(&conns[i]);
        printf("connected up=%d failed=%d\n", nup, nfailed);
        fflush(stdout);
      } else if (now - t_connect > CONNECT_TIMEOUT_NS) {
        for (int i = 0; i < nconns; i++)
          if (conns[i].state == C_CONNECTING || conns[i].state == C_IDLE ||
              (conns[i].state == C_ACTIVE && !conns[i].echoed)) {
            if (conns[i].state == C_IDLE)
              nfailed++, conns[i].state = C_DEAD;
            else
              fail(&conns[i]);
          }
        next_to_open = nconns;
        continue;
      }
    }
    if (t_warm && !t_start && now >= t_warm + (uint64_t)(warmup * 1e9)) {
      if (pid)
        cpu0 = server_cpu(pid);
      t_start = now_ns();
      t_end = t_start + (uint64_t)(secs * 1e9);
      recording = 1;
      printf("measuring\n");
      fflush(stdout);
    }
    if (t_start && now >= t_end) {
      t_end = now;
      if (pid)
        cpu1 = server_cpu(pid);
      break;
    }
    if (t_start) {
      uint64_t left = t_end - now;
      timeout = (int)(left / 1000000) + 1;
      if (timeout > 100)
        timeout = 100;
    }
    n = epoll_wait(ep, evs, MAX_EVENTS, timeout);
    if (n < 0 && errno != EINTR)
      die("loadgen: epoll_wait");
    for (int i = 0; i < n; i++) {
      struct conn *c = &conns[evs[i].data.u32];
      if (c->state == C_CONNECTING || c->state == C_ACTIVE)
        on_ready(c, evs[i].events);
    }
  }

  {
    double span = (double)(t_end - t_start) / 1e9;
    qsort(lat, nlat, sizeof(*lat), cmp_u32);
    printf("conns=%d failed=%d msgs=%llu secs=%.3f msgs_per_s=%.0f "
           "p50_us=%.1f p99_us=%.1f max_us=%.1f",
           nconns, nfailed, (unsigned long long)nmsgs, span,
           (double)nmsgs / span, quantile(0.50), quantile(0.99),
           (double)max_ns / 1000.0);
    if (pid)
      printf(" server_cpu_s=%.2f server_rss_kib=%ld server_pte_kib=%ld "
             "server_threads=%ld",
             cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1.0,
             server_status(pid, "VmRSS"), server_status(pid, "VmPTE"),
             server_status(pid, "Threads"));
    printf("\n");
    fflush(stdout);
  }
  return nmsgs > 0 ? 0 : 1;
}
