/* thread.c: threads become coroutines (gevent's patch_thread).
 *
 * pthread_create spawns a coroutine; a pthread_t is the coroutine's handle,
 * and every function that takes one accepts it (a pthread_t of a real
 * thread — one made before the library loaded, or with thread patching off
 * — goes to glibc). Keys hold a value per coroutine; their destructors run
 * when it exits. pthread_exit and pthread_cancel run the cleanup handlers
 * that C code pushed with pthread_cleanup_push. With GPATCH_PATCH=-thread,
 * threads stay real and each gets cooperative I/O among its own coroutines. */
#define _GNU_SOURCE
#include "shim.h"
#include "../core/mem.h"
#include "../core/tp.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <unwind.h>

/* Keys: PTHREAD_KEYS_MAX slots, each with a sequence number so that a
 * deleted and re-created key does not see old values. */
#define NKEYS             1024
#define DESTRUCTOR_ROUNDS 4

static struct {
  unsigned seq;          /* odd: in use */
  void (*destr)(void *); /* its destructor, or NULL */
} keys[NKEYS];

/* What a coroutine has as a thread. */
struct gp__thread {
  void **vals;         /* key values, by key */
  unsigned *seqs;      /* the key's seq when the value was set */
  size_t nvals;        /* length of both */
  void *cleanup;       /* innermost __pthread_unwind_buf_t */
  void *exit_value;    /* pthread_exit's value, while unwinding */
  int cancel_pending;  /* pthread_cancel was called for it */
  int cancel_disabled; /* PTHREAD_CANCEL_DISABLE */
  int cancel_async;    /* PTHREAD_CANCEL_ASYNCHRONOUS */
  int exiting;         /* in pthread_exit: no more cancellation */
  sigset_t sigmask;    /* its signal mask (virtual) */
  uint64_t sigpending; /* atomic: bit sig - 1 for each signal sent to it
                          with pthread_kill while its mask blocked it */
  uint64_t sigwaiting; /* atomic: the signals its sigwait waits for, one
                          bit each as above (signal.c) */
  int due_sig;         /* atomic: a signal whose action it takes itself as
                          its wait ends (keep_for): 0 none, -1
                          being kept */
  int due_has_info;    /* due_info is the signal's (else pthread_kill's) */
  siginfo_t due_info;
  struct _Unwind_Exception unwind; /* pthread_exit's forced unwinding */
  __pthread_list_t robust;         /* the robust mutexes it holds (sync.c) */
};

/* The record of co, made on first use; NULL without memory. Another
 * scheduler's thread may make it at the same moment (pthread_cancel of a
 * thread that is starting): the first one stored wins. */
static struct gp__thread *thread_of(struct gp__coro *co)
{
  void **slot = gp__coro_local(co);
  void *t = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  void *made;

  if (t != NULL)
    return t;
  if ((made = gp__calloc(1, sizeof(struct gp__thread))) == NULL)
    return NULL;
  if (__atomic_compare_exchange_n(slot, &t, made, 0, __ATOMIC_ACQ_REL,
                                  __ATOMIC_ACQUIRE))
    return made;
  gp__free(made);
  return t;
}

/* gp__coro_local_free_hook: the record goes with the coroutine's, maybe on
 * the hub; so it is the runtime's memory (core/mem.h), not the program's. */
static void free_record(void *local)
{
  gp__free(local);
}

static struct gp__coro *current(void)
{
  return gp__self();
}

/* The coroutine a pthread_t names, or NULL for a real thread's. */
static struct gp__coro *coro_of(pthread_t th)
{
  struct gp__coro *co = (struct gp__coro *)th;

  if (gp__tls.sched == NULL || th == 0)
    return NULL;
  return gp__coro_valid(co) ? co : NULL;
}

/* Runs the key destructors of co, as a thread's exit does. */
static void run_destructors(struct gp__thread *t)
{
  for (int round = 0; round < DESTRUCTOR_ROUNDS; round++) {
    int again = 0;
    for (size_t k = 0; k < t->nvals; k++) {
      void *v = t->vals[k];
      if (v == NULL || t->seqs[k] != keys[k].seq || !(keys[k].seq & 1))
        continue;
      t->vals[k] = NULL;
      if (keys[k].destr) {
        keys[k].destr(v);
        again = 1;
      }
    }
    if (!again)
      break;
  }
}

/* What a thread's end does to its own: its keys' destructors run, and the
 * robust mutexes it still holds go to their next owner as its owner
 * died. */
static void thread_gone(struct gp__thread *t)
{
  run_destructors(t);
  if (t->robust.__next != NULL)
    gp__sync_robust_died(&t->robust);
}

/* Called by the core when a coroutine exits: its keys' destructors run and
 * their values go; the process ends with its last thread. */
static void on_exit_hook(struct gp__coro *co)
{
  void **slot = gp__coro_local(co);
  struct gp__thread *t = *slot;
  gp__tls_run_dtors(co); /* as glibc: thread_locals first, then keys */
  if (t != NULL) {
    /* The record itself stays until the coroutine's does (free_record):
     * a pthread_cancel from another scheduler may be writing to it. */
    thread_gone(t);
    gp__free(t->vals);
    gp__free(t->seqs);
    t->vals = NULL;
    t->seqs = NULL;
    t->nvals = 0;
  }
  /* The last thread of the process (the first one having gone with a fork
   * made by another): POSIX has the process exit with status 0. Only when
   * threads are coroutines: else the count has none of the real threads
   * (GPATCH_PATCH=-thread), and the last of two coroutines spawned in one
   * ended the process. */
  if ((gp__config.patch & GP__PATCH_THREAD) && gp__sched_alone())
    exit(0);
}

/* In a fork's child the forking thread is the only one, and its mask is
 * the process's: a thread other than the first kept its own apart (on a
 * scheduler worker, the OS thread blocked everything). */
static void thread_atfork_child(void)
{
  struct gp__coro *co = gp__self();
  struct gp__thread *t;
  sigset_t mask;

  gp__preempt_fork_child(co != NULL && gp__coro_is_main(co));
  if (co == NULL || gp__coro_is_main(co))
    return;
  sigemptyset(&mask);
  if ((t = *gp__coro_local(co)) != NULL)
    mask = t->sigmask;
  gp__real_pthread_sigmask(SIG_SETMASK, &mask, NULL);
}

static void preempt_cancel_hook(struct gp__coro *co);

__attribute__((constructor)) static void thread_ctor(void)
{
  gp__coro_exit_hook = on_exit_hook;
  gp__preempt_cancel_hook = preempt_cancel_hook;
  gp__coro_local_free_hook = free_record;
  pthread_atfork(NULL, NULL, thread_atfork_child);
}

/* What libstdc++'s __cxa_thread_atexit calls for a C++ thread_local with
 * a destructor: a coroutine's own go to the runtime (tls.c). */
GP_EXPORT int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso)
{
  int r = gp__shim_active(GP__PATCH_THREAD) ? gp__tls_atexit(fn, obj) : 0;

  if (r != 0)
    return r > 0 ? 0 : -1;
  return gp__real___cxa_thread_atexit_impl(fn, obj, dso);
}

/* glibc's __pthread_unwind_buf_t: the jump buffer of pthread_cleanup_push,
 * and private words, of which the first links to the enclosing buffer. */
struct unwind_buf {
  struct {
    __jmp_buf jmp;      /* set by __sigsetjmp_cancel in the macro */
    int mask_was_saved; /* 0: no signal mask in it */
  } cancel_jmp_buf[1];
  void *pad[4]; /* pad[0]: the enclosing buffer */
};

_Static_assert(sizeof(struct unwind_buf) == sizeof(__pthread_unwind_buf_t),
               "glibc's cleanup buffer layout");

/* The forced unwinding of glibc's pthread_exit, from libgcc_s, which
 * glibc loads for it too (and which libstdc++'s personality routine goes
 * with): NULL until loaded, outside any signal handler, by pthread_exit
 * and pthread_cancel. */
