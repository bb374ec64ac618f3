/* d_sysv_ipc: System V message queues and semaphores wait as plain, and a
 * thread waiting in one lets the others run.
 *
 * - A thread waits in msgrcv on an empty queue; main sends a moment
 *   later. Patched, glibc's msgrcv held the OS thread, and with one
 *   scheduler main never ran to send.
 * - A thread waits in msgsnd on a full queue; main receives.
 * - A thread waits in semop for a semaphore main raises a moment later.
 * - semtimedop times out with EAGAIN; a bad timeout is EINVAL; IPC_NOWAIT
 *   says EAGAIN (semop) and ENOMSG (msgrcv) at once.
 * - A caught signal ends msgrcv and semop with EINTR even with SA_RESTART
 *   (the kernel never restarts them).
 * - A queue or set removed under a wait: EIDRM. */
#include "compat.h"

#include <signal.h>
#include <sys/msg.h>
#include <sys/sem.h>

struct msg {
  long type;
  char text[16];
};

static int mq, sem;
static pthread_t main_thread;
static volatile sig_atomic_t caught;

/* What a thread got, printed by main after the join. */
static long got_r;
static int got_errno;
static struct msg got;

static void said(const char *what, long r)
{
  int e = errno;
  printf("%s: %ld %s\n", what, r, r < 0 ? strerror(e) : "");
}

static void thread_said(const char *what)
{
  errno = got_errno;
  said(what, got_r);
}

static void *receiver(void *arg)
{
  (void)arg;
  got_r = msgrcv(mq, &got, sizeof(got.text), 0, 0);
  got_errno = errno;
  return NULL;
}

static void *sender(void *arg)
{
  struct msg m = {2, "second"};
  (void)arg;
  got_r = msgsnd(mq, &m, sizeof(m.text), 0);
  got_errno = errno;
  return NULL;
}

static void *downer(void *arg)
{
  struct sembuf down = {0, -1, 0};
  (void)arg;
  got_r = semop(sem, &down, 1);
  got_errno = errno;
  return NULL;
}

static void on_usr1(int sig)
{
  (void)sig;
  caught++;
}

int main(void)
{
  struct msg m = {1, "first"}, buf;
  struct msqid_ds ds;
  pthread_t t;

  setvbuf(stdout, NULL, _IONBF, 0);
  main_thread = pthread_self();
  mq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
  if (mq < 0 || sem < 0) {
    perror("msgget/semget");
    return 1;
  }

  pthread_create(&t, NULL, receiver, NULL);
  sleep_ms(100);
  said("main: msgsnd", msgsnd(mq, &m, sizeof(m.text), 0));
  pthread_join(t, NULL);
  thread_said("receiver: msgrcv");
  printf("receiver: type %ld \"%s\"\n", got.type, got.text);

  /* a queue that holds one message */
  msgctl(mq, IPC_STAT, &ds);
  ds.msg_qbytes = sizeof(m.text);
  said("msgctl IPC_SET", msgctl(mq, IPC_SET, &ds));
  said("main: fill", msgsnd(mq, &m, sizeof(m.text), 0));
  pthread_create(&t, NULL, sender, NULL);
  sleep_ms(100);
  said("main: msgrcv makes room", msgrcv(mq, &buf, sizeof(buf.text), 0, 0));
  pthread_join(t, NULL);
  thread_said("sender: msgsnd into the full queue");
  said("main: msgrcv", msgrcv(mq, &buf, sizeof(buf.text), 0, 0));
  printf("main: got \"%s\"\n", buf.text);
  said("msgrcv IPC_NOWAIT, empty",
       msgrcv(mq, &buf, sizeof(buf.text), 0, IPC_NOWAIT));

  pthread_create(&t, NULL, downer, NULL);
  sleep_ms(100);
  struct sembuf up = {0, 1, 0};
  said("main: semop up", semop(sem, &up, 1));
  pthread_join(t, NULL);
  thread_said("downer: semop down");

  struct sembuf down = {0, -1, 0}, down_nw = {0, -1, IPC_NOWAIT};
  struct timespec t50 = {0, 50 * 1000000}, bad = {0, 1000000000};
  double t0 = now_ms();
  said("semtimedop 50 ms", semtimedop(sem, &down, 1, &t50));
  printf("waited at least 50 ms: %d\n", now_ms() - t0 >= 50);
  said("semtimedop bad timeout", semtimedop(sem, &down, 1, &bad));
  said("semop IPC_NOWAIT", semop(sem, &down_nw, 1));
  said("semop no operations", semop(sem, &down, 0));

  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  pthread_create(&t, NULL, kill_later, &main_thread);
  said("msgrcv, a signal (SA_RESTART)",
       msgrcv(mq, &buf, sizeof(buf.text), 0, 0));
  pthread_join(t, NULL);
  pthread_create(&t, NULL, kill_later, &main_thread);
  said("semop, a signal (SA_RESTART)", semop(sem, &down, 1));
  pthread_join(t, NULL);
  printf("handler ran %d\n", (int)caught);

  /* removed under a wait: EIDRM */
  pthread_create(&t, NULL, receiver, NULL);
  sleep_ms(100);
  msgctl(mq, IPC_RMID, NULL);
  pthread_join(t, NULL);
  thread_said("receiver: queue removed under msgrcv");
  pthread_create(&t, NULL, downer, NULL);
  sleep_ms(100);
  semctl(sem, 0, IPC_RMID);
  pthread_join(t, NULL);
  thread_said("downer: set removed under semop");
  said("msgrcv, removed queue", msgrcv(mq, &buf, sizeof(buf.text), 0, 0));
  return 0;
}
