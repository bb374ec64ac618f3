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
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
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

extern ssize_t (*gp__real_readv)(int fd, const struct iovec *iov, int iovcnt);
extern ssize_t (*gp__real_writev)(int fd, const struct iovec *iov,
                                  int iovcnt);
extern ssize_t (*gp__real_recv)(int fd, void *buf, size_t len, int flags);
extern ssize_t (*gp__real_recvfrom)(int fd, void *buf, size_t len, int flags,
                                    struct sockaddr *addr, socklen_t *alen);
extern ssize_t (*gp__real_recvmsg)(int fd, struct msghdr *msg, int flags);
extern int (*gp__real_recvmmsg)(int fd, struct mmsghdr *vec, unsigned int n,
                                int flags, struct timespec *timeout);
extern ssize_t (*gp__real_send)(int fd, const void *buf, size_t len,
                                int flags);
extern ssize_t (*gp__real_sendto)(int fd, const void *buf, size_t len,
                                  int flags, const struct sockaddr *addr,
                                  socklen_t alen);
extern ssize_t (*gp__real_sendmsg)(int fd, const struct msghdr *msg,
                                   int flags);
extern int (*gp__real_sendmmsg)(int fd, struct mmsghdr *vec, unsigned int n,
                                int flags);
extern ssize_t (*gp__real_sendfile)(int out, int in, off_t *offset,
                                    size_t count);
extern int (*gp__real_socket)(int domain, int type, int protocol);
extern int (*gp__real_socketpair)(int domain, int type, int protocol,
                                  int sv[2]);
extern int (*gp__real_accept)(int fd, struct sockaddr *addr, socklen_t *alen);
extern int (*gp__real_accept4)(int fd, struct sockaddr *addr, socklen_t *alen,
                               int flags);
extern int (*gp__real_connect)(int fd, const struct sockaddr *addr,
                               socklen_t alen);
extern int (*gp__real_dup)(int fd);
extern int (*gp__real_dup2)(int fd, int fd2);
extern int (*gp__real_dup3)(int fd, int fd2, int flags);
extern int (*gp__real_fcntl)(int fd, int cmd, ...);
extern int (*gp__real_ioctl)(int fd, unsigned long req, ...);
extern int (*gp__real_setsockopt)(int fd, int level, int name,
                                  const void *val, socklen_t len);
extern int (*gp__real_pipe)(int fds[2]);
extern int (*gp__real_pipe2)(int fds[2], int flags);
extern int (*gp__real_ppoll)(struct pollfd *fds, nfds_t nfds,
                             const struct timespec *tmo,
                             const sigset_t *mask);
extern int (*gp__real_select)(int nfds, fd_set *r, fd_set *w, fd_set *e,
                              struct timeval *tmo);
extern int (*gp__real_pselect)(int nfds, fd_set *r, fd_set *w, fd_set *e,
                               const struct timespec *tmo,
                               const sigset_t *mask);
extern int (*gp__real_epoll_pwait)(int epfd, struct epoll_event *events,
                                   int maxevents, int timeout,
                                   const sigset_t *mask);
extern sighandler_t (*gp__real_signal)(int sig, sighandler_t handler);

/* Resolves the table, once; later calls return at once. Safe to call from
 * any interposer before the library's constructors have run. Prints a clear
 * message and exits with status 127 if a function is missing or resolves to
 * this library itself. */
void gp__real_init(void);

/* Nonzero once gp__real_init() has finished. */
extern int gp__real_ready;

#endif /* GP_REAL_H */
