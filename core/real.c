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

ssize_t (*gp__real_readv)(int fd, const struct iovec *iov, int iovcnt);
ssize_t (*gp__real_writev)(int fd, const struct iovec *iov, int iovcnt);
ssize_t (*gp__real_recv)(int fd, void *buf, size_t len, int flags);
ssize_t (*gp__real_recvfrom)(int fd, void *buf, size_t len, int flags,
                             struct sockaddr *addr, socklen_t *alen);
ssize_t (*gp__real_recvmsg)(int fd, struct msghdr *msg, int flags);
int (*gp__real_recvmmsg)(int fd, struct mmsghdr *vec, unsigned int n,
                         int flags, struct timespec *timeout);
ssize_t (*gp__real_send)(int fd, const void *buf, size_t len, int flags);
ssize_t (*gp__real_sendto)(int fd, const void *buf, size_t len, int flags,
                           const struct sockaddr *addr, socklen_t alen);
ssize_t (*gp__real_sendmsg)(int fd, const struct msghdr *msg, int flags);
int (*gp__real_sendmmsg)(int fd, struct mmsghdr *vec, unsigned int n,
                         int flags);
ssize_t (*gp__real_sendfile)(int out, int in, off_t *offset, size_t count);
int (*gp__real_socket)(int domain, int type, int protocol);
int (*gp__real_socketpair)(int domain, int type, int protocol, int sv[2]);
int (*gp__real_accept)(int fd, struct sockaddr *addr, socklen_t *alen);
int (*gp__real_accept4)(int fd, struct sockaddr *addr, socklen_t *alen,
                        int flags);
int (*gp__real_connect)(int fd, const struct sockaddr *addr, socklen_t alen);
int (*gp__real_dup)(int fd);
int (*gp__real_dup2)(int fd, int fd2);
int (*gp__real_dup3)(int fd, int fd2, int flags);
int (*gp__real_fcntl)(int fd, int cmd, ...);
int (*gp__real_ioctl)(int fd, unsigned long req, ...);
int (*gp__real_setsockopt)(int fd, int level, int name, const void *val,
                           socklen_t len);
int (*gp__real_pipe)(int fds[2]);
int (*gp__real_pipe2)(int fds[2], int flags);
int (*gp__real_ppoll)(struct pollfd *fds, nfds_t nfds,
                      const struct timespec *tmo, const sigset_t *mask);
int (*gp__real_select)(int nfds, fd_set *r, fd_set *w, fd_set *e,
                       struct timeval *tmo);
int (*gp__real_pselect)(int nfds, fd_set *r, fd_set *w, fd_set *e,
                        const struct timespec *tmo, const sigset_t *mask);
int (*gp__real_epoll_pwait)(int epfd, struct epoll_event *events,
                            int maxevents, int timeout, const sigset_t *mask);
sighandler_t (*gp__real_signal)(int sig, sighandler_t handler);

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
  {"readv", (void **)&gp__real_readv},
  {"writev", (void **)&gp__real_writev},
  {"recv", (void **)&gp__real_recv},
  {"recvfrom", (void **)&gp__real_recvfrom},
  {"recvmsg", (void **)&gp__real_recvmsg},
  {"recvmmsg", (void **)&gp__real_recvmmsg},
  {"send", (void **)&gp__real_send},
  {"sendto", (void **)&gp__real_sendto},
  {"sendmsg", (void **)&gp__real_sendmsg},
  {"sendmmsg", (void **)&gp__real_sendmmsg},
  {"sendfile", (void **)&gp__real_sendfile},
  {"socket", (void **)&gp__real_socket},
  {"socketpair", (void **)&gp__real_socketpair},
  {"accept", (void **)&gp__real_accept},
  {"accept4", (void **)&gp__real_accept4},
  {"connect", (void **)&gp__real_connect},
  {"dup", (void **)&gp__real_dup},
  {"dup2", (void **)&gp__real_dup2},
  {"dup3", (void **)&gp__real_dup3},
  {"fcntl", (void **)&gp__real_fcntl},
  {"ioctl", (void **)&gp__real_ioctl},
  {"setsockopt", (void **)&gp__real_setsockopt},
  {"pipe", (void **)&gp__real_pipe},
  {"pipe2", (void **)&gp__real_pipe2},
  {"ppoll", (void **)&gp__real_ppoll},
  {"select", (void **)&gp__real_select},
  {"pselect", (void **)&gp__real_pselect},
  {"epoll_pwait", (void **)&gp__real_epoll_pwait},
  {"signal", (void **)&gp__real_signal},
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
