/* config.h: the GPATCH_* environment, parsed once. */
#ifndef GP_CONFIG_H
#define GP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* Families that can be patched (GPATCH_PATCH), as bits. */
enum {
  GP__PATCH_SOCKET = 1 << 0,  /* socket, connect, accept, read/write … */
  GP__PATCH_TIME = 1 << 1,    /* sleep, usleep, nanosleep, clock_nanosleep */
  GP__PATCH_SELECT = 1 << 2,  /* poll, select, epoll_wait … */
  GP__PATCH_DNS = 1 << 3,     /* getaddrinfo and friends */
  GP__PATCH_THREAD = 1 << 4,  /* pthreads and semaphores */
  GP__PATCH_PROCESS = 1 << 5, /* fork, exec, waitpid, system */
  GP__PATCH_SIGNAL = 1 << 6,  /* pause, sigwait, sigsuspend */
  GP__PATCH_ALL = (1 << 7) - 1
};

enum gp__on_deadlock { GP__DEADLOCK_ABORT, GP__DEADLOCK_HANG };

/* GPATCH_SUD: route system calls made outside libc (core/sud.h). */
enum gp__sud { GP__SUD_AUTO, GP__SUD_ON, GP__SUD_OFF };
enum gp__tls_mode { GP__TLS_AUTO, GP__TLS_COPY, GP__TLS_THREAD };

struct gp__config {
  size_t stack_size;        /* GPATCH_STACK_SIZE, else glibc's default
                               thread stack size: a coroutine's stack */
  unsigned patch;           /* GPATCH_PATCH: GP__PATCH_* bits */
  int use_ucontext;         /* GPATCH_CONTEXT=ucontext */
  unsigned max_blocking_ms; /* GPATCH_MAX_BLOCKING_MS, 0 = monitor off */
  unsigned preempt_ms;      /* GPATCH_PREEMPT_MS: a thread that runs this
                               long without a call while others wait is
                               preempted (core/preempt.c); 0 = never */
  int on_deadlock;          /* GPATCH_ON_DEADLOCK: enum gp__on_deadlock */
  int debug_signal;         /* GPATCH_DEBUG: the dump signal, 0 = off */
  unsigned threadpool;      /* GPATCH_THREADPOOL: 0 = libuv's default */
  int no_madv_guard;        /* GPATCH_NO_MADV_GUARD=1: test the fallback */
  unsigned cores;           /* GPATCH_CORES: schedulers (OS threads) that
                               run the program's threads, at least 1 */
  int cores_auto;           /* cores is the CPU count (auto, the default),
                               not a count the user gave */
  int sud;                  /* GPATCH_SUD: enum gp__sud */
  int go_real_threads;      /* thread patching was left off because the
                               program is Go's (its runtime makes its own
                               system calls) and GPATCH_PATCH was not
                               given */
  int gc_real_threads;      /* thread patching was left off because
                               Boehm's collector (libgc) is loaded and
                               GPATCH_PATCH was not given */
  int sandbox_real_threads; /* a lone thread installed a seccomp filter:
                               the calls it may refuse pass through, so
                               threads made after it are real
                               (shim/process.c) */
  int tls;                  /* GPATCH_TLS: enum gp__tls_mode; thread is
                               a thread pointer per coroutine (tp.c) */
};

/* The configuration, valid after gp__config_init(). */
extern struct gp__config gp__config;

/* The stack size of a thread that sets none, when glibc does not say: its
 * own default under the usual RLIMIT_STACK. */
#define GP__FALLBACK_STACK_SIZE (8 * 1024 * 1024)

/* The stack size a thread that sets none gets unpatched, and so its
 * coroutine when GPATCH_STACK_SIZE is unset: glibc's default
 * (pthread_getattr_default_np), which is RLIMIT_STACK's soft limit at
 * start (8 MiB normally; 2 MiB on x86_64 when it is unlimited) unless the
 * program changed it with pthread_setattr_default_np. */
size_t gp__config_default_stack(void);

/* Reads the environment (unless the program runs with AT_SECURE, when the
 * defaults stand), once; a thread that calls it while another reads waits
 * for it. A value that does not parse or cannot work is reported on stderr,
 * naming the variable and the reason, and the default is used. Does not
 * touch errno. */
void gp__config_init(void);

/* Nonzero when an object whose file name begins with prefix
 * ("liburing.so") is loaded now: the automatic settings look at the
 * libraries a program starts with. Takes the loader's lock. */
int gp__config_lib_loaded(const char *prefix);

/* Nonzero when the program's own file (/proc/self/exe) has a section of
 * that name and, when has is not NULL, that string in its first KiB (the
 * .comment section names the compilers that built it). Raw system calls:
 * it runs during the runtime's start. */
int gp__config_exe_section(const char *name, const char *has);

/* Parses a size with an optional K, M or G suffix. Returns 0 and sets *out,
 * or -EINVAL. Exposed for the unit tests. */
int gp__config_parse_size(const char *s, size_t *out);

/* Parses GPATCH_CORES: a count from 1 to 64, or "auto" (the CPUs of the
 * process's affinity mask, ncpus; at most 64). Returns 0 and sets *out,
 * or -EINVAL. */
int gp__config_parse_cores(const char *s, unsigned ncpus, unsigned *out);

/* Parses a GPATCH_PATCH list such as "all", "socket,time" or "-thread".
 * Returns 0 and sets *out, or -EINVAL. */
int gp__config_parse_patch(const char *s, unsigned *out);

struct gp__msg;

/* Whether the families patch can work together. With threads patched (one
 * OS thread), a family whose calls wait for what another thread may do
 * (socket, select, time, process, signal) must be patched too, or its wait
 * stops every thread and hangs the program when another thread is to end
 * it. Returns 0; 1 with a warning appended to why (name lookups left to
 * libc stop every thread while they run, but end on their own); or
 * -EINVAL with the reason appended to why. */
int gp__config_check_patch(unsigned patch, struct gp__msg *why);

/* Whether sig can be GPATCH_DEBUG's dump signal: not one that cannot be
 * caught, not SIGSEGV (the runtime's overflow handler), not one a faulting
 * instruction raises (the dump would return to the fault, for ever), not
 * one glibc keeps for itself. Returns 0, or -EINVAL with the reason
 * appended to why. */
int gp__config_check_signal(int sig, struct gp__msg *why);

#endif /* GP_CONFIG_H */
