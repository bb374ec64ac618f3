/* real.c: the table of real libc functions. Every entry is resolved with
 * dlsym(RTLD_NEXT) once, and checked: a function that is missing, or that
 * resolves back into this library (a broken link order), stops the program
 * with a message instead of recursing into itself later.
 *
 * dlsym can call back into this library on the thread that resolves: it
 * may allocate (glibc before 2.34 on every thread's first call, 2.34 and
 * later when it frees an earlier dlerror string or adds a dependency), and
 * an allocator such as jemalloc or tcmalloc takes pthread mutexes, which
 * are ours. Such a call must find a real function in the table, and dlsym
 * cannot be asked for one from inside dlsym. So the table is first filled
 * without dlsym or malloc, by reading the dynamic symbol tables of the
 * objects loaded after this one (their GNU hash tables, the default
 * version of each name): libc's own functions, in practice. dlsym then
 * replaces each entry with what RTLD_NEXT names, which differs only when
 * another preloaded library wraps the function too. While this thread
 * resolves, the runtime counts as running on it (gp__tls.depth), so every
 * interposer it reaches passes straight through. */
#define _GNU_SOURCE
#include "real.h"
#include "scheduler.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

ssize_t (*gp__real_read)(int fd, void *buf, size_t count);
ssize_t (*gp__real_write)(int fd, const void *buf, size_t count);
int (*gp__real_close)(int fd);
int (*gp__real_poll)(struct pollfd *fds, nfds_t nfds, int timeout);
int (*gp__real_epoll_wait)(int epfd, struct epoll_event *events, int maxevents,
                           int timeout);
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
int (*gp__real_recvmmsg)(int fd, struct mmsghdr *vec, unsigned int n, int flags,
                         struct timespec *timeout);
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
int (*gp__real_epoll_pwait)(int epfd, struct epoll_event *events, int maxevents,
                            int timeout, const sigset_t *mask);
int (*gp__real_epoll_pwait2)(int epfd, struct epoll_event *events,
                             int maxevents, const struct timespec *tmo,
                             const sigset_t *mask);
sighandler_t (*gp__real_signal)(int sig, sighandler_t handler);

int (*gp__real_pthread_join)(pthread_t th, void **ret);
int (*gp__real_pthread_tryjoin_np)(pthread_t th, void **ret);
int (*gp__real_pthread_timedjoin_np)(pthread_t th, void **ret,
                                     const struct timespec *abs);
int (*gp__real_pthread_clockjoin_np)(pthread_t th, void **ret, clockid_t clock,
                                     const struct timespec *abs);
int (*gp__real_pthread_detach)(pthread_t th);
void (*gp__real_pthread_exit)(void *ret);
pthread_t (*gp__real_pthread_self)(void);
int (*gp__real_pthread_equal)(pthread_t a, pthread_t b);
int (*gp__real_sched_yield)(void);
locale_t (*gp__real_uselocale)(locale_t loc);
int (*gp__real_pthread_kill)(pthread_t th, int sig);
int (*gp__real_raise)(int sig);
int (*gp__real_pthread_sigmask)(int how, const sigset_t *set, sigset_t *old);
int (*gp__real_pthread_setname_np)(pthread_t th, const char *name);
int (*gp__real_pthread_getname_np)(pthread_t th, char *buf, size_t len);
int (*gp__real_pthread_getattr_np)(pthread_t th, pthread_attr_t *attr);
int (*gp__real_pthread_getcpuclockid)(pthread_t th, clockid_t *clock);
int (*gp__real_pthread_getschedparam)(pthread_t th, int *policy,
                                      struct sched_param *param);
int (*gp__real_pthread_setschedparam)(pthread_t th, int policy,
                                      const struct sched_param *param);
int (*gp__real_pthread_setschedprio)(pthread_t th, int prio);
int (*gp__real_pthread_getaffinity_np)(pthread_t th, size_t size,
                                       cpu_set_t *set);
int (*gp__real_pthread_setaffinity_np)(pthread_t th, size_t size,
                                       const cpu_set_t *set);
int (*gp__real_pthread_sigqueue)(pthread_t th, int sig, const union sigval val);
int (*gp__real_pthread_cancel)(pthread_t th);
int (*gp__real_pthread_setcancelstate)(int state, int *old);
int (*gp__real_pthread_setcanceltype)(int type, int *old);
void (*gp__real_pthread_testcancel)(void);
int (*gp__real_pthread_key_create)(pthread_key_t *key, void (*destr)(void *));
int (*gp__real_pthread_key_delete)(pthread_key_t key);
void *(*gp__real_pthread_getspecific)(pthread_key_t key);
int (*gp__real_pthread_setspecific)(pthread_key_t key, const void *val);
int (*gp__real_pthread_once)(pthread_once_t *once, void (*init)(void));
int (*gp__real_pthread_mutex_init)(pthread_mutex_t *m,
                                   const pthread_mutexattr_t *attr);
int (*gp__real_pthread_mutex_destroy)(pthread_mutex_t *m);
int (*gp__real_pthread_mutex_lock)(pthread_mutex_t *m);
int (*gp__real_pthread_mutex_trylock)(pthread_mutex_t *m);
int (*gp__real_pthread_mutex_consistent)(pthread_mutex_t *m);
int (*gp__real_pthread_mutex_timedlock)(pthread_mutex_t *m,
                                        const struct timespec *abs);
int (*gp__real_pthread_mutex_clocklock)(pthread_mutex_t *m, clockid_t clock,
                                        const struct timespec *abs);
int (*gp__real_pthread_mutex_unlock)(pthread_mutex_t *m);
int (*gp__real_pthread_cond_init)(pthread_cond_t *c,
                                  const pthread_condattr_t *attr);
int (*gp__real_pthread_cond_destroy)(pthread_cond_t *c);
int (*gp__real_pthread_cond_wait)(pthread_cond_t *c, pthread_mutex_t *m);
int (*gp__real_pthread_cond_timedwait)(pthread_cond_t *c, pthread_mutex_t *m,
                                       const struct timespec *abs);
