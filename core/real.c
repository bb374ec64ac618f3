/* real.c: the table of real libc functions. Every entry is resolved with
 * dlsym(RTLD_NEXT) once, and checked: a function that is missing, or that
 * resolves back into this library (a broken link order), stops the program
 * with a message instead of recursing into itself later. */
#define _GNU_SOURCE
#include "real.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

ssize_t (*gp__real_read)(int fd, void *buf, size_t count);
ssize_t (*gp__real_write)(int fd, const void *buf, size_t count);
int (*gp__real_close)(int fd);
int (*gp__real_poll)(struct pollfd *fds, nfds_t nfds, int timeout);
int (*gp__real_epoll_wait)(int epfd, struct epoll_event *events,
                           int maxevents, int timeout);
int (*gp__real_epoll_ctl)(int epfd, int op, int fd, struct epoll_event *event);
unsigned int (*gp__real_sleep)(unsigned int seconds);
int (*gp__real_usleep)(useconds_t usec);
int (*gp__real_nanosleep)(const struct timespec *req, struct timespec *rem);
int (*gp__real_clock_nanosleep)(clockid_t clock, int flags,
                                const struct timespec *req,
                                struct timespec *rem);
int (*gp__real_pthread_create)(pthread_t *thread, const pthread_attr_t *attr,
                               void *(*start)(void *), void *arg);
int (*gp__real_sigaction)(int sig, const struct sigaction *act,
                          struct sigaction *oact);

int gp__real_ready;

/* One entry of the table: the name and where its address goes. */
struct entry {
  const char *name;
  void **slot;
};

static const struct entry table[] = {
  {"read", (void **)&gp__real_read},
  {"write", (void **)&gp__real_write},
  {"close", (void **)&gp__real_close},
  {"poll", (void **)&gp__real_poll},
  {"epoll_wait", (void **)&gp__real_epoll_wait},
  {"epoll_ctl", (void **)&gp__real_epoll_ctl},
  {"sleep", (void **)&gp__real_sleep},
  {"usleep", (void **)&gp__real_usleep},
  {"nanosleep", (void **)&gp__real_nanosleep},
  {"clock_nanosleep", (void **)&gp__real_clock_nanosleep},
  {"pthread_create", (void **)&gp__real_pthread_create},
  {"sigaction", (void **)&gp__real_sigaction},
};

/* Writes msg to stderr without stdio, which may not be usable yet. */
static void say(const char *a, const char *b, const char *c)
{
  const char *parts[3] = {a, b, c};
  for (int i = 0; i < 3; i++)
    if (parts[i])
      syscall(SYS_write, 2, parts[i], strlen(parts[i]));
}

static void fail(const char *name, const char *why)
{
  say("gpatch: cannot find the real libc function ", name, why);
  _exit(127);
}

void gp__real_init(void)
{
  static int busy;
  Dl_info self, other;

  if (__atomic_load_n(&gp__real_ready, __ATOMIC_ACQUIRE))
    return;
  /* dlsym may call back into an interposer of ours on this thread (it
   * allocates, and allocators may take locks): those callers see a partial
   * table only if they race with resolution, which the flag makes visible. */
  if (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQ_REL)) {
    while (!__atomic_load_n(&gp__real_ready, __ATOMIC_ACQUIRE))
      ;
    return;
  }
  if (!dladdr((void *)gp__real_init, &self))
    self.dli_fbase = NULL;
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
    void *p = dlsym(RTLD_NEXT, table[i].name);
    if (p == NULL)
      fail(table[i].name, ": not found after this library\n");
    if (self.dli_fbase && dladdr(p, &other) &&
        other.dli_fbase == self.dli_fbase)
      fail(table[i].name, ": it resolves to libgpatch itself\n");
    *table[i].slot = p;
  }
  __atomic_store_n(&gp__real_ready, 1, __ATOMIC_RELEASE);
}

__attribute__((constructor(101))) static void real_ctor(void)
{
  gp__real_init();
}
