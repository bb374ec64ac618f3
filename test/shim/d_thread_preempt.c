/* d_thread_preempt: threads that wait for each other without making a call
 * finish, as the kernel's preemption lets real threads, and what a thread
 * sees of its own state survives being preempted.
 *
 * - Two threads hand a token back and forth 100 times through an atomic
 *   variable, spinning on it with no call in between. With one scheduler
 *   and only cooperative switching, the first spinner kept the OS thread
 *   and the program hung (GPATCH_CORES=1, and with more schedulers when
 *   both land on one).
 * - A thread spins until main, after a 50 ms sleep, clears a flag (main's
 *   sleep ends only once the runtime looks at its timers, which the
 *   spinning thread kept it from: nothing of that scheduler was ready).
 *   Main blocks SIGUSR2 meanwhile, and it stays blocked once the spinner,
 *   resumed, returns from the runtime's preemption handler (whose return
 *   puts back a mask).
 * - Four threads take a spinlock of their own making (an atomic exchange,
 *   no pause, no yield) 20000 times each around a counter.
 * - A thread that set its rounding mode upward and errno to ERANGE
 *   computes a sum in doubles in two halves, spinning between them for a
 *   flag that another thread sets: its sum, rounding mode and errno come
 *   through, and the other thread, which computes 1/3 with the default
 *   rounding, does not get the first one's.
 * - The first thread blocked SIGURG (the runtime's preemption signal) and
 *   SIGUSR1 before it made threads: its mask still says so, a thread it
 *   makes inherits both, SIGURG's action reads back as the program set it,
 *   and a child it forks, and the program that child execs, start with
 *   both blocked. */
#include "compat.h"

#include <fenv.h>
#include <signal.h>

#define ROUNDS  100
#define LOCKERS 4
#define TAKES   20000

static int turn;

static void *handoff(void *arg)
{
  int me = (int)(long)arg;
  long n = 0;
  for (int i = 0; i < ROUNDS; i++) {
    while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != me)
      ;
    n++;
    __atomic_store_n(&turn, !me, __ATOMIC_RELEASE);
  }
  return (void *)n;
}

static int spinning = 1;

static void *spinner(void *arg)
{
  long n = 0;
  while (__atomic_load_n(&spinning, __ATOMIC_ACQUIRE))
    n++;
  return (void *)(long)(n > 0);
}

static int lock_word;
static long counter;

static void *locker(void *arg)
{
  for (int i = 0; i < TAKES; i++) {
    while (__atomic_exchange_n(&lock_word, 1, __ATOMIC_ACQUIRE))
      ;
    counter++;
    __atomic_store_n(&lock_word, 0, __ATOMIC_RELEASE);
  }
  return arg;
}

static int half_done, other_done;
static double third;

static double series(long from, long to)
{
  double sum = 0;
  for (long i = from; i < to; i++)
    sum += 1.0 / ((double)i * (double)i + 0.5);
  return sum;
}

static void *upward(void *arg)
{
  double sum;
  int mode;
  (void)arg;
  fesetround(FE_UPWARD);
  errno = ERANGE;
  sum = series(1, 3000000);
  __atomic_store_n(&half_done, 1, __ATOMIC_RELEASE);
  while (!__atomic_load_n(&other_done, __ATOMIC_ACQUIRE))
    ;
  sum += series(3000000, 6000000);
  mode = fegetround();
  printf("upward: sum %a, rounding %s, errno %s\n", sum,
         mode == FE_UPWARD ? "upward" : "changed",
         errno == ERANGE ? "ERANGE" : strerror(errno));
  return NULL;
}

