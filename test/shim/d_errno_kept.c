/* d_errno_kept: a call that succeeds leaves errno as it was, as glibc's
 * system call wrappers do, also when the shim waited for it. Patched, a
 * read that waited for a pipe left ENOTTY behind (the runtime's look at
 * whether the fd is a terminal) and a recv that waited left EAGAIN, which
 * a program that clears errno and checks it after the call takes for a
 * failure. Each call runs with errno set to EDOM before it, in a thread
 * that has to wait for it and again when it need not. */
#include "compat.h"

#include <netinet/in.h>
#include <poll.h>
#include <semaphore.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <fcntl.h>

static int p[2], sv[2], lfd;
static struct sockaddr_in addr;
static sem_t sem;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int flag, full[2];
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;

/* Each thread's lines, printed at the end: the order of the two threads'
 * lines is the scheduler's. */
static char lines[2][4096];
static __thread char *out;

static void note(const char *what, const char *result)
{
  size_t used = strlen(out);
  snprintf(out + used, sizeof(lines[0]) - used, "%-28s %s\n", what, result);
}

#define CHECK(what, call)                                                      \
  do {                                                                         \
    long r_;                                                                   \
    char res_[80];                                                             \
    errno = EDOM;                                                              \
    r_ = (long)(call);                                                         \
    snprintf(res_, sizeof(res_), "%s, errno %s",                               \
             r_ < 0 ? "fails" : "succeeds",                                    \
             errno == EDOM ? "kept" : strerror(errno));                        \
    note(what, res_);                                                          \
  } while (0)

static void *waiter(void *arg)
{
  char c, buf[4];
  struct iovec iov = {buf, 1};
  struct msghdr m;
  struct pollfd pf = {.fd = p[0], .events = POLLIN};
  fd_set rs;
  (void)arg;
  out = lines[1];

  CHECK("read, after a wait", read(p[0], &c, 1));
  CHECK("recv, after a wait", recv(sv[0], &c, 1, 0));
  CHECK("readv, after a wait", readv(p[0], &iov, 1));
  memset(&m, 0, sizeof(m));
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  CHECK("recvmsg, after a wait", recvmsg(sv[0], &m, 0));
  CHECK("recvfrom, after a wait", recvfrom(sv[0], &c, 1, 0, NULL, NULL));
  CHECK("poll, after a wait", poll(&pf, 1, 5000));
  CHECK("read, no wait", read(p[0], &c, 1));
  FD_ZERO(&rs);
  FD_SET(p[0], &rs);
  CHECK("select, after a wait", select(p[0] + 1, &rs, NULL, NULL, NULL));
  CHECK("read, no wait again", read(p[0], &c, 1));
  CHECK("accept, after a wait", accept(lfd, NULL, NULL));
  CHECK("sem_wait, after a wait", sem_wait(&sem));
  pthread_mutex_lock(&mu);
  errno = EDOM;
  while (!flag)
    pthread_cond_wait(&cv, &mu);
  note("pthread_cond_wait", errno == EDOM ? "errno kept" : strerror(errno));
  pthread_mutex_unlock(&mu);
  {
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN}, got;
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    CHECK("epoll_wait, after a wait", epoll_wait(ep, &got, 1, 5000));
    CHECK("read, no wait once more", read(p[0], &c, 1));
    close(ep);
  }
  CHECK("pthread_mutex_lock, held", pthread_mutex_lock(&held));
  pthread_mutex_unlock(&held);
  {
    static char big[65536];
    CHECK("write, after a wait", write(full[1], big, sizeof(big)));
  }
  {
    pid_t pid = fork();
    if (pid == 0) {
      usleep(30000);
      _exit(3);
    }
    CHECK("waitpid, after a wait", waitpid(pid, NULL, 0));
  }
  CHECK("usleep", usleep(1000));
  CHECK("nanosleep", nanosleep(&(struct timespec){0, 1000000}, NULL));
  return NULL;
}

int main(void)
{
  pthread_t t;
  socklen_t len = sizeof(addr);
  int c;

  out = lines[0];
  if (pipe(p) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    return 1;
  lfd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
      listen(lfd, 4) != 0 ||
      getsockname(lfd, (struct sockaddr *)&addr, &len) != 0)
    return 1;
  sem_init(&sem, 0, 0);
  if (pipe(full) != 0)
    return 1;
  fcntl(full[1], F_SETPIPE_SZ, 65536);
  {
    static char fill[65536]; /* the pipe full: the thread's write waits */
    int fl = fcntl(full[1], F_GETFL);
    fcntl(full[1], F_SETFL, fl | O_NONBLOCK);
    while (write(full[1], fill, sizeof(fill)) > 0)
      ;
    fcntl(full[1], F_SETFL, fl);
  }
  pthread_create(&t, NULL, waiter, NULL);
  sleep_ms(30);
  CHECK("write", write(p[1], "a", 1));
  sleep_ms(30);
  CHECK("send", send(sv[1], "b", 1, 0));
  sleep_ms(30);
  CHECK("write again", write(p[1], "c", 1));
  sleep_ms(30);
  CHECK("sendto", sendto(sv[1], "d", 1, 0, NULL, 0));
  sleep_ms(30);
  send(sv[1], "e", 1, 0);
  sleep_ms(30);
  write(p[1], "fg", 2); /* poll, then read */
  sleep_ms(30);
  write(p[1], "h", 1); /* select, then read */
  sleep_ms(30);
  c = socket(AF_INET, SOCK_STREAM, 0);
  CHECK("connect", connect(c, (struct sockaddr *)&addr, sizeof(addr)));
  sleep_ms(30);
  CHECK("sem_post", sem_post(&sem));
  sleep_ms(30);
  pthread_mutex_lock(&mu);
  flag = 1;
  CHECK("pthread_cond_signal", pthread_cond_signal(&cv));
  pthread_mutex_unlock(&mu);
  pthread_mutex_lock(&held);
  sleep_ms(30);
  write(p[1], "i", 1); /* epoll_wait, then read */
  sleep_ms(30);
  pthread_mutex_unlock(&held);
  sleep_ms(30);
  {
    static char drain[65536 * 2];
    size_t got = 0;
    ssize_t n;
    while (got < 65536 * 2 && (n = read(full[0], drain, sizeof(drain))) > 0)
      got += (size_t)n; /* the fill, then the thread's write */
  }
  CHECK("pthread_join", pthread_join(t, NULL));
  printf("main:\n%sthe thread:\n%s", lines[0], lines[1]);
  return 0;
}
