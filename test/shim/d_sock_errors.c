/* d_sock_errors: bad input gets libc's errno — read, write, recv, send on
 * a bad fd and on a closed one (EBADF), a NULL buffer with data waiting
 * (EFAULT), send to a closed peer with SIGPIPE ignored (EPIPE), with
 * MSG_NOSIGNAL (EPIPE, no signal), and with SIGPIPE at its default a child
 * that writes to a closed peer dies of SIGPIPE. */
#include "sockutil.h"

/* The bad arguments are the point. */
#pragma GCC diagnostic ignored "-Wnonnull"
#pragma GCC diagnostic ignored "-Wstringop-overflow"

#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>

/* Runs fn in a forked child and says how the child ended. */
static void in_child(const char *what, int (*fn)(void))
{
  int st;
  pid_t pid = fork();
  if (pid == 0)
    _exit(fn());
  if (pid < 0 || waitpid(pid, &st, 0) != pid) {
    SAY("%s: fork/wait failed\n", what);
    return;
  }
  if (WIFSIGNALED(st))
    SAY("%s: child killed by %s\n", what, sigabbrev_np(WTERMSIG(st)));
  else
    SAY("%s: child exited %d\n", what, WEXITSTATUS(st));
}

static int write_to_closed_peer(void)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    return 2;
  close(sv[1]);
  write(sv[0], "x", 1);
  return 3; /* not reached: SIGPIPE */
}

static int send_nosignal_to_closed_peer(void)
{
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    return 2;
  close(sv[1]);
  return send(sv[0], "x", 1, MSG_NOSIGNAL) == -1 && errno == EPIPE ? 0 : 4;
}

static int tcp_write_after_reset(void)
{
  int c, s;
  struct linger lg = {1, 0};
  if (tcp_pair(&c, &s) != 0)
    return 2;
  setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(s); /* RST */
  usleep(20000);
  write(c, "x", 1);
  write(c, "x", 1);
  return 3;
}

int main(void)
{
  struct iovec iov = {"x", 1};
  char buf[16];
  int sv[2], fd;

  setvbuf(stdout, NULL, _IOLBF, 0);
  CALL("read fd -1", read(-1, buf, 1));
  CALL("write fd -1", write(-1, "x", 1));
  CALL("recv fd -1", recv(-1, buf, 1, 0));
  CALL("send fd -1", send(-1, "x", 1, 0));
  CALL("readv fd 4000", readv(4000, &iov, 1));
  CALL("writev fd 4000", writev(4000, &iov, 1));
  CALL("recvfrom fd 4000", recvfrom(4000, buf, 1, 0, NULL, NULL));
  CALL("sendto fd 4000", sendto(4000, "x", 1, 0, NULL, 0));
  CALL("accept fd 4000", accept(4000, NULL, NULL));
  CALL("accept4 with bad flags", accept4(0, NULL, NULL, 0x40000000));

  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  fd = sv[0];
  close(fd);
  CALL("read a closed fd", read(fd, buf, 1));
  CALL("write a closed fd", write(fd, "x", 1));
  CALL("recv a closed fd", recv(fd, buf, 1, 0));
  CALL("send a closed fd", send(fd, "x", 1, 0));
  CALL("close it again", close(fd));
  CALL("close fd -1", close(-1));

  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  EXPECT("write 4", write(sv[1], "data", 4) == 4);
  CALL("recv into NULL with data there", recv(sv[0], NULL, 4, 0));
  CALL("read into NULL with data there", read(sv[0], NULL, 4));
  CALL("the data is still there", recv(sv[0], buf, sizeof(buf), 0));
  CALL("send from NULL", send(sv[1], NULL, 4, 0));
  CALL("write from NULL", write(sv[1], NULL, 4));
  CALL("writev iovcnt -1", writev(sv[1], &iov, -1));
  CALL("readv iovcnt -1", readv(sv[0], &iov, -1));
  CALL("writev NULL iov", writev(sv[1], NULL, 1));
  CALL("sendmsg NULL msg", sendmsg(sv[1], NULL, 0));
  CALL("recvmsg NULL msg", recvmsg(sv[0], NULL, 0));
  CALL("recv MSG_OOB on a unix socket", recv(sv[0], buf, 1, MSG_OOB));
  CALL("send with a bogus flag", send(sv[1], "x", 1, 0x7f000000));
  CALL("sendto with an address on a connected stream",
       sendto(sv[1], "x", 1, 0, (struct sockaddr *)buf, 1));
  CALL("drain", recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT));
  CALL("write 0 bytes", write(sv[1], "x", 0));
  CALL("send 0 bytes", send(sv[1], "x", 0, 0));

  signal(SIGPIPE, SIG_IGN);
  close(sv[0]);
  CALL("send to a closed peer, SIGPIPE ignored", send(sv[1], "x", 1, 0));
  CALL("write to a closed peer, SIGPIPE ignored", write(sv[1], "x", 1));
  CALL("writev to a closed peer, SIGPIPE ignored", writev(sv[1], &iov, 1));
  CALL("read from the broken pair", read(sv[1], buf, 1));
  close(sv[1]);

  signal(SIGPIPE, SIG_DFL);
  in_child("write to a closed peer, SIGPIPE default", write_to_closed_peer);
  in_child("send MSG_NOSIGNAL to a closed peer", send_nosignal_to_closed_peer);
  in_child("tcp write after the peer reset", tcp_write_after_reset);
  return compat_failures != 0;
}