static void *other(void *arg)
{
  volatile double three = 3.0;
  (void)arg;
  while (!__atomic_load_n(&half_done, __ATOMIC_ACQUIRE))
    ;
  third = 1.0 / three;
  printf("other: 1/3 = %a, rounding %s\n", third,
         fegetround() == FE_TONEAREST ? "to nearest" : "changed");
  __atomic_store_n(&other_done, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void *show_mask(void *arg)
{
  sigset_t m;
  (void)arg;
  pthread_sigmask(SIG_BLOCK, NULL, &m);
  printf("new thread: SIGURG blocked %d, SIGUSR1 blocked %d\n",
         sigismember(&m, SIGURG), sigismember(&m, SIGUSR1));
  return NULL;
}

static void masks(void)
{
  sigset_t m, pend;
  struct sigaction a, old;
  pthread_t th;
  pid_t pid;
  int st;

  pthread_sigmask(SIG_BLOCK, NULL, &m);
  printf("main: SIGURG blocked %d, SIGUSR1 blocked %d\n",
         sigismember(&m, SIGURG), sigismember(&m, SIGUSR1));
  sigpending(&pend);
  printf("main: SIGURG pending %d\n", sigismember(&pend, SIGURG));
  pthread_create(&th, NULL, show_mask, NULL);
  pthread_join(th, NULL);

  sigaction(SIGURG, NULL, &old);
  printf("SIGURG action: %s, flags %#x\n",
         old.sa_handler == SIG_DFL ? "default" : "other", old.sa_flags);
  memset(&a, 0, sizeof(a));
  a.sa_handler = SIG_IGN;
  sigaction(SIGURG, &a, NULL);
  sigaction(SIGURG, NULL, &old);
  printf("SIGURG action after SIG_IGN: %s, SA_RESTART %d\n",
         old.sa_handler == SIG_IGN ? "ignore" : "other",
         !!(old.sa_flags & SA_RESTART));
  a.sa_handler = SIG_DFL;
  sigaction(SIGURG, &a, &old);
  printf("SIGURG action replaced: %s\n",
         old.sa_handler == SIG_IGN ? "ignore" : "other");

  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    sigprocmask(SIG_BLOCK, NULL, &m);
    printf("child: SIGURG blocked %d, SIGUSR1 blocked %d\n",
           sigismember(&m, SIGURG), sigismember(&m, SIGUSR1));
    fflush(stdout);
    execlp("grep", "grep", "SigBlk", "/proc/self/status", (char *)0);
    _exit(127);
  }
  waitpid(pid, &st, 0);
  printf("child exit %d\n", WEXITSTATUS(st));
}

int main(void)
{
  pthread_t th[LOCKERS];
  void *r;
  long total = 0;
  sigset_t block, usr2;

  alarm(50);
  sigemptyset(&block);
  sigaddset(&block, SIGURG);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, NULL);

  for (long i = 0; i < 2; i++)
    pthread_create(&th[i], NULL, handoff, (void *)i);
  for (int i = 0; i < 2; i++) {
    pthread_join(th[i], &r);
    total += (long)r;
  }
  printf("handoffs: %ld of %d\n", total, 2 * ROUNDS);

  pthread_create(&th[0], NULL, spinner, NULL);
  usleep(50000);
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &usr2, NULL);
  __atomic_store_n(&spinning, 0, __ATOMIC_RELEASE);
  pthread_join(th[0], &r);
  printf("spinner stopped by main after its sleep: %s\n", r ? "yes" : "no");
  pthread_sigmask(SIG_BLOCK, NULL, &usr2);
  printf("main: SIGUSR2 still blocked after the spinner ended: %d\n",
         sigismember(&usr2, SIGUSR2));

  for (int i = 0; i < LOCKERS; i++)
    pthread_create(&th[i], NULL, locker, NULL);
  for (int i = 0; i < LOCKERS; i++)
    pthread_join(th[i], NULL);
  printf("spinlock counter: %ld of %d\n", counter, LOCKERS * TAKES);

  pthread_create(&th[0], NULL, upward, NULL);
  pthread_create(&th[1], NULL, other, NULL);
  pthread_join(th[0], NULL);
  pthread_join(th[1], NULL);

  masks();
  return 0;
}
