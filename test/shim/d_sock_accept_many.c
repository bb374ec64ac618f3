/* d_sock_accept_many: many tasks wait on one fd — 8 tasks block in
 * accept() on one listener, 8 clients connect, and every task gets exactly
 * one connection, which works; then 4 tasks block in recv() on one socket,
 * 4 messages arrive, each task gets one. Only totals are printed: which
 * task gets which differs between threads and coroutines. */
#include "sockutil.h"

#define N 8

static int lfd, sfd, accepted[N], got[N];

static void *acceptor(void *arg)
{
  int i = (int)(intptr_t)arg;
  char c;
  int fd = accept(lfd, NULL, NULL);
  if (fd < 0)
    return (void *)1;
  accepted[i] = 1;
  /* Echo one byte back, to show the connection works. */
  if (read(fd, &c, 1) != 1 || write(fd, &c, 1) != 1)
    return (void *)2;
  close(fd);
  return NULL;
}

static void *receiver(void *arg)
{
  int i = (int)(intptr_t)arg;
  char c;
  if (recv(sfd, &c, 1, 0) != 1)
    return (void *)1;
  got[i] = c;
  return NULL;
}

int main(void)
{
  struct sockaddr_in a;
  struct task t[N];
  int c[N], sum = 0, ok = 0, sv[2];

  setvbuf(stdout, NULL, _IOLBF, 0);
  lfd = tcp_listener(&a, 0, N);
  EXPECT("listener", lfd >= 0);
  for (int i = 0; i < N; i++)
    spawn(&t[i], acceptor, (void *)(intptr_t)i);
  sleep_ms(50); /* all of them blocked in accept */
  check_threads(1);
  for (int i = 0; i < N; i++) {
    char b = (char)('a' + i), r = 0;
    c[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c[i], (struct sockaddr *)&a, sizeof(a)) == 0 &&
        write(c[i], &b, 1) == 1 && read(c[i], &r, 1) == 1 && r == b)
      ok++;
  }
  for (int i = 0; i < N; i++)
    sum += join(&t[i]) == NULL;
  for (int i = 0; i < N; i++)
    ok += 0, sum += 0;
  {
    int n = 0;
    for (int i = 0; i < N; i++)
      n += accepted[i];
    SAY("tasks that accepted one connection: %d of %d\n", n, N);
  }
  SAY("tasks that finished cleanly: %d\n", sum);
  SAY("clients echoed: %d\n", ok);
  for (int i = 0; i < N; i++)
    close(c[i]);

  /* Four receivers on one datagram socket. */
  EXPECT("socketpair", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
  sfd = sv[0];
  for (int i = 0; i < 4; i++)
    spawn(&t[i], receiver, (void *)(intptr_t)i);
  sleep_ms(50);
  check_threads(1);
  for (int i = 0; i < 4; i++) {
    char b = (char)('1' + i);
    send(sv[1], &b, 1, 0);
  }
  sum = 0;
  for (int i = 0; i < 4; i++)
    sum += join(&t[i]) == NULL;
  {
    int mask = 0;
    for (int i = 0; i < 4; i++)
      if (got[i] >= '1' && got[i] <= '4')
        mask |= 1 << (got[i] - '1');
    SAY("receivers done: %d, distinct messages received: %s\n", sum,
        mask == 15 ? "all 4" : "not all");
  }
  return compat_failures != 0;
}
