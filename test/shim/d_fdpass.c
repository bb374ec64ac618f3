/* d_fdpass: sockets passed over a Unix socket (SCM_RIGHTS) arrive as the
 * sender's program believes them: blocking or not, by F_GETFL and in the
 * kernel, and a read of a blocking one waits for data, whoever sent it —
 * this process (sendmsg, sendmmsg), a forked child (patched like the
 * parent, when the parent is), or a program that runs unpatched either
 * way (this program exec'd without LD_PRELOAD), which passes one socket
 * blocking and one it made non-blocking itself.
 *
 * Patched, the sockets a process makes are non-blocking underneath, and
 * O_NONBLOCK lives on the open file description the receiver gets: before,
 * a receiver took it for the program's own choice (reads said EAGAIN,
 * Python's os.read raised BlockingIOError). */
#include "sockutil.h"

#include <poll.h>
#include <sys/wait.h>

/* A message of one byte with room for 4 fds. */
struct fdmsg {
  char byte;        /* the data */
  struct iovec iov; /* points at byte */
  union {
    char buf[CMSG_SPACE(4 * sizeof(int))];
    struct cmsghdr align;
  } ctl;           /* the control data */
  struct msghdr m; /* the header */
};

static void fdmsg_init(struct fdmsg *f, size_t ctllen)
{
  memset(f, 0, sizeof(*f));
  f->byte = 'f';
  f->iov.iov_base = &f->byte;
  f->iov.iov_len = 1;
  f->m.msg_iov = &f->iov;
  f->m.msg_iovlen = 1;
  f->m.msg_control = f->ctl.buf;
  f->m.msg_controllen = ctllen;
}

/* Sends fds (n of them) with one byte over u; mm: with sendmmsg. */
static int send_fds(int u, const int *fds, int n, int mm)
{
  struct fdmsg f;
  struct cmsghdr *c;

  fdmsg_init(&f, CMSG_SPACE(n * sizeof(int)));
  c = CMSG_FIRSTHDR(&f.m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(n * sizeof(int));
  memcpy(CMSG_DATA(c), fds, n * sizeof(int));
  if (mm) {
    struct mmsghdr v = {.msg_hdr = f.m};
    return sendmmsg(u, &v, 1, 0) == 1 ? 0 : -1;
  }
  return sendmsg(u, &f.m, 0) == 1 ? 0 : -1;
}

/* Receives up to 4 fds into fds; returns how many. mm: with recvmmsg. */
static int recv_fds(int u, int *fds, int mm)
{
  struct fdmsg f;
  struct cmsghdr *c;
  int n = 0;

  fdmsg_init(&f, sizeof(f.ctl.buf));
  if (mm) {
    struct mmsghdr v = {.msg_hdr = f.m};
    if (recvmmsg(u, &v, 1, 0, NULL) != 1)
      return -1;
    f.m = v.msg_hdr;
  } else if (recvmsg(u, &f.m, 0) != 1) {
    return -1;
  }
  for (c = CMSG_FIRSTHDR(&f.m); c; c = CMSG_NXTHDR(&f.m, c))
    if (c->cmsg_type == SCM_RIGHTS) {
      n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      memcpy(fds, CMSG_DATA(c), n * sizeof(int));
    }
  return n;
}

/* Shows how a received fd looks, then reads it: a blocking one waits for
 * the data the other side writes later. */
static void look(const char *what, int fd)
{
  char buf[32] = "";
  ssize_t n;
  int nb = nonblock_flag(fd);

  SAY("%s: F_GETFL nonblock %d, in the kernel %d\n", what, nb,
      kernel_nonblock(fd));
  n = read(fd, buf, sizeof(buf) - 1);
  if (n < 0)
    SAY("%s: read -1 %s\n", what, strerrorname_np(errno));
  else
    SAY("%s: read \"%.*s\"\n", what, (int)n, buf);
}

static int later_fd;

/* Writes "later" to later_fd after a while (a blocking reader waits). */
static void *write_later_word(void *arg)
{
  (void)arg;
  sleep_ms(100);
  if (write(later_fd, "later", 5) != 5)
    abort();
  return NULL;
}

/* The exec'd image, unpatched either way: passes a blocking socket and
 * one it made non-blocking over fd 40, then writes to both. */
static int unpatched_sender(void)
{
  int a[2], b[2], fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) != 0 ||
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b) != 0)
    return 1;
  fds[0] = a[0];
  fds[1] = b[0];
  if (send_fds(40, fds, 2, 0) != 0)
    return 2;
  sleep_ms(100);
  return write(a[1], "unpatched", 9) != 9 || write(b[1], "nb", 2) != 2;
}

