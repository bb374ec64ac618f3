/* ctorlib: a shared library (libctor.so, linked by d_ctor) whose constructor
 * calls interposed functions — stdio first (as libselinux's constructor
 * reads /proc/filesystems), then pipe, read, poll, nanosleep, select,
 * getaddrinfo, socketpair, setsockopt, sigaction, the pthread and sem
 * initialisers and locks, and (in a constructor that runs first) makes a
 * pthread key and sets a value — before libgpatch's own constructors have run
 * (dependencies of the program are initialised before a preloaded
 * library). It records what each call returned; d_ctor prints it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* One line per call, filled in by the constructor. */
char ctor_report[2048];

/* A key made here, with a value for the first thread (as OpenSSL makes
 * its per-thread key from bind9's libisc constructor); d_ctor uses it. */
pthread_key_t ctor_key;
int ctor_key_value = 7;
int ctor_key_freed;

static void free_value(void *v)
{
  (void)v;
  __atomic_fetch_add(&ctor_key_freed, 1, __ATOMIC_RELAXED);
}

static void note(const char *fmt, long a, long b)
{
  size_t n = strlen(ctor_report);
  snprintf(ctor_report + n, sizeof(ctor_report) - n, fmt, a, b);
}

static void noop(void)
{
}

static void on_usr2(int sig)
{
  (void)sig;
}