static struct {
  _Unwind_Reason_Code (*forced)(struct _Unwind_Exception *, _Unwind_Stop_Fn,
                                void *);
  _Unwind_Word (*cfa)(struct _Unwind_Context *);
} gcc;

static void load_unwinder(void)
{
  void *h, *forced, *cfa;

  if (__atomic_load_n(&gcc.forced, __ATOMIC_ACQUIRE) != NULL ||
      (h = dlopen("libgcc_s.so.1", RTLD_NOW)) == NULL)
    return;
  forced = dlsym(h, "_Unwind_ForcedUnwind");
  cfa = dlsym(h, "_Unwind_GetCFA");
  if (forced == NULL || cfa == NULL)
    return;
  __atomic_store_n((void **)&gcc.cfa, cfa, __ATOMIC_RELAXED);
  __atomic_store_n((void **)&gcc.forced, forced, __ATOMIC_RELEASE);
}

/* What glibc does when C++ code catches the unwinding and does not throw
 * it again. */
static void unwind_swallowed(_Unwind_Reason_Code code,
                             struct _Unwind_Exception *exc)
{
  static const char msg[] = "FATAL: exception not rethrown\n";
  (void)code;
  (void)exc;
  gp__real_write(2, msg, sizeof(msg) - 1);
  abort();
}

/* Into pthread_cleanup_push's block (C code): it runs the handler and
 * calls __pthread_unwind_next, which comes back to thread_exit for the
 * next one. The buffer is shorter than a jmp_buf: it has no signal mask,
 * and mask_was_saved is 0, so longjmp reads no further (as glibc's own
 * unwinder does with it). */
_Noreturn static void into_cleanup(struct gp__thread *t)
{
  struct unwind_buf *b = t->cleanup;
  t->cleanup = b->pad[0];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
  longjmp((struct __jmp_buf_tag *)(void *)b->cancel_jmp_buf, 1);
#pragma GCC diagnostic pop
}

_Noreturn static void thread_finish(struct gp__coro *co, struct gp__thread *t,
                                    void *value)
{
  if (!gp__coro_is_main(co))
    gp__coro_exit(value);
  /* The process's first thread: POSIX has the process go on until the
   * last thread is gone, then exit with status 0. */
  if (t)
    thread_gone(t);
  gp__wait_others();
  exit(0);
}

/* For each frame the unwinding leaves, before its own cleanups (C++
 * destructors, catch blocks) run: the innermost C cleanup buffer is
 * entered once the frame that pushed it is reached (its CFA above the
 * caller's stack pointer as it pushed), and at the bottom of the stack,
 * or of the unwind data, what is left of them, then the end. */
static _Unwind_Reason_Code unwind_stop(int version, _Unwind_Action actions,
                                       _Unwind_Exception_Class cls,
                                       struct _Unwind_Exception *exc,
                                       struct _Unwind_Context *ctx, void *arg)
{
  struct gp__thread *t = arg;
  struct unwind_buf *b = t->cleanup;

  (void)version;
  (void)cls;
  (void)exc;
  if (b && ((actions & _UA_END_OF_STACK) ||
            (uintptr_t)gcc.cfa(ctx) > (uintptr_t)b->pad[1]))
    into_cleanup(t);
  if (actions & _UA_END_OF_STACK)
    thread_finish(current(), t, t->exit_value);
  return _URC_NO_REASON;
}

/* Ends the calling thread with value, after its cleanup handlers: the C
 * ones pthread_cleanup_push registered, and, as glibc's forced unwinding
 * does, the destructors of C++ objects on its stack (and C++ code's
 * pthread_cleanup_push, which is one). */
_Noreturn static void thread_exit(void *value)
{
  struct gp__coro *co = current();
  struct gp__thread *t = thread_of(co);
  _Unwind_Reason_Code (*forced)(struct _Unwind_Exception *, _Unwind_Stop_Fn,
                                void *);

  if (t) {
    t->exiting = 1; /* and no cancel ends a cleanup handler's wait */
    gp__coro_cancel_drop(co);
    t->exit_value = value;
    if ((forced = __atomic_load_n(&gcc.forced, __ATOMIC_ACQUIRE)) != NULL) {
      memset(&t->unwind, 0, sizeof(t->unwind));
      t->unwind.exception_cleanup = unwind_swallowed;
      forced(&t->unwind, unwind_stop, t); /* returns only if it cannot */
    }
    if (t->cleanup)
      into_cleanup(t);
    value = t->exit_value;
  }
  thread_finish(co, t, value);
}

GP_EXPORT void __pthread_register_cancel(__pthread_unwind_buf_t *buf)
{
  struct gp__thread *t;
  if (!gp__shim_active(GP__PATCH_THREAD) ||
      (t = thread_of(current())) == NULL) {
    gp__real___pthread_register_cancel(buf);
    return;
  }
  ((struct unwind_buf *)(void *)buf)->pad[0] = t->cleanup;
  /* The stack pointer of the frame that pushes it (this call's CFA): the
   * unwinding enters the buffer as it leaves that frame. */
  ((struct unwind_buf *)(void *)buf)->pad[1] = __builtin_dwarf_cfa();
  t->cleanup = buf;
}

GP_EXPORT void __pthread_unregister_cancel(__pthread_unwind_buf_t *buf)
{
  struct gp__thread *t;
  if (!gp__shim_active(GP__PATCH_THREAD) ||
      (t = thread_of(current())) == NULL) {
    gp__real___pthread_unregister_cancel(buf);
    return;
  }
  t->cleanup = ((struct unwind_buf *)(void *)buf)->pad[0];
}

GP_EXPORT _Noreturn void __pthread_unwind_next(__pthread_unwind_buf_t *buf)
{
  struct gp__thread *t;
  if (!gp__shim_active(GP__PATCH_THREAD) ||
      (t = thread_of(current())) == NULL) {
    gp__real___pthread_unwind_next(buf);
    abort();
  }
  thread_exit(t->exit_value);
}

/* glibc acts on a pending cancel at once, wherever the thread is, when its
 * cancelability is enabled and asynchronous. */
static int cancel_now(const struct gp__thread *t)
{
  return t->cancel_pending && t->cancel_async && !t->cancel_disabled &&
         !t->exiting;
}

static void cancel_async_now(struct gp__thread *t)
{
  if (cancel_now(t)) {
    t->cancel_pending = 0;
    thread_exit(PTHREAD_CANCELED);
  }
}

/* core/preempt.c's handler, on co's stack, where co runs its own code:
 * returns if co no longer takes the cancel asynchronously. */
static void preempt_cancel_hook(struct gp__coro *co)
{
  struct gp__thread *t = *gp__coro_local(co);
  if (t)
    cancel_async_now(t);
}

__pthread_list_t *gp__thread_robust_list(void)
{
  struct gp__coro *co = gp__tls.depth ? NULL : gp__self();
  struct gp__thread *t;

  if (co == NULL || !gp__shim_active(GP__PATCH_THREAD) ||
      (t = thread_of(co)) == NULL)
    return NULL;
  if (t->robust.__next == NULL)
    t->robust.__next = t->robust.__prev = &t->robust;
  return &t->robust;
}

void gp__thread_cancel_point(void)
{
  struct gp__coro *co = gp__self();
  struct gp__thread *t;

  if (co == NULL || (t = *gp__coro_local(co)) == NULL)
    return;
  if (t->cancel_pending && !t->cancel_disabled && !t->exiting) {
    t->cancel_pending = 0;
    thread_exit(PTHREAD_CANCELED);
  }
}

/* Real threads with thread patching off: they run the app's code, so they
 * get a scheduler of their own for cooperative I/O. */
struct start {
  void *(*fn)(void *); /* the app's start routine */
  void *arg;           /* its argument */
};

