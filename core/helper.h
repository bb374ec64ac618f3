/* helper.h: blocking calls made on the runtime's helper threads while only
 * the calling coroutine waits — for the calls that have no readiness a
 * coroutine could wait for and no non-blocking form: a wait for a child's
 * stop, continue or ptrace stop (no fd tells of those), a connect on a
 * socket whose O_NONBLOCK another process cleared.
 *
 * Unlike gp__offload (work.h), the wait may end before the call does (a
 * signal, a cancel): the call then runs on to its end on its own, as a
 * connect interrupted by a signal goes on in the kernel. */
#ifndef GP_HELPER_H
#define GP_HELPER_H

/* Runs fn(arg) on a helper thread of the calling scheduler — every signal
 * blocked there, every interposer passing through — and parks the calling
 * coroutine until fn returns. Returns 0 once it has.
 *
 * When the wait ends first, returns what ended it: -EINTR (a caught signal,
 * when interruptible), -ECANCELED (gp_kill, pthread_cancel) or -GP__EXPIRED
 * (a gp_timeout block). fn then runs on to its end and release(arg) is
 * called on the helper thread: arg must be the caller's to give away (heap
 * memory), and the caller must not touch it again.
 *
 * Returns -EAGAIN or -ENOMEM, fn not called, when no helper thread can be
 * had; arg is still the caller's. */
int gp__helper_call(void (*fn)(void *arg), void *arg,
                    void (*release)(void *arg), int interruptible);

/* The name the helper threads carry (for tests and tools that count a
 * process's threads). */
#define GP__HELPER_NAME "gpatch-helper"

#endif /* GP_HELPER_H */