int (*gp__real_pthread_cond_clockwait)(pthread_cond_t *c, pthread_mutex_t *m,
                                       clockid_t clock,
                                       const struct timespec *abs);
int (*gp__real_pthread_cond_signal)(pthread_cond_t *c);
int (*gp__real_pthread_cond_broadcast)(pthread_cond_t *c);
int (*gp__real_pthread_rwlock_init)(pthread_rwlock_t *rw,
                                    const pthread_rwlockattr_t *attr);
int (*gp__real_pthread_rwlock_destroy)(pthread_rwlock_t *rw);
int (*gp__real_pthread_rwlock_rdlock)(pthread_rwlock_t *rw);
int (*gp__real_pthread_rwlock_tryrdlock)(pthread_rwlock_t *rw);
int (*gp__real_pthread_rwlock_timedrdlock)(pthread_rwlock_t *rw,
                                           const struct timespec *abs);
int (*gp__real_pthread_rwlock_clockrdlock)(pthread_rwlock_t *rw,
                                           clockid_t clock,
                                           const struct timespec *abs);
int (*gp__real_pthread_rwlock_wrlock)(pthread_rwlock_t *rw);
int (*gp__real_pthread_rwlock_trywrlock)(pthread_rwlock_t *rw);
int (*gp__real_pthread_rwlock_timedwrlock)(pthread_rwlock_t *rw,
                                           const struct timespec *abs);
int (*gp__real_pthread_rwlock_clockwrlock)(pthread_rwlock_t *rw,
                                           clockid_t clock,
                                           const struct timespec *abs);
int (*gp__real_pthread_rwlock_unlock)(pthread_rwlock_t *rw);
int (*gp__real_pthread_spin_lock)(pthread_spinlock_t *l);
int (*gp__real_pthread_spin_trylock)(pthread_spinlock_t *l);
int (*gp__real_pthread_spin_unlock)(pthread_spinlock_t *l);
int (*gp__real_pthread_barrier_init)(pthread_barrier_t *b,
                                     const pthread_barrierattr_t *attr,
                                     unsigned int count);
int (*gp__real_pthread_barrier_destroy)(pthread_barrier_t *b);
int (*gp__real_pthread_barrier_wait)(pthread_barrier_t *b);
int (*gp__real_sem_init)(sem_t *s, int pshared, unsigned int value);
int (*gp__real_sem_destroy)(sem_t *s);
int (*gp__real_sem_wait)(sem_t *s);
int (*gp__real_sem_trywait)(sem_t *s);
int (*gp__real_sem_clockwait)(sem_t *s, clockid_t clock,
                              const struct timespec *abs);
int (*gp__real_sem_post)(sem_t *s);
int (*gp__real_sem_getvalue)(sem_t *s, int *value);

int (*gp__real___cxa_thread_atexit_impl)(void (*fn)(void *), void *obj,
                                         void *dso);
void (*gp__real___pthread_register_cancel)(__pthread_unwind_buf_t *buf);
void (*gp__real___pthread_unregister_cancel)(__pthread_unwind_buf_t *buf);
void (*gp__real___pthread_unwind_next)(__pthread_unwind_buf_t *buf);
long (*gp__real_syscall)(long nr, ...);
int (*gp__real_getaddrinfo)(const char *node, const char *service,
                            const struct addrinfo *hints,
                            struct addrinfo **res);
int (*gp__real_getnameinfo)(const struct sockaddr *sa, socklen_t salen,
                            char *host, socklen_t hostlen, char *serv,
                            socklen_t servlen, int flags);
struct hostent *(*gp__real_gethostbyname)(const char *name);
struct hostent *(*gp__real_gethostbyname2)(const char *name, int af);
struct hostent *(*gp__real_gethostbyaddr)(const void *addr, socklen_t len,
                                          int type);
int (*gp__real_gethostbyname_r)(const char *name, struct hostent *ret,
                                char *buf, size_t buflen,
                                struct hostent **result, int *herr);
int (*gp__real_gethostbyname2_r)(const char *name, int af, struct hostent *ret,
                                 char *buf, size_t buflen,
                                 struct hostent **result, int *herr);
int (*gp__real_gethostbyaddr_r)(const void *addr, socklen_t len, int type,
                                struct hostent *ret, char *buf, size_t buflen,
                                struct hostent **result, int *herr);
int (*gp__real_sigtimedwait)(const sigset_t *set, siginfo_t *info,
                             const struct timespec *tmo);
int (*gp__real_pause)(void);
int (*gp__real_sigsuspend)(const sigset_t *mask);
int (*gp__real_flock)(int fd, int op);
ssize_t (*gp__real_splice)(int in, loff_t *in_off, int out, loff_t *out_off,
                           size_t len, unsigned flags);
ssize_t (*gp__real_tee)(int in, int out, size_t len, unsigned flags);
ssize_t (*gp__real_vmsplice)(int fd, const struct iovec *iov, size_t n,
                             unsigned flags);
ssize_t (*gp__real_msgrcv)(int id, void *msgp, size_t sz, long type, int flg);
int (*gp__real_msgsnd)(int id, const void *msgp, size_t sz, int flg);
int (*gp__real_semtimedop)(int id, struct sembuf *sops, size_t n,
                           const struct timespec *tmo);
mqd_t (*gp__real_mq_open)(const char *name, int flags, ...);
ssize_t (*gp__real_mq_timedreceive)(mqd_t mq, char *buf, size_t len,
                                    unsigned *prio, const struct timespec *abs);
int (*gp__real_mq_timedsend)(mqd_t mq, const char *buf, size_t len,
                             unsigned prio, const struct timespec *abs);
int (*gp__real_lockf)(int fd, int cmd, off_t len);
__sighandler_t (*gp__real___sysv_signal)(int sig, __sighandler_t handler);
void (*gp__real_siglongjmp)(sigjmp_buf env, int val);
void (*gp__real___longjmp_chk)(sigjmp_buf env, int val);
int (*gp__real_setcontext)(const ucontext_t *uc);
int (*gp__real_swapcontext)(ucontext_t *from, const ucontext_t *to);
int (*gp__real_prctl)(int option, unsigned long a2, unsigned long a3,
                      unsigned long a4, unsigned long a5);
