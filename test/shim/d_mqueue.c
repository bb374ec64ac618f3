/* d_mqueue: POSIX message queues wait as plain, and a thread waiting on one
 * lets the others run.
 *
 * - A thread waits in mq_receive on an empty queue; main sends after a
 *   moment: the message arrives. Patched, glibc's mq_receive held the OS
 *   thread, and with one scheduler main never ran to send it.
 * - A thread waits in mq_send on a full queue; main receives one: the
 *   send completes.
 * - mq_timedreceive on an empty queue times out (ETIMEDOUT) at its
 *   deadline; a bad deadline is EINVAL even with a message there, as the
 *   kernel checks it first; a deadline past with a message there takes
 *   it.
 * - A signal whose handler lacks SA_RESTART ends a wait with EINTR.
 * - O_NONBLOCK: EAGAIN; a buffer smaller than the message size:
 *   EMSGSIZE; a bad descriptor: EBADF.
 * - Queues opened and closed in turn, each given the same fd number: a
 *   wait on each. Patched, glibc's mq_close left the runtime's record of
 *   the fd, and the wait on the next queue never ended. */
#include "compat.h"

#include <mqueue.h>
#include <signal.h>

static mqd_t q;
static char name[64];

static void said(const char *what, long r)
{
  int e = errno;
  printf("%s: %ld %s\n", what, r, r < 0 ? strerror(e) : "");
}

/* What the threads got, printed by main after the join (the order of
 * prints across threads is the scheduler's). */
static char got[64];
static unsigned got_prio;
static long got_r;
static int got_errno;

static void *receiver(void *arg)
{
  (void)arg;
  got_r = mq_receive(q, got, sizeof(got), &got_prio);
  got_errno = errno;
  return NULL;
}

static void *sender(void *arg)
{
  (void)arg;
  got_r = mq_send(q, "late", 4, 1);
  got_errno = errno;
  return NULL;
}

static void thread_said(const char *what)
{
  errno = got_errno;
  said(what, got_r);
}

static volatile sig_atomic_t caught;
static pthread_t main_thread;

static void on_usr1(int sig)
{
  (void)sig;
  caught++;
}

int main(void)
{
  struct mq_attr attr = {.mq_maxmsg = 2, .mq_msgsize = 64};
  char buf[64];
  pthread_t t;

  setvbuf(stdout, NULL, _IONBF, 0);
  main_thread = pthread_self();
  snprintf(name, sizeof(name), "/d_mqueue.%d", (int)getpid());
  q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
  if (q == (mqd_t)-1) {
    perror("mq_open");
    return 1;
  }

  pthread_create(&t, NULL, receiver, NULL);
  sleep_ms(100);
  said("main: mq_send", mq_send(q, "hello", 6, 3));
  pthread_join(t, NULL);
  thread_said("receiver: mq_receive");
  printf("receiver: \"%s\" prio %u\n", got, got_prio);

  said("main: fill 1", mq_send(q, "a", 2, 0));
  said("main: fill 2", mq_send(q, "b", 2, 0));
  pthread_create(&t, NULL, sender, NULL);
  sleep_ms(100);
  said("main: mq_receive makes room", mq_receive(q, buf, sizeof(buf), NULL));
  pthread_join(t, NULL);
  thread_said("sender: mq_send into the full queue");
  for (int i = 0; i < 2; i++)
    said("main: drain", mq_receive(q, buf, sizeof(buf), NULL));

  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_nsec += 50 * 1000000;
  if (dl.tv_nsec >= 1000000000) {
    dl.tv_sec++;
    dl.tv_nsec -= 1000000000;
  }
  said("mq_timedreceive, empty",
       mq_timedreceive(q, buf, sizeof(buf), NULL, &dl));
  struct timespec bad = {0, 2000000000};
  mq_send(q, "x", 2, 0);
  said("mq_timedreceive, bad deadline",
       mq_timedreceive(q, buf, sizeof(buf), NULL, &bad));
  struct timespec gone = {1, 0};
  said("mq_timedreceive, deadline past, a message there",
       mq_timedreceive(q, buf, sizeof(buf), NULL, &gone));
  said("mq_timedreceive, deadline past, empty",
       mq_timedreceive(q, buf, sizeof(buf), NULL, &gone));

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  pthread_create(&t, NULL, kill_later, &main_thread);
  said("mq_receive with a signal", mq_receive(q, buf, sizeof(buf), NULL));
  pthread_join(t, NULL);
  printf("handler ran %d\n", (int)caught);

  said("small buffer", mq_receive(q, buf, 8, NULL));
  said("bad descriptor", mq_receive((mqd_t)12345, buf, sizeof(buf), NULL));
  mqd_t nb = mq_open(name, O_RDWR | O_NONBLOCK);
  said("O_NONBLOCK, empty", mq_receive(nb, buf, sizeof(buf), NULL));
  mq_close(nb);
  mq_close(q);
  mq_unlink(name);

  /* queues opened and closed in turn get the same fd number: each wait is
   * on its own queue */
  for (int round = 0; round < 3; round++) {
    q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    pthread_create(&t, NULL, receiver, NULL);
    sleep_ms(50);
    mq_send(q, "again", 6, round);
    pthread_join(t, NULL);
    thread_said("receiver, a queue reopened");
    printf("round %d: \"%s\" prio %u\n", round, got, got_prio);
    said("mq_close", mq_close(q));
    mq_unlink(name);
  }
  said("mq_close, closed", mq_close(q));
  return 0;
}
