/* loadgen.c: a closed-loop load generator for echo and HTTP servers.
 *
 * Opens N TCP connections to 127.0.0.1:PORT (or -a ADDRESS; at most 256
 * connecting at a time, so that a listen backlog does not overflow), and has
 * each play 64-byte ping-pong: send 64 bytes, wait for all 64 to come back,
 * send again. With -g PATH each round trip is instead an HTTP/1.1
 * "GET PATH" on a keep-alive connection, its response read to its end
 * (Content-Length, chunked, or the server's close); a connection the server
 * closes after a response (HTTP/1.0, "Connection: close") is opened again
 * for the next request, as wrk does. Each connection sends one ping as soon
 * as it is up and then
 * waits; once every one has had that echo back (or has failed), all play,
 * a warm-up runs, then the measured window. So a server that accepts
 * slowly (a thread per connection, the acceptor competing for the CPU with
 * the threads it made) is measured with all its connections. It is one thread
 * with one epoll set, non-blocking throughout, and does not link libgpatch.
 *
 *   loadgen [-c conns] [-d secs] [-w warmup_secs] [-p server_pid]
 *           [-a address] [-g path] [-l] port
 *
 * With -l each ping is a line (63 bytes and a newline), for servers that
 * read lines (fgets).
 *
 * Output, one "key=value ..." line at the end of the window (flushed):
 *   conns failed msgs secs msgs_per_s p50_us p99_us max_us
 * (with -g a "msg" is a request and its response), and with -g also
 *   http_errors (responses with a status of 400 or more) reconnects
 * and with -p, the server's CPU seconds (utime + stime from /proc/PID/stat)
 * over exactly the measured window, and its VmRSS and VmPTE (page tables,
 * KiB) and Threads at the window's end:
 *   server_cpu_s server_rss_kib server_pte_kib server_threads
 * Before the window it prints "connected up=N failed=M" and "measuring",
 * so that a script can attach tracers to the server in steady state. A
 * connection fails when it cannot connect and get its first echo within
 * 30 s, or is closed or reset by the server before the window ends (with
 * -g: other than at the end of a response, or by a close of an idle
 * keep-alive connection, after which the request is sent again once on a
 * new connection). Figures, not a test: the exit status is nonzero only
 * when nothing could be measured. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG            64
#define MAX_EVENTS     1024
#define MAX_CONNECTING 256
/* The longest status, header or chunk-size line an HTTP response may have. */
#define MAX_LINE 65536
/* How long connecting may take, all connections together. */
#define CONNECT_TIMEOUT_NS (30 * 1000000000ull)
/* HTTP: how long the load waits for every connection's first response
 * before it starts; the late ones join when they come. */
#define HTTP_WAIT_NS (5 * 1000000000ull)

enum { C_IDLE, C_CONNECTING, C_ACTIVE, C_DEAD };

/* Where a connection is in an HTTP response. */
enum {
  H_STATUS,     /* the status line */
  H_HEADER,     /* header lines, up to the empty one */
  H_BODY,       /* Content-Length bytes */
  H_CHUNK_SIZE, /* a chunk's size line */
  H_CHUNK_DATA, /* a chunk's bytes */
  H_CHUNK_END,  /* the empty line after a chunk's bytes */
  H_TRAILER,    /* trailer lines after the last chunk, up to the empty one */
  H_TO_CLOSE    /* a body without a length: it ends when the server closes */
};

/* One client connection. */
struct conn {
  int fd;      /* its socket, -1 before connecting and once dead */
  int state;   /* C_* */
  size_t sent; /* bytes of the current ping sent */
  size_t got;  /* bytes of the current echo received */
  uint64_t t0; /* when the current ping was first sent, ns */
  int echoed;  /* a whole echo has come back */
  /* HTTP (-g) only: */
  int hs;         /* H_*: where it is in the current response */
  int status;     /* the response's status code */
  int keep_alive; /* the connection stays open after the response */
  int chunked;    /* the body is chunked */
  long long clen; /* the body's Content-Length, or -1 */
  uint64_t left;  /* bytes left of the body or of the current chunk */
  char *line;     /* the line being read (status, header, chunk size) */
  size_t llen;    /* bytes in line */
  size_t lcap;    /* bytes allocated for line */
  int served;     /* responses received on the current socket */
  int reuse_t0;   /* the next send continues a round trip begun earlier */
  int retried;    /* the current request was sent again after a close */
};