int (*gp__real_execve)(const char *path, char *const argv[],
                       char *const envp[]);
int (*gp__real_execvpe)(const char *file, char *const argv[],
                        char *const envp[]);
int (*gp__real_posix_spawn)(pid_t *pid, const char *path,
                            const posix_spawn_file_actions_t *fa,
                            const posix_spawnattr_t *attr, char *const argv[],
                            char *const envp[]);
int (*gp__real_posix_spawnp)(pid_t *pid, const char *file,
                             const posix_spawn_file_actions_t *fa,
                             const posix_spawnattr_t *attr, char *const argv[],
                             char *const envp[]);
pid_t (*gp__real_wait4)(pid_t pid, int *status, int options, struct rusage *ru);
int (*gp__real_system)(const char *cmd);
int (*gp__real_fexecve)(int fd, char *const argv[], char *const envp[]);
FILE *(*gp__real_popen)(const char *cmd, const char *type);

char *(*gp__real_fgets)(char *s, int n, FILE *fp);
char *(*gp__real_fgets_unlocked)(char *s, int n, FILE *fp);
char *(*gp__real___fgets_chk)(char *s, size_t size, int n, FILE *fp);
char *(*gp__real___fgets_unlocked_chk)(char *s, size_t size, int n, FILE *fp);
int (*gp__real_fgetc)(FILE *fp);
int (*gp__real_fgetc_unlocked)(FILE *fp);
int (*gp__real_getc)(FILE *fp);
int (*gp__real_getc_unlocked)(FILE *fp);
int (*gp__real__IO_getc)(FILE *fp);
int (*gp__real_getchar)(void);
int (*gp__real_getchar_unlocked)(void);
int (*gp__real___uflow)(FILE *fp);
int (*gp__real___underflow)(FILE *fp);
int (*gp__real__IO_peekc_locked)(FILE *fp);
size_t (*gp__real_fread)(void *p, size_t size, size_t n, FILE *fp);
size_t (*gp__real_fread_unlocked)(void *p, size_t size, size_t n, FILE *fp);
size_t (*gp__real___fread_chk)(void *p, size_t plen, size_t size, size_t n,
                               FILE *fp);
size_t (*gp__real___fread_unlocked_chk)(void *p, size_t plen, size_t size,
                                        size_t n, FILE *fp);
ssize_t (*gp__real_getline)(char **line, size_t *cap, FILE *fp);
ssize_t (*gp__real_getdelim)(char **line, size_t *cap, int delim, FILE *fp);
ssize_t (*gp__real___getdelim)(char **line, size_t *cap, int delim, FILE *fp);
char *(*gp__real_gets)(char *s);
char *(*gp__real___gets_chk)(char *s, size_t size);
int (*gp__real_ungetc)(int c, FILE *fp);
int (*gp__real_getw)(FILE *fp);
int (*gp__real_vfscanf)(FILE *fp, const char *fmt, va_list ap);
int (*gp__real___isoc99_vfscanf)(FILE *fp, const char *fmt, va_list ap);
wint_t (*gp__real_fgetwc)(FILE *fp);
wint_t (*gp__real_fgetwc_unlocked)(FILE *fp);
wint_t (*gp__real_getwc)(FILE *fp);
wint_t (*gp__real_getwc_unlocked)(FILE *fp);
wint_t (*gp__real_getwchar)(void);
wint_t (*gp__real_getwchar_unlocked)(void);
wchar_t *(*gp__real_fgetws)(wchar_t *ws, int n, FILE *fp);
wchar_t *(*gp__real_fgetws_unlocked)(wchar_t *ws, int n, FILE *fp);
wchar_t *(*gp__real___fgetws_chk)(wchar_t *ws, size_t size, int n, FILE *fp);
wchar_t *(*gp__real___fgetws_unlocked_chk)(wchar_t *ws, size_t size, int n,
                                           FILE *fp);
wint_t (*gp__real_ungetwc)(wint_t wc, FILE *fp);
wint_t (*gp__real___wuflow)(FILE *fp);
wint_t (*gp__real___wunderflow)(FILE *fp);
int (*gp__real_vfwscanf)(FILE *fp, const wchar_t *fmt, va_list ap);
int (*gp__real___isoc99_vfwscanf)(FILE *fp, const wchar_t *fmt, va_list ap);
int (*gp__real_fputs)(const char *s, FILE *fp);
int (*gp__real_fputs_unlocked)(const char *s, FILE *fp);
int (*gp__real_puts)(const char *s);
int (*gp__real_fputc)(int c, FILE *fp);
int (*gp__real_fputc_unlocked)(int c, FILE *fp);
int (*gp__real_putc)(int c, FILE *fp);
int (*gp__real_putc_unlocked)(int c, FILE *fp);
int (*gp__real__IO_putc)(int c, FILE *fp);
int (*gp__real_putchar)(int c);
int (*gp__real_putchar_unlocked)(int c);
int (*gp__real___overflow)(FILE *fp, int c);
size_t (*gp__real_fwrite)(const void *p, size_t size, size_t n, FILE *fp);
size_t (*gp__real_fwrite_unlocked)(const void *p, size_t size, size_t n,
                                   FILE *fp);
int (*gp__real_vfprintf)(FILE *fp, const char *fmt, va_list ap);
int (*gp__real___vfprintf_chk)(FILE *fp, int flag, const char *fmt, va_list ap);
int (*gp__real_putw)(int w, FILE *fp);
wint_t (*gp__real_fputwc)(wchar_t wc, FILE *fp);
wint_t (*gp__real_fputwc_unlocked)(wchar_t wc, FILE *fp);
wint_t (*gp__real_putwc)(wchar_t wc, FILE *fp);
wint_t (*gp__real_putwc_unlocked)(wchar_t wc, FILE *fp);
wint_t (*gp__real_putwchar)(wchar_t wc);
wint_t (*gp__real_putwchar_unlocked)(wchar_t wc);
int (*gp__real_fputws)(const wchar_t *ws, FILE *fp);
int (*gp__real_fputws_unlocked)(const wchar_t *ws, FILE *fp);
wint_t (*gp__real___woverflow)(FILE *fp, wint_t wc);
int (*gp__real_vfwprintf)(FILE *fp, const wchar_t *fmt, va_list ap);
int (*gp__real___vfwprintf_chk)(FILE *fp, int flag, const wchar_t *fmt,
                                va_list ap);