int main(int argc, char **argv)
{
  int u[2], c = -1, s = -1, fds[4], n, st;
  struct task t;
  pid_t pid;

  if (argc > 1 && strcmp(argv[1], "sender") == 0)
    return unpatched_sender();
  setvbuf(stdout, NULL, _IOLBF, 0);
  alarm(60);
  EXPECT("socketpair to pass fds", socketpair(AF_UNIX, SOCK_STREAM, 0, u) == 0);

  /* From this process: a blocking TCP socket, with sendmsg. */
  EXPECT("a TCP pair", tcp_pair(&c, &s) == 0);
  EXPECT("send it", send_fds(u[0], &c, 1, 0) == 0);
  n = recv_fds(u[1], fds, 0);
  EXPECT("received one", n == 1);
  SAY("the sender's own fd: F_GETFL nonblock %d\n", nonblock_flag(c));
  later_fd = s;
  spawn(&t, write_later_word, NULL);
  look("TCP socket from this process", fds[0]);
  join(&t);
  close(fds[0]);

  /* The sender's fd still works (and blocks) as before. */
  later_fd = s;
  spawn(&t, write_later_word, NULL);
  look("the sender's fd", c);
  join(&t);
  close(c);
  close(s);

  /* With sendmmsg and recvmmsg. */
  EXPECT("a Unix pair", socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  c = fds[0];
  s = fds[1];
  EXPECT("send it with sendmmsg", send_fds(u[0], &c, 1, 1) == 0);
  EXPECT("received one with recvmmsg", recv_fds(u[1], fds, 1) == 1);
  later_fd = s;
  spawn(&t, write_later_word, NULL);
  look("Unix socket, sendmmsg", fds[0]);
  join(&t);
  close(fds[0]);
  close(c);
  close(s);

  /* A socket the app made non-blocking itself stays so. */
  EXPECT("a non-blocking pair",
         socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
  EXPECT("send it", send_fds(u[0], &fds[0], 1, 0) == 0);
  close(fds[0]);
  EXPECT("received one", recv_fds(u[1], fds, 0) == 1);
  look("non-blocking socket", fds[0]);
  close(fds[0]);
  close(fds[1]);

  /* From a forked child, which makes the socket itself. */
  pid = fork();
  if (pid == 0) {
    int p[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) != 0 ||
        send_fds(u[0], &p[0], 1, 0) != 0)
      _exit(1);
    sleep_ms(100);
    _exit(write(p[1], "child", 5) != 5);
  }
  EXPECT("received one from the child", recv_fds(u[1], fds, 0) == 1);
  look("socket from a forked child", fds[0]);
  EXPECT("the child exited 0",
         waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st));
  close(fds[0]);

  /* From a program that runs unpatched. */
  pid = fork();
  if (pid == 0) {
    unsetenv("LD_PRELOAD");
    dup2(u[0], 40);
    execl("/proc/self/exe", argv[0], "sender", (char *)NULL);
    _exit(127);
  }
  EXPECT("received two from an unpatched program", recv_fds(u[1], fds, 0) == 2);
  look("blocking socket from it", fds[0]);
  {
    struct pollfd pf = {.fd = fds[1], .events = POLLIN};
    EXPECT("its data comes", poll(&pf, 1, -1) == 1);
  }
  look("non-blocking socket from it", fds[1]);
  EXPECT("it exited 0",
         waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st));
  return compat_failures != 0;
}
