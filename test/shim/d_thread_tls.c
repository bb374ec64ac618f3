/* d_thread_tls: __thread variables are per thread. Each thread starts with
 * the initial values (not what main or another thread wrote), keeps what
 * it writes across waits that let the others run, and main keeps its own;
 * a big zero-initialised array included. */
#include "compat.h"

#include <semaphore.h>

static __thread int counter = 7;
static __thread char big[3000];
static __thread const char *who = "initial";
static sem_t step;

static void *worker(void *arg)
{
  long id = (long)(intptr_t)arg;
  int ok = counter == 7 && big[0] == 0 && big[2999] == 0 &&
           strcmp(who, "initial") == 0;
  counter = (int)id * 100;
  memset(big, (int)id, sizeof(big));
  who = id == 1 ? "one" : id == 2 ? "two" : "three";
  for (int i = 0; i < 3; i++) {
    sleep_ms(5 * (4 - id)); /* the others run and write theirs */
    ok &= counter == id * 100 && big[0] == id && big[2999] == id;
    counter++;
    counter--;
  }
  check_threads(1);
  SAY("thread %ld: started with the initial values %d, kept its own %d (%s)\n",
      id, ok, counter == id * 100, who);
  sem_post(&step);
  return (void *)(intptr_t)counter;
}

int main(void)
{
  struct task t[3];
  setvbuf(stdout, NULL, _IOLBF, 0);
  sem_init(&step, 0, 0);
  counter = 1;
  who = "main";
  memset(big, 9, sizeof(big));
  for (long i = 0; i < 3; i++)
    spawn(&t[i], worker, (void *)(intptr_t)(i + 1));
  for (int i = 0; i < 3; i++)
    while (sem_wait(&step) != 0)
      ;
  for (long i = 0; i < 3; i++)
    SAY("thread %ld returned %ld\n", i + 1, (long)(intptr_t)join(&t[i]));
  SAY("main kept its own: %d %d %s\n", counter, big[100], who);
  return 0;
}
