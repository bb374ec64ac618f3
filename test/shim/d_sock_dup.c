/* d_sock_dup: duplicates name one socket — data read through a dup, F_GETFL
 * through the dup matches the original before and after O_NONBLOCK is
 * toggled through either (F_SETFL, FIONBIO), dup2 over an open socket
 * closes it (its peer sees EOF) and the number then reads the other one,
 * dup3/F_DUPFD_CLOEXEC set close-on-exec only on the new fd, and a dup
 * keeps working, blocking, after the original is closed. */
#include "sockutil.h"

#include <sys/ioctl.h>

static int wfd;

static void *late(void *arg)
{
  (void)arg;
  sleep_ms(80);
  check_threads(1);
  return write(wfd, "late", 4) == 4 ? NULL : (void *)1;
}

int main(void)
{
  int sv[2], ov[2], d, d2, d3, one = 1, zero = 0;
  char buf[16];
  struct task t;
  double t0;

  setvbuf(stdout, NULL, _IOLBF, 0);
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  d = dup(sv[0]);
  EXPECT("dup", d >= 0);
  EXPECT("write", write(sv[1], "abc", 3) == 3);
  CALL("read through the dup", read(d, buf, sizeof(buf)));
  SAY("F_GETFL nonblock: original %d, dup %d\n", nonblock_flag(sv[0]),
      nonblock_flag(d));
  EXPECT("F_SETFL O_NONBLOCK on the original",
         fcntl(sv[0], F_SETFL, O_NONBLOCK | O_RDWR) == 0);
  SAY("F_GETFL nonblock: original %d, dup %d\n", nonblock_flag(sv[0]),
      nonblock_flag(d));
  CALL("recv through the dup", recv(d, buf, sizeof(buf), 0));
  EXPECT("F_SETFL blocking through the dup", fcntl(d, F_SETFL, O_RDWR) == 0);
  SAY("F_GETFL nonblock: original %d, dup %d\n", nonblock_flag(sv[0]),
      nonblock_flag(d));
  wfd = sv[1];
  spawn(&t, late, NULL);
  t0 = now_ms();
  CALL("recv on the original blocks again", recv(sv[0], buf, sizeof(buf), 0));
  SAY("waited: %d\n", now_ms() - t0 >= 70);
  EXPECT("late", join(&t) == NULL);
  EXPECT("FIONBIO 1 through the dup", ioctl(d, FIONBIO, &one) == 0);
  SAY("F_GETFL nonblock: original %d, dup %d\n", nonblock_flag(sv[0]),
      nonblock_flag(d));
  CALL("read on the original", read(sv[0], buf, sizeof(buf)));
  EXPECT("FIONBIO 0 on the original", ioctl(sv[0], FIONBIO, &zero) == 0);
  SAY("F_GETFL nonblock: original %d, dup %d\n", nonblock_flag(sv[0]),
      nonblock_flag(d));

  /* F_DUPFD_CLOEXEC and dup3. */
  d2 = fcntl(sv[0], F_DUPFD_CLOEXEC, 100);
  SAY("F_DUPFD_CLOEXEC >= 100: %d, FD_CLOEXEC new %d original %d\n", d2 >= 100,
      fcntl(d2, F_GETFD) & FD_CLOEXEC, fcntl(sv[0], F_GETFD) & FD_CLOEXEC);
  d3 = dup3(sv[0], 120, O_CLOEXEC);
  SAY("dup3: %d, FD_CLOEXEC %d, nonblock %d\n", d3,
      fcntl(d3, F_GETFD) & FD_CLOEXEC, nonblock_flag(d3));
  CALL("dup3 onto itself", dup3(d3, d3, 0));
  CALL("dup3 with bad flags", dup3(sv[0], 121, 12345));
  CALL("dup2 onto itself", dup2(d3, d3));
  CALL("dup2 from a bad fd", dup2(999, d3));
  CALL("d3 still open", fcntl(d3, F_GETFD) >= 0);
  CALL("dup of a bad fd", dup(999));
  CALL("F_DUPFD of a bad fd", fcntl(999, F_DUPFD, 0));
  EXPECT("F_SETFL O_NONBLOCK through F_DUPFD copy",
         fcntl(d2, F_SETFL, O_NONBLOCK) == 0);
  SAY("F_GETFL nonblock: original %d, dup %d, dup3 %d\n", nonblock_flag(sv[0]),
      nonblock_flag(d), nonblock_flag(d3));
  CALL("recv through dup3", recv(d3, buf, sizeof(buf), 0));
  fcntl(d2, F_SETFL, 0);
  close(d2);
  close(d3);

  /* dup2 over another open socket. */
  EXPECT("other socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, ov) == 0);
  CALL("dup2 over it returns the target", dup2(sv[0], ov[0]) == ov[0]);
  CALL("its peer sees EOF", read(ov[1], buf, sizeof(buf)));
  EXPECT("write", write(sv[1], "xyz", 3) == 3);
  CALL("read through the dup2'd number", read(ov[0], buf, sizeof(buf)));
  SAY("F_GETFL nonblock via dup2'd number: %d\n", nonblock_flag(ov[0]));
  close(ov[0]);
  close(ov[1]);

  /* Close the original: the dup still blocks and reads. */
  close(sv[0]);
  spawn(&t, late, NULL);
  CALL("read on the dup after the original is closed", read(d, buf, 16));
  EXPECT("late", join(&t) == NULL);
  close(sv[1]);
  CALL("then EOF", read(d, buf, 16));
  close(d);
  return compat_failures != 0;
}
