/* real.h: the real libc functions, for the runtime's own use and for
 * interposers that pass a call through. Resolved once with
 * dlsym(RTLD_NEXT, ...) by gp__real_init(), before anything else runs. */
#ifndef GP_REAL_H
#define GP_REAL_H

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/types.h>
#include <time.h>

extern ssize_t (*gp__real_read)(int fd, void *buf, size_t count);
extern ssize_t (*gp__real_write)(int fd, const void *buf, size_t count);
extern int (*gp__real_close)(int fd);
extern int (*gp__real_poll)(struct pollfd *fds, nfds_t nfds, int timeout);
extern int (*gp__real_epoll_wait)(int epfd, struct epoll_event *events,
                                  int maxevents, int timeout);
extern int (*gp__real_epoll_ctl)(int epfd, int op, int fd,
                                 struct epoll_event *event);
extern unsigned int (*gp__real_sleep)(unsigned int seconds);
extern int (*gp__real_usleep)(useconds_t usec);
extern int (*gp__real_nanosleep)(const struct timespec *req,
                                 struct timespec *rem);
extern int (*gp__real_clock_nanosleep)(clockid_t clock, int flags,
                                       const struct timespec *req,
                                       struct timespec *rem);
extern int (*gp__real_pthread_create)(pthread_t *thread,
                                      const pthread_attr_t *attr,
                                      void *(*start)(void *), void *arg);
extern int (*gp__real_sigaction)(int sig, const struct sigaction *act,
                                 struct sigaction *oact);

/* Resolves the table, once; later calls return at once. Safe to call from
 * any interposer before the library's constructors have run. Prints a clear
 * message and exits with status 127 if a function is missing or resolves to
 * this library itself. */
void gp__real_init(void);

/* Nonzero once gp__real_init() has finished. */
extern int gp__real_ready;

#endif /* GP_REAL_H */
