/* real.h: the real libc functions, for the runtime's own use and for
 * interposers that pass a call through. Resolved once with
 * dlsym(RTLD_NEXT, ...) by gp__real_init(), before anything else runs. */
#ifndef GP_REAL_H
#define GP_REAL_H

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netdb.h>
#include <semaphore.h>
#include <spawn.h>
#include <sys/resource.h>
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

/* The thread family (shim/thread.c, shim/sync.c). */
extern int (*gp__real_pthread_join)(pthread_t th, void **ret);
extern int (*gp__real_pthread_tryjoin_np)(pthread_t th, void **ret);
extern int (*gp__real_pthread_timedjoin_np)(pthread_t th, void **ret,
                                            const struct timespec *abs);
extern int (*gp__real_pthread_clockjoin_np)(pthread_t th, void **ret,
                                            clockid_t clock,
                                            const struct timespec *abs);
extern int (*gp__real_pthread_detach)(pthread_t th);
extern void (*gp__real_pthread_exit)(void *ret);
extern pthread_t (*gp__real_pthread_self)(void);
extern int (*gp__real_pthread_equal)(pthread_t a, pthread_t b);
extern int (*gp__real_sched_yield)(void);
extern int (*gp__real_pthread_kill)(pthread_t th, int sig);
extern int (*gp__real_pthread_sigmask)(int how, const sigset_t *set,
                                       sigset_t *old);
extern int (*gp__real_pthread_setname_np)(pthread_t th, const char *name);
extern int (*gp__real_pthread_getname_np)(pthread_t th, char *buf, size_t len);
extern int (*gp__real_pthread_getattr_np)(pthread_t th, pthread_attr_t *attr);
extern int (*gp__real_pthread_getcpuclockid)(pthread_t th, clockid_t *clock);
extern int (*gp__real_pthread_cancel)(pthread_t th);
extern int (*gp__real_pthread_setcancelstate)(int state, int *old);
extern int (*gp__real_pthread_setcanceltype)(int type, int *old);
extern void (*gp__real_pthread_testcancel)(void);
extern int (*gp__real_pthread_key_create)(pthread_key_t *key,
                                          void (*destr)(void *));
extern int (*gp__real_pthread_key_delete)(pthread_key_t key);
extern void *(*gp__real_pthread_getspecific)(pthread_key_t key);
extern int (*gp__real_pthread_setspecific)(pthread_key_t key, const void *val);
extern int (*gp__real_pthread_once)(pthread_once_t *once, void (*init)(void));
extern int (*gp__real_pthread_mutex_init)(pthread_mutex_t *m,
                                          const pthread_mutexattr_t *attr);
extern int (*gp__real_pthread_mutex_destroy)(pthread_mutex_t *m);
extern int (*gp__real_pthread_mutex_lock)(pthread_mutex_t *m);
extern int (*gp__real_pthread_mutex_trylock)(pthread_mutex_t *m);
extern int (*gp__real_pthread_mutex_timedlock)(pthread_mutex_t *m,
                                               const struct timespec *abs);
extern int (*gp__real_pthread_mutex_clocklock)(pthread_mutex_t *m,
                                               clockid_t clock,
                                               const struct timespec *abs);
extern int (*gp__real_pthread_mutex_unlock)(pthread_mutex_t *m);
extern int (*gp__real_pthread_cond_init)(pthread_cond_t *c,
                                         const pthread_condattr_t *attr);
extern int (*gp__real_pthread_cond_destroy)(pthread_cond_t *c);
extern int (*gp__real_pthread_cond_wait)(pthread_cond_t *c, pthread_mutex_t *m);
extern int (*gp__real_pthread_cond_timedwait)(pthread_cond_t *c,
                                              pthread_mutex_t *m,
                                              const struct timespec *abs);
extern int (*gp__real_pthread_cond_clockwait)(pthread_cond_t *c,
                                              pthread_mutex_t *m,
                                              clockid_t clock,
                                              const struct timespec *abs);
extern int (*gp__real_pthread_cond_signal)(pthread_cond_t *c);
extern int (*gp__real_pthread_cond_broadcast)(pthread_cond_t *c);
extern int (*gp__real_pthread_rwlock_init)(pthread_rwlock_t *rw,
                                           const pthread_rwlockattr_t *attr);
extern int (*gp__real_pthread_rwlock_destroy)(pthread_rwlock_t *rw);
extern int (*gp__real_pthread_rwlock_rdlock)(pthread_rwlock_t *rw);
extern int (*gp__real_pthread_rwlock_tryrdlock)(pthread_rwlock_t *rw);
extern int (*gp__real_pthread_rwlock_timedrdlock)(pthread_rwlock_t *rw,
                                                  const struct timespec *abs);
extern int (*gp__real_pthread_rwlock_clockrdlock)(pthread_rwlock_t *rw,
                                                  clockid_t clock,
                                                  const struct timespec *abs);
