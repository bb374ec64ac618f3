/* syslog.c: openlog, syslog, vsyslog, their _chk forms, closelog and
 * setlogmask, written again after glibc 2.36's misc/syslog.c (its release
 * branch, with the fixes Debian ships).
 *
 * glibc's syslog sends to /dev/log through internal aliases of socket,
 * connect and send, holding a lock of its own: a slow log reader would stop
 * every coroutine of the OS thread in send, and the next coroutine to log
 * would wait for glibc's lock in the kernel. Here the same state and the
 * same steps use the shim's socket calls under a pthread mutex, so a sender
 * parks and the others park behind it. Everyone uses this copy — coroutines
 * and threads the runtime does not own alike — so that openlog's settings
 * hold for all; a thread that cannot park waits in poll for room on the
 * socket, as glibc's blocking send would. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <paths.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* glibc's fortified vsnprintf (declared only under _FORTIFY_SOURCE). */
int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen,
                    const char *fmt, va_list ap);

/* glibc's state, by its names' meaning. */
static int log_type = SOCK_DGRAM;   /* the socket's type */
static int log_fd = -1;             /* the socket */
static int connected;               /* it is connected */
static int log_stat;                /* openlog's options */
static const char *log_tag;         /* openlog's ident */
static int log_facility = LOG_USER; /* the default facility */
static int log_mask = 0xff;         /* setlogmask's mask */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct sockaddr_un log_addr = {.sun_family = AF_UNIX,
                                            .sun_path = _PATH_LOG};

/* Opens the socket (with LOG_NDELAY) and connects it, trying the other
 * socket type once if /dev/log is of the other type. errno is left as it
 * was when the connect fails. */
static void open_log(const char *ident, int logstat, int logfac)
{
  if (ident != NULL)
    log_tag = ident;
  log_stat = logstat;
  if ((logfac & ~LOG_FACMASK) == 0)
    log_facility = logfac;
  for (int retry = 0; retry < 2;) {
    if (log_fd == -1 && (log_stat & LOG_NDELAY) &&
        (log_fd = socket(AF_UNIX, log_type | SOCK_CLOEXEC, 0)) == -1)
      return;
    if (log_fd != -1 && !connected) {
      int old_errno = errno;
      if (connect(log_fd, (const struct sockaddr *)&log_addr,
                  sizeof(log_addr)) == -1) {
        int saved = errno;
        close(log_fd);
        log_fd = -1;
        errno = old_errno;
        if (saved == EPROTOTYPE) {
          log_type = log_type == SOCK_DGRAM ? SOCK_STREAM : SOCK_DGRAM;
          ++retry;
          continue;
        }
      } else {
        connected = 1;
      }
    }
    break;
  }
}

static void close_log(void)
{
  if (!connected)
    return;
  close(log_fd);
  log_fd = -1;
  connected = 0;
}

/* send(2) as glibc's blocking one: a coroutine parks in the shim's send; a
 * caller that cannot park waits for room in poll. */
static ssize_t send_log(const char *buf, size_t len)
{
  ssize_t r;
  if (gp__shim_active(GP__PATCH_SOCKET))
    return send(log_fd, buf, len, MSG_NOSIGNAL);
  while ((r = gp__real_send(log_fd, buf, len, MSG_NOSIGNAL)) < 0 &&
         (errno == EAGAIN || errno == EWOULDBLOCK) &&
         gp__shim_poll_wait(log_fd, POLLOUT, -1) == 0)
    ;
  return r;
}

/* strftime's "%h %e %T " in the C locale, as glibc's timestamp. */
static int timestamp(char *out, size_t size)
{
  static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  struct tm tm;
  time_t now = time(NULL);
  if (localtime_r(&now, &tm) == NULL)
    return 0;
  snprintf(out, size, "%s %2d %02d:%02d:%02d ", mon[tm.tm_mon % 12], tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec);
  return 1;
}

/* vsnprintf, or __vsnprintf_chk for the _chk entry points. */
static int format(char *buf, size_t len, int flag, const char *fmt, va_list ap)
{
  if (flag > 0)
    return __vsnprintf_chk(buf, len, flag, len, fmt, ap);
  return vsnprintf(buf, len, fmt, ap);
}

/* The header "<pri>TIMESTAMP ident[pid]: " (or "<pri>: " without a time),
 * with *msgoff where the ident starts. */
static int header(char *buf, size_t len, int pri, const char *ts, int *msgoff,
                  pid_t pid)
{
  if (ts == NULL)
    return snprintf(buf, len, "<%d>: %n", pri, msgoff);
  return snprintf(buf, len, "<%d>%s%n%s%s%.0d%s: ", pri, ts, msgoff,
                  log_tag == NULL ? program_invocation_short_name : log_tag,
                  pid == 0 ? "" : "[", pid, pid == 0 ? "" : "]");
}

/* Frees the message buffer and gives the lock back, when a thread is
 * canceled in syslog. */
static void canceled(void *arg)
{
  free(*(char **)arg);
  pthread_mutex_unlock(&log_lock);
}

/* Everything glibc's __vsyslog_internal does under its lock. *heap
 * receives a buffer to free when the message is too long for the stack. */
