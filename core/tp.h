/* tp.h: a thread pointer per coroutine (GPATCH_TLS=thread, x86_64 glibc
 * only). Each program coroutine gets its own static TLS block and
 * glibc TCB (struct pthread), made by ld.so's _dl_allocate_tls, and the
 * scheduler switches %fs at each switch. The runtime's own __thread state
 * stays per OS thread: its block is copied from the outgoing thread
 * pointer to the incoming one at each switch. */
#ifndef GP_TP_H
#define GP_TP_H

#include <stddef.h>

struct gp__coro;
struct gp__sched;

/* Nonzero when GPATCH_TLS=thread took effect (gp__tp_init succeeded). */
extern int gp__tp_on;

/* Nonzero when the mode is asked for: GPATCH_TLS=thread, or auto (the
 * default) with libgomp or libjli loaded at start, or for a program rustc
 * built. OpenMP and the JVM keep pointers to each of their threads'
 * thread-local state, which other threads write, and Rust's std tells
 * threads apart by a thread-local's address: TLS copies give every
 * coroutine of an OS thread one address. */
int gp__tp_wanted(void);

/* Called once, on the first scheduler's thread: resolves ld.so's and
 * libc's private symbols and the runtime's block. Returns 0, or -1 (and
 * says why on stderr) when the mode cannot be had: per-coroutine copies
 * (tls.c) stay. */
int gp__tp_init(void);

/* On a scheduler's OS thread, when it is made: notes its own thread
 * pointer and, with GPATCH_TLS=thread, readies its malloc cache. */
void gp__tp_sched_init(struct gp__sched *s);

/* The calling OS thread's own thread pointer. */
void *gp__tp_self(void);

/* Gives co a TCB of its own. Called by its creator (a program thread,
 * never the hub: ld.so allocates with the program's malloc, whose locks a
 * switched-out coroutine may hold); frees the TCBs s's hub released.
 * Returns 0 or -ENOMEM. */
int gp__tp_alloc(struct gp__sched *s, struct gp__coro *co);

/* Switches the thread pointer from the running coroutine's to `to`'s. */
void gp__tp_switch(struct gp__sched *s, struct gp__coro *to);

/* On a coroutine's first run, on its own thread pointer: what glibc's
 * start_thread does for libc's TLS (ctype tables, resolver state). */
void gp__tp_started(void);

/* Around fork() from a coroutine: glibc must fork as the OS thread (its
 * fork child keeps THREAD_SELF's TCB and recycles every other thread's,
 * the hub's stack and TCB included), so the thread pointer goes back to the
 * OS thread's before (enter 1) and to the coroutine's after (enter 0;
 * child 1 in the child, whose TCB takes the new tid). */
void gp__tp_fork(struct gp__sched *s, int enter, int child);

/* Writes the thread pointer with the wrfsbase instruction (x86_64): only
 * where AT_HWCAP2 has HWCAP2_FSGSBASE, else it faults (SIGILL). For the
 * unit test, which runs it under qemu where the CPU lacks it. */
void gp__tp_write_fs_insn(void *tp);

/* Takes a dead coroutine's TCB (from its hub), to be freed by the next
 * gp__tp_alloc on s. */
void gp__tp_release(struct gp__sched *s, struct gp__coro *co);

#endif /* GP_TP_H */
