/* real.h: the real libc functions, for the runtime's own use and for
 * interposers that pass a call through. Resolved once with
 * dlsym(RTLD_NEXT, ...) by gp__real_init(), before anything else runs. */
#ifndef GP_REAL_H
#define GP_REAL_H

#include <dirent.h>
#include <locale.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>
#include <wchar.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <mqueue.h>
#include <netdb.h>
#include <semaphore.h>
#include <setjmp.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <time.h>
#include <ucontext.h>

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
extern ssize_t (*gp__real_writev)(int fd, const struct iovec *iov, int iovcnt);
extern ssize_t (*gp__real_recv)(int fd, void *buf, size_t len, int flags);
extern ssize_t (*gp__real_recvfrom)(int fd, void *buf, size_t len, int flags,
                                    struct sockaddr *addr, socklen_t *alen);
extern ssize_t (*gp__real_recvmsg)(int fd, struct msghdr *msg, int flags);
extern int (*gp__real_recvmmsg)(int fd, struct mmsghdr *vec, unsigned int n,
                                int flags, struct timespec *timeout);
extern ssize_t (*gp__real_send)(int fd, const void *buf, size_t len, int flags);
extern ssize_t (*gp__real_sendto)(int fd, const void *buf, size_t len,
                                  int flags, const struct sockaddr *addr,
                                  socklen_t alen);
extern ssize_t (*gp__real_sendmsg)(int fd, const struct msghdr *msg, int flags);
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
extern int (*gp__real_setsockopt)(int fd, int level, int name, const void *val,
                                  socklen_t len);
extern int (*gp__real_pipe)(int fds[2]);
extern int (*gp__real_pipe2)(int fds[2], int flags);
extern int (*gp__real_ppoll)(struct pollfd *fds, nfds_t nfds,
                             const struct timespec *tmo, const sigset_t *mask);
extern int (*gp__real_select)(int nfds, fd_set *r, fd_set *w, fd_set *e,
                              struct timeval *tmo);
extern int (*gp__real_pselect)(int nfds, fd_set *r, fd_set *w, fd_set *e,
                               const struct timespec *tmo,
                               const sigset_t *mask);
extern int (*gp__real_epoll_pwait)(int epfd, struct epoll_event *events,
                                   int maxevents, int timeout,
                                   const sigset_t *mask);