static void *real_start(void *p)
{
  struct start st = *(struct start *)p;
  free(p);
  gp__tls.app = 1;
  return st.fn(st.arg);
}

/* The stack size an attr asks for, or 0 for the default. */
static size_t attr_stack(const pthread_attr_t *attr)
{
  pthread_attr_t def;
  size_t size = 0, dsize = 0;

  if (attr == NULL || pthread_attr_getstacksize(attr, &size) != 0)
    return 0;
  if (pthread_getattr_default_np(&def) == 0) {
    pthread_attr_getstacksize(&def, &dsize);
    pthread_attr_destroy(&def);
  }
  return size == dsize ? 0 : size;
}

/* The first thread's real name, read once (then kept by setname). */
static __thread char first_name[16];

/* The name a new thread starts with: its creator's, as the kernel gives a
 * new thread the name of the one that made it. */
static const char *creator_name(void)
{
  struct gp__coro *co = current();

  if (!gp__coro_is_main(co))
    return gp__coro_name(co);
  if (first_name[0] == '\0')
    gp__real_pthread_getname_np(gp__real_pthread_self(), first_name,
                                sizeof(first_name));
  return first_name;
}

/* The calling thread's signal mask (NULL: none blocked): the first
 * thread's is the OS thread's; the others' are kept per coroutine. */
static const sigset_t *creator_mask(void)
{
  struct gp__coro *co = current();
  struct gp__thread *t;

  if (gp__coro_is_main(co))
    return gp__preempt_main_mask();
  t = *gp__coro_local(co);
  return t != NULL ? &t->sigmask : NULL;
}

/* OpenMP's runtime (libgomp) keeps a pointer to each of its threads'
 * thread-local state, which the others write, and waits with futex
 * system calls of its own, which no preload sees. Both are covered when
 * each thread has its own thread pointer and those calls are routed
 * (GPATCH_TLS and GPATCH_SUD auto, with libgomp loaded at start); else it
 * is said once, when libgomp makes its first thread (see README). dladdr
 * takes the loader's lock: the last few call sites found elsewhere are
 * remembered, so that a program making a thread per connection pays it
 * once per site. */
