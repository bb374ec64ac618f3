/* d_syslog: syslog from many threads at once to a slow /dev/log reader,
 * which is a thread of this process: once the reader's queue is full each
 * send waits, and only a wait that parks the sender alone lets the reader
 * run. Then what glibc's syslog does in detail: the message format (the
 * timestamp is cut off here), openlog's ident, facility and LOG_PID,
 * setlogmask, %m, a message longer than glibc's 1 KiB buffer, LOG_PERROR's
 * copy on stderr, a SOCK_STREAM /dev/log (messages end with NUL), and no
 * /dev/log at all. /dev is an empty tmpfs in a private mount namespace (the
 * test runs itself again there): the host's /dev/log is never touched. */
#include "nsutil.h"
#include "sockutil.h"

#include <pthread.h>
#include <sys/un.h>
#include <syslog.h>

#define THREADS    8
#define PER_THREAD 25

static int logsock;
static int expect_total;
static int got[THREADS], bad;
static char last[2048];
static size_t last_len;

/* The log socket at /dev/log, of type. */
static int make_log(int type)
{
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  int fd = socket(AF_UNIX, type, 0), small = 2048;
  strcpy(a.sun_path, "/dev/log");
  unlink(a.sun_path);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      (type == SOCK_STREAM && listen(fd, 1) != 0))
    abort();
  return fd;
}

/* The message with "<pri>Mmm dd hh:mm:ss " cut to "<pri>". */
static void strip_time(char *m, size_t *len)
{
  char *gt = strchr(m, '>');
  if (gt && (size_t)(gt - m) + 17 <= *len && gt[4] == ' ' && gt[7] == ' ' &&
      gt[10] == ':' && gt[16] == ' ') {
    memmove(gt + 1, gt + 17, *len - (size_t)(gt + 17 - m) + 1);
    *len -= 16;
  }
}

static void *slow_reader(void *arg)
{
  char m[2048];
  (void)arg;
  for (int n = 0; n < expect_total; n++) {
    ssize_t r = recv(logsock, m, sizeof(m) - 1, 0);
    int t, k;
    size_t len;
    if (r <= 0)
      break;
    m[r] = 0;
    len = (size_t)r;
    strip_time(m, &len);
    if (sscanf(m, "<14>d_syslog: thread %d message %d", &t, &k) == 2 &&
        t >= 0 && t < THREADS && k == got[t])
      got[t]++;
    else
      bad++;
    if (n % 4 == 0)
      sleep_ms(1);
  }
  return NULL;
}

static void *logger(void *arg)
{
  int t = (int)(intptr_t)arg;
  for (int k = 0; k < PER_THREAD; k++)
    syslog(LOG_INFO, "thread %d message %d", t, k);
  return NULL;
}

/* Receives one message (datagram, or NUL-ended on a stream). */
static void receive(int fd)
{
  ssize_t r = recv(fd, last, sizeof(last) - 1, 0);
  last_len = r > 0 ? (size_t)r : 0;
  last[last_len] = 0;
  strip_time(last, &last_len);
}

static void show(const char *what)
{
  SAY("%s: [%.*s]%s (%zu bytes)\n", what,
      (int)(last_len > 120 ? 120 : last_len), last, last_len > 120 ? "..." : "",
      last_len);
}

static int inside(void)
{
  pthread_t r, t[THREADS];
  char big[1500];
  int p[2], saved, conn;

  logsock = make_log(SOCK_DGRAM);
  openlog("d_syslog", 0, LOG_USER);
  expect_total = THREADS * PER_THREAD;
  if (pthread_create(&r, NULL, slow_reader, NULL))
    abort();
  for (int i = 0; i < THREADS; i++)
    if (pthread_create(&t[i], NULL, logger, (void *)(intptr_t)i))
      abort();
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  pthread_join(r, NULL);
  for (int i = 0; i < THREADS; i++)
    SAY("thread %d: %d messages in order\n", i, got[i]);
  SAY("bad messages: %d\n", bad);
  check_threads(1);

  syslog(LOG_ERR | LOG_DAEMON, "facility given");
  receive(logsock);
  show("LOG_ERR|LOG_DAEMON");
  setlogmask(LOG_UPTO(LOG_WARNING));
  syslog(LOG_INFO, "masked out");
  syslog(LOG_WARNING, "let through");
  receive(logsock);
  show("after setlogmask");
  SAY("setlogmask returns the old mask: %#x\n", setlogmask(0));
  setlogmask(0xff);
  errno = ENOENT;
  syslog(LOG_NOTICE, "%%m is %m, errno after: ");
  SAY("errno after syslog: %s\n", strerrorname_np(errno));
  receive(logsock);
  show("%m");
  memset(big, 'L', sizeof(big) - 1);
  big[sizeof(big) - 1] = 0;
  syslog(LOG_INFO, "%s", big);
  receive(logsock);
  show("1.5 KiB message");
  closelog();
  openlog(NULL, LOG_PERROR | LOG_NDELAY, LOG_LOCAL3);
  if (pipe(p) != 0)
    abort();
  saved = dup(2);
  dup2(p[1], 2);
  syslog(LOG_INFO, "also on stderr");
  dup2(saved, 2);
  close(p[1]);
  receive(logsock);
  show("no ident, LOG_LOCAL3");
  last_len = (size_t)read(p[0], last, sizeof(last) - 1);
  last[last_len] = 0;
  show("stderr copy");
  close(p[0]);
  closelog();
  close(logsock);

  logsock = make_log(SOCK_STREAM);
  openlog("d_syslog", LOG_NDELAY, 0);
  conn = accept(logsock, NULL, NULL);
  syslog(LOG_INFO, "over a stream");
  receive(conn);
  show("SOCK_STREAM /dev/log");
  closelog();
  close(conn);
  close(logsock);
  unlink("/dev/log");

  errno = EXDEV;
  syslog(LOG_INFO, "nobody listens");
  SAY("no /dev/log: errno after %s\n", strerrorname_np(errno));
  return 0;
}

int main(int argc, char **argv)
{
  int r;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1 && strcmp(argv[1], "inside") == 0)
    return inside();
  r = run_in_private_mounts("inside", "/dev");
  if (r == NS_UNAVAILABLE)
    SAY("no private mount namespace here: skipped\n");
  return r == NS_UNAVAILABLE ? 0 : r;
}