extern int (*gp__real_epoll_pwait2)(int epfd, struct epoll_event *events,
                                    int maxevents, const struct timespec *tmo,
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
extern locale_t (*gp__real_uselocale)(locale_t loc);
extern int (*gp__real_pthread_kill)(pthread_t th, int sig);
extern int (*gp__real_raise)(int sig);
extern int (*gp__real_pthread_sigmask)(int how, const sigset_t *set,
                                       sigset_t *old);
extern int (*gp__real_pthread_setname_np)(pthread_t th, const char *name);
extern int (*gp__real_pthread_getname_np)(pthread_t th, char *buf, size_t len);
extern int (*gp__real_pthread_getattr_np)(pthread_t th, pthread_attr_t *attr);
extern int (*gp__real_pthread_getcpuclockid)(pthread_t th, clockid_t *clock);
extern int (*gp__real_pthread_getschedparam)(pthread_t th, int *policy,
                                             struct sched_param *param);
extern int (*gp__real_pthread_setschedparam)(pthread_t th, int policy,
                                             const struct sched_param *param);
extern int (*gp__real_pthread_setschedprio)(pthread_t th, int prio);
extern int (*gp__real_pthread_getaffinity_np)(pthread_t th, size_t size,
                                              cpu_set_t *set);
extern int (*gp__real_pthread_setaffinity_np)(pthread_t th, size_t size,
                                              const cpu_set_t *set);
extern int (*gp__real_pthread_sigqueue)(pthread_t th, int sig,
                                        const union sigval val);
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
extern int (*gp__real_pthread_mutex_consistent)(pthread_mutex_t *m);
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
extern int (*gp__real___cxa_thread_atexit_impl)(void (*fn)(void *), void *obj,
                                                void *dso);
extern void (*gp__real___pthread_register_cancel)(__pthread_unwind_buf_t *buf);
extern void (*gp__real___pthread_unregister_cancel)(
    __pthread_unwind_buf_t *buf);
extern void (*gp__real___pthread_unwind_next)(__pthread_unwind_buf_t *buf);
extern long (*gp__real_syscall)(long nr, ...);
extern DIR *(*gp__real_opendir)(const char *name);
extern DIR *(*gp__real_fdopendir)(int fd);
extern int (*gp__real_closedir)(DIR *d);
extern struct dirent *(*gp__real_readdir)(DIR *d);
extern struct dirent64 *(*gp__real_readdir64)(DIR *d);
extern int (*gp__real_readdir_r)(DIR *d, struct dirent *entry,
                                 struct dirent **result);
extern int (*gp__real_readdir64_r)(DIR *d, struct dirent64 *entry,
                                   struct dirent64 **result);
extern int (*gp__real_scandir)(const char *dir, struct dirent ***list,
                               int (*sel)(const struct dirent *),
                               int (*cmp)(const struct dirent **,
                                          const struct dirent **));
extern int (*gp__real_scandir64)(const char *dir, struct dirent64 ***list,
                                 int (*sel)(const struct dirent64 *),
                                 int (*cmp)(const struct dirent64 **,
                                            const struct dirent64 **));
extern int (*gp__real_scandirat)(int dirfd, const char *dir,
                                 struct dirent ***list,
                                 int (*sel)(const struct dirent *),
                                 int (*cmp)(const struct dirent **,
                                            const struct dirent **));
extern ssize_t (*gp__real_getdents64)(int fd, void *buf, size_t len);
extern int (*gp__real_fstat)(int fd, struct stat *st);
extern int (*gp__real_fstat64)(int fd, struct stat64 *st);
extern int (*gp__real_fstatat)(int dirfd, const char *path, struct stat *st,
                               int flags);
extern int (*gp__real_fstatat64)(int dirfd, const char *path, struct stat64 *st,
                                 int flags);
extern int (*gp__real_statx)(int dirfd, const char *path, int flags,
                             unsigned mask, struct statx *st);
extern int (*gp__real_getaddrinfo)(const char *node, const char *service,
                                   const struct addrinfo *hints,
                                   struct addrinfo **res);
extern int (*gp__real_getnameinfo)(const struct sockaddr *sa, socklen_t salen,
                                   char *host, socklen_t hostlen, char *serv,
                                   socklen_t servlen, int flags);
extern struct hostent *(*gp__real_gethostbyname)(const char *name);
extern struct hostent *(*gp__real_gethostbyname2)(const char *name, int af);
extern struct hostent *(*gp__real_gethostbyaddr)(const void *addr,
                                                 socklen_t len, int type);
extern int (*gp__real_gethostbyname_r)(const char *name, struct hostent *ret,
                                       char *buf, size_t buflen,
                                       struct hostent **result, int *herr);
extern int (*gp__real_gethostbyname2_r)(const char *name, int af,
                                        struct hostent *ret, char *buf,
                                        size_t buflen, struct hostent **result,
                                        int *herr);
extern int (*gp__real_gethostbyaddr_r)(const void *addr, socklen_t len,
                                       int type, struct hostent *ret, char *buf,
                                       size_t buflen, struct hostent **result,
                                       int *herr);
extern int (*gp__real_sigtimedwait)(const sigset_t *set, siginfo_t *info,
                                    const struct timespec *tmo);
extern int (*gp__real_pause)(void);
extern int (*gp__real_sigsuspend)(const sigset_t *mask);
extern int (*gp__real_flock)(int fd, int op);
extern ssize_t (*gp__real_splice)(int in, loff_t *in_off, int out,
                                  loff_t *out_off, size_t len, unsigned flags);
extern ssize_t (*gp__real_tee)(int in, int out, size_t len, unsigned flags);
extern ssize_t (*gp__real_vmsplice)(int fd, const struct iovec *iov, size_t n,
                                    unsigned flags);
extern ssize_t (*gp__real_msgrcv)(int id, void *msgp, size_t sz, long type,
                                  int flg);
extern int (*gp__real_msgsnd)(int id, const void *msgp, size_t sz, int flg);
extern int (*gp__real_semtimedop)(int id, struct sembuf *sops, size_t n,
                                  const struct timespec *tmo);
extern mqd_t (*gp__real_mq_open)(const char *name, int flags, ...);
extern ssize_t (*gp__real_mq_timedreceive)(mqd_t mq, char *buf, size_t len,
                                           unsigned *prio,
                                           const struct timespec *abs);
extern int (*gp__real_mq_timedsend)(mqd_t mq, const char *buf, size_t len,
                                    unsigned prio, const struct timespec *abs);
extern int (*gp__real_lockf)(int fd, int cmd, off_t len);
extern __sighandler_t (*gp__real___sysv_signal)(int sig,
                                                __sighandler_t handler);
/* glibc's longjmp and _longjmp are siglongjmp under other names. */
extern void (*gp__real_siglongjmp)(sigjmp_buf env, int val);
extern void (*gp__real___longjmp_chk)(sigjmp_buf env, int val);
extern int (*gp__real_setcontext)(const ucontext_t *uc);
extern int (*gp__real_swapcontext)(ucontext_t *from, const ucontext_t *to);
extern int (*gp__real_prctl)(int option, unsigned long a2, unsigned long a3,
                             unsigned long a4, unsigned long a5);
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

/* stdio, popen and waitid (shim/stdio*.c, popen.c, process.c). */
extern char *(*gp__real_fgets)(char *s, int n, FILE *fp);
extern char *(*gp__real_fgets_unlocked)(char *s, int n, FILE *fp);
extern char *(*gp__real___fgets_chk)(char *s, size_t size, int n, FILE *fp);
extern char *(*gp__real___fgets_unlocked_chk)(char *s, size_t size, int n,
                                              FILE *fp);
extern int (*gp__real_fgetc)(FILE *fp);
extern int (*gp__real_fgetc_unlocked)(FILE *fp);
extern int (*gp__real_getc)(FILE *fp);
extern int (*gp__real_getc_unlocked)(FILE *fp);
extern int (*gp__real__IO_getc)(FILE *fp);
extern int (*gp__real_getchar)(void);
extern int (*gp__real_getchar_unlocked)(void);
extern int (*gp__real___uflow)(FILE *fp);
extern int (*gp__real___underflow)(FILE *fp);
extern int (*gp__real__IO_peekc_locked)(FILE *fp);
extern size_t (*gp__real_fread)(void *p, size_t size, size_t n, FILE *fp);
extern size_t (*gp__real_fread_unlocked)(void *p, size_t size, size_t n,
                                         FILE *fp);
extern size_t (*gp__real___fread_chk)(void *p, size_t plen, size_t size,
                                      size_t n, FILE *fp);
extern size_t (*gp__real___fread_unlocked_chk)(void *p, size_t plen,
                                               size_t size, size_t n, FILE *fp);
extern ssize_t (*gp__real_getline)(char **line, size_t *cap, FILE *fp);
extern ssize_t (*gp__real_getdelim)(char **line, size_t *cap, int delim,
                                    FILE *fp);
extern ssize_t (*gp__real___getdelim)(char **line, size_t *cap, int delim,
                                      FILE *fp);
extern char *(*gp__real_gets)(char *s);
extern char *(*gp__real___gets_chk)(char *s, size_t size);
extern int (*gp__real_ungetc)(int c, FILE *fp);
extern int (*gp__real_getw)(FILE *fp);
extern int (*gp__real_vfscanf)(FILE *fp, const char *fmt, va_list ap);
extern int (*gp__real___isoc99_vfscanf)(FILE *fp, const char *fmt, va_list ap);
extern wint_t (*gp__real_fgetwc)(FILE *fp);
extern wint_t (*gp__real_fgetwc_unlocked)(FILE *fp);
extern wint_t (*gp__real_getwc)(FILE *fp);
extern wint_t (*gp__real_getwc_unlocked)(FILE *fp);
extern wint_t (*gp__real_getwchar)(void);
extern wint_t (*gp__real_getwchar_unlocked)(void);
extern wchar_t *(*gp__real_fgetws)(wchar_t *ws, int n, FILE *fp);
extern wchar_t *(*gp__real_fgetws_unlocked)(wchar_t *ws, int n, FILE *fp);
extern wchar_t *(*gp__real___fgetws_chk)(wchar_t *ws, size_t size, int n,
                                         FILE *fp);
extern wchar_t *(*gp__real___fgetws_unlocked_chk)(wchar_t *ws, size_t size,
                                                  int n, FILE *fp);
extern wint_t (*gp__real_ungetwc)(wint_t wc, FILE *fp);
extern wint_t (*gp__real___wuflow)(FILE *fp);
extern wint_t (*gp__real___wunderflow)(FILE *fp);
extern int (*gp__real_vfwscanf)(FILE *fp, const wchar_t *fmt, va_list ap);
extern int (*gp__real___isoc99_vfwscanf)(FILE *fp, const wchar_t *fmt,
                                         va_list ap);
extern int (*gp__real_fputs)(const char *s, FILE *fp);
extern int (*gp__real_fputs_unlocked)(const char *s, FILE *fp);
extern int (*gp__real_puts)(const char *s);
extern int (*gp__real_fputc)(int c, FILE *fp);
extern int (*gp__real_fputc_unlocked)(int c, FILE *fp);
extern int (*gp__real_putc)(int c, FILE *fp);
extern int (*gp__real_putc_unlocked)(int c, FILE *fp);
extern int (*gp__real__IO_putc)(int c, FILE *fp);
extern int (*gp__real_putchar)(int c);
extern int (*gp__real_putchar_unlocked)(int c);
extern int (*gp__real___overflow)(FILE *fp, int c);
extern size_t (*gp__real_fwrite)(const void *p, size_t size, size_t n,
                                 FILE *fp);
extern size_t (*gp__real_fwrite_unlocked)(const void *p, size_t size, size_t n,
                                          FILE *fp);
extern int (*gp__real_vfprintf)(FILE *fp, const char *fmt, va_list ap);
extern int (*gp__real___vfprintf_chk)(FILE *fp, int flag, const char *fmt,
                                      va_list ap);
extern int (*gp__real_putw)(int w, FILE *fp);
extern wint_t (*gp__real_fputwc)(wchar_t wc, FILE *fp);
extern wint_t (*gp__real_fputwc_unlocked)(wchar_t wc, FILE *fp);
extern wint_t (*gp__real_putwc)(wchar_t wc, FILE *fp);
extern wint_t (*gp__real_putwc_unlocked)(wchar_t wc, FILE *fp);
extern wint_t (*gp__real_putwchar)(wchar_t wc);
extern wint_t (*gp__real_putwchar_unlocked)(wchar_t wc);
extern int (*gp__real_fputws)(const wchar_t *ws, FILE *fp);
extern int (*gp__real_fputws_unlocked)(const wchar_t *ws, FILE *fp);
extern wint_t (*gp__real___woverflow)(FILE *fp, wint_t wc);
extern int (*gp__real_vfwprintf)(FILE *fp, const wchar_t *fmt, va_list ap);
extern int (*gp__real___vfwprintf_chk)(FILE *fp, int flag, const wchar_t *fmt,
                                       va_list ap);
extern int (*gp__real_vdprintf)(int fd, const char *fmt, va_list ap);
extern int (*gp__real___vdprintf_chk)(int fd, int flag, const char *fmt,
                                      va_list ap);
extern int (*gp__real___vasprintf_chk)(char **out, int flag, const char *fmt,
                                       va_list ap);
extern void (*gp__real_psignal)(int sig, const char *s);
extern void (*gp__real_psiginfo)(const siginfo_t *info, const char *s);
extern void (*gp__real_herror)(const char *s);
extern void (*gp__real_verr)(int status, const char *fmt, va_list ap);
extern void (*gp__real_verrx)(int status, const char *fmt, va_list ap);
extern void (*gp__real_vwarn)(const char *fmt, va_list ap);
extern void (*gp__real_vwarnx)(const char *fmt, va_list ap);
extern int (*gp__real_fflush)(FILE *fp);
extern int (*gp__real_fflush_unlocked)(FILE *fp);
extern int (*gp__real_fclose)(FILE *fp);
extern int (*gp__real_fcloseall)(void);
extern void (*gp__real__flushlbf)(void);
extern FILE *(*gp__real_freopen)(const char *path, const char *mode, FILE *fp);
extern FILE *(*gp__real_freopen64)(const char *path, const char *mode,
                                   FILE *fp);
extern FILE *(*gp__real_fdopen)(int fd, const char *mode);
extern int (*gp__real_pclose)(FILE *fp);
extern void (*gp__real_setbuf)(FILE *fp, char *buf);
extern void (*gp__real_setbuffer)(FILE *fp, char *buf, size_t size);
extern void (*gp__real_setlinebuf)(FILE *fp);
extern int (*gp__real_setvbuf)(FILE *fp, char *buf, int mode, size_t size);
extern int (*gp__real_fseek)(FILE *fp, long off, int whence);
extern int (*gp__real_fseeko)(FILE *fp, off_t off, int whence);
extern int (*gp__real_fseeko64)(FILE *fp, off64_t off, int whence);
extern long (*gp__real_ftell)(FILE *fp);
extern off_t (*gp__real_ftello)(FILE *fp);
extern off64_t (*gp__real_ftello64)(FILE *fp);
extern int (*gp__real_fgetpos)(FILE *fp, fpos_t *pos);
extern int (*gp__real_fgetpos64)(FILE *fp, fpos64_t *pos);
extern int (*gp__real_fsetpos)(FILE *fp, const fpos_t *pos);
extern int (*gp__real_fsetpos64)(FILE *fp, const fpos64_t *pos);
extern void (*gp__real_rewind)(FILE *fp);
extern int (*gp__real_feof)(FILE *fp);
extern int (*gp__real_ferror)(FILE *fp);
extern int (*gp__real__IO_feof)(FILE *fp);
extern int (*gp__real__IO_ferror)(FILE *fp);
extern void (*gp__real_clearerr)(FILE *fp);
extern int (*gp__real_fwide)(FILE *fp, int mode);
extern void (*gp__real_flockfile)(FILE *fp);
extern void (*gp__real_funlockfile)(FILE *fp);
extern int (*gp__real_ftrylockfile)(FILE *fp);
extern void (*gp__real__IO_flockfile)(FILE *fp);
extern void (*gp__real__IO_funlockfile)(FILE *fp);
extern int (*gp__real__IO_ftrylockfile)(FILE *fp);
extern int (*gp__real___fsetlocking)(FILE *fp, int type);
extern int (*gp__real_waitid)(idtype_t type, id_t id, siginfo_t *info,
                              int options);

/* Resolves the table, once; later calls return at once. Safe to call from
 * any interposer before the library's constructors have run. Prints a clear
 * message and exits with status 127 if a function is missing or resolves to
 * this library itself. */
void gp__real_init(void);

/* Nonzero once gp__real_init() has finished. */
extern int gp__real_ready;

#endif /* GP_REAL_H */