#define OMP_SEEN 8
static void note_openmp(const void *caller)
{
  static int said;
  static const void *seen[OMP_SEEN];
  static unsigned next;
  Dl_info where;

  if (__atomic_load_n(&said, __ATOMIC_RELAXED) ||
      (gp__tp_on && gp__sud_active()))
    return;
  for (int i = 0; i < OMP_SEEN; i++)
    if (__atomic_load_n(&seen[i], __ATOMIC_RELAXED) == caller)
      return;
  if (!dladdr(caller, &where) || where.dli_fname == NULL ||
      strstr(where.dli_fname, "libgomp") == NULL) {
    __atomic_store_n(
        &seen[__atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % OMP_SEEN],
        caller, __ATOMIC_RELAXED);
    return;
  }
  if (__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
    return;
  gp__debug_out(2, "gpatch: OpenMP (libgomp) makes threads: they write each "
                   "other's thread-local state, which thread-local copies "
                   "(GPATCH_TLS=copy) give one address per OS thread, and "
                   "wait with futex calls of their own, which unrouted "
                   "(GPATCH_SUD=off) hold a scheduler's OS thread; so with "
                   "more OpenMP threads than schedulers (GPATCH_CORES) they "
                   "can hang. GPATCH_TLS=thread with GPATCH_SUD=on (the "
                   "default when libgomp is loaded at start), OMP_NUM_THREADS "
                   "at most GPATCH_CORES, or GPATCH_PATCH=-thread avoids it\n");
}

/* The threads of libuv's threadpool the runtime started. A fork's child
 * has none of its parent's, but libuv's destructor joins them at exit all
 * the same: glibc reclaimed their memory in the child, and the join
 * crashed (PostgreSQL's processes, which exit after a fork, died with
 * SIGSEGV once the postmaster had looked up a name). So the parent's are
 * known as such in the child, and a join of one returns at once. */
#define WORKERS_KEPT 256
static pthread_t workers[WORKERS_KEPT];
static unsigned nworkers, nparents; /* workers[0 .. nparents) a parent's */

static void note_worker(pthread_t th)
{
  unsigned i, n = __atomic_load_n(&nparents, __ATOMIC_ACQUIRE);

  /* A thread of this process may get the handle of one of the parent's
   * (glibc reuses their memory): that one is joined for real. */
  for (i = 0; i < n && i < WORKERS_KEPT; i++)
    if (pthread_equal(__atomic_load_n(&workers[i], __ATOMIC_ACQUIRE), th))
      __atomic_store_n(&workers[i], (pthread_t)0, __ATOMIC_RELEASE);
  i = __atomic_fetch_add(&nworkers, 1, __ATOMIC_RELAXED);
  if (i < WORKERS_KEPT)
    __atomic_store_n(&workers[i], th, __ATOMIC_RELEASE);
}

static int parents_worker(pthread_t th)
{
  unsigned n = __atomic_load_n(&nparents, __ATOMIC_ACQUIRE);
  for (unsigned i = 0; i < n && i < WORKERS_KEPT; i++)
    if (pthread_equal(__atomic_load_n(&workers[i], __ATOMIC_ACQUIRE), th))
      return 1;
  return 0;
}

static void workers_forked(void)
{
  __atomic_store_n(&nparents, nworkers, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void workers_ctor(void)
{
  pthread_atfork(NULL, NULL, workers_forked);
}

int gp__shim_child_exiting;

/* Runs before libuv's destructor (libuv is loaded first, so finalised
 * after): in a fork's child whose parent had started the pool, the
 * destructor also destroys the pool's condition variable, on which the
 * parent's workers were counted as waiting, and aborted on EBUSY. */
__attribute__((destructor)) static void workers_dtor(void)
{
  if (__atomic_load_n(&nparents, __ATOMIC_ACQUIRE) > 0)
    __atomic_store_n(&gp__shim_child_exiting, 1, __ATOMIC_RELEASE);
}

GP_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr,
                             void *(*fn)(void *), void *arg)
{
  struct gp__spawn_opts o = {0};
  struct gp__thread *t = NULL;
  int detach = PTHREAD_CREATE_JOINABLE;
  const sigset_t *mask;

  /* A handler in the hub (or a child forked there, which lives on in it)
   * makes a real thread: a coroutine of that scheduler would run only once
   * the hub loops again, which such a child never lets it do. */
  if (!gp__shim_active(GP__PATCH_THREAD) || gp__tls.on_hub ||
      __atomic_load_n(&gp__config.sandbox_real_threads, __ATOMIC_ACQUIRE)) {
    struct start *st;
    static int said;
    const char *why =
        gp__config.gc_real_threads
            ? "Boehm's garbage collector (libgc) is loaded: it stops threads "
              "with a signal each must take on its own stack"
        : gp__config.go_real_threads
            ? "a Go program: its runtime waits and sleeps with system calls "
              "of its own, which would stop every thread of a scheduler"
            : NULL;
    if (why == NULL && gp__config.sandbox_real_threads &&
        !__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
      gp__debug_out(2, "gpatch: threads made after the process installed a "
                       "seccomp filter are real (see README, seccomp)\n");
    if (why && !__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
      gp__debug_out(2,
                    "gpatch: %s, so threads stay real, as with "
                    "GPATCH_PATCH=-thread (GPATCH_PATCH=all overrides; see "
                    "README)\n",
                    why);
    if (gp__tls.depth && gp__tls.sched) {
      /* The runtime starting libuv's threadpool (for name lookups): named
       * as libuv >= 1.45 names it, so that ps, top and the one-OS-thread
       * tests tell it from the program's own thread, and blind to every
       * signal, so that the kernel never gives it one meant for the
       * program (it inherits the mask it is created with). */
      sigset_t all, old;
      int r;
      sigfillset(&all);
      gp__real_pthread_sigmask(SIG_SETMASK, &all, &old);
      r = gp__real_pthread_create(th, attr, fn, arg);
      gp__real_pthread_sigmask(SIG_SETMASK, &old, NULL);
      if (r == 0) {
        gp__real_pthread_setname_np(*th, "libuv-worker");
        note_worker(*th);
      }
      return r;
    }
    if (gp__tls.depth || gp__tls.foreign || !gp__tls.app ||
        (st = malloc(sizeof(*st))) == NULL)
      return gp__real_pthread_create(th, attr, fn, arg);
    st->fn = fn;
    st->arg = arg;
    int r = gp__real_pthread_create(th, attr, real_start, st);
    if (r != 0)
      free(st);
    return r;
  }
  if (attr && pthread_attr_getdetachstate(attr, &detach) != 0)
    return EINVAL;
  o.stack_size = attr_stack(attr);
  o.detached = detach == PTHREAD_CREATE_DETACHED;
  o.place = 1; /* the least loaded scheduler (GPATCH_CORES) */
  o.name = creator_name();
  /* Before the placement, which starts the schedulers' OS threads: they
   * are made with the preemption signal open. */
  gp__preempt_start();
  /* A new thread starts with its creator's signal mask. */
  mask = creator_mask();
  if (mask != NULL && !sigisemptyset(mask)) {
    if ((t = gp__calloc(1, sizeof(*t))) == NULL)
      return EAGAIN;
    t->sigmask = *mask;
    o.local = t;
  }
  /* As glibc's: libstdc++ then makes shared_ptr counts atomic, and its
   * stop_token waits for a callback another thread runs. */
  __libc_single_threaded = 0;
  /* The handle is in *th before the thread can run (on another
   * scheduler, at once), as glibc stores it. */
  if (gp__coro_spawn((struct gp__coro **)(void *)th, fn, arg, &o) != 0) {
    gp__free(t);
    return EAGAIN;
  }
  /* After the spawn: the first one settles the TLS mode. */
  note_openmp(__builtin_return_address(0));
  gp__signal_watch();
  return 0;
}

/* Joins co, waiting until the deadline. Returns an error number. */
static int join(struct gp__coro *co, void **ret, uint64_t deadline)
{
  for (;;) {
    int r = gp__coro_join(co, ret, deadline);
    if (r == -ECANCELED) {
      gp__thread_cancel_point(); /* pthread_join is a cancellation point */
      continue;                  /* gp_kill: a join cannot say EINTR */
    }
    return -r;
  }
}

GP_EXPORT int pthread_join(pthread_t th, void **ret)
{
  struct gp__coro *co;
  if (parents_worker(th)) {
    if (ret)
      *ret = NULL;
    return 0; /* (libuv's destructor, at exit in a fork's child) */
  }
  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_join(th, ret);
  gp__thread_cancel_point();
  return join(co, ret, GP__NEVER);
}

GP_EXPORT int pthread_tryjoin_np(pthread_t th, void **ret)
{
  struct gp__coro *co;
  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_tryjoin_np(th, ret);
  if (!gp__coro_finished(co))
    return EBUSY; /* glibc's order: a running thread, detached or not */
  return join(co, ret, GP__NEVER);
}

GP_EXPORT int pthread_clockjoin_np(pthread_t th, void **ret, clockid_t clock,
                                   const struct timespec *abs)
{
  struct gp__coro *co;
  int64_t t;

  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_clockjoin_np(th, ret, clock, abs);
  if (abs == NULL || (t = gp__ts_to_ns(abs)) < 0 ||
      (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC))
    return EINVAL;
  gp__thread_cancel_point();
  return join(co, ret, gp__now() + gp__ns_until(clock, t));
}

GP_EXPORT int pthread_timedjoin_np(pthread_t th, void **ret,
                                   const struct timespec *abs)
{
  if (!gp__shim_active(GP__PATCH_THREAD) || coro_of(th) == NULL)
    return gp__real_pthread_timedjoin_np(th, ret, abs);
  return pthread_clockjoin_np(th, ret, CLOCK_REALTIME, abs);
}

GP_EXPORT int pthread_detach(pthread_t th)
{
  struct gp__coro *co;
  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_detach(th);
  return -gp__coro_detach(co);
}

GP_EXPORT void pthread_exit(void *ret)
{
  if (!gp__shim_active(GP__PATCH_THREAD))
    gp__real_pthread_exit(ret);
  load_unwinder();
  thread_exit(ret);
}

GP_EXPORT pthread_t pthread_self(void)
{
  if (!gp__shim_active(GP__PATCH_THREAD))
    return gp__real_pthread_self();
  return (pthread_t)current();
}

GP_EXPORT int pthread_equal(pthread_t a, pthread_t b)
{
  return a == b;
}

GP_EXPORT int sched_yield(void)
{
  /* An allocator's spin yields: its coroutine must not switch (core/tls.c). */
  if (!gp__shim_active(GP__PATCH_THREAD) ||
      gp__tls_os_thread_code(__builtin_return_address(0)))
    return gp__real_sched_yield();
  gp__yield_cpu();
  return 0;
}

/* uselocale(3): the locale set is the calling thread's. With TLS copies
 * glibc keeps it in the OS thread's TLS, shared by its coroutines: the
 * runtime notes it per coroutine and puts it back at each switch. */
GP_EXPORT locale_t uselocale(locale_t loc)
{
  locale_t old = gp__real_uselocale(loc);
  if (loc != (locale_t)0 && old != (locale_t)0 &&
      gp__shim_active(GP__PATCH_THREAD))
    gp__tls_locale(loc);
  return old;
}

/* pthread_yield: glibc's headers now redirect it to sched_yield, but older
 * binaries import it by this name. */
GP_EXPORT int thread_yield(void) __asm__("pthread_yield");
GP_EXPORT int thread_yield(void)
{
  return sched_yield();
}

/* The two signals glibc keeps for itself (SIGCANCEL and SIGSETXID), which
 * its pthread_kill and pthread_sigqueue refuse with EINVAL. */
static int internal_signal(int sig)
{
  return sig == __SIGRTMIN || sig == __SIGRTMIN + 1;
}

/* Whether this OS thread's own mask blocks sig. */
static int os_thread_blocks(int sig)
{
  sigset_t cur;
  return gp__real_pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0 &&
         sigismember(&cur, sig) == 1;
}

static int send_to(struct gp__coro *co, int sig, siginfo_t *info);

GP_EXPORT int pthread_kill(pthread_t th, int sig)
{
  struct gp__coro *co;

  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_kill(th, sig);
  if (internal_signal(sig))
    return EINVAL;
  /* glibc's for a thread that has ended: nothing is sent, and the number
   * is not looked at */
  if (sig == 0 || gp__coro_finished(co))
    return 0;
  if (sig < 0 || sig >= NSIG)
    return EINVAL;
  return send_to(co, sig, NULL);
}

/* pthread_kill's and pthread_sigqueue's: sends sig (a valid number) to co,
 * a thread that has not ended, with info (NULL: as pthread_kill sends it).
 * Returns 0 or an error number. */
static int send_to(struct gp__coro *co, int sig, siginfo_t *info)
{
  struct gp__thread *t;
  pid_t to;

  /* A thread that blocks it keeps it pending for itself (shim.h); a
   * sigwait of it takes it. Sent to an OS thread instead, it pended on the
   * sender's, out of sight of a sigwait on another scheduler (pbzip2 hung
   * at its end), or was taken by another thread's sigwait on the same. */
  if (!gp__coro_is_main(co) && (t = thread_of(co)) != NULL &&
      sigismember(&t->sigmask, sig)) {
    uint64_t bit = 1ull << (sig - 1);
    __atomic_store_n(&gp__thread_kept_ever, 1, __ATOMIC_RELAXED);
    __atomic_fetch_or(&t->sigpending, bit, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&t->sigwaiting, __ATOMIC_SEQ_CST) & bit)
      gp__coro_interrupt(co); /* its sigwait looks again (signal.c) */
    return 0;
  }
  /* main's mask is its OS thread's own: on another scheduler, it gets the
   * signal there, and the kernel does with it what it would unpatched (a
   * handler that runs there interrupts main's wait); on this one, when
   * main blocks it, it pends on this OS thread until main's mask lets it
   * through (sigsuspend, pselect), as unpatched. */
  to = gp__coro_elsewhere(co);
  if (to == 0 && gp__coro_is_main(co) && os_thread_blocks(sig))
    to = (pid_t)gp__real_syscall(SYS_gettid);
  if (to != 0 && gp__coro_is_main(co)) {
    if ((info ? gp__real_syscall(SYS_rt_tgsigqueueinfo, getpid(), to, sig, info)
              : gp__real_syscall(SYS_tgkill, getpid(), to, sig)) != 0)
      return errno;
    return 0;
  }
  /* Else its action is taken on the caller's OS thread, now: a scheduler's
   * thread other than the first blocks every signal, and there the signal
   * pended for good (no handler ran with several schedulers); and it
   * interrupted the caller's scheduler's main as well. A target waiting
   * where the signal would interrupt it is interrupted. */
  return gp__thread_signal(co, sig, info) != 0 ? EINVAL : 0;
}

/* raise(3) is pthread_kill(pthread_self(), sig), as glibc's: a thread that
 * blocks sig keeps it pending for itself (glibc's is a tgkill of the OS
 * thread, whose mask is not the thread's). */
GP_EXPORT int raise(int sig)
{
  int r;
  if (!gp__shim_active(GP__PATCH_THREAD) || gp__self() == NULL)
    return gp__real_raise(sig);
  if ((r = pthread_kill(pthread_self(), sig)) != 0) {
    errno = r;
    return -1;
  }
  return 0;
}

void gp__thread_write_signal(int err)
{
  int sig = err == EPIPE ? SIGPIPE : err == EFBIG ? SIGXFSZ : 0;
  struct timespec zero = {0, 0};
  struct gp__coro *co;
  struct gp__thread *t;
  sigset_t one, real;
  siginfo_t info;
  int saved = errno;

  if (sig == 0 || !gp__shim_active(GP__PATCH_THREAD) ||
      (co = current()) == NULL || gp__coro_is_main(co) ||
      gp__real_pthread_sigmask(SIG_BLOCK, NULL, &real) != 0 ||
      !sigismember(&real, sig))
    return; /* the first thread's, or the kernel took the action */
  sigemptyset(&one);
  sigaddset(&one, sig);
  if (gp__real_syscall(SYS_rt_sigtimedwait, &one, &info, &zero, _NSIG / 8) !=
      sig) {
    errno = saved; /* none (MSG_NOSIGNAL; EFBIG of the file system) */
    return;
  }
  if ((t = thread_of(co)) != NULL && sigismember(&t->sigmask, sig)) {
    __atomic_store_n(&gp__thread_kept_ever, 1, __ATOMIC_RELAXED);
    __atomic_fetch_or(&t->sigpending, 1ull << (sig - 1), __ATOMIC_SEQ_CST);
  } else {
    gp__thread_signal(co, sig, &info);
  }
  errno = saved;
}

int gp__thread_write_shield(sigset_t *old)
{
  struct gp__coro *co;
  struct gp__thread *t;
  sigset_t add;

  /* A worker's OS thread blocks every signal already; main's mask is
   * its OS thread's own. */
  if (!gp__sched_in_own_thread() || !gp__shim_active(GP__PATCH_THREAD) ||
      (co = current()) == NULL || gp__coro_is_main(co) ||
      (t = __atomic_load_n(gp__coro_local(co), __ATOMIC_ACQUIRE)) == NULL)
    return 0;
  sigemptyset(&add);
  if (sigismember(&t->sigmask, SIGPIPE))
    sigaddset(&add, SIGPIPE);
  if (sigismember(&t->sigmask, SIGXFSZ))
    sigaddset(&add, SIGXFSZ);
  return !sigisemptyset(&add) &&
         gp__real_pthread_sigmask(SIG_BLOCK, &add, old) == 0;
}

void gp__thread_write_unshield(ssize_t r, const sigset_t *old)
{
  int saved = errno;
  if (r < 0)
    gp__thread_write_signal(saved); /* taken while still blocked */
  gp__real_pthread_sigmask(SIG_SETMASK, old, NULL);
  errno = saved;
}

uint64_t gp__sig_bits(const sigset_t *set)
{
  uint64_t bits = 0;
  for (int sig = 1; sig <= 64 && sig < NSIG; sig++)
    if (sigismember(set, sig))
      bits |= 1ull << (sig - 1);
  return bits;
}

void gp__sig_add_bits(sigset_t *set, uint64_t bits)
{
  for (int sig = 1; sig <= 64 && sig < NSIG; sig++)
    if (bits & (1ull << (sig - 1)))
      sigaddset(set, sig);
}

int gp__thread_kept_ever;

void gp__thread_sigwaiting(const sigset_t *set)
{
  gp__thread_sigwaiting_bits(set ? gp__sig_bits(set) : 0);
}

void gp__thread_sigwaiting_bits(uint64_t bits)
{
  struct gp__coro *co = current();
  struct gp__thread *t;
  if (co && !gp__coro_is_main(co) && (t = thread_of(co)) != NULL)
    __atomic_store_n(&t->sigwaiting, bits, __ATOMIC_SEQ_CST);
}

uint64_t gp__thread_kept_bits(void)
{
  struct gp__coro *co = current();
  struct gp__thread *t;
  if (co == NULL || gp__coro_is_main(co) || (t = thread_of(co)) == NULL)
    return 0;
  return __atomic_load_n(&t->sigpending, __ATOMIC_SEQ_CST);
}

int gp__thread_take_signal(const sigset_t *set)
{
  struct gp__coro *co = current();
  struct gp__thread *t;
  uint64_t have, mine;

  if (co == NULL || gp__coro_is_main(co) || (t = thread_of(co)) == NULL)
    return 0;
  mine = gp__sig_bits(set);
  have = __atomic_load_n(&t->sigpending, __ATOMIC_SEQ_CST);
  while (have & mine) {
    uint64_t bit = have & mine & -(have & mine); /* the lowest: the kernel's
                                                    order too */
    if (__atomic_compare_exchange_n(&t->sigpending, &have, have & ~bit, 0,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
      return __builtin_ctzll(bit) + 1;
  }
  return 0;
}

/* Keeps sig for co to take itself as its wait ends; 1 if it does, 0 when
 * it does not wait where a signal interrupts (or is the caller, or main,
 * or has one kept already). */
static int keep_for(struct gp__coro *co, int sig, const siginfo_t *info)
{
  struct gp__thread *t;
  int free = 0;

  if (co == current() || gp__coro_is_main(co) || (t = thread_of(co)) == NULL ||
      !__atomic_compare_exchange_n(&t->due_sig, &free, -1, 0, __ATOMIC_ACQUIRE,
                                   __ATOMIC_RELAXED))
    return 0;
  t->due_has_info = info != NULL;
  if (info)
    t->due_info = *info;
  __atomic_store_n(&t->due_sig, sig, __ATOMIC_RELEASE);
  if (gp__coro_interrupt_due(co))
    return 1;
  __atomic_store_n(&t->due_sig, 0, __ATOMIC_RELEASE); /* it does not wait */
  return 0;
}

int gp__thread_signal(struct gp__coro *co, int sig, siginfo_t *info)
{
  int r;
  if (keep_for(co, sig, info))
    return 0; /* it takes the action itself, as its wait ends */
  if ((r = gp__signal_run_here(sig, info)) == 0)
    gp__coro_interrupt(co);
  return r;
}

/* gp__signal_due_hook: in co as its wait ends, or on its hub for it. */
static void take_due(struct gp__coro *co)
{
  struct gp__thread *t = __atomic_load_n(gp__coro_local(co), __ATOMIC_ACQUIRE);
  siginfo_t info;
  int sig, has;

  gp__coro_due_clear(co);
  if (t == NULL || (sig = __atomic_load_n(&t->due_sig, __ATOMIC_ACQUIRE)) <= 0)
    return;
  has = t->due_has_info;
  if (has)
    info = t->due_info;
  __atomic_store_n(&t->due_sig, 0, __ATOMIC_RELEASE);
  gp__signal_run_here(sig, has ? &info : NULL);
}

__attribute__((constructor)) static void thread_due_ctor(void)
{
  gp__signal_due_hook = take_due;
}

static int takes(struct gp__coro *co, void *arg)
{
  const int *sig = arg;
  struct gp__thread *t;
  if (gp__coro_is_main(co) || gp__coro_finished(co))
    return 0;
  /* None yet: the thread blocks nothing. */
  t = __atomic_load_n(gp__coro_local(co), __ATOMIC_ACQUIRE);
  return t == NULL || !sigismember(&t->sigmask, *sig);
}

struct gp__coro *gp__thread_taker(int sig, uint64_t *id)
{
  struct gp__coro *co = gp__coro_find(takes, &sig);
  if (co)
    *id = gp__coro_id(co);
  return co;
}

void gp__thread_kept_signals(sigset_t *set)
{
  gp__sig_add_bits(set, gp__thread_kept_bits());
}

/* Signals kept pending for t that its mask no longer blocks are taken
 * now, as the kernel takes them when a mask lets them through: each one's
 * action runs on this OS thread; so are those pending for the process that
 * its mask, before, blocked (signal.c). Returns how many there were. */
static int run_unblocked(struct gp__thread *t, const sigset_t *before)
{
  sigset_t open, opened;
  int sig, n = 0;

  sigfillset(&open);
  sigemptyset(&opened);
  for (int s = 1; s < NSIG; s++)
    if (sigismember(&t->sigmask, s))
      sigdelset(&open, s);
    else if (sigismember(before, s))
      sigaddset(&opened, s);
  while (__atomic_load_n(&t->sigpending, __ATOMIC_SEQ_CST) != 0 &&
         (sig = gp__thread_take_signal(&open)) > 0) {
    gp__signal_run_here(sig, NULL);
    n++;
  }
  if (!sigisemptyset(&opened))
    n += gp__signal_take_unblocked(&opened);
  return n;
}

GP_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
  struct gp__thread *t;
  sigset_t cur;

  if (!gp__shim_active(GP__PATCH_THREAD))
    return gp__real_pthread_sigmask(how, set, old);
  if (gp__coro_is_main(current())) /* the first thread: the OS thread's */
    return gp__preempt_main_sigmask(how, set, old);
  if ((t = thread_of(current())) == NULL)
    return gp__real_pthread_sigmask(how, set, old);
  /* Other threads' masks are kept, not applied: all share one OS thread
   * (see README). */
  if (how != SIG_BLOCK && how != SIG_UNBLOCK && how != SIG_SETMASK && set)
    return EINVAL;
  cur = t->sigmask;
  if (set) {
    if (how == SIG_BLOCK)
      sigorset(&t->sigmask, &t->sigmask, set);
    else if (how == SIG_SETMASK)
      t->sigmask = *set;
    else
      for (int s = 1; s < NSIG; s++)
        if (sigismember(set, s))
          sigdelset(&t->sigmask, s);
  }
  if (old)
    *old = cur;
  if (set)
    run_unblocked(t, &cur);
  return 0;
}

/* sigprocmask(2): in a program with threads, glibc's is pthread_sigmask
 * (the calling thread's mask), reached inside libc where the shim does
 * not see it: a thread blocking a signal so blocked it for main too. */
GP_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
  int r = pthread_sigmask(how, set, old);
  if (r == 0)
    return 0;
  errno = r;
  return -1;
}

/* The System V and BSD calls on the mask. glibc makes them with its own
 * sigprocmask and sigaction, which the shim does not see: here they go
 * through this file's sigprocmask (a thread's own mask, the first
 * thread's kept copy read again) and signal.c's sigaction. */
static int mask_one(int how, int sig)
{
  sigset_t set;
  sigemptyset(&set);
  if (sigaddset(&set, sig) < 0)
    return -1; /* EINVAL */
  return sigprocmask(how, &set, NULL);
}

GP_EXPORT int sighold(int sig)
{
  return mask_one(SIG_BLOCK, sig);
}

GP_EXPORT int sigrelse(int sig)
{
  return mask_one(SIG_UNBLOCK, sig);
}

GP_EXPORT sighandler_t sigset(int sig, sighandler_t disp)
{
  struct sigaction act, oact;
  sigset_t set, oset;

  sigemptyset(&set);
  if (sigaddset(&set, sig) < 0)
    return SIG_ERR;
  if (disp == SIG_HOLD) {
    if (sigprocmask(SIG_BLOCK, &set, &oset) < 0)
      return SIG_ERR;
    if (sigismember(&oset, sig))
      return SIG_HOLD;
    if (sigaction(sig, NULL, &oact) < 0)
      return SIG_ERR;
    return oact.sa_handler;
  }
  memset(&act, 0, sizeof(act));
  act.sa_handler = disp;
  if (sigaction(sig, &act, &oact) < 0 ||
      sigprocmask(SIG_UNBLOCK, &set, &oset) < 0)
    return SIG_ERR;
  return sigismember(&oset, sig) ? SIG_HOLD : oact.sa_handler;
}

/* The BSD masks: bit n - 1 is signal n, for signals 1 to 32. */
static void from_bsd(sigset_t *set, int mask)
{
  sigemptyset(set);
  for (int s = 1; s <= 32; s++)
    if ((unsigned)mask & (1u << (s - 1)))
      sigaddset(set, s); /* 32, glibc's own: refused, as glibc drops it */
}

static int bsd_mask(int how, int mask)
{
  sigset_t set, old;
  int r = 0;

  from_bsd(&set, mask);
  if (sigprocmask(how, &set, &old) < 0)
    return -1;
  for (int s = 1; s <= 32; s++)
    if (sigismember(&old, s) == 1)
      r = (int)((unsigned)r | (1u << (s - 1)));
  return r;
}

GP_EXPORT int sigblock(int mask)
{
  return bsd_mask(SIG_BLOCK, mask);
}

GP_EXPORT int sigsetmask(int mask)
{
  return bsd_mask(SIG_SETMASK, mask);
}

GP_EXPORT int siggetmask(void)
{
  return bsd_mask(SIG_BLOCK, 0);
}

/* sigpause: the caller's mask without sig (X/Open), or the BSD mask
 * given, for a sigsuspend (signal.c's: glibc's own would suspend the OS
 * thread, and the scheduler with it, in a thread other than the first). */
GP_EXPORT int __sigpause(int sig_or_mask, int is_sig)
{
  sigset_t set;

  if (is_sig) {
    if (sigprocmask(SIG_BLOCK, NULL, &set) < 0 ||
        sigdelset(&set, sig_or_mask) < 0)
      return -1;
  } else {
    from_bsd(&set, sig_or_mask);
  }
  return sigsuspend(&set);
}

GP_EXPORT int __xpg_sigpause(int sig)
{
  return __sigpause(sig, 1);
}

/* glibc's default sigpause is the BSD one; <signal.h> names
 * __xpg_sigpause for X/Open programs. */
GP_EXPORT int bsd_sigpause(int mask) __asm__("sigpause");
GP_EXPORT int bsd_sigpause(int mask)
{
  return __sigpause(mask, 0);
}

/* A longjmp may restore the mask its sigsetjmp saved, or leave a handler
 * with the handler's mask in force; setcontext and swapcontext set the
 * mask their context holds. Each may change the OS thread's mask, which
 * creator_mask reads again after. (glibc's longjmp and _longjmp are
 * siglongjmp under other names.) */
GP_EXPORT _Noreturn void siglongjmp(sigjmp_buf env, int val)
{
  gp__real_init();
  gp__preempt_mask_changed();
  gp__real_siglongjmp(env, val);
  abort(); /* not reached */
}

GP_EXPORT _Noreturn void longjmp(jmp_buf env, int val)
{
  siglongjmp(env, val);
}

GP_EXPORT _Noreturn void _longjmp(jmp_buf env, int val)
{
  siglongjmp(env, val);
}

/* _FORTIFY_SOURCE's longjmp. */
GP_EXPORT _Noreturn void __longjmp_chk(sigjmp_buf env, int val);
GP_EXPORT _Noreturn void __longjmp_chk(sigjmp_buf env, int val)
{
  gp__real_init();
  gp__preempt_mask_changed();
  gp__real___longjmp_chk(env, val);
  abort(); /* not reached */
}

GP_EXPORT int setcontext(const ucontext_t *uc)
{
  gp__real_init();
  gp__preempt_mask_changed();
  return gp__real_setcontext(uc);
}

GP_EXPORT int swapcontext(ucontext_t *from, const ucontext_t *to)
{
  gp__real_init();
  gp__preempt_mask_changed();
  return gp__real_swapcontext(from, to);
}

int gp__thread_suspend_mask(const sigset_t *set, sigset_t *old)
{
  struct gp__thread *t = thread_of(current());
  if (t == NULL)
    return 0;
  *old = t->sigmask;
  t->sigmask = *set;
  return run_unblocked(t, old);
}

GP_EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
  struct gp__coro *co;
  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_setname_np(th, name);
  if (strlen(name) > 15)
    return ERANGE;
  if (gp__coro_finished(co))
    return ENOENT;            /* glibc's: the thread's /proc entry is gone */
  if (gp__coro_is_main(co)) { /* the first thread: its real name too */
    int r = gp__real_pthread_setname_np(gp__real_pthread_self(), name);
    if (r != 0)
      return r;
    strcpy(first_name, name);
  }
  gp__coro_set_name(co, name);
  return 0;
}

GP_EXPORT int pthread_getname_np(pthread_t th, char *buf, size_t len)
{
  struct gp__coro *co;
  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_getname_np(th, buf, len);
  if (gp__coro_is_main(co)) /* the first thread: its real name */
    return gp__real_pthread_getname_np(gp__real_pthread_self(), buf, len);
  if (len < 16) /* glibc wants room for any name */
    return ERANGE;
  if (gp__coro_finished(co))
    return ENOENT;
  strcpy(buf, gp__coro_name(co));
  return 0;
}

GP_EXPORT int pthread_getattr_np(pthread_t th, pthread_attr_t *attr)
{
  struct gp__coro *co;
  void *lo;
  size_t size;
  int r;

  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL ||
      gp__coro_stack(co, &lo, &size) != 0)
    return gp__real_pthread_getattr_np(
        coro_of(th) ? gp__real_pthread_self() : th, attr);
  if ((r = pthread_attr_init(attr)) != 0)
    return r;
  pthread_attr_setstack(attr, lo, size);
  pthread_attr_setdetachstate(attr, gp__coro_detached(co)
                                        ? PTHREAD_CREATE_DETACHED
                                        : PTHREAD_CREATE_JOINABLE);
  return 0;
}

/* The kernel's CPU-time clock of thread tid (glibc's encoding: the
 * per-thread scheduler clock). */
#define THREAD_CPU_CLOCK(tid) ((clockid_t)((~(unsigned)(tid) << 3) | 6))

GP_EXPORT int pthread_getcpuclockid(pthread_t th, clockid_t *clock)
{
  struct gp__coro *co;
  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_getcpuclockid(th, clock);
  if (gp__coro_finished(co))
    return ESRCH;
  /* The clock of the OS thread the thread runs on (README). */
  *clock = THREAD_CPU_CLOCK(gp__coro_tid(co));
  return 0;
}

/* The scheduling calls that take a pthread_t: glibc's read its struct
 * pthread, which a thread's handle is not (rsyslogd hung in
 * pthread_getschedparam on main's). A thread's policy, priority and CPU
 * set are those of the OS thread it runs on, shared with the other
 * threads there (README): they are read and set by its kernel id. */
GP_EXPORT int pthread_getschedparam(pthread_t th, int *policy,
                                    struct sched_param *param)
{
  struct gp__coro *co;
  pid_t tid;
  int p;

  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_getschedparam(th, policy, param);
  if (gp__coro_finished(co))
    return ESRCH;
  tid = gp__coro_tid(co);
  if ((p = (int)gp__real_syscall(SYS_sched_getscheduler, tid)) < 0 ||
      gp__real_syscall(SYS_sched_getparam, tid, param) != 0)
    return errno;
  *policy = p & ~SCHED_RESET_ON_FORK;
  return 0;
}

GP_EXPORT int pthread_setschedparam(pthread_t th, int policy,
                                    const struct sched_param *param)
{
  struct gp__coro *co;

  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_setschedparam(th, policy, param);
  if (gp__coro_finished(co))
    return ESRCH;
  if (gp__real_syscall(SYS_sched_setscheduler, gp__coro_tid(co), policy,
                       param) != 0)
    return errno;
  return 0;
}

GP_EXPORT int pthread_setschedprio(pthread_t th, int prio)
{
  struct gp__coro *co;
  struct sched_param param = {.sched_priority = prio};

  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_setschedprio(th, prio);
  if (gp__coro_finished(co))
    return ESRCH;
  if (gp__real_syscall(SYS_sched_setparam, gp__coro_tid(co), &param) != 0)
    return errno;
  return 0;
}

GP_EXPORT int pthread_getaffinity_np(pthread_t th, size_t size, cpu_set_t *set)
{
  struct gp__coro *co;
  long n;

  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_getaffinity_np(th, size, set);
  n = gp__real_syscall(SYS_sched_getaffinity, gp__coro_tid(co), size, set);
  if (n < 0)
    return errno;
  /* As glibc's: the bytes past the kernel's mask are cleared. */
  memset((char *)set + n, 0, size - (size_t)n);
  return 0;
}

GP_EXPORT int pthread_setaffinity_np(pthread_t th, size_t size,
                                     const cpu_set_t *set)
{
  struct gp__coro *co;

  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_setaffinity_np(th, size, set);
  if (gp__real_syscall(SYS_sched_setaffinity, gp__coro_tid(co), size, set) != 0)
    return errno;
  return 0;
}

/* pthread_sigqueue: a signal with a value for one thread, which glibc
 * sends to the tid in its struct pthread. To a thread of the runtime it
 * goes as pthread_kill sends it, with glibc's siginfo (SI_QUEUE, the
 * value); one the thread blocks loses the value (README). */
GP_EXPORT int pthread_sigqueue(pthread_t th, int sig, const union sigval val)
{
  struct gp__coro *co;
  siginfo_t info;

  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_sigqueue(th, sig, val);
  if (gp__coro_finished(co))
    return ESRCH;
  if (internal_signal(sig) || sig < 0 || sig >= NSIG)
    return EINVAL;
  if (sig == 0)
    return 0;
  memset(&info, 0, sizeof(info));
  info.si_signo = sig;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value = val;
  return send_to(co, sig, &info);
}

static void note_no_async_cancel(void)
{
  static int said;
  if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
    gp__debug_out(2, "gpatch: preemption is off, so an asynchronous cancel "
                     "acts only at the thread's next cancellation point "
                     "(see README, Limitations)\n");
}

GP_EXPORT int pthread_cancel(pthread_t th)
{
  struct gp__coro *co;
  struct gp__thread *t;

  if (!gp__shim_active(GP__PATCH_THREAD) || (co = coro_of(th)) == NULL)
    return gp__real_pthread_cancel(th);
  if (gp__coro_finished(co))
    return 0;
  load_unwinder(); /* here, not where the thread acts: a signal handler */
  if ((t = thread_of(co)) == NULL)
    return ENOMEM;
  t->cancel_pending = 1;
  if (t->cancel_disabled || t->exiting)
    return 0;
  if (t->cancel_async) {
    if (co == current())
      cancel_async_now(t);
    /* Wherever it runs its own code (a computation with no call): the
     * runtime's preemption signal, as glibc's SIGCANCEL. */
    if (!gp__preempt_cancel(co))
      note_no_async_cancel();
  }
  /* A cancellation point wakes with ECANCELED; a thread not started yet
   * runs up to its first one. */
  gp__coro_cancel(co);
  return 0;
}

GP_EXPORT int pthread_setcancelstate(int state, int *old)
{
  struct gp__coro *co = current();
  struct gp__thread *t;
  if (!gp__shim_active(GP__PATCH_THREAD) || co == NULL ||
      (t = thread_of(co)) == NULL)
    return gp__real_pthread_setcancelstate(state, old);
  if (state != PTHREAD_CANCEL_ENABLE && state != PTHREAD_CANCEL_DISABLE)
    return EINVAL;
  if (old)
    *old = t->cancel_disabled ? PTHREAD_CANCEL_DISABLE : PTHREAD_CANCEL_ENABLE;
  t->cancel_disabled = state == PTHREAD_CANCEL_DISABLE;
  cancel_async_now(t);
  if (!t->cancel_disabled && t->cancel_pending)
    gp__coro_cancel(co); /* the next wait acts on it */
  return 0;
}

GP_EXPORT int pthread_setcanceltype(int type, int *old)
{
  struct gp__thread *t;
  if (!gp__shim_active(GP__PATCH_THREAD) || (t = thread_of(current())) == NULL)
    return gp__real_pthread_setcanceltype(type, old);
  if (type != PTHREAD_CANCEL_DEFERRED && type != PTHREAD_CANCEL_ASYNCHRONOUS)
    return EINVAL;
  if (old)
    *old =
        t->cancel_async ? PTHREAD_CANCEL_ASYNCHRONOUS : PTHREAD_CANCEL_DEFERRED;
  t->cancel_async = type == PTHREAD_CANCEL_ASYNCHRONOUS;
  cancel_async_now(t);
  return 0;
}

GP_EXPORT void pthread_testcancel(void)
{
  if (!gp__shim_active(GP__PATCH_THREAD)) {
    gp__real_pthread_testcancel();
    return;
  }
  gp__thread_cancel_point();
}

/* Keys. Their numbers are glibc's, taken with glibc's pthread_key_create
 * (one space for keys made before the runtime started, by a library's
 * constructor, while it passes calls through, and after); their values are
 * kept per thread here. A key glibc made that the table does not know yet
 * is taken in at its first use here: bind9's libisc makes OpenSSL's key in
 * a constructor that runs before the library's own, and every
 * pthread_setspecific of it said EINVAL (RAND_bytes then failed). glibc's
 * key table (GLIBC_PRIVATE __pthread_keys: a sequence number, odd while the
 * key lives, and the destructor) says whether it lives and its destructor;
 * without it, a set of the key's own value tells. */
struct glibc_key {
  uintptr_t seq;
  void (*destr)(void *);
};

/* Nonzero when glibc has key alive; *destr: its destructor. */
static int glibc_key(pthread_key_t key, void (**destr)(void *))
{
  static struct glibc_key *table;
  static int looked;

  if (!__atomic_load_n(&looked, __ATOMIC_ACQUIRE)) {
    table = dlsym(RTLD_DEFAULT, "__pthread_keys");
    __atomic_store_n(&looked, 1, __ATOMIC_RELEASE);
  }
  *destr = NULL;
  if (table) {
    if (!(__atomic_load_n(&table[key].seq, __ATOMIC_ACQUIRE) & 1))
      return 0;
    *destr = table[key].destr;
    return 1;
  }
  return gp__real_pthread_setspecific(key, gp__real_pthread_getspecific(key)) ==
         0;
}

/* Nonzero when key lives, taking in a key glibc made. */
static int key_alive(pthread_key_t key)
{
  unsigned seq;
  void (*destr)(void *);

  if (key >= NKEYS)
    return 0;
  seq = __atomic_load_n(&keys[key].seq, __ATOMIC_ACQUIRE);
  if (seq & 1)
    return 1;
  if (!glibc_key(key, &destr))
    return 0;
  keys[key].destr = destr;
  __atomic_compare_exchange_n(&keys[key].seq, &seq, seq + 1, 0,
                              __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
  return 1;
}

GP_EXPORT int pthread_key_create(pthread_key_t *key, void (*destr)(void *))
{
  pthread_key_t k;
  unsigned seq;
  int r;

  if (!gp__shim_active(GP__PATCH_THREAD))
    return gp__real_pthread_key_create(key, destr);
  if ((r = gp__real_pthread_key_create(&k, destr)) != 0)
    return r;
  if (k >= NKEYS) {
    gp__real_pthread_key_delete(k);
    return EAGAIN;
  }
  /* A new sequence number: values set under the number's last key are
   * not this one's. */
  seq = __atomic_load_n(&keys[k].seq, __ATOMIC_ACQUIRE);
  keys[k].destr = destr;
  __atomic_store_n(&keys[k].seq, (seq | 1) + 2, __ATOMIC_RELEASE);
  *key = k;
  return 0;
}

GP_EXPORT int pthread_key_delete(pthread_key_t key)
{
  unsigned seq;
  int r;

  if (!gp__shim_active(GP__PATCH_THREAD))
    return gp__real_pthread_key_delete(key);
  if (!key_alive(key))
    return EINVAL;
  if ((r = gp__real_pthread_key_delete(key)) != 0)
    return r;
  seq = __atomic_load_n(&keys[key].seq, __ATOMIC_ACQUIRE);
  keys[key].destr = NULL;
  __atomic_store_n(&keys[key].seq, (seq | 1) + 1, __ATOMIC_RELEASE);
  return 0;
}

GP_EXPORT void *pthread_getspecific(pthread_key_t key)
{
  struct gp__thread *t;
  struct gp__coro *co;
  if (!gp__shim_active(GP__PATCH_THREAD))
    return gp__real_pthread_getspecific(key);
  co = current();
  if (!key_alive(key))
    return NULL;
  t = *gp__coro_local(co);
  if (t == NULL || key >= t->nvals || t->seqs[key] != keys[key].seq)
    /* The first thread's value set before the runtime started. */
    return gp__coro_is_main(co) ? gp__real_pthread_getspecific(key) : NULL;
  return t->vals[key];
}

GP_EXPORT int pthread_setspecific(pthread_key_t key, const void *val)
{
  struct gp__thread *t;

  if (!gp__shim_active(GP__PATCH_THREAD))
    return gp__real_pthread_setspecific(key, val);
  if (!key_alive(key))
    return EINVAL;
  if ((t = thread_of(current())) == NULL)
    return ENOMEM;
  if (key >= t->nvals) {
    size_t n = key + 16 < NKEYS ? key + 16 : NKEYS;
    void **v = gp__realloc(t->vals, n * sizeof(*v));
    unsigned *s;
    if (v == NULL)
      return ENOMEM;
    t->vals = v;
    s = gp__realloc(t->seqs, n * sizeof(*s));
    if (s == NULL)
      return ENOMEM;
    t->seqs = s;
    memset(v + t->nvals, 0, (n - t->nvals) * sizeof(*v));
    memset(s + t->nvals, 0, (n - t->nvals) * sizeof(*s));
    t->nvals = n;
  }
  t->vals[key] = (void *)val;
  t->seqs[key] = keys[key].seq;
  return 0;
}
