/* d_sock_unowned: a thread the runtime does not own blocks in socket calls
 * as it would plain. glibc makes the thread that runs a SIGEV_THREAD
 * timer's function itself (no pthread_create the shim sees), so that
 * thread is a real one the runtime does not own. The sockets main made are
 * non-blocking underneath (the app believes them blocking), and such a
 * thread's calls went straight to the kernel: its read failed with EAGAIN
 * (Chromium's zygote reply, read on a thread pool thread: the browser
 * stopped at a CHECK). Now they block as plain, waiting in the kernel.
 *
 * On the timer's thread: a read that waits for main's write; a 1 MiB write
 * to a stream socket main drains later (one call, all of it); an accept
 * that waits for main's connect; a connect of a socket main made (to
 * another listener, which main alone accepts on: a thread waiting in
 * accept takes a connection before anyone else plain, while here its
 * poll and its accept are two calls); and a
 * read with SO_RCVTIMEO that times out (EAGAIN); a recvmmsg (MSG_WAITFORONE)
 * that waits for main's datagram; a sendfile of a 1 MiB file to the stream
 * socket, all of it in one call. Main meanwhile does its part after pauses,
 * then waits on a semaphore the thread posts. */
#include "compat.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>

#define BIG (1 << 20)

static int sv[2], lfd, lfd2, cfd, tfd[2], dg[2], file;
static struct sockaddr_in addr, addr2;
static sem_t done;
static char big[BIG], back[BIG];
static char report[512];

static void notify(union sigval v)
{
  char buf[16] = {0};
  ssize_t n, w;
  int a, c, len = 0;

  (void)v;
  n = read(sv[0], buf, 5);
  len += snprintf(report + len, sizeof(report) - len, "read %zd '%s'\n", n,
                  n > 0 ? buf : strerror(errno));
  w = write(sv[0], big, BIG);
  len +=
      snprintf(report + len, sizeof(report) - len, "write %zd of %d\n", w, BIG);
  a = accept(lfd, NULL, NULL);
  memset(buf, 0, sizeof(buf));
  n = a >= 0 ? read(a, buf, 3) : -1;
  len +=
      snprintf(report + len, sizeof(report) - len, "accept %s, read %zd '%s'\n",
               a >= 0 ? "ok" : strerror(errno), n, buf);
  c = connect(cfd, (struct sockaddr *)&addr2, sizeof(addr2));
  len += snprintf(report + len, sizeof(report) - len, "connect %s\n",
                  c == 0 ? "ok" : strerror(errno));
  n = read(tfd[0], buf, 1);
  len += snprintf(report + len, sizeof(report) - len,
                  "read with SO_RCVTIMEO: %zd %s\n", n,
                  n < 0 ? strerror(errno) : "");
  {
    struct mmsghdr m[2];
    struct iovec iv[2] = {{buf, 8}, {buf + 8, 8}};
    memset(m, 0, sizeof(m));
    memset(buf, 0, sizeof(buf));
    m[0].msg_hdr.msg_iov = &iv[0];
    m[0].msg_hdr.msg_iovlen = 1;
    m[1].msg_hdr.msg_iov = &iv[1];
    m[1].msg_hdr.msg_iovlen = 1;
    c = recvmmsg(dg[0], m, 2, MSG_WAITFORONE, NULL);
    len += snprintf(report + len, sizeof(report) - len,
                    "recvmmsg %d, first '%.8s'\n", c, c > 0 ? buf : "");
  }
  w = sendfile(sv[0], file, NULL, BIG);
  len += snprintf(report + len, sizeof(report) - len, "sendfile %zd of %d\n", w,
                  BIG);
  if (a >= 0)
    close(a);
  sem_post(&done);
}

int main(void)
{
  struct sigevent ev;
  struct itimerspec its = {{0, 0}, {0, 10000000}};
  struct timeval tv = {0, 100000};
  socklen_t alen = sizeof(addr);
  timer_t timer;
  size_t got = 0;
  int k, a;

  memset(big, 'x', sizeof(big));
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr2 = addr;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
      socketpair(AF_UNIX, SOCK_STREAM, 0, tfd) != 0 ||
      setsockopt(tfd[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
      (lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
      bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
      listen(lfd, 8) != 0 ||
      getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0 ||
      (alen = sizeof(addr2), 0) ||
      (lfd2 = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
      bind(lfd2, (struct sockaddr *)&addr2, sizeof(addr2)) != 0 ||
      listen(lfd2, 8) != 0 ||
      getsockname(lfd2, (struct sockaddr *)&addr2, &alen) != 0 ||
      (cfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
      socketpair(AF_UNIX, SOCK_DGRAM, 0, dg) != 0 ||
      (file = fileno(tmpfile())) < 0 || write(file, big, BIG) != BIG ||
      lseek(file, 0, SEEK_SET) != 0 || sem_init(&done, 0, 0))
    return 1;
  memset(&ev, 0, sizeof(ev));
  ev.sigev_notify = SIGEV_THREAD;
  ev.sigev_notify_function = notify;
  if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0 ||
      timer_settime(timer, 0, &its, NULL) != 0)
    return 2;

  usleep(50000); /* the thread waits in read */
  if (write(sv[1], "hello", 5) != 5)
    return 3;
  usleep(50000); /* the thread waits in write, the buffer full */
  while (got < BIG) {
    ssize_t n = read(sv[1], back, sizeof(back));
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  printf("main drained %zu bytes\n", got);
  usleep(50000); /* the thread waits in accept */
  if ((k = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
      connect(k, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
      write(k, "abc", 3) != 3)
    return 4;
  a = accept(lfd2, NULL, NULL); /* the thread's connect */
  printf("main accepted the thread's connection: %s\n", a >= 0 ? "yes" : "no");
  usleep(200000); /* the thread waits in recvmmsg */
  if (send(dg[1], "datagram", 8, 0) != 8)
    return 5;
  usleep(50000); /* the thread waits in sendfile, the buffer full */
  for (got = 0; got < BIG;) {
    ssize_t n = read(sv[1], back, BIG - got);
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  printf("main drained %zu bytes of the file\n", got);
  sem_wait(&done);
  fputs(report, stdout);
  close(k);
  if (a >= 0)
    close(a);
  timer_delete(timer);
  return 0;
}
