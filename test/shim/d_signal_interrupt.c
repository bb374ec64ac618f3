/* d_signal_interrupt: a signal caught while another thread runs still
 * interrupts the call main is blocked in. Main reads an empty pipe; a
 * second thread computes, making no call, when SIGALRM (no SA_RESTART)
 * arrives: unpatched, the kernel delivers it to main, whose read fails
 * with EINTR at once; patched, the handler runs on top of the computing
 * thread, and main's read must still fail with EINTR, once that thread
 * lets the others run. Then a storm: a 1 ms interval timer while main
 * loops in poll(): every signal caught interrupts a poll (plain counts
 * hundreds; the check only asks for many). */
#include "compat.h"

#include <poll.h>
#include <signal.h>
#include <sys/time.h>

static volatile sig_atomic_t caught;
static volatile int stop;

static void on_alarm(int sig)
{
  (void)sig;
  caught++;
}

static void *compute(void *arg)
{
  double t0;
  sleep_ms(20); /* main is in its read by now */
  t0 = now_ms();
  volatile unsigned long x = 0;
  while (now_ms() - t0 < 300) /* clock_gettime: the vDSO, not a wait */
    x++;
  return arg;
}

static void timer_ms(long first, long every)
{
  struct itimerval it = {{every / 1000, (every % 1000) * 1000},
                         {first / 1000, (first % 1000) * 1000}};
  setitimer(ITIMER_REAL, &it, NULL);
}

int main(void)
{
  struct sigaction sa;
  pthread_t t;
  int p[2];
  char c;
  ssize_t r;
  long eintr = 0, polls = 0;
  double t0;

  setvbuf(stdout, NULL, _IOLBF, 0);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_alarm; /* no SA_RESTART */
  sigaction(SIGALRM, &sa, NULL);
  if (pipe(p) != 0)
    return 1;

  timer_ms(50, 0); /* while the other thread computes */
  pthread_create(&t, NULL, compute, NULL);
  r = read(p[0], &c, 1);
  SAY("read: %zd %s, caught %d\n", r, r < 0 ? strerrorname_np(errno) : "-",
      (int)caught);
  pthread_join(t, NULL);

  caught = 0;
  timer_ms(1, 1);
  t0 = now_ms();
  while (now_ms() - t0 < 300) {
    struct pollfd pf = {.fd = p[0], .events = POLLIN};
    polls++;
    if (poll(&pf, 1, 1000) < 0 && errno == EINTR)
      eintr++;
  }
  timer_ms(0, 0);
  SAY("storm: %s polls interrupted\n", eintr >= 20 ? "many" : "FEW");
  if (eintr < 20)
    fprintf(stderr, "storm: %ld EINTR of %ld polls, %d caught\n", eintr, polls,
            (int)caught);
  return 0;
}