static void log_locked(int pri, int flag, const char *fmt, va_list ap,
                       int saved_errno, char **heap)
{
  char bufs[1024], ts[32], *buf = bufs;
  int msgoff = 0, l, vl, has_ts;
  size_t bufsize;
  pid_t pid;
  va_list apc;

  if ((LOG_MASK(LOG_PRI(pri)) & log_mask) == 0)
    return;
  if ((pri & LOG_FACMASK) == 0)
    pri |= log_facility;
  pid = log_stat & LOG_PID ? getpid() : 0;
  has_ts = timestamp(ts, sizeof(ts));
  l = header(bufs, sizeof(bufs), pri, has_ts ? ts : NULL, &msgoff, pid);
  if (l < 0)
    return;
  va_copy(apc, ap);
  errno = saved_errno; /* for %m */
  if ((size_t)l < sizeof(bufs)) {
    vl = format(bufs + l, sizeof(bufs) - (size_t)l, flag, fmt, apc);
    if (vl >= 0 && (size_t)vl >= sizeof(bufs) - (size_t)l)
      buf = NULL;
  } else {
    buf = NULL; /* only the length is wanted from this one */
    vl = format(bufs, sizeof(bufs), flag, fmt, apc);
  }
  va_end(apc);
  if (vl < 0 || vl >= INT_MAX - l)
    return;
  bufsize = (size_t)l + (size_t)vl;
  if (buf == NULL) {
    if ((*heap = buf = malloc(bufsize + 1)) != NULL) {
      int ok;
      va_copy(apc, ap);
      ok = header(buf, (size_t)l + 1, pri, has_ts ? ts : NULL, &msgoff, pid) ==
               l &&
           format(buf + l, bufsize - (size_t)l + 1, flag, fmt, apc) == vl;
      va_end(apc);
      if (!ok)
        return;
    } else {
      int bl = snprintf(bufs, sizeof(bufs), "out of memory[%d]", getpid());
      if (bl < 0 || (size_t)bl >= sizeof(bufs))
        return;
      bufsize = (size_t)bl;
      buf = bufs;
      msgoff = 0;
    }
  }
  if (log_stat & LOG_PERROR)
    dprintf(STDERR_FILENO, "%s%s", buf + msgoff,
            buf[bufsize - 1] == '\n' ? "" : "\n");
  if (!connected)
    open_log(NULL, log_stat | LOG_NDELAY, log_facility);
  if (log_type == SOCK_STREAM)
    ++bufsize; /* the terminating NUL is the record separator */
  if (!connected || send_log(buf, bufsize) < 0) {
    if (connected) {
      /* Maybe the logger went away: connect again. */
      close_log();
      open_log(NULL, log_stat | LOG_NDELAY, log_facility);
    }
    if (!connected || send_log(buf, bufsize) < 0) {
      int fd;
      close_log(); /* and open again next time */
      if ((log_stat & LOG_CONS) &&
          (fd = open(_PATH_CONSOLE, O_WRONLY | O_NOCTTY | O_CLOEXEC, 0)) >= 0) {
        dprintf(fd, "%s\r\n", buf + msgoff);
        close(fd);
      }
    }
  }
}

static void log_under_lock(int pri, int flag, const char *fmt, va_list ap,
                           int saved_errno)
{
  char *heap = NULL;

  pthread_cleanup_push(canceled, &heap);
  pthread_mutex_lock(&log_lock);
  log_locked(pri, flag, fmt, ap, saved_errno, &heap);
  pthread_mutex_unlock(&log_lock);
  pthread_cleanup_pop(0);
  free(heap);
}

static void log_message(int pri, int flag, const char *fmt, va_list ap)
{
  int saved_errno = errno;

  if (pri & ~(LOG_PRIMASK | LOG_FACMASK)) {
    syslog(LOG_ERR | LOG_CONS | LOG_PERROR | LOG_PID,
           "syslog: unknown facility/priority: %x", pri);
    pri &= LOG_PRIMASK | LOG_FACMASK;
  }
  log_under_lock(pri, flag, fmt, ap, saved_errno);
}

GP_EXPORT void vsyslog(int pri, const char *fmt, va_list ap)
{
  gp__real_init();
  log_message(pri, 0, fmt, ap);
}

GP_EXPORT void syslog(int pri, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsyslog(pri, fmt, ap);
  va_end(ap);
}

GP_EXPORT void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
  gp__real_init();
  log_message(pri, flag, fmt, ap);
}

GP_EXPORT void __syslog_chk(int pri, int flag, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  __vsyslog_chk(pri, flag, fmt, ap);
  va_end(ap);
}

static void unlock_log(void *arg)
{
  (void)arg;
  pthread_mutex_unlock(&log_lock);
}

GP_EXPORT void openlog(const char *ident, int option, int facility)
{
  gp__real_init();
  pthread_cleanup_push(unlock_log, NULL);
  pthread_mutex_lock(&log_lock);
  open_log(ident, option, facility);
  pthread_cleanup_pop(1);
}

GP_EXPORT void closelog(void)
{
  gp__real_init();
  pthread_cleanup_push(unlock_log, NULL);
  pthread_mutex_lock(&log_lock);
  close_log();
  log_tag = NULL;
  log_type = SOCK_DGRAM;
  pthread_cleanup_pop(1);
}

GP_EXPORT int setlogmask(int mask)
{
  int old;
  pthread_mutex_lock(&log_lock);
  old = log_mask;
  if (mask != 0)
    log_mask = mask;
  pthread_mutex_unlock(&log_lock);
  return old;
}