static struct conn *conns;
static int nconns, ep, port;
/* The server's address, and with -g the request (else the ping) sent. */
static struct sockaddr_storage addr;
static socklen_t addr_len;
static const char *out;
static size_t out_len;
static int http;
static uint64_t nhttp_errors, nreconnects;
/* Round trips of the window, in units of 100 ns, sorted at the end. */
static uint32_t *lat;
static size_t nlat, lat_cap;
static uint64_t nmsgs, max_ns;
static int recording, pinging, nfailed, nup, nechoed, nconnecting, next_to_open;
/* HTTP: connections closed after their first response, opened again when
 * all play. */
static int nparked, next_parked;
static char ping[MSG];
static char request[1024];

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
  struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
  int one = 1;

  c->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    perror("loadgen: socket");
    if (c->echoed)
      nechoed--;
    c->state = C_DEAD;
    nfailed++;
    return;
  }
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->state = C_CONNECTING;
  nconnecting++;
  if (connect(c->fd, (struct sockaddr *)&addr, addr_len) != 0 &&
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
  while (c->sent < out_len) {
    ssize_t n = send(c->fd, out + c->sent, out_len - c->sent, MSG_NOSIGNAL);
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
  c->hs = H_STATUS;
  c->llen = 0;
  if (c->reuse_t0)
    c->reuse_t0 = 0;
  else
    c->t0 = now_ns();
  return push(c);
}

/* Counts the round trip that has just ended, if the window is open. */
static void count(struct conn *c)
{
  uint64_t d = now_ns() - c->t0;

  if (!recording)
    return;
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

/* HTTP: closes connection c, which is up, and connects it again. With retry
 * the request in flight is sent again once it is up (the server closed an
 * idle keep-alive connection); else the next request's round trip begins
 * now, so that it includes the connect. */
static void reopen(struct conn *c, int retry)
{
  close(c->fd);
  c->fd = -1;
  nup--;
  c->state = C_IDLE;
  c->served = 0;
  c->retried = retry;
  c->reuse_t0 = 1;
  if (!retry)
    c->t0 = now_ns();
  if (recording)
    nreconnects++;
  open_one((int)(c - conns));
}

/* HTTP: takes bytes of a line of the response from p (n of them) into the
 * connection's line buffer, up to and including its '\n'. Returns how many
 * it took, or -1 when the line is longer than MAX_LINE. */
static ssize_t take_line(struct conn *c, const char *p, size_t n)
{
  const char *nl = memchr(p, '\n', n);
  size_t k = nl ? (size_t)(nl - p) + 1 : n;

  if (c->llen + k + 1 > c->lcap) {
    size_t cap = c->lcap ? c->lcap : 256;
    while (cap < c->llen + k + 1)
      cap *= 2;
    if (cap > MAX_LINE)
      return -1;
    if ((c->line = realloc(c->line, cap)) == NULL)
      die("loadgen: realloc");
    c->lcap = cap;
  }
  memcpy(c->line + c->llen, p, k);
  c->llen += k;
  c->line[c->llen] = '\0';
  return (ssize_t)k;
}

/* HTTP: whether header line h is "name: ..." (any case); sets *value to
 * what follows the colon and its spaces. */
static int header_is(const char *h, const char *name, const char **value)
{
  size_t k = strlen(name);

  if (strncasecmp(h, name, k) != 0 || h[k] != ':')
    return 0;
  for (h += k + 1; *h == ' ' || *h == '\t'; h++)
    ;
  *value = h;
  return 1;
}

/* HTTP: acts on the complete line in c->line (its "\r\n" removed). Returns
 * 1 when it ends the response, 0 when more follows, -1 when it is
 * malformed. */
static int on_line(struct conn *c)
{
  char *l = c->line, *end;
  const char *v;
  int major, minor;

  l[strcspn(l, "\r\n")] = '\0';
  c->llen = 0;
  switch (c->hs) {
  case H_STATUS:
    if (sscanf(l, "HTTP/%d.%d %d", &major, &minor, &c->status) != 3)
      return -1;
    c->keep_alive = major > 1 || (major == 1 && minor >= 1);
    c->chunked = 0;
    c->clen = -1;
    c->hs = H_HEADER;
    return 0;
  case H_HEADER:
    if (*l != '\0') {
      if (header_is(l, "Content-Length", &v))
        c->clen = strtoll(v, NULL, 10);
      else if (header_is(l, "Transfer-Encoding", &v))
        c->chunked = strcasestr(v, "chunked") != NULL;
      else if (header_is(l, "Connection", &v)) {
        if (strcasestr(v, "close"))
          c->keep_alive = 0;
        else if (strcasestr(v, "keep-alive"))
          c->keep_alive = 1;
      }
      return 0;
    }
    /* The end of the head: 1xx are interim, the real status follows. */
    if (c->status >= 100 && c->status < 200) {
      c->hs = H_STATUS;
      return 0;
    }
    if (c->status == 204 || c->status == 304)
      return 1;
    if (c->chunked) {
      c->hs = H_CHUNK_SIZE;
      return 0;
    }
    if (c->clen >= 0) {
      c->left = (uint64_t)c->clen;
      c->hs = H_BODY;
      return c->left == 0;
    }
    c->keep_alive = 0;
    c->hs = H_TO_CLOSE;
    return 0;
  case H_CHUNK_SIZE:
    c->left = strtoull(l, &end, 16);
    if (end == l)
      return -1;
    c->hs = c->left ? H_CHUNK_DATA : H_TRAILER;
    return 0;
  case H_CHUNK_END:
    c->hs = H_CHUNK_SIZE;
    return *l == '\0' ? 0 : -1;
  case H_TRAILER:
    return *l == '\0';
  }
  return -1;
}

/* HTTP: feeds n received bytes at p to the response parser. Returns 1 when
 * they end the response, 0 when more is needed, -1 when the response is
 * malformed or more than it arrived (nothing was asked for). */
static int http_feed(struct conn *c, const char *p, size_t n)
{
  c->got += n;
  while (n > 0) {
    if (c->hs == H_TO_CLOSE)
      return 0;
    if (c->hs == H_BODY || c->hs == H_CHUNK_DATA) {
      size_t k = n < c->left ? n : (size_t)c->left;
      p += k;
      n -= k;
      c->left -= k;
      if (c->left > 0)
        return 0;
      if (c->hs == H_BODY)
        return n == 0 ? 1 : -1;
      c->hs = H_CHUNK_END;
      continue;
    }
    ssize_t k = take_line(c, p, n);
    if (k < 0)
      return -1;
    p += k;
    n -= (size_t)k;
    if (c->line[c->llen - 1] == '\n') {
      int r = on_line(c);
      if (r != 0)
        return r < 0 || n > 0 ? -1 : 1;
    }
  }
  return 0;
}

/* HTTP: the response on c has ended. Counts it, and sends the next request
 * (on a new connection if the server closes this one). Returns 1 when the
 * next request went out on the same connection, else 0. */
static int http_done(struct conn *c)
{
  int first = !c->echoed;

  if (first)
    c->echoed = 1, nechoed++;
  if (c->status >= 400 && recording)
    nhttp_errors++;
  c->served++;
  c->retried = 0;
  if (!first || pinging)
    count(c);
  if (!c->keep_alive && first && !pinging) {
    /* It waits for the others closed, not reconnecting, so that its
     * connect does not compete with theirs for the listen backlog. */
    close(c->fd);
    c->fd = -1;
    nup--;
    c->state = C_IDLE;
    c->served = 0;
    nparked++;
    return 0;
  }
  if (!c->keep_alive) {
    reopen(c, 0);
    return 0;
  }
  if (first && !pinging)
    return 0; /* it waits for the others: see main */
  if (start_ping(c) != 0) {
    fail(c);
    return 0;
  }
  return 1;
}

/* HTTP: reads what has come on c. */
static void http_recv(struct conn *c)
{
  char buf[16384];

  for (;;) {
    ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
    int r;
    if (n == 0) {
      if (c->hs == H_TO_CLOSE)
        http_done(c);
      else if (c->got == 0 && c->served > 0 && !c->retried)
        reopen(c, 1);
      else
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
    r = http_feed(c, buf, (size_t)n);
    if (r < 0) {
      fail(c);
      return;
    }
    if (r > 0 && !http_done(c))
      return; /* reconnecting, failed, or waiting for the others */
  }
}

/* Echo: reads what has come on c, counts whole echoes and pings again. */
static void echo_recv(struct conn *c)
{
  char buf[MSG];

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
      count(c);
      if (start_ping(c) != 0) {
        fail(c);
        return;
      }
    }
  }
}

/* The connection is up, has data, or room: send, receive, count. */
static void on_ready(struct conn *c, uint32_t events)
{
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
    if (c->echoed && !pinging)
      return; /* HTTP: opened again after its first response; it waits */
    if (start_ping(c) != 0)
      fail(c);
    return;
  }
  if ((events & EPOLLOUT) && c->sent < out_len) {
    struct epoll_event ev = {.events = EPOLLIN,
                             .data.u32 = (uint32_t)(c - conns)};
    if (push(c) != 0) {
      fail(c);
      return;
    }
    if (c->sent == out_len && epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
      fail(c);
      return;
    }
  }
  if (http)
    http_recv(c);
  else
    echo_recv(c);
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
      sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
             &st) != 2)
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