int (*gp__real_vdprintf)(int fd, const char *fmt, va_list ap);
int (*gp__real___vdprintf_chk)(int fd, int flag, const char *fmt, va_list ap);
int (*gp__real___vasprintf_chk)(char **out, int flag, const char *fmt,
                                va_list ap);
void (*gp__real_psignal)(int sig, const char *s);
void (*gp__real_psiginfo)(const siginfo_t *info, const char *s);
void (*gp__real_herror)(const char *s);
void (*gp__real_verr)(int status, const char *fmt, va_list ap);
void (*gp__real_verrx)(int status, const char *fmt, va_list ap);
void (*gp__real_vwarn)(const char *fmt, va_list ap);
void (*gp__real_vwarnx)(const char *fmt, va_list ap);
int (*gp__real_fflush)(FILE *fp);
int (*gp__real_fflush_unlocked)(FILE *fp);
int (*gp__real_fclose)(FILE *fp);
int (*gp__real_fcloseall)(void);
void (*gp__real__flushlbf)(void);
FILE *(*gp__real_freopen)(const char *path, const char *mode, FILE *fp);
FILE *(*gp__real_freopen64)(const char *path, const char *mode, FILE *fp);
FILE *(*gp__real_fdopen)(int fd, const char *mode);
int (*gp__real_pclose)(FILE *fp);
void (*gp__real_setbuf)(FILE *fp, char *buf);
void (*gp__real_setbuffer)(FILE *fp, char *buf, size_t size);
void (*gp__real_setlinebuf)(FILE *fp);
int (*gp__real_setvbuf)(FILE *fp, char *buf, int mode, size_t size);
int (*gp__real_fseek)(FILE *fp, long off, int whence);
int (*gp__real_fseeko)(FILE *fp, off_t off, int whence);
int (*gp__real_fseeko64)(FILE *fp, off64_t off, int whence);
long (*gp__real_ftell)(FILE *fp);
off_t (*gp__real_ftello)(FILE *fp);
off64_t (*gp__real_ftello64)(FILE *fp);
int (*gp__real_fgetpos)(FILE *fp, fpos_t *pos);
int (*gp__real_fgetpos64)(FILE *fp, fpos64_t *pos);
int (*gp__real_fsetpos)(FILE *fp, const fpos_t *pos);
int (*gp__real_fsetpos64)(FILE *fp, const fpos64_t *pos);
void (*gp__real_rewind)(FILE *fp);
int (*gp__real_feof)(FILE *fp);
int (*gp__real_ferror)(FILE *fp);
int (*gp__real__IO_feof)(FILE *fp);
int (*gp__real__IO_ferror)(FILE *fp);
void (*gp__real_clearerr)(FILE *fp);
int (*gp__real_fwide)(FILE *fp, int mode);
void (*gp__real_flockfile)(FILE *fp);
void (*gp__real_funlockfile)(FILE *fp);
int (*gp__real_ftrylockfile)(FILE *fp);
void (*gp__real__IO_flockfile)(FILE *fp);
void (*gp__real__IO_funlockfile)(FILE *fp);
int (*gp__real__IO_ftrylockfile)(FILE *fp);
int (*gp__real___fsetlocking)(FILE *fp, int type);
int (*gp__real_waitid)(idtype_t type, id_t id, siginfo_t *info, int options);

DIR *(*gp__real_opendir)(const char *name);
DIR *(*gp__real_fdopendir)(int fd);
int (*gp__real_closedir)(DIR *d);
struct dirent *(*gp__real_readdir)(DIR *d);
struct dirent64 *(*gp__real_readdir64)(DIR *d);
int (*gp__real_readdir_r)(DIR *d, struct dirent *entry, struct dirent **result);
int (*gp__real_readdir64_r)(DIR *d, struct dirent64 *entry,
                            struct dirent64 **result);
int (*gp__real_scandir)(const char *dir, struct dirent ***list,
                        int (*sel)(const struct dirent *),
                        int (*cmp)(const struct dirent **,
                                   const struct dirent **));
int (*gp__real_scandir64)(const char *dir, struct dirent64 ***list,
                          int (*sel)(const struct dirent64 *),
                          int (*cmp)(const struct dirent64 **,
                                     const struct dirent64 **));
int (*gp__real_scandirat)(int dirfd, const char *dir, struct dirent ***list,
                          int (*sel)(const struct dirent *),
                          int (*cmp)(const struct dirent **,
                                     const struct dirent **));
ssize_t (*gp__real_getdents64)(int fd, void *buf, size_t len);
int (*gp__real_fstat)(int fd, struct stat *st);
int (*gp__real_fstat64)(int fd, struct stat64 *st);
int (*gp__real_fstatat)(int dirfd, const char *path, struct stat *st,
                        int flags);
int (*gp__real_fstatat64)(int dirfd, const char *path, struct stat64 *st,
                          int flags);
