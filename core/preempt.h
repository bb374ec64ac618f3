/* preempt.h: a thread that runs without making a call is preempted, as the
 * kernel preempts a real thread, when another thread of its scheduler is
 * ready (GPATCH_PREEMPT_MS). */
#ifndef GP_PREEMPT_H
#define GP_PREEMPT_H

#include <signal.h>
#include <stdint.h>

struct gp__sched;
struct gp__coro;

/* The signal that asks a scheduler's OS thread to preempt its running
 * thread: SIGURG, as Go's runtime uses, whose default action is to ignore
 * it, which a program rarely catches, and which may arrive spuriously
 * anyway (out-of-band data). */
#define GP__PREEMPT_SIGNAL SIGURG

/* Nonzero while preemption is in force: the runtime's handler is
 * installed and the schedulers' OS threads let the signal through. */
extern int gp__preempt_on;

/* Called at the program's first pthread_create, on the creating thread
 * (before the new thread is placed): installs the handler and starts the
 * monitor, unless GPATCH_PREEMPT_MS=0, the program catches SIGURG itself,
 * or the build or context switch cannot switch inside a handler. */
void gp__preempt_start(void);

/* The program catches SIGURG itself (sigaction): preemption ends for good,
 * and every scheduler's OS thread gets back the mask it had without it (at
 * its hub's next turn). */
void gp__preempt_stop(void);

/* At each turn of s's hub: blocks the signal again on s's OS thread after
 * gp__preempt_stop. */
void gp__preempt_hub_turn(struct gp__sched *s);

/* For the monitor: s's OS thread has run one coroutine for stuck_ns
 * without a switch; preempts it if others of s wait to run and the thread
 * runs in user space (not blocked in a system call, which the signal
 * would interrupt). */
void gp__preempt_check(struct gp__sched *s, uint64_t stuck_ns);

/* An asynchronous cancel of co (PTHREAD_CANCEL_ASYNCHRONOUS): the
 * preemption signal goes to co's OS thread whenever co runs without a
 * switch (within a monitor period; no other thread need be ready), and the
 * handler, where a switch would be safe, or as co resumes after being
 * preempted, calls gp__preempt_cancel_hook(co), which ends co or returns
 * (the thread no longer takes the cancel). Returns nonzero when preemption
 * is in force (otherwise nothing acts on it but a cancellation point). */
int gp__preempt_cancel(struct gp__coro *co);
/* Drops co's asynchronous cancel (it exits, or takes it); nonzero if it
 * had one. */
int gp__preempt_cancel_clear(struct gp__coro *co);
extern void (*gp__preempt_cancel_hook)(struct gp__coro *co);

/* The monitor's period for preemption, in ns (0: off). */
uint64_t gp__preempt_period_ns(void);

/* The first thread's mask as the program sees it: the runtime keeps the
 * signal open on its OS thread while preemption is in force, and a program
 * that blocks it there is told it is blocked. how, set, old: as
 * pthread_sigmask's, for the first thread; returns its result. */
int gp__preempt_main_sigmask(int how, const sigset_t *set, sigset_t *old);

/* Adds the signal to mask when the first thread's view blocks it. */
void gp__preempt_main_view(sigset_t *mask);

/* The calling OS thread's mask as its main coroutine sees it (the real
 * mask, with gp__preempt_main_view), for a thread that coroutine creates;
 * the thread's own copy, good until its next call. Read with a system call
 * once per change, not once per pthread_create: every path that may
 * change an OS thread's mask calls gp__preempt_mask_changed (the first
 * thread's pthread_sigmask, a longjmp, setcontext, the end of a program's
 * handler, a raw rt_sigprocmask, the runtime's own changes), which is
 * async-signal-safe. NULL when the mask is empty (the common case, then
 * checked once per change rather than once per pthread_create). */
const sigset_t *gp__preempt_main_mask(void);
void gp__preempt_mask_changed(void);

/* Around an exec or a fork's child from the first thread's OS thread:
 * enter 1 blocks the signal for real when the program's view blocks it
 * (what the new program or the child inherits), enter 0 (an exec that
 * failed) opens it again. */
void gp__preempt_exec(int enter);

/* In a fork's child (first_thread: forked by the first thread, whose mask
 * the child has): no monitor runs there; the child's first pthread_create
 * starts preemption again. */
void gp__preempt_fork_child(int first_thread);

/* Nonzero while the runtime's handler is the kernel's action for the
 * signal: sigaction reports the program's own instead. */
int gp__preempt_installed(void);

/* Set by gp__preempt_stop: each hub's next turn calls
 * gp__preempt_hub_turn. */
extern int gp__preempt_closing;

/* Preemptions made, for the report and the tests. */
uint64_t gp__preempt_count(void);

#endif /* GP_PREEMPT_H */