__attribute__((constructor)) static void ctor(void)
{
  int p[2];
  char buf[8];
  struct pollfd f;
  struct timespec ts = {0, 1000000}, t0, t1;
  struct addrinfo hints, *res = NULL;
  int r;

  /* A directory listed first: nothing has made the shim's table of libc's
   * functions ready yet. */
  {
    DIR *d = opendir("/proc/self");
    struct dirent **list;
    long n = 0, k = scandir("/proc/self", &list, NULL, alphasort);
    while (d && readdir(d))
      n++;
    note("opendir/readdir/closedir: %ld %ld\n", n > 2, d ? closedir(d) : -1);
    for (long i = 0; i < k; i++)
      free(list[i]);
    if (k >= 0)
      free(list);
    note("scandir: %ld %ld\n", k == n, 0);
  }
  /* stdio next. */
  {
    FILE *st = fopen("/proc/self/status", "r");
    char *line = NULL;
    size_t cap = 0;
    long x = __fsetlocking(st, FSETLOCKING_BYCALLER);
    flockfile(st);
    x += ftrylockfile(st);
    funlockfile(st);
    funlockfile(st);
    note("__fsetlocking/flockfile: %ld %ld\n", x,
         __fsetlocking(st, FSETLOCKING_QUERY) == FSETLOCKING_BYCALLER);
    x = getline(&line, &cap, st) > 0 && strncmp(line, "Name:", 5) == 0;
    note("getline: %ld %ld\n", x, fflush(NULL));
    _flushlbf();
    note("fclose: %ld setlogmask: %ld\n", fclose(st), setlogmask(0));
    free(line);
  }
  /* Synchronisation objects first: libraries make their locks here. */
  {
    static pthread_mutex_t m;
    static pthread_cond_t c;
    static pthread_rwlock_t rw;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    static pthread_key_t key;
    static sem_t sem;
    long x, y;
    x = pthread_mutex_init(&m, NULL);
    x += pthread_mutex_lock(&m);
    y = pthread_mutex_unlock(&m);
    note("mutex init/lock/unlock: %ld %ld\n", x, y);
    x = pthread_cond_init(&c, NULL);
    y = pthread_cond_signal(&c);
    note("cond init/signal: %ld %ld\n", x, y);
    x = pthread_rwlock_init(&rw, NULL);
    x += pthread_rwlock_rdlock(&rw);
    y = pthread_rwlock_unlock(&rw);
    note("rwlock init/rdlock/unlock: %ld %ld\n", x, y);
    x = pthread_once(&once, noop);
    y = pthread_key_create(&key, NULL);
    y += pthread_setspecific(key, &m);
    y += pthread_getspecific(key) != &m;
    note("once/key: %ld %ld\n", x, y);
    x = sem_init(&sem, 0, 0);
    x += sem_post(&sem);
    y = sem_wait(&sem);
    note("sem init/post/wait: %ld %ld\n", x, y);
    note("self equal: %ld %ld\n",
         pthread_equal(pthread_self(), pthread_self()) != 0, 0);
  }
  {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr2;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    long x = sigaction(SIGUSR2, &sa, &old);
    note("sigaction: %ld old default %ld\n", x, old.sa_handler == SIG_DFL);
  }
  {
    int sv[2], one = 1;
    note("socketpair: %ld %ld\n", socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    note("setsockopt: %ld %ld\n",
         setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), 0);
    {
      long x = send(sv[0], "ab", 2, 0);
      note("send/recv: %ld %ld\n", x, recv(sv[1], buf, sizeof(buf), 0));
    }
    close(sv[0]);
    close(sv[1]);
  }
  if (pipe(p) != 0) {
    note("pipe failed %ld %ld\n", errno, 0);
    return;
  }
  note("write: %ld %ld\n", write(p[1], "ctor", 4), 0);
  f = (struct pollfd){p[0], POLLIN, 0};
  r = poll(&f, 1, 0);
  note("poll t=0: %ld revents %#lx\n", r, f.revents);
  note("read: %ld %ld\n", read(p[0], buf, sizeof(buf)), 0);
  f = (struct pollfd){p[0], POLLIN, 0};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  r = poll(&f, 1, 20);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  note("poll t=20: %ld waited %ld\n", r,
       (t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec - t0.tv_nsec >=
           20000000L);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  r = nanosleep(&ts, NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  note("nanosleep 1 ms: %ld waited %ld\n", r,
       (t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec - t0.tv_nsec >=
           1000000L);
  {
    fd_set rs;
    struct timeval tv = {0, 10000};
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    note("select t=10: %ld %ld\n", select(p[0] + 1, &rs, NULL, NULL, &tv), 0);
  }
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  r = getaddrinfo("localhost", "80", &hints, &res);
  if (r == 0) {
    struct sockaddr_in *sin = (struct sockaddr_in *)res->ai_addr;
    note("getaddrinfo: %ld %#lx\n", r, (long)ntohl(sin->sin_addr.s_addr));
    freeaddrinfo(res);
  } else {
    note("getaddrinfo: %ld %ld\n", r, 0);
  }
  close(p[0]);
  close(p[1]);
}

/* A thread made in a constructor, before the runtime started (so a real
 * thread, patched too): it waits in the kernel on ctor_held, which the
 * constructor holds until d_ctor unlocks it. */
pthread_mutex_t ctor_held = PTHREAD_MUTEX_INITIALIZER;
int ctor_waiter_started;

static void *wait_held(void *arg)
{
  __atomic_store_n(&ctor_waiter_started, 1, __ATOMIC_RELEASE);
  pthread_mutex_lock(&ctor_held);
  pthread_mutex_unlock(&ctor_held);
  return arg;
}

__attribute__((constructor)) static void waiter_ctor(void)
{
  pthread_t th;
  pthread_mutex_lock(&ctor_held);
  if (pthread_create(&th, NULL, wait_held, NULL) == 0)
    pthread_detach(th);
  else
    pthread_mutex_unlock(&ctor_held);
}

/* A thread the library starts when asked (ctor_lib_start), and that its
 * destructor ends and joins, as libuv's ends its threadpool: that runs
 * after libgpatch's own destructor. */
static pthread_t lib_thread;
static int lib_started, lib_stop;
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lib_cond = PTHREAD_COND_INITIALIZER;

static void *lib_worker(void *arg)
{
  pthread_mutex_lock(&lib_lock);
  while (!lib_stop)
    pthread_cond_wait(&lib_cond, &lib_lock);
  pthread_mutex_unlock(&lib_lock);
  return arg;
}

void ctor_lib_start(void)
{
  lib_started = pthread_create(&lib_thread, NULL, lib_worker, (void *)42) == 0;
}

__attribute__((destructor)) static void lib_fini(void)
{
  char msg[64];
  void *ret = NULL;
  int r, n;

  if (!lib_started)
    return;
  pthread_mutex_lock(&lib_lock);
  lib_stop = 1;
  pthread_cond_signal(&lib_cond);
  pthread_mutex_unlock(&lib_lock);
  r = pthread_join(lib_thread, &ret);
  n = snprintf(msg, sizeof(msg), "library destructor: join %d, value %ld\n", r,
               (long)ret);
  if (write(1, msg, (size_t)n) != n)
    _exit(3);
}

/* Runs first (its priority): the key is the first interposed call of the
 * process, which the shim passes to glibc before it has started. */
__attribute__((constructor(101))) static void key_ctor(void)
{
  int r = pthread_key_create(&ctor_key, free_value);
  note("pthread_key_create: %ld, setspecific %ld\n", r,
       r == 0 ? pthread_setspecific(ctor_key, &ctor_key_value) : -1);
}
