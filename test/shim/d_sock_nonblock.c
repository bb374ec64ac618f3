/* d_sock_nonblock: a socket the app makes non-blocking (fcntl F_SETFL,
 * ioctl FIONBIO, SOCK_NONBLOCK at socket() and accept4()) returns EAGAIN
 * from recv, read and accept exactly as plain; F_GETFL reports the app's
 * view before and after toggling; turning O_NONBLOCK off makes recv block
 * again. */
#include "sockutil.h"

#include <sys/ioctl.h>

static int sv[2];

/* Sends "late" on sv[1] after 100 ms. */
static void *late_writer(void *arg)
{
  (void)arg;
  sleep_ms(100);
  check_threads(1);
  return write(sv[1], "late", 4) == 4 ? NULL : (void *)1;
}

int main(void)
{
  struct sockaddr_in a;
  struct task t;
  char buf[16];
  int one = 1, zero = 0, fd, lfd, c, fl;
  double t0;

  setvbuf(stdout, NULL, _IOLBF, 0);
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  SAY("fresh socket F_GETFL nonblock=%d\n", nonblock_flag(sv[0]));
  fl = fcntl(sv[0], F_GETFL);
  SAY("fresh socket F_GETFL access mode=%d\n", fl & O_ACCMODE);

  /* fcntl F_SETFL */
  EXPECT("F_SETFL O_NONBLOCK",
         fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK) == 0);
  SAY("after F_SETFL nonblock=%d\n", nonblock_flag(sv[0]));
  CALL("recv", recv(sv[0], buf, sizeof(buf), 0));
  CALL("read", read(sv[0], buf, sizeof(buf)));
  EXPECT("F_SETFL blocking",
         fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) & ~O_NONBLOCK) == 0);
  SAY("after clearing nonblock=%d\n", nonblock_flag(sv[0]));
  spawn(&t, late_writer, NULL);
  t0 = now_ms();
  EXPECT("recv blocks again until data",
         recv(sv[0], buf, sizeof(buf), 0) == 4 && now_ms() - t0 >= 90);
  EXPECT("writer", join(&t) == NULL);

  /* ioctl FIONBIO */
  EXPECT("FIONBIO on", ioctl(sv[0], FIONBIO, &one) == 0);
  SAY("after FIONBIO 1 nonblock=%d\n", nonblock_flag(sv[0]));
  CALL("recv", recv(sv[0], buf, sizeof(buf), 0));
  CALL("read", read(sv[0], buf, sizeof(buf)));
  EXPECT("FIONBIO off", ioctl(sv[0], FIONBIO, &zero) == 0);
  SAY("after FIONBIO 0 nonblock=%d\n", nonblock_flag(sv[0]));
  spawn(&t, late_writer, NULL);
  t0 = now_ms();
  EXPECT("recv blocks again after FIONBIO 0",
         read(sv[0], buf, sizeof(buf)) == 4 && now_ms() - t0 >= 90);
  EXPECT("writer", join(&t) == NULL);
  CALL("FIONBIO with a bad pointer", ioctl(sv[0], FIONBIO, (int *)16));
  SAY("still blocking: nonblock=%d\n", nonblock_flag(sv[0]));
  CALL("MSG_DONTWAIT on a blocking socket",
       recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT));
  close(sv[0]);
  close(sv[1]);

  /* SOCK_NONBLOCK at socket(), accept with nothing pending, accept4. */
  lfd = tcp_listener(&a, SOCK_NONBLOCK, 8);
  EXPECT("nonblocking listener", lfd >= 0);
  SAY("listener nonblock=%d\n", nonblock_flag(lfd));
  CALL("accept", accept(lfd, NULL, NULL));
  CALL("accept4", accept4(lfd, NULL, NULL, SOCK_CLOEXEC));
  c = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT("connect", connect(c, (struct sockaddr *)&a, sizeof(a)) == 0);
  sleep_ms(20);
  fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
  EXPECT("accept4 SOCK_NONBLOCK", fd >= 0);
  SAY("accepted with SOCK_NONBLOCK nonblock=%d\n", nonblock_flag(fd));
  CALL("recv on it", recv(fd, buf, sizeof(buf), 0));
  close(fd);
  c = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT("connect", connect(c, (struct sockaddr *)&a, sizeof(a)) == 0);
  sleep_ms(20);
  fd = accept(lfd, NULL, NULL);
  EXPECT("accept on a nonblocking listener", fd >= 0);
  SAY("accepted socket does not inherit O_NONBLOCK: nonblock=%d\n",
      nonblock_flag(fd));
  EXPECT("listener back to blocking",
         fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) & ~O_NONBLOCK) == 0);
  SAY("listener nonblock=%d\n", nonblock_flag(lfd));
  fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  SAY("datagram socket nonblock=%d\n", nonblock_flag(fd));
  CALL("recvfrom", recvfrom(fd, buf, sizeof(buf), 0, NULL, NULL));
  return compat_failures != 0;
}
