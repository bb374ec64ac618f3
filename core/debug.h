/* debug.h: what the runtime tells people — the report of every coroutine
 * with its backtrace (deadlocks, GPATCH_DEBUG's signal), stack overflow
 * reports, the blocking monitor, and start-up notices. Everything here
 * writes with the real write(2) or a raw system call, never through stdio
 * or an interposer: reports are made where stdio's locks may be held, or
 * from a signal handler. */
#ifndef GP_DEBUG_H
#define GP_DEBUG_H

struct gp__coro;
struct gp__sched;
struct sigaction;

/* Formats into a fixed buffer and writes it to fd. */
__attribute__((format(printf, 2, 3))) void gp__debug_out(int fd,
                                                         const char *fmt, ...);

/* The report of every coroutine of s (state, wait, backtrace) to fd. */
void gp__debug_dump(struct gp__sched *s, int fd, const char *title);

/* Prints a backtrace of the suspended coroutine co to fd. */
void gp__debug_backtrace(struct gp__coro *co, int fd);

/* Installs the overflow handler and the thread's signal stack. Returns 0
 * or a negative errno. */
int gp__debug_thread_init(struct gp__sched *s);

/* The app's SIGSEGV handler: kept to be called for faults that are not a
 * stack overflow, while the runtime's own handler stays installed. Returns
 * 0 (sigaction's contract: -1 with errno on failure). */
int gp__debug_segv_chain(const struct sigaction *act, struct sigaction *oact);

/* Starts the blocking monitor if GPATCH_MAX_BLOCKING_MS is set, and the
 * GPATCH_DEBUG dump signal. Once per process. */
void gp__debug_monitor_start(struct gp__sched *s);

/* Starts the monitor's thread if it does not run in this process yet
 * (preemption needs it: core/preempt.c). */
void gp__debug_monitor_run(void);

/* Around a turn of s's loop: libuv polls only a loop something keeps
 * alive, and the dump signal's handle does not (it must not hide a
 * deadlock), so it is held for the turn (1) and let go after (0). */
void gp__debug_hold_loop(struct gp__sched *s, int hold);

/* Reports, once, a libuv of the program's own that the runtime's libuv
 * calls bind to. */
void gp__debug_report_uv(void);

/* Reports a stack overflow of co to stderr and dies by SIGSEGV
 * (async-signal-safe; never returns). */
_Noreturn void gp__debug_overflow(struct gp__coro *co);

#endif /* GP_DEBUG_H */
