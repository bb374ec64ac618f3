/* tls.h: thread-local storage per coroutine (the program's __thread
 * variables and C++ thread_local destructors). */
#ifndef GP_TLS_H
#define GP_TLS_H

#include <link.h>
#include <locale.h>
#include <stdint.h>

struct gp__coro;
struct gp__sched;

/* Nonzero when one of the object's loaded segments holds address a. */
int gp__tls_holds(const struct dl_phdr_info *info, uintptr_t a);

/* From now on each coroutine of this thread has its own copy of the
 * program's thread-local storage (called as the first coroutine is made);
 * objects that cannot be given one are named on stderr. Once per
 * process. */
void gp__tls_setup(void);

/* 1 when pc is in the code of an object whose TLS stays the OS thread's,
 * one block for all its coroutines (an allocator's): a coroutine running it
 * must not switch, so its lock calls wait as a thread's would. */
int gp__tls_os_thread_code(const void *pc);

/* 1 when there is such code: a loaded allocator keeps its thread-local
 * state the OS thread's (known after gp__tls_setup). */
int gp__tls_os_thread_objects(void);

/* 1 when the program's malloc is linked into the program itself: its
 * thread-local state cannot be kept apart from the program's, and is
 * copied per coroutine like the rest (known after gp__tls_setup). */
int gp__tls_own_malloc(void);

/* Says once on stderr when p, the word a coroutine is about to wait on,
 * lies in the TLS the running coroutine has a copy of: another thread
 * storing there reaches whichever copy is in place, not necessarily the
 * waiter's (GPATCH_TLS=thread is the cure). */
void gp__tls_check_wait(const void *p);

/* The calling coroutine's locale is now loc (uselocale, made by the
 * shim): with copies, libc's TLS is the OS thread's, so the runtime puts
 * each coroutine's locale back in place when it switches in. */
void gp__tls_locale(locale_t loc);

/* Swaps the TLS blocks for coroutine to, about to run. */
void gp__tls_switch(struct gp__sched *s, struct gp__coro *to);

/* Drops the copy of a dead coroutine. */
void gp__tls_release(struct gp__sched *s, struct gp__coro *co);

/* The OS thread of s ended: its blocks and main's copy are forgotten, for
 * the next thread to take s (gp__sched_retire). */
void gp__tls_thread_gone(struct gp__sched *s);

/* __cxa_thread_atexit_impl for the running coroutine: 1 when the runtime
 * took the destructor (run by gp__tls_run_dtors at the coroutine's exit),
 * 0 when it belongs to the OS thread (glibc's, run at its exit), -1 with
 * no memory. */
int gp__tls_atexit(void (*fn)(void *), void *obj);

/* Runs co's thread_local destructors, newest first. */
void gp__tls_run_dtors(struct gp__coro *co);

#endif /* GP_TLS_H */
