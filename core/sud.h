/* sud.h: system calls a program makes without libc — liburing's own
 * syscall instructions (io_uring_enter), for one — which no preload sees.
 * With Linux's syscall user dispatch (PR_SET_SYSCALL_USER_DISPATCH, Linux
 * 5.11) every system call of a scheduler's thread made from outside libc's
 * code raises SIGSYS instead; the runtime's handler passes it to the shim
 * (which may wait for it cooperatively, parking only the calling
 * coroutine) or makes it itself, through libc, and puts the result where
 * the caller looks for it. Off unless GPATCH_SUD says on, or (auto) a
 * library known to make such calls is loaded when the first scheduler is
 * made. */
#ifndef GP_SUD_H
#define GP_SUD_H

/* Set by the shim: makes system call nr with args a for the calling
 * coroutine, the way the shim makes the ones it interposes. Returns 1 and
 * the call's result (a negative errno on failure) in *ret, or 0 when the
 * runtime is to make the call as it is. */
extern int (*gp__sud_hook)(long nr, const long a[6], long *ret);

/* Routes the calling scheduler thread's system calls made outside libc to
 * the runtime, when the configuration asks for it. Returns 1 if it does,
 * 0 if not, or a negative errno when the kernel refused. */
int gp__sud_thread_init(void);

/* Nonzero once system calls made outside libc are routed. */
int gp__sud_active(void);

/* The app's SIGSYS handler while routing is on: kept, and called for the
 * SIGSYS that are not the routing's (a seccomp filter's), while the
 * runtime's stays installed. Returns 0 (sigaction's contract). */
struct sigaction;
int gp__sud_chain(const struct sigaction *act, struct sigaction *oact);

#endif /* GP_SUD_H */