/* Sets addr to host (numeric IPv4 or IPv6) and port. Returns 0, or -1 when
 * host is neither. */
static int set_address(const char *host)
{
  struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;

  memset(&addr, 0, sizeof(addr));
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    addr_len = sizeof(*a4);
    return 0;
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    addr_len = sizeof(*a6);
    return 0;
  }
  return -1;
}

static void usage(void)
{
  fprintf(stderr, "usage: loadgen [-c conns] [-d secs] [-w warmup_secs] "
                  "[-p server_pid] [-a address] [-g path] [-l] port\n");
  exit(2);
}

int main(int argc, char **argv)
{
  struct epoll_event evs[MAX_EVENTS];
  double secs = 5, warmup = 1, cpu0 = 0, cpu1 = 0;
  uint64_t t_connect, t_warm = 0, t_start = 0, t_end = 0;
  const char *host = "127.0.0.1", *path = NULL;
  int opt, pid = 0, lines = 0;

  nconns = 100;
  while ((opt = getopt(argc, argv, "c:d:w:p:a:g:l")) != -1) {
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
    case 'a':
      host = optarg;
      break;
    case 'g':
      path = optarg;
      break;
    case 'l':
      lines = 1;
      break;
    default:
      usage();
    }
  }
  if (optind != argc - 1 || nconns <= 0 || secs <= 0 || warmup < 0)
    usage();
  port = atoi(argv[optind]);
  if (set_address(host) != 0) {
    fprintf(stderr, "loadgen: %s is not a numeric IPv4 or IPv6 address\n",
            host);
    exit(2);
  }
  memset(ping, 'x', sizeof(ping));
  if (lines)
    ping[MSG - 1] = '\n';
  out = ping;
  out_len = MSG;
  if (path) {
    int k = snprintf(request, sizeof(request),
                     "GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\n"
                     "User-Agent: gpatch-loadgen\r\nAccept: */*\r\n\r\n",
                     path, addr.ss_family == AF_INET6 ? "[" : "", host,
                     addr.ss_family == AF_INET6 ? "]" : "", port);
    if (*path != '/' || k < 0 || (size_t)k >= sizeof(request))
      usage();
    http = 1;
    out = request;
    out_len = (size_t)k;
  }
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
      if ((next_to_open == nconns && nconnecting == 0 &&
           nechoed == nup + nparked) ||
          (http && now - t_connect > HTTP_WAIT_NS)) {
        t_warm = now;
        pinging = 1;
        printf("connected up=%d failed=%d\n", nup + nparked, nfailed);
        for (int i = 0; i < nconns; i++) {
          conns[i].reuse_t0 = 0;
          if (conns[i].state == C_ACTIVE && conns[i].echoed &&
              start_ping(&conns[i]) != 0)
            fail(&conns[i]);
        }
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
    } else if (http) {
      /* Those parked after their first response, then any not opened
       * before the wait for first responses ended. */
      for (; next_parked < nconns && nconnecting < MAX_CONNECTING;
           next_parked++)
        if (conns[next_parked].state == C_IDLE && conns[next_parked].echoed) {
          nparked--;
          open_one(next_parked);
        }
      while (nconnecting < MAX_CONNECTING && next_to_open < nconns)
        open_one(next_to_open++);
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
    if (http)
      printf(" http_errors=%llu reconnects=%llu",
             (unsigned long long)nhttp_errors, (unsigned long long)nreconnects);
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