int (*gp__real_statx)(int dirfd, const char *path, int flags, unsigned mask,
                      struct statx *st);

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
    {"epoll_pwait2", (void **)&gp__real_epoll_pwait2},
    {"signal", (void **)&gp__real_signal},
    {"pthread_join", (void **)&gp__real_pthread_join},
    {"pthread_tryjoin_np", (void **)&gp__real_pthread_tryjoin_np},
    {"pthread_timedjoin_np", (void **)&gp__real_pthread_timedjoin_np},
    {"pthread_clockjoin_np", (void **)&gp__real_pthread_clockjoin_np},
    {"pthread_detach", (void **)&gp__real_pthread_detach},
    {"pthread_exit", (void **)&gp__real_pthread_exit},
    {"pthread_self", (void **)&gp__real_pthread_self},
    {"pthread_equal", (void **)&gp__real_pthread_equal},
    {"sched_yield", (void **)&gp__real_sched_yield},
    {"uselocale", (void **)&gp__real_uselocale},
    {"pthread_kill", (void **)&gp__real_pthread_kill},
    {"raise", (void **)&gp__real_raise},
    {"pthread_sigmask", (void **)&gp__real_pthread_sigmask},
    {"pthread_setname_np", (void **)&gp__real_pthread_setname_np},
    {"pthread_getname_np", (void **)&gp__real_pthread_getname_np},
    {"pthread_getattr_np", (void **)&gp__real_pthread_getattr_np},
    {"pthread_getcpuclockid", (void **)&gp__real_pthread_getcpuclockid},
    {"pthread_getschedparam", (void **)&gp__real_pthread_getschedparam},
    {"pthread_setschedparam", (void **)&gp__real_pthread_setschedparam},
    {"pthread_setschedprio", (void **)&gp__real_pthread_setschedprio},
    {"pthread_getaffinity_np", (void **)&gp__real_pthread_getaffinity_np},
    {"pthread_setaffinity_np", (void **)&gp__real_pthread_setaffinity_np},
    {"pthread_sigqueue", (void **)&gp__real_pthread_sigqueue},
    {"pthread_cancel", (void **)&gp__real_pthread_cancel},
    {"pthread_setcancelstate", (void **)&gp__real_pthread_setcancelstate},
    {"pthread_setcanceltype", (void **)&gp__real_pthread_setcanceltype},
    {"pthread_testcancel", (void **)&gp__real_pthread_testcancel},
    {"pthread_key_create", (void **)&gp__real_pthread_key_create},
    {"pthread_key_delete", (void **)&gp__real_pthread_key_delete},
    {"pthread_getspecific", (void **)&gp__real_pthread_getspecific},
    {"pthread_setspecific", (void **)&gp__real_pthread_setspecific},
    {"pthread_once", (void **)&gp__real_pthread_once},
    {"pthread_mutex_init", (void **)&gp__real_pthread_mutex_init},
    {"pthread_mutex_destroy", (void **)&gp__real_pthread_mutex_destroy},
    {"pthread_mutex_lock", (void **)&gp__real_pthread_mutex_lock},
    {"pthread_mutex_trylock", (void **)&gp__real_pthread_mutex_trylock},
    {"pthread_mutex_consistent", (void **)&gp__real_pthread_mutex_consistent},
    {"pthread_mutex_timedlock", (void **)&gp__real_pthread_mutex_timedlock},
    {"pthread_mutex_clocklock", (void **)&gp__real_pthread_mutex_clocklock},
    {"pthread_mutex_unlock", (void **)&gp__real_pthread_mutex_unlock},
    {"pthread_cond_init", (void **)&gp__real_pthread_cond_init},
    {"pthread_cond_destroy", (void **)&gp__real_pthread_cond_destroy},
    {"pthread_cond_wait", (void **)&gp__real_pthread_cond_wait},
    {"pthread_cond_timedwait", (void **)&gp__real_pthread_cond_timedwait},
    {"pthread_cond_clockwait", (void **)&gp__real_pthread_cond_clockwait},
    {"pthread_cond_signal", (void **)&gp__real_pthread_cond_signal},
    {"pthread_cond_broadcast", (void **)&gp__real_pthread_cond_broadcast},
    {"pthread_rwlock_init", (void **)&gp__real_pthread_rwlock_init},
    {"pthread_rwlock_destroy", (void **)&gp__real_pthread_rwlock_destroy},
    {"pthread_rwlock_rdlock", (void **)&gp__real_pthread_rwlock_rdlock},
    {"pthread_rwlock_tryrdlock", (void **)&gp__real_pthread_rwlock_tryrdlock},
    {"pthread_rwlock_timedrdlock",
     (void **)&gp__real_pthread_rwlock_timedrdlock},
    {"pthread_rwlock_clockrdlock",
     (void **)&gp__real_pthread_rwlock_clockrdlock},
    {"pthread_rwlock_wrlock", (void **)&gp__real_pthread_rwlock_wrlock},
    {"pthread_rwlock_trywrlock", (void **)&gp__real_pthread_rwlock_trywrlock},
    {"pthread_rwlock_timedwrlock",
     (void **)&gp__real_pthread_rwlock_timedwrlock},
    {"pthread_rwlock_clockwrlock",
     (void **)&gp__real_pthread_rwlock_clockwrlock},
    {"pthread_rwlock_unlock", (void **)&gp__real_pthread_rwlock_unlock},
    {"pthread_spin_lock", (void **)&gp__real_pthread_spin_lock},
    {"pthread_spin_trylock", (void **)&gp__real_pthread_spin_trylock},
    {"pthread_spin_unlock", (void **)&gp__real_pthread_spin_unlock},
    {"pthread_barrier_init", (void **)&gp__real_pthread_barrier_init},
    {"pthread_barrier_destroy", (void **)&gp__real_pthread_barrier_destroy},
    {"pthread_barrier_wait", (void **)&gp__real_pthread_barrier_wait},
    {"sem_init", (void **)&gp__real_sem_init},
    {"sem_destroy", (void **)&gp__real_sem_destroy},
    {"sem_wait", (void **)&gp__real_sem_wait},
    {"sem_trywait", (void **)&gp__real_sem_trywait},
    {"sem_clockwait", (void **)&gp__real_sem_clockwait},
    {"sem_post", (void **)&gp__real_sem_post},
    {"sem_getvalue", (void **)&gp__real_sem_getvalue},
    {"__cxa_thread_atexit_impl", (void **)&gp__real___cxa_thread_atexit_impl},
    {"__pthread_register_cancel", (void **)&gp__real___pthread_register_cancel},
    {"__pthread_unregister_cancel",
     (void **)&gp__real___pthread_unregister_cancel},
    {"__pthread_unwind_next", (void **)&gp__real___pthread_unwind_next},
    {"syscall", (void **)&gp__real_syscall},
    {"getaddrinfo", (void **)&gp__real_getaddrinfo},
    {"getnameinfo", (void **)&gp__real_getnameinfo},
    {"gethostbyname", (void **)&gp__real_gethostbyname},
    {"gethostbyname2", (void **)&gp__real_gethostbyname2},
    {"gethostbyaddr", (void **)&gp__real_gethostbyaddr},
    {"gethostbyname_r", (void **)&gp__real_gethostbyname_r},
    {"gethostbyname2_r", (void **)&gp__real_gethostbyname2_r},
    {"gethostbyaddr_r", (void **)&gp__real_gethostbyaddr_r},
    {"sigtimedwait", (void **)&gp__real_sigtimedwait},
    {"pause", (void **)&gp__real_pause},
    {"sigsuspend", (void **)&gp__real_sigsuspend},
    {"flock", (void **)&gp__real_flock},
    {"splice", (void **)&gp__real_splice},
    {"tee", (void **)&gp__real_tee},
    {"vmsplice", (void **)&gp__real_vmsplice},
    {"msgrcv", (void **)&gp__real_msgrcv},
    {"msgsnd", (void **)&gp__real_msgsnd},
    {"semtimedop", (void **)&gp__real_semtimedop},
    {"mq_open", (void **)&gp__real_mq_open},
    {"mq_timedreceive", (void **)&gp__real_mq_timedreceive},
    {"mq_timedsend", (void **)&gp__real_mq_timedsend},
    {"lockf", (void **)&gp__real_lockf},
    {"__sysv_signal", (void **)&gp__real___sysv_signal},
    {"siglongjmp", (void **)&gp__real_siglongjmp},
    {"__longjmp_chk", (void **)&gp__real___longjmp_chk},
    {"setcontext", (void **)&gp__real_setcontext},
    {"swapcontext", (void **)&gp__real_swapcontext},
    {"execve", (void **)&gp__real_execve},
    {"prctl", (void **)&gp__real_prctl},
    {"execvpe", (void **)&gp__real_execvpe},
    {"posix_spawn", (void **)&gp__real_posix_spawn},
    {"posix_spawnp", (void **)&gp__real_posix_spawnp},
    {"wait4", (void **)&gp__real_wait4},
    {"system", (void **)&gp__real_system},
    {"fgets", (void **)&gp__real_fgets},
    {"fgets_unlocked", (void **)&gp__real_fgets_unlocked},
    {"__fgets_chk", (void **)&gp__real___fgets_chk},
    {"__fgets_unlocked_chk", (void **)&gp__real___fgets_unlocked_chk},
    {"fgetc", (void **)&gp__real_fgetc},
    {"fgetc_unlocked", (void **)&gp__real_fgetc_unlocked},
    {"getc", (void **)&gp__real_getc},
    {"getc_unlocked", (void **)&gp__real_getc_unlocked},
    {"_IO_getc", (void **)&gp__real__IO_getc},
    {"getchar", (void **)&gp__real_getchar},
    {"getchar_unlocked", (void **)&gp__real_getchar_unlocked},
    {"__uflow", (void **)&gp__real___uflow},
    {"__underflow", (void **)&gp__real___underflow},
    {"_IO_peekc_locked", (void **)&gp__real__IO_peekc_locked},
    {"fread", (void **)&gp__real_fread},
    {"fread_unlocked", (void **)&gp__real_fread_unlocked},
    {"__fread_chk", (void **)&gp__real___fread_chk},
    {"__fread_unlocked_chk", (void **)&gp__real___fread_unlocked_chk},
    {"getline", (void **)&gp__real_getline},
    {"getdelim", (void **)&gp__real_getdelim},
    {"__getdelim", (void **)&gp__real___getdelim},
    {"gets", (void **)&gp__real_gets},
    {"__gets_chk", (void **)&gp__real___gets_chk},
    {"ungetc", (void **)&gp__real_ungetc},
    {"getw", (void **)&gp__real_getw},
    {"vfscanf", (void **)&gp__real_vfscanf},
    {"__isoc99_vfscanf", (void **)&gp__real___isoc99_vfscanf},
    {"fgetwc", (void **)&gp__real_fgetwc},
    {"fgetwc_unlocked", (void **)&gp__real_fgetwc_unlocked},
    {"getwc", (void **)&gp__real_getwc},
    {"getwc_unlocked", (void **)&gp__real_getwc_unlocked},
    {"getwchar", (void **)&gp__real_getwchar},
    {"getwchar_unlocked", (void **)&gp__real_getwchar_unlocked},
    {"fgetws", (void **)&gp__real_fgetws},
    {"fgetws_unlocked", (void **)&gp__real_fgetws_unlocked},
    {"__fgetws_chk", (void **)&gp__real___fgetws_chk},
    {"__fgetws_unlocked_chk", (void **)&gp__real___fgetws_unlocked_chk},
    {"ungetwc", (void **)&gp__real_ungetwc},
    {"__wuflow", (void **)&gp__real___wuflow},
    {"__wunderflow", (void **)&gp__real___wunderflow},
    {"vfwscanf", (void **)&gp__real_vfwscanf},
    {"__isoc99_vfwscanf", (void **)&gp__real___isoc99_vfwscanf},
    {"fputs", (void **)&gp__real_fputs},
    {"fputs_unlocked", (void **)&gp__real_fputs_unlocked},
    {"puts", (void **)&gp__real_puts},
    {"fputc", (void **)&gp__real_fputc},
    {"fputc_unlocked", (void **)&gp__real_fputc_unlocked},
    {"putc", (void **)&gp__real_putc},
    {"putc_unlocked", (void **)&gp__real_putc_unlocked},
    {"_IO_putc", (void **)&gp__real__IO_putc},
    {"putchar", (void **)&gp__real_putchar},
    {"putchar_unlocked", (void **)&gp__real_putchar_unlocked},
    {"__overflow", (void **)&gp__real___overflow},
    {"fwrite", (void **)&gp__real_fwrite},
    {"fwrite_unlocked", (void **)&gp__real_fwrite_unlocked},
    {"vfprintf", (void **)&gp__real_vfprintf},
    {"__vfprintf_chk", (void **)&gp__real___vfprintf_chk},
    {"putw", (void **)&gp__real_putw},
    {"fputwc", (void **)&gp__real_fputwc},
    {"fputwc_unlocked", (void **)&gp__real_fputwc_unlocked},
    {"putwc", (void **)&gp__real_putwc},
    {"putwc_unlocked", (void **)&gp__real_putwc_unlocked},
    {"putwchar", (void **)&gp__real_putwchar},
    {"putwchar_unlocked", (void **)&gp__real_putwchar_unlocked},
    {"fputws", (void **)&gp__real_fputws},
    {"fputws_unlocked", (void **)&gp__real_fputws_unlocked},
    {"__woverflow", (void **)&gp__real___woverflow},
    {"vfwprintf", (void **)&gp__real_vfwprintf},
    {"__vfwprintf_chk", (void **)&gp__real___vfwprintf_chk},
    {"vdprintf", (void **)&gp__real_vdprintf},
    {"__vdprintf_chk", (void **)&gp__real___vdprintf_chk},
    {"__vasprintf_chk", (void **)&gp__real___vasprintf_chk},
    {"psignal", (void **)&gp__real_psignal},
    {"psiginfo", (void **)&gp__real_psiginfo},
    {"herror", (void **)&gp__real_herror},
    {"verr", (void **)&gp__real_verr},
    {"verrx", (void **)&gp__real_verrx},
    {"vwarn", (void **)&gp__real_vwarn},
    {"vwarnx", (void **)&gp__real_vwarnx},
    {"fflush", (void **)&gp__real_fflush},
    {"fflush_unlocked", (void **)&gp__real_fflush_unlocked},
    {"fclose", (void **)&gp__real_fclose},
    {"fcloseall", (void **)&gp__real_fcloseall},
    {"_flushlbf", (void **)&gp__real__flushlbf},
    {"freopen", (void **)&gp__real_freopen},
    {"freopen64", (void **)&gp__real_freopen64},
    {"fdopen", (void **)&gp__real_fdopen},
    {"pclose", (void **)&gp__real_pclose},
    {"setbuf", (void **)&gp__real_setbuf},
    {"setbuffer", (void **)&gp__real_setbuffer},
    {"setlinebuf", (void **)&gp__real_setlinebuf},
    {"setvbuf", (void **)&gp__real_setvbuf},
    {"fseek", (void **)&gp__real_fseek},
    {"fseeko", (void **)&gp__real_fseeko},
    {"fseeko64", (void **)&gp__real_fseeko64},
    {"ftell", (void **)&gp__real_ftell},
    {"ftello", (void **)&gp__real_ftello},
    {"ftello64", (void **)&gp__real_ftello64},
    {"fgetpos", (void **)&gp__real_fgetpos},
    {"fgetpos64", (void **)&gp__real_fgetpos64},
    {"fsetpos", (void **)&gp__real_fsetpos},
    {"fsetpos64", (void **)&gp__real_fsetpos64},
    {"rewind", (void **)&gp__real_rewind},
    {"feof", (void **)&gp__real_feof},
    {"ferror", (void **)&gp__real_ferror},
    {"_IO_feof", (void **)&gp__real__IO_feof},
    {"_IO_ferror", (void **)&gp__real__IO_ferror},
    {"clearerr", (void **)&gp__real_clearerr},
    {"fwide", (void **)&gp__real_fwide},
    {"flockfile", (void **)&gp__real_flockfile},
    {"funlockfile", (void **)&gp__real_funlockfile},
    {"ftrylockfile", (void **)&gp__real_ftrylockfile},
    {"_IO_flockfile", (void **)&gp__real__IO_flockfile},
    {"_IO_funlockfile", (void **)&gp__real__IO_funlockfile},
    {"_IO_ftrylockfile", (void **)&gp__real__IO_ftrylockfile},
    {"__fsetlocking", (void **)&gp__real___fsetlocking},
    {"popen", (void **)&gp__real_popen},
    {"waitid", (void **)&gp__real_waitid},
    {"fexecve", (void **)&gp__real_fexecve},
    {"opendir", (void **)&gp__real_opendir},
    {"fdopendir", (void **)&gp__real_fdopendir},
    {"closedir", (void **)&gp__real_closedir},
    {"readdir", (void **)&gp__real_readdir},
    {"readdir64", (void **)&gp__real_readdir64},
    {"readdir_r", (void **)&gp__real_readdir_r},
    {"readdir64_r", (void **)&gp__real_readdir64_r},
    {"scandir", (void **)&gp__real_scandir},
    {"scandir64", (void **)&gp__real_scandir64},
    {"scandirat", (void **)&gp__real_scandirat},
    {"getdents64", (void **)&gp__real_getdents64},
    {"fstat", (void **)&gp__real_fstat},
    {"fstat64", (void **)&gp__real_fstat64},
    {"fstatat", (void **)&gp__real_fstatat},
    {"fstatat64", (void **)&gp__real_fstatat64},
    {"statx", (void **)&gp__real_statx},
};