extern int (*gp__real_pthread_rwlock_wrlock)(pthread_rwlock_t *rw);
extern int (*gp__real_pthread_rwlock_trywrlock)(pthread_rwlock_t *rw);
extern int (*gp__real_pthread_rwlock_timedwrlock)(pthread_rwlock_t *rw,
                                                  const struct timespec *abs);
extern int (*gp__real_pthread_rwlock_clockwrlock)(pthread_rwlock_t *rw,
                                                  clockid_t clock,
                                                  const struct timespec *abs);
extern int (*gp__real_pthread_rwlock_unlock)(pthread_rwlock_t *rw);
extern int (*gp__real_pthread_spin_lock)(pthread_spinlock_t *l);
extern int (*gp__real_pthread_spin_trylock)(pthread_spinlock_t *l);
extern int (*gp__real_pthread_spin_unlock)(pthread_spinlock_t *l);
extern int (*gp__real_pthread_barrier_init)(pthread_barrier_t *b,
                                            const pthread_barrierattr_t *attr,
                                            unsigned int count);
extern int (*gp__real_pthread_barrier_destroy)(pthread_barrier_t *b);
extern int (*gp__real_pthread_barrier_wait)(pthread_barrier_t *b);
extern int (*gp__real_sem_init)(sem_t *s, int pshared, unsigned int value);
extern int (*gp__real_sem_destroy)(sem_t *s);
extern int (*gp__real_sem_wait)(sem_t *s);
extern int (*gp__real_sem_trywait)(sem_t *s);
extern int (*gp__real_sem_clockwait)(sem_t *s, clockid_t clock,
                                     const struct timespec *abs);
extern int (*gp__real_sem_post)(sem_t *s);
extern int (*gp__real_sem_getvalue)(sem_t *s, int *value);


/* Resolver, process, signal, cancellation and system-call entry points
 * (shim/dns.c, process.c, signal.c, thread.c, futex.c). */
extern int (*gp__real___cxa_thread_atexit_impl)(void (*fn)(void *), void *obj, void *dso);
extern void (*gp__real___pthread_register_cancel)(__pthread_unwind_buf_t *buf);
extern void (*gp__real___pthread_unregister_cancel)(__pthread_unwind_buf_t *buf);
extern void (*gp__real___pthread_unwind_next)(__pthread_unwind_buf_t *buf);
extern long (*gp__real_syscall)(long nr, ...);
extern int (*gp__real_getaddrinfo)(const char *node, const char *service,
                                   const struct addrinfo *hints,
                                   struct addrinfo **res);
extern int (*gp__real_getnameinfo)(const struct sockaddr *sa, socklen_t salen,
                                   char *host, socklen_t hostlen, char *serv,
                                   socklen_t servlen, int flags);
extern struct hostent *(*gp__real_gethostbyname)(const char *name);
extern struct hostent *(*gp__real_gethostbyname2)(const char *name, int af);
extern struct hostent *(*gp__real_gethostbyaddr)(const void *addr, socklen_t len,
                                                  int type);
extern int (*gp__real_gethostbyname_r)(const char *name, struct hostent *ret,
                                       char *buf, size_t buflen,
                                       struct hostent **result, int *herr);
extern int (*gp__real_gethostbyname2_r)(const char *name, int af,
                                        struct hostent *ret, char *buf,
                                        size_t buflen, struct hostent **result,
                                        int *herr);
extern int (*gp__real_gethostbyaddr_r)(const void *addr, socklen_t len, int type,
                                       struct hostent *ret, char *buf,
                                       size_t buflen, struct hostent **result,
                                       int *herr);
extern int (*gp__real_sigtimedwait)(const sigset_t *set, siginfo_t *info,
                                    const struct timespec *tmo);
extern int (*gp__real_execve)(const char *path, char *const argv[],
                              char *const envp[]);
extern int (*gp__real_execvpe)(const char *file, char *const argv[],
                               char *const envp[]);
extern int (*gp__real_posix_spawn)(pid_t *pid, const char *path,
                                   const posix_spawn_file_actions_t *fa,
                                   const posix_spawnattr_t *attr,
                                   char *const argv[], char *const envp[]);
extern int (*gp__real_posix_spawnp)(pid_t *pid, const char *file,
                                    const posix_spawn_file_actions_t *fa,
                                    const posix_spawnattr_t *attr,
                                    char *const argv[], char *const envp[]);
extern pid_t (*gp__real_wait4)(pid_t pid, int *status, int options,
                               struct rusage *ru);
extern int (*gp__real_system)(const char *cmd);
extern int (*gp__real_fexecve)(int fd, char *const argv[], char *const envp[]);
extern FILE *(*gp__real_popen)(const char *cmd, const char *type);

/* Resolves the table, once; later calls return at once. Safe to call from
 * any interposer before the library's constructors have run. Prints a clear
 * message and exits with status 127 if a function is missing or resolves to
 * this library itself. */
void gp__real_init(void);

/* Nonzero once gp__real_init() has finished. */
extern int gp__real_ready;

#endif /* GP_REAL_H */
