/* gpatch.h: the public C API of libgpatch — gevent's API, in C.
 *
 * Preloaded, libgpatch turns a program's threads and blocking calls into
 * coroutines on one event loop without any change to the program. Programs
 * that know about it can also use coroutines directly through this header,
 * linking with -lgpatch (pkg-config gpatch) or running under LD_PRELOAD.
 *
 *   gevent                       libgpatch
 *   gevent.spawn(fn, arg)        gp_spawn(&co, fn, arg)
 *   g.join(timeout)              gp_join(co, &ret), gp_join_timeout(…)
 *   gevent.joinall(gs)           gp_joinall(cos, n, rets, timeout_ms)
 *   g.kill()                     gp_kill(co)
 *   gevent.sleep(s)              gp_sleep(ms); gp_sleep(0) == gp_yield()
 *   gevent.getcurrent()          gp_current()
 *   gevent.event.Event           gp_event_*
 *   gevent.queue.Queue           gp_queue_*
 *   gevent.Timeout(s)            gp_timeout_begin / gp_timeout_end
 *   gevent.socket.wait_read      gp_wait_fd(fd, GP_READABLE, timeout_ms)
 *
 * Conventions (those of libuv): functions that can fail return 0 or a
 * negative errno value (-ETIMEDOUT, -ECANCELED …) and leave errno alone.
 * Timeouts are in milliseconds; GP_FOREVER (-1) waits without limit and 0
 * does not wait at all.
 *
 * Coroutines are scheduled cooperatively on the thread that created them:
 * one runs until it waits (in a gp_ call or, preloaded, in a patched libc
 * call), then the next ready one runs, in the order they became ready.
 * Every thread that calls into this API gets a scheduler of its own; the
 * objects below belong to the thread that made them. */
#ifndef GPATCH_H
#define GPATCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GP_VERSION_MAJOR 0
#define GP_VERSION_MINOR 1
#define GP_VERSION_PATCH 0
/* (major << 16) | (minor << 8) | patch */
#define GP_VERSION_HEX                                                         \
  ((GP_VERSION_MAJOR << 16) | (GP_VERSION_MINOR << 8) | GP_VERSION_PATCH)

/* Wait without limit. */
#define GP_FOREVER (-1)

/* The return value of a coroutine killed before it started. */
#define GP_CANCELED ((void *)-1)

/* Readiness for gp_wait_fd. */
#define GP_READABLE 1
#define GP_WRITABLE 2

/* A coroutine: a handle like pthread_t, valid until it is joined (or, if
 * detached, until it finishes). */
typedef struct gp__coro gp_coro_t;

/* Options for gp_spawn_ex. Zero-initialise, then set what you need. */
typedef struct gp_spawn_opts {
  size_t stack_size; /* bytes; 0 for GPATCH_STACK_SIZE, by default what
                        glibc gives a thread (8 MiB under the usual
                        RLIMIT_STACK), reserved and committed lazily */
  const char *name;  /* shown in reports; copied, 15 characters kept */
  int detached;      /* nonzero: freed when it finishes; not joinable */
} gp_spawn_opts_t;

/* The library's version as "major.minor.patch". */
const char *gp_version(void);

/* Starts fn(arg) in a new coroutine; it runs once the caller waits or
 * yields. Stores the handle in *co; with co NULL the coroutine is detached.
 * Returns 0, -ENOMEM, or -EINVAL (fn is NULL). */
int gp_spawn(gp_coro_t **co, void *(*fn)(void *), void *arg);

/* gp_spawn with options (opts may be NULL). */
int gp_spawn_ex(gp_coro_t **co, const gp_spawn_opts_t *opts,
                void *(*fn)(void *), void *arg);

/* Waits for co to finish, stores what its function returned in *retval
 * (when not NULL; GP_CANCELED if it was killed before it started) and frees
 * it. Returns 0, -EDEADLK (co is the caller), -EINVAL (co is detached or
 * already being joined), -ECANCELED (the caller was killed while waiting),
 * -ETIMEDOUT (a gp_timeout block expired). */
int gp_join(gp_coro_t *co, void **retval);

/* gp_join with a timeout: -ETIMEDOUT when co has not finished in time (it
 * stays joinable). */
int gp_join_timeout(gp_coro_t *co, void **retval, int64_t timeout_ms);

/* Waits until every one of the n coroutines has finished, then frees them
 * all, storing their values in retvals[i] when retvals is not NULL. On
 * -ETIMEDOUT (or any error) none is freed. Errors as gp_join. */
int gp_joinall(gp_coro_t *const *cos, size_t n, void **retvals,
               int64_t timeout_ms);

