/* d_epoll: epoll_wait and epoll_pwait on the program's own epoll set. A task
 * blocks while another writes; timeouts 0 and n; level- and edge-triggered
 * and one-shot registrations report as plain; bad arguments fail as plain. */
#include "compat.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>

static int p[2], q[2];

/* Prints the events got, by the tag each registration carries. */
static void show(const char *what, int r, struct epoll_event *ev)
{
  printf("%s: r=%d", what, r);
  for (int i = 0; i < r; i++)
    printf(" [%llu %#x]", (unsigned long long)ev[i].data.u64, ev[i].events);
  printf("\n");
  fflush(stdout);
}

int main(void)
{
  struct epoll_event ev, out[8];
  struct task t;
  double t0, el;
  int ep, r;
  char c;

  setvbuf(stdout, NULL, _IOLBF, 0);
  EXPECT("pipes", pipe(p) == 0 && pipe(q) == 0);
  ep = epoll_create1(EPOLL_CLOEXEC);
  EXPECT("epoll_create1", ep >= 0);
  ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = 1};
  EXPECT("add p level-triggered", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev) == 0);
  ev = (struct epoll_event){.events = EPOLLIN | EPOLLET, .data.u64 = 2};
  EXPECT("add q edge-triggered", epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev) == 0);

  r = epoll_wait(ep, out, 8, 0);
  show("idle t=0", r, out);
  t0 = now_ms();
  r = epoll_wait(ep, out, 8, 100);
  el = now_ms() - t0;
  show("idle t=100", r, out);
  EXPECT("t=100 not early", el >= 99.5);

  /* Level-triggered: woken by a write, then reported again and again. */
  spawn(&t, write_later, &p[1]);
  r = epoll_wait(ep, out, 8, -1);
  show("lt woken", r, out);
  EXPECT("writer", join(&t) == NULL);
  r = epoll_wait(ep, out, 8, -1);
  show("lt again t=-1", r, out);
  r = epoll_wait(ep, out, 8, 50);
  show("lt again t=50", r, out);
  EXPECT("drain p", read(p[0], &c, 1) == 1);

  /* Edge-triggered: woken once; the unread byte is not reported again
   * until another arrives. */
  spawn(&t, write_later, &q[1]);
  r = epoll_wait(ep, out, 8, -1);
  show("et woken", r, out);
  join(&t);
  t0 = now_ms();
  r = epoll_wait(ep, out, 8, 80);
  el = now_ms() - t0;
  show("et again t=80", r, out);
  EXPECT("et again waits", el >= 79.5);
  spawn(&t, write_later, &q[1]);
  r = epoll_wait(ep, out, 8, 2000);
  show("et second edge", r, out);
  join(&t);
  EXPECT("drain q", read(q[0], &c, 1) == 1 && read(q[0], &c, 1) == 1);

  /* One-shot: reported once, then disarmed until rearmed. */
  ev = (struct epoll_event){.events = EPOLLIN | EPOLLONESHOT, .data.u64 = 1};
  EXPECT("mod p one-shot", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0);
  spawn(&t, write_later, &p[1]);
  r = epoll_wait(ep, out, 8, -1);
  show("oneshot woken", r, out);
  join(&t);
  r = epoll_wait(ep, out, 8, 60);
  show("oneshot disarmed", r, out);
  EXPECT("rearm", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev) == 0);
  r = epoll_wait(ep, out, 8, 60);
  show("oneshot rearmed", r, out);
  EXPECT("drain p", read(p[0], &c, 1) == 1);

  /* maxevents 1: one at a time, both in turn. */
  ev = (struct epoll_event){.events = EPOLLIN, .data.u64 = 1};
  epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
  if (write(p[1], "y", 1) != 1 || write(q[1], "y", 1) != 1)
    abort();
  {
    unsigned long long seen = 0;
    r = epoll_wait(ep, out, 1, -1);
    seen |= r == 1 ? out[0].data.u64 : 0;
    SAY("max 1: r=%d\n", r);
    r = epoll_wait(ep, out, 1, -1);
    seen |= r == 1 ? out[0].data.u64 : 0;
    SAY("max 1 again: r=%d, tags seen %llu\n", r, seen);
  }
  EXPECT("drain", read(p[0], &c, 1) == 1 && read(q[0], &c, 1) == 1);

  /* epoll_pwait, with a mask, timeout and wake-up. */
  {
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    t0 = now_ms();
    r = epoll_pwait(ep, out, 8, 70, &m);
    el = now_ms() - t0;
    show("pwait t=70", r, out);
    EXPECT("pwait not early", el >= 69.5);
    spawn(&t, write_later, &p[1]);
    r = epoll_pwait(ep, out, 8, -1, &m);
    show("pwait woken", r, out);
    join(&t);
    r = epoll_pwait(ep, out, 8, 0, NULL);
    show("pwait t=0", r, out);
    EXPECT("drain p", read(p[0], &c, 1) == 1);
  }

  /* Hang-up: the writer closes while the wait goes on. */
  {
    struct task t2;
    spawn(&t2, write_later, &p[1]); /* so there is something to read */
    r = epoll_wait(ep, out, 8, -1);
    join(&t2);
    close(p[1]);
    r = epoll_wait(ep, out, 8, -1);
    show("hup", r, out);
  }

  /* Bad arguments. */
  errno = 0;
  r = epoll_wait(p[0], out, 8, 50);
  SAY("not an epoll fd: r=%d errno %d\n", r, errno);
  errno = 0;
  r = epoll_wait(ep, out, 0, 50);
  SAY("maxevents 0: r=%d errno %d\n", r, errno);
  {
    int closed = dup(ep);
    close(closed);
    errno = 0;
    r = epoll_wait(closed, out, 8, 50);
    SAY("closed fd: r=%d errno %d\n", r, errno);
  }
  close(ep);
  return compat_failures != 0;
}