/* Writes to stderr without stdio, which may not be usable yet, and
 * without write(2) by name, which is the shim's: libc's write, once the
 * symbol tables have given it. */
static void say(const char *a, const char *b, const char *c)
{
  const char *parts[3] = {a, b, c};
  for (int i = 0; gp__real_write && i < 3; i++)
    if (parts[i] && gp__real_write(2, parts[i], strlen(parts[i])) < 0)
      return;
}

static void fail(const char *name, const char *why)
{
  say("gpatch: cannot find the real libc function ", name, why);
  _exit(127);
}

/* The first and the last byte past this object's image, as the linker
 * defines them for every object: a function whose address lies between
 * them is this library's own. */
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char _end[] __attribute__((visibility("hidden")));

/* ---- the table without dlsym ---- */

/* An address from an object's dynamic section: glibc relocates these in
 * place on most CPUs, not on those whose dynamic section is read-only
 * (RISC-V, MIPS), where they are still offsets from the load address. */
static const void *dyn_ptr(const struct dl_phdr_info *info, ElfW(Addr) v)
{
  return (const void *)(v < info->dlpi_addr ? v + info->dlpi_addr : v);
}

/* The dynamic symbol table of one object, as the lookup needs it. */
struct symtab {
  const ElfW(Sym) * sym;     /* DT_SYMTAB */
  const char *str;           /* DT_STRTAB */
  const uint32_t *gnu_hash;  /* DT_GNU_HASH */
  const ElfW(Half) * versym; /* DT_VERSYM, or NULL when unversioned */
  ElfW(Addr) base;           /* the load address */
};

