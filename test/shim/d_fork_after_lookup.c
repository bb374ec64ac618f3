/* d_fork_after_lookup: a fork's child that ends with exit() after the
 * parent looked a name up. Patched, the lookup starts libuv's threadpool;
 * at the child's exit libuv's destructor joined the parent's pool threads,
 * which the child does not have (SIGSEGV), then destroyed the pool's
 * condition variable on which they were counted (abort): PostgreSQL's
 * processes so died once the postmaster had resolved a name. The child
 * exits with a status of its own, from main and from a thread. */
#include "compat.h"

#include <netdb.h>
#include <sys/wait.h>

static void *exits(void *arg)
{
  exit((int)(intptr_t)arg);
}

/* Forks a child that looks a name up too, then exits with 3 (from a
 * thread when threaded), and says how it ended. */
static void child(int threaded)
{
  int st;
  pid_t pid = fork();
  if (pid == 0) {
    struct addrinfo *ai = NULL;
    if (getaddrinfo("localhost", "80", NULL, &ai) == 0)
      freeaddrinfo(ai);
    if (threaded) {
      pthread_t t;
      pthread_create(&t, NULL, exits, (void *)(intptr_t)3);
      pthread_join(t, NULL);
    }
    exit(3);
  }
  waitpid(pid, &st, 0);
  if (WIFEXITED(st))
    printf("child%s: exit %d\n", threaded ? " (exit from a thread)" : "",
           WEXITSTATUS(st));
  else
    printf("child%s: killed by signal %d\n",
           threaded ? " (exit from a thread)" : "", WTERMSIG(st));
}

int main(void)
{
  struct addrinfo *ai = NULL;
  int r = getaddrinfo("localhost", "80", NULL, &ai);

  setvbuf(stdout, NULL, _IONBF, 0);
  printf("lookup: %s\n", r == 0 ? "ok" : gai_strerror(r));
  if (ai)
    freeaddrinfo(ai);
  child(0);
  child(1);
  return 0;
}
