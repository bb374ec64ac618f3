/* d_file_locks: a thread waiting for a file lock lets the others run, as
 * an OS thread waiting in the kernel does.
 *
 * Each wait below ends only when another thread of this process does
 * something: patched, the wait held the OS thread, and with one scheduler
 * the program hung.
 * - flock: a thread holds LOCK_EX on its own open of the file, main waits
 *   for LOCK_EX on another, the holder lets go a moment later.
 * - fcntl F_OFD_SETLKW: the same with open-file-description locks.
 * - fcntl F_SETLKW and lockf F_LOCK: record locks are the process's, so a
 *   child holds them, and lets go when a thread of the parent writes to
 *   it; main waits meanwhile.
 * - A signal whose handler lacks SA_RESTART ends a flock wait with EINTR;
 *   with SA_RESTART the wait goes on to the lock.
 * - LOCK_NB while held: EWOULDBLOCK at once. Bad input: EBADF, EINVAL,
 *   EFAULT as plain. */
#include "compat.h"

#include <signal.h>
#include <sys/file.h>

static char path[64];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int holding[2], release_now[2];

static void say(const char *what)
{
  pthread_mutex_lock(&log_lock);
  printf("%s\n", what);
  pthread_mutex_unlock(&log_lock);
}

static int open_file(void)
{
  int fd = open(path, O_RDWR | O_CREAT, 0600);
  if (fd < 0) {
    perror("open");
    exit(1);
  }
  return fd;
}

static void signal_pipe(int *p)
{
  char c = 'x';
  if (write(p[1], &c, 1) != 1)
    exit(1);
}

static void wait_pipe(int *p)
{
  char c;
  if (read(p[0], &c, 1) != 1)
    exit(1);
}

/* Holds a flock (kind 0) or an OFD lock (kind 1) on its own open of the
 * file until release_now says. */
static void *holder(void *arg)
{
  int kind = (int)(intptr_t)arg, fd = open_file();
  struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

  if (kind == 0 ? flock(fd, LOCK_EX) : fcntl(fd, F_OFD_SETLK, &lk))
    perror("holder lock");
  signal_pipe(holding);
  wait_pipe(release_now);
  say("holder: letting go");
  if (kind == 0)
    flock(fd, LOCK_UN);
  close(fd); /* lets go of the OFD lock */
  return NULL;
}

/* Tells the holder to let go after a while (main is waiting by then). */
static void *releaser(void *arg)
{
  (void)arg;
  sleep_ms(100);
  signal_pipe(release_now);
  return NULL;
}

static void contended(const char *what, int kind)
{
  pthread_t h, r;
  int fd = open_file();
  struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

  pthread_create(&h, NULL, holder, (void *)(intptr_t)kind);
  wait_pipe(holding);
  int nb =
      kind == 0 ? flock(fd, LOCK_EX | LOCK_NB) : fcntl(fd, F_OFD_SETLK, &lk);
  int e = errno;
  printf("%s without waiting while held: %d %s\n", what, nb,
         nb ? strerror(e) : "");
  pthread_create(&r, NULL, releaser, NULL);
  int rc = kind == 0 ? flock(fd, LOCK_EX) : fcntl(fd, F_OFD_SETLKW, &lk);
  say(rc == 0 ? "main: has the lock" : "main: lock failed");
  pthread_join(r, NULL);
  pthread_join(h, NULL);
  close(fd);
}

/* Record locks: a child holds one until a byte comes. */
static void by_child(const char *what, int use_lockf)
{
  int to_child[2], ready[2];
  pthread_t r;

  if (pipe(to_child) || pipe(ready))
    exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open_file();
    struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    char c;
    if (fcntl(fd, F_SETLK, &lk))
      _exit(2);
    if (write(ready[1], "r", 1) != 1 || read(to_child[0], &c, 1) != 1)
      _exit(3);
    _exit(0); /* the lock goes with the process */
  }
  wait_pipe(ready);
  release_now[1] = to_child[1];
  pthread_create(&r, NULL, releaser, NULL);
  int fd = open_file();
  struct flock lk = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  int rc = use_lockf ? lockf(fd, F_LOCK, 0) : fcntl(fd, F_SETLKW, &lk);
  printf("%s: %d\n", what, rc);
  pthread_join(r, NULL);
  int st;
  waitpid(pid, &st, 0);
  printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  close(fd);
  close(to_child[0]);
  close(to_child[1]);
  close(ready[0]);
  close(ready[1]);
}

static volatile sig_atomic_t caught;
static pthread_t main_thread;

static void on_usr1(int sig)
{
  (void)sig;
  caught++;
}

static void *interrupter(void *arg)
{
  (void)arg;
  sleep_ms(100);
  pthread_kill(main_thread, SIGUSR1);
  sleep_ms(100);
  signal_pipe(release_now);
  return NULL;
}

static void interrupted(int restart)
{
  struct sigaction sa;
  pthread_t h, k;
  int fd = open_file();

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_usr1;
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(SIGUSR1, &sa, NULL);
  caught = 0;
  pthread_create(&h, NULL, holder, (void *)0);
  wait_pipe(holding);
  pthread_create(&k, NULL, interrupter, NULL);
  errno = 0;
  int rc = flock(fd, LOCK_EX);
  int e = errno;
  pthread_join(k, NULL);
  pthread_join(h, NULL);
  printf("flock with a signal, SA_RESTART %d: %d %s, handler ran %d\n", restart,
         rc, rc ? strerror(e) : "", (int)caught);
  close(fd);
}

static void said(const char *what, int r)
{
  int e = errno;
  printf("%s: %d %s\n", what, r, r < 0 ? strerror(e) : "");
}

static void bad_input(void)
{
  int fd = open_file(), rd = open(path, O_RDONLY);
  struct flock lk = {.l_type = 99, .l_whence = SEEK_SET};

  said("flock(-1)", flock(-1, LOCK_EX));
  said("flock(fd, 0)", flock(fd, 0));
  said("F_SETLKW NULL", fcntl(fd, F_SETLKW, NULL));
  said("F_SETLKW bad type", fcntl(fd, F_SETLKW, &lk));
  said("lockf(fd, 99)", lockf(fd, 99, 0));
  said("lockf F_LOCK read-only", lockf(rd, F_LOCK, 0));
  close(fd);
  close(rd);
}

int main(void)
{
  setvbuf(stdout, NULL, _IONBF, 0);
  main_thread = pthread_self();
  snprintf(path, sizeof(path), "/tmp/d_file_locks.%d", (int)getpid());
  if (pipe(holding) || pipe(release_now))
    return 1;
  contended("flock", 0);
  contended("OFD lock", 1);
  int keep = release_now[1];
  by_child("fcntl F_SETLKW", 0);
  by_child("lockf F_LOCK", 1);
  release_now[1] = keep;
  interrupted(0);
  interrupted(1);
  bad_input();
  unlink(path);
  return 0;
}