/* The GNU hash of a name (the ELF gABI extension's djb2). */
static uint32_t gnu_hash(const char *s)
{
  uint32_t h = 5381;
  for (; *s; s++)
    h = h * 33 + (unsigned char)*s;
  return h;
}

/* The address of the default version of the function name defined in t,
 * or NULL. */
static void *symtab_find(const struct symtab *t, const char *name, uint32_t h)
{
  const uint32_t *g = t->gnu_hash;
  uint32_t nbuckets = g[0], symoffset = g[1], bloom_size = g[2];
  const ElfW(Addr) *bloom = (const ElfW(Addr) *)(g + 4);
  const uint32_t *buckets = (const uint32_t *)(bloom + bloom_size);
  const uint32_t *chain = buckets + nbuckets;
  uint32_t i;

  if (nbuckets == 0 || (i = buckets[h % nbuckets]) < symoffset)
    return NULL;
  for (;; i++) {
    uint32_t ch = chain[i - symoffset];
    const ElfW(Sym) *s = &t->sym[i];
    if ((ch | 1) == (h | 1) && s->st_shndx != SHN_UNDEF &&
        (s->st_info & 0xf) == STT_FUNC && (s->st_info >> 4) != STB_LOCAL &&
        (t->versym == NULL ||
         ((t->versym[i] & 0x8000) == 0 && t->versym[i] != 0)) &&
        strcmp(t->str + s->st_name, name) == 0)
      return (void *)(t->base + s->st_value);
    if (ch & 1)
      return NULL;
  }
}

