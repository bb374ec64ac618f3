/* d_signal_partial_write: a blocking write that has moved some bytes when
 * a signal handler runs returns their count, with SA_RESTART or without,
 * as write(2) says: a write of 70000 bytes to a pipe of 4096 returns 4096,
 * and a send of 1 MiB to a full AF_UNIX stream socket returns what it
 * moved. Patched, with SA_RESTART the write went on (a pipe's returned
 * everything once drained, a socket's waited for good). Main sends SIGUSR1
 * every 50 ms until the writer is done, so that one lands in the wait. */
#include "compat.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>

#define TOTAL (1 << 20)

static int fds[2], to_socket;
static volatile long written = -2;
static int done;

static void on_usr1(int sig)
{
  (void)sig;
}

static void *writer(void *arg)
{
  static char big[TOTAL];
  (void)arg;
  written = to_socket ? send(fds[1], big, TOTAL, 0) : write(fds[1], big, 70000);
  __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void run(int socket_, int restart)
{
  struct sigaction sa = {0};
  pthread_t th;

  sa.sa_handler = on_usr1;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(SIGUSR1, &sa, NULL);
  to_socket = socket_;
  done = 0;
  if (socket_) {
    int small = 4096;
    socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
    setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  } else {
    if (pipe(fds) != 0 || fcntl(fds[1], F_SETPIPE_SZ, 4096) < 0)
      exit(2);
  }
  pthread_create(&th, NULL, writer, NULL);
  while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
    sleep_ms(50);
    if (!__atomic_load_n(&done, __ATOMIC_ACQUIRE))
      pthread_kill(th, SIGUSR1);
  }
  pthread_join(th, NULL);
  if (socket_)
    SAY("send of 1 MiB to a full socket, %s: %s\n",
        restart ? "SA_RESTART" : "no SA_RESTART",
        written > 0 && written < TOTAL ? "a part" : "not a part");
  else
    SAY("write of 70000 to a pipe of 4096, %s: %ld\n",
        restart ? "SA_RESTART" : "no SA_RESTART", written);
  close(fds[0]);
  close(fds[1]);
}

int main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int s = 0; s < 2; s++)
    for (int r = 0; r < 2; r++)
      run(s, r);
  return 0;
}