/* Makes co free itself when it finishes; it can no longer be joined.
 * Returns 0 or -EINVAL (already detached). */
int gp_detach(gp_coro_t *co);

/* Kills co, like greenlet.kill(): if it has not started it never will (its
 * value becomes GP_CANCELED); if it is waiting, the wait returns -ECANCELED
 * (a patched libc call returns -1 with errno EINTR); otherwise its next
 * wait does. Does not wait for it to finish: join it. Returns 0. */
int gp_kill(gp_coro_t *co);

/* Suspends the caller for ms milliseconds; gp_sleep(0) lets every other
 * coroutine that is ready run once first, like gevent.sleep(0). Returns 0,
 * -ECANCELED, or -ETIMEDOUT (a gp_timeout block expired). */
int gp_sleep(uint64_t ms);

/* gp_sleep(0). */
int gp_yield(void);

/* The calling coroutine (the thread's own context is coroutine 0). */
gp_coro_t *gp_current(void);

/* A coroutine's id: 0 for the thread's own context; the others' are
 * unique in the process and rise in the order they were spawned on one
 * scheduler (1, 2, … while there is one). co NULL means the caller. */
uint64_t gp_id(const gp_coro_t *co);

/* A coroutine's name ("" when it has none); co NULL means the caller. */
const char *gp_name(const gp_coro_t *co);

/* Names a coroutine (15 characters are kept). Returns 0 or -EINVAL. */
int gp_set_name(gp_coro_t *co, const char *name);

/* Waits until fd is readable and/or writable (GP_READABLE, GP_WRITABLE).
 * Returns the readiness seen (> 0), or -ETIMEDOUT, -ECANCELED, -EBADF. */
int gp_wait_fd(int fd, int events, int64_t timeout_ms);

/* An event, like gevent.event.Event: a flag coroutines wait for. */
typedef struct gp_event gp_event_t;

/* Creates an event, clear. Returns 0 or -ENOMEM. */
int gp_event_new(gp_event_t **ev);
/* Frees an event; nobody may be waiting on it. */
void gp_event_free(gp_event_t *ev);
/* Sets the flag and wakes every waiter. */
void gp_event_set(gp_event_t *ev);
/* Clears the flag. */
void gp_event_clear(gp_event_t *ev);
/* Returns 1 when set, else 0. */
int gp_event_is_set(const gp_event_t *ev);
/* Returns 0 at once when set, else waits until it is set. Returns 0,
 * -ETIMEDOUT (timeout_ms 0 and not set, or time ran out), -ECANCELED. */
int gp_event_wait(gp_event_t *ev, int64_t timeout_ms);

/* A FIFO queue of pointers, like gevent.queue.Queue. */
typedef struct gp_queue gp_queue_t;

/* Creates a queue holding up to maxsize items (0: unbounded). Returns 0 or
 * -ENOMEM. */
int gp_queue_new(gp_queue_t **q, size_t maxsize);
/* Frees a queue; nobody may be waiting on it. Items left are dropped. */
void gp_queue_free(gp_queue_t *q);
/* Appends item, waiting while the queue is full. Returns 0, -EAGAIN (full
 * and timeout_ms 0, like put_nowait), -ETIMEDOUT, -ECANCELED, -ENOMEM. */
int gp_queue_put(gp_queue_t *q, void *item, int64_t timeout_ms);
/* Takes the oldest item into *item, waiting while the queue is empty.
 * Returns 0, -EAGAIN (empty and timeout_ms 0, like get_nowait), -ETIMEDOUT,
 * -ECANCELED. */
int gp_queue_get(gp_queue_t *q, void **item, int64_t timeout_ms);
/* The number of items in the queue. */
size_t gp_queue_size(const gp_queue_t *q);

/* A deadline for a block of calls, like `with gevent.Timeout(s):`. Between
 * begin and end every wait of the calling coroutine (gp_ calls and patched
 * libc calls alike) ends by the deadline at the latest, with -ETIMEDOUT
 * (libc calls: -1 and errno ETIMEDOUT, or EINTR for the sleep family).
 * Blocks nest; the earliest deadline wins. */
typedef struct gp_timeout {
  uint64_t saved;    /* the enclosing deadline, restored by end */
  uint64_t deadline; /* this block's deadline */
} gp_timeout_t;

/* Starts a block that ends in timeout_ms milliseconds (GP_FOREVER: none). */
void gp_timeout_begin(gp_timeout_t *t, int64_t timeout_ms);
/* Ends the block. Returns 1 if its deadline has passed, else 0. */
int gp_timeout_end(gp_timeout_t *t);

#ifdef __cplusplus
}
#endif

#endif /* GPATCH_H */