/* Reads the dynamic section of the object info describes into t. Returns
 * 0, or -1 when it has no symbol table with a GNU hash. */
static int symtab_of(const struct dl_phdr_info *info, struct symtab *t)
{
  const ElfW(Dyn) *d = NULL;

  memset(t, 0, sizeof(*t));
  t->base = info->dlpi_addr;
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
      d = (const void *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
  for (; d && d->d_tag != DT_NULL; d++) {
    switch (d->d_tag) {
    case DT_SYMTAB:
      t->sym = dyn_ptr(info, d->d_un.d_ptr);
      break;
    case DT_STRTAB:
      t->str = dyn_ptr(info, d->d_un.d_ptr);
      break;
    case DT_GNU_HASH:
      t->gnu_hash = dyn_ptr(info, d->d_un.d_ptr);
      break;
    case DT_VERSYM:
      t->versym = dyn_ptr(info, d->d_un.d_ptr);
      break;
    default:
      break;
    }
  }
  return t->sym && t->str && t->gnu_hash ? 0 : -1;
}

/* Nonzero when the object info describes is this library. */
static int is_self(const struct dl_phdr_info *info)
{
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *p = &info->dlpi_phdr[i];
    const char *lo = (const char *)(info->dlpi_addr + p->p_vaddr);
    if (p->p_type == PT_LOAD && __ehdr_start >= lo &&
        __ehdr_start < lo + p->p_memsz)
      return 1;
  }
  return 0;
}

/* Where fill_from looks. */
struct walk {
  int after; /* this library has been passed in the list */
  int any;   /* look in every object but this library */
};

/* dl_iterate_phdr's callback: fills the empty entries of the table from
 * each object after this library, in load order (the order in which
 * RTLD_NEXT searches the objects loaded at start-up), or with any set from
 * every object but this one (a library loaded with dlopen comes after
 * libc). */
static int fill_from(struct dl_phdr_info *info, size_t size, void *arg)
{
  struct walk *w = arg;
  struct symtab t;

  (void)size;
  if (is_self(info)) {
    w->after = 1;
    return 0;
  }
  if ((!w->after && !w->any) || symtab_of(info, &t) < 0)
    return 0;
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
    if (*table[i].slot == NULL)
      *table[i].slot = symtab_find(&t, table[i].name, gnu_hash(table[i].name));
  return 0;
}

/* ---- resolution ---- */

/* This thread is resolving the table (dlsym may call back in). */
static __thread int resolving __attribute__((tls_model("initial-exec")));

void gp__real_init(void)
{
  /* 0: not begun; 1: being filled; 2: filled from the symbol tables
   * (every entry holds libc's function) while dlsym refines them; 3:
   * done. */
  static int state;
  int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
  int expected = 0;

  if (s >= 2 || resolving)
    return; /* done, or re-entered from dlsym: libc's functions are in */
  if (!__atomic_compare_exchange_n(&state, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                   __ATOMIC_ACQUIRE)) {
    /* Another thread fills the table; its first pass takes no lock that
     * this thread could hold (dl_iterate_phdr's is the dynamic linker's
     * own) and allocates nothing. */
    while (__atomic_load_n(&state, __ATOMIC_ACQUIRE) < 2)
      ;
    return;
  }
  resolving = 1;
  GP__RUNTIME_ENTER();
  struct walk w = {0, 0};
  dl_iterate_phdr(fill_from, &w);
  w.any = 1;
  dl_iterate_phdr(fill_from, &w);
  __atomic_store_n(&state, 2, __ATOMIC_RELEASE);
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
    void *p = dlsym(RTLD_NEXT, table[i].name);
    if (p == NULL)
      fail(table[i].name, ": not found after this library\n");
    if ((const char *)p >= __ehdr_start && (const char *)p < _end)
      fail(table[i].name, ": it resolves to libgpatch itself\n");
    __atomic_store_n(table[i].slot, p, __ATOMIC_RELAXED);
  }
  __atomic_store_n(&gp__real_ready, 1, __ATOMIC_RELEASE);
  __atomic_store_n(&state, 3, __ATOMIC_RELEASE);
  GP__RUNTIME_LEAVE();
  resolving = 0;
}

__attribute__((constructor(101))) static void real_ctor(void)
{
  gp__real_init();
}
