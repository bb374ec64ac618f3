/* stdio.c: stdio on sockets, pipes, FIFOs and terminals.
 *
 * glibc's stdio reads and writes a stream's fd through its own hidden
 * aliases of read and write, which no preload sees: on a socket the shim
 * made non-blocking underneath, fgets would get EAGAIN and report an error
 * (or end of file), and on a blocking pipe or terminal it would stop every
 * coroutine of the OS thread. Every glibc stream that has an fd (fopen,
 * fdopen, stdin, stdout, stderr) reaches the fd through three entries of
 * one table of glibc's, _IO_file_jumps (and _IO_wfile_jumps, which a wide
 * stream switches to): read, write and close. At start the shim points
 * those entries at its own functions (hook_read, hook_write, hook_close),
 * after checking that they hold exactly glibc's exported _IO_file_read,
 * _IO_file_write and _IO_file_close; everything else stdio does — buffering,
 * line buffering of terminals, ungetc, orientation, seeking, errors and end
 * of file — stays glibc's own code. The table lives in glibc's read-only
 * data; it is made writable for the three stores and read-only again.
 *
 * Waiting inside a stdio call must not let another coroutine into the same
 * stream: glibc's stream lock belongs to the OS thread (it is recursive, its
 * owner THREAD_SELF), so every coroutine of a thread would get in, and on
 * another scheduler a coroutine would block its whole OS thread on it. So a
 * stream the shim takes over ("manages") is switched to
 * FSETLOCKING_BYCALLER — glibc then never takes its own lock — and the
 * shim's interposers of the stdio calls (stdio_in.c, stdio_out.c and here)
 * take a lock of the shim's instead: a coroutine parks on it, a thread waits
 * in the kernel, like the mutexes of sync.c. Its record (struct sfile) is
 * laid out as glibc's _IO_lock_t at the place fp->_lock points to, so that
 * the stream needs no table to be found. A hook parks only when its caller
 * holds that lock (or the app locks the stream itself): a call the shim
 * does not interpose, on a stream it manages, waits as a thread.
 *
 * Streams are managed when a coroutine first uses them through an
 * interposer: those over sockets, pipes, FIFOs and terminals, those without
 * an fd (fopencookie, open_memstream: their functions may wait too), and
 * any the app locks with flockfile. They leave glibc's list of streams,
 * which fflush(NULL), _flushlbf and exit walk without the stream locks a
 * managed stream no longer has: fflush(NULL) and _flushlbf walk the
 * managed ones themselves, each under its lock as glibc does, and at exit
 * they go back into glibc's list, whose exit-time flush then runs as it
 * always does. Being out of the list also makes glibc's underflow skip its
 * flush of a line-buffered stdout before it reads a line-buffered or
 * unbuffered stream; hook_read does that flush instead, under stdout's lock.
 *
 * Nothing here parks while glibc holds one of its own locks: glibc takes no
 * lock of a managed stream, and the calls that walk glibc's list under its
 * lock meet no managed stream there. */
#define _GNU_SOURCE
#include "shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* glibc's flags beyond the few <stdio.h> names (libio/libio.h, unchanged
 * since glibc 2.1). */
#define IO_MAGIC_MASK       0xFFFF0000u
#define IO_MAGIC            0xFBAD0000u
#define IO_UNBUFFERED       0x0002
#define IO_NO_WRITES        0x0008
#define IO_LINKED           0x0080
#define IO_LINE_BUF         0x0200
#define IO_FLAGS2_NOTCANCEL 2

/* Entries of glibc's struct _IO_jump_t: two words, then finish, overflow,
 * underflow, uflow, pbackfail, xsputn, xsgetn, seekoff, seekpos, setbuf,
 * sync, doallocate, read, write, seek, close, stat, showmanyc, imbue. */
enum { SLOT_READ = 14, SLOT_WRITE = 15, SLOT_CLOSE = 17 };

#define SFILE_MAGIC 0x67702d7374646931ULL /* "gp-stdi1" */

/* A stream the shim manages. */
struct sfile {
  uint64_t magic; /* SFILE_MAGIC while it stands for fp */
  struct {
    uint32_t word;        /* 0 free, 1 held, 2 held and maybe waited for */
    int cnt;              /* how many times its holder took it */
    void *owner;          /* the holder: a coroutine, or a thread's id | 1 */
  } lock;                 /* glibc's _IO_lock_t; fp->_lock points here */
  FILE *fp;               /* the stream */
  void *glibc_lock;       /* its own lock, given back if it is let go */
  pid_t pid;              /* popen's child (popen.c), or 0 */
  unsigned char linked;   /* it was in glibc's list of streams */
  unsigned char bycaller; /* the app asked for FSETLOCKING_BYCALLER */
  unsigned char dead;     /* closed or let go: a waiter looks again */
  struct sfile *next;     /* in the list of managed streams, newest first;
                             or in the free list */
};

_Static_assert(offsetof(struct sfile, lock) == 8 &&
                   sizeof(((struct sfile *)0)->lock) == 16,
               "glibc's _IO_lock_t layout");

/* A lock for the few things done once per stream: a coroutine parks on it,
 * a thread waits in the kernel. */
struct mutex {
  uint32_t word; /* 0 free, 1 held, 2 held and maybe waited for */
};

int gp__stdio_on; /* glibc's tables point at the hooks */
__thread struct gp__stdio_seen gp__stdio_seen
    __attribute__((tls_model("initial-exec")));
static struct gp__lock list_lock; /* guards streams and free_recs */
static struct sfile *streams;     /* managed, newest first */
static struct sfile *free_recs;   /* records of closed streams, for reuse */
static struct mutex adopt_mutex;  /* one stream is taken over at a time */
static ssize_t (*orig_read)(FILE *, void *, ssize_t);
static ssize_t (*orig_write)(FILE *, const void *, ssize_t);
static int (*orig_close)(FILE *);
static void (*io_un_link)(FILE *);
static void (*io_link_in)(FILE *);
static FILE *std_files[3]; /* glibc's static stdin, stdout, stderr */

/* ---- locks ---- */

/* The caller's id as a lock owner: its coroutine, or its thread. */
static void *me(void)
{
  struct gp__coro *co = gp__tls.depth ? NULL : gp__self();
  return co ? (void *)co : (void *)((uintptr_t)gp__real_pthread_self() | 1);
}

/* How the caller waits for a lock: an app coroutine parks, anyone else
 * waits in the kernel — as sync.c's mutexes wait, so a real thread of
 * GPATCH_PATCH=-thread waits in the kernel too (its holder may be another
 * real thread, which no deadlock report of its scheduler would know). */
static int how(void)
{
  return gp__shim_active(GP__PATCH_SOCKET) &&
                 (gp__config.patch & GP__PATCH_THREAD)
             ? 0
             : GP__WAIT_THREAD;
}

static void word_lock(uint32_t *w, const char *what)
{
  uint32_t zero = 0;
  if (__atomic_compare_exchange_n(w, &zero, 1, 0, __ATOMIC_ACQUIRE,
                                  __ATOMIC_RELAXED))
    return;
  int flags = GP__WAIT_UNCANCELABLE | how();
  while (__atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE) != 0)
    gp__addr_wait(w, 2, GP__NEVER, what, flags);
}

static void word_unlock(uint32_t *w)
{
  if (__atomic_exchange_n(w, 0, __ATOMIC_RELEASE) == 2)
    gp__addr_wake(w, 1);
}

static void *owner_of(const struct sfile *sf)
{
  return __atomic_load_n(&sf->lock.owner, __ATOMIC_RELAXED);
}

/* Takes sf's lock (recursive, like glibc's). try: give up with EBUSY
 * instead of waiting. Returns 0 or EBUSY. */
static int rec_lock(struct sfile *sf, int try)
{
  void *self = me();
  uint32_t zero = 0;

  if (owner_of(sf) == self) {
    sf->lock.cnt++;
    return 0;
  }
  if (try) {
    if (!__atomic_compare_exchange_n(&sf->lock.word, &zero, 1, 0,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return EBUSY;
  } else {
    word_lock(&sf->lock.word, "stdio stream");
  }
  __atomic_store_n(&sf->lock.owner, self, __ATOMIC_RELAXED);
  sf->lock.cnt = 1;
  return 0;
}

/* Gives sf's lock back once (funlockfile does not check the owner, nor does
 * this). */
static void rec_unlock(struct sfile *sf)
{
  if (--sf->lock.cnt > 0)
    return;
  __atomic_store_n(&sf->lock.owner, NULL, __ATOMIC_RELAXED);
  word_unlock(&sf->lock.word);
}

/* ---- managed streams ---- */

/* The record of fp if the shim manages it, else NULL. A stream glibc does
 * not lock (FSETLOCKING_BYCALLER) is the shim's when its lock pointer
 * points into a live record: the word before glibc's own lock of a stream
 * is the end of the FILE's struct, never the magic. */
static struct sfile *managed(FILE *fp)
{
  struct sfile *sf;
  if (!(fp->_flags & _IO_USER_LOCK) || fp->_lock == NULL)
    return NULL;
  sf = (struct sfile *)(void *)((char *)fp->_lock -
                                offsetof(struct sfile, lock));
  if (__atomic_load_n(&sf->magic, __ATOMIC_ACQUIRE) != SFILE_MAGIC ||
      sf->fp != fp)
    return NULL;
  return sf;
}

/* Nonzero when a coroutine should take fp over: a glibc stream with a lock
 * whose calls may wait (an fd that is a socket, pipe, FIFO, terminal or
 * other stream; no fd at all), or any stream when force is set (flockfile:
 * the app holds it across its own waits). */
static int worth_managing(FILE *fp, int force)
{
  struct gp__fdinfo *fi;

  if (((unsigned)fp->_flags & IO_MAGIC_MASK) != IO_MAGIC || fp->_lock == NULL)
    return 0;
  if (force || fp->_fileno < 0)
    return 1;
  fi = gp__shim_classify(fp->_fileno);
  return fi && (fi->kind == GP__FD_OWNED || fi->kind == GP__FD_SOCKET ||
                fi->kind == GP__FD_STREAM);
}

/* A record for a new stream: a recycled one keeps its lock as it is (free,
 * or held for a moment by a fflush(NULL) that looked at it before), so
 * that the lock's state is never torn from under a holder. */
static struct sfile *new_record(void)
{
  struct sfile *sf;
  gp__lock(&list_lock);
  if ((sf = free_recs) != NULL)
    free_recs = sf->next;
  gp__unlock(&list_lock);
  if (sf == NULL)
    return calloc(1, sizeof(*sf));
  sf->fp = NULL;
  sf->glibc_lock = NULL;
  sf->pid = 0;
  sf->linked = sf->bycaller = sf->dead = 0;
  sf->next = NULL;
  return sf;
}

/* Takes fp over, once. Its glibc lock is taken first, so that a thread
 * inside a glibc call on it finishes before glibc stops locking it; it then
 * leaves glibc's list (whose lock glibc takes before a stream's: the same
 * order as here, the stream's lock being given back first). Returns its
 * record, or NULL (not a coroutine, not worth it, no memory). */
static struct sfile *manage(FILE *fp, int force)
{
  struct sfile *sf;

  if (!gp__shim_active(GP__PATCH_SOCKET) || !worth_managing(fp, force))
    return NULL;
  word_lock(&adopt_mutex.word, "stdio take-over");
  if ((sf = managed(fp)) == NULL && (sf = new_record()) != NULL) {
    sf->fp = fp;
    sf->glibc_lock = fp->_lock;
    if (fp->_flags & _IO_USER_LOCK) {
      sf->bycaller = 1; /* the app's own choice, before we saw it */
    } else {
      gp__real_flockfile(fp);
      fp->_flags |= _IO_USER_LOCK;
      gp__real_funlockfile(fp);
    }
    if (fp->_flags & IO_LINKED) {
      io_un_link(fp);
      sf->linked = 1;
    }
    __atomic_store_n(&sf->magic, SFILE_MAGIC, __ATOMIC_RELEASE);
    __atomic_store_n(&fp->_lock, (void *)&sf->lock, __ATOMIC_RELEASE);
    gp__lock(&list_lock);
    sf->next = streams;
    streams = sf;
    gp__unlock(&list_lock);
  }
  word_unlock(&adopt_mutex.word);
  return sf;
}

/* Takes sf out of the list of managed streams and marks it dead: waiters
 * look again when they get its lock. For a stream given back to glibc
 * (letgo), its lock, flags and place in glibc's list come back. */
static void retire(struct sfile *sf, int letgo)
{
  FILE *fp = sf->fp;

  gp__lock(&list_lock);
  for (struct sfile **p = &streams; *p; p = &(*p)->next)
    if (*p == sf) {
      *p = sf->next;
      break;
    }
  gp__unlock(&list_lock);
  __atomic_store_n(&sf->magic, 0, __ATOMIC_RELEASE);
  sf->dead = 1;
  if (letgo) {
    fp->_lock = sf->glibc_lock;
    if (!sf->bycaller)
      fp->_flags &= ~_IO_USER_LOCK;
    if (sf->linked)
      io_link_in(fp);
  } else {
    for (int i = 0; i < 3; i++)
      if (fp == std_files[i])
        fp->_lock = sf->glibc_lock; /* static: it may be reopened */
  }
}

/* Gives the lock of a retired record back for good and recycles it. Its
 * waiters (a stream used after fclose) wake and look again. */
static void recycle(struct sfile *sf)
{
  sf->lock.cnt = 0;
  __atomic_store_n(&sf->lock.owner, NULL, __ATOMIC_RELAXED);
  __atomic_store_n(&sf->lock.word, 0, __ATOMIC_RELEASE);
  gp__addr_wake(&sf->lock.word, SIZE_MAX);
  gp__lock(&list_lock);
  sf->next = free_recs;
  free_recs = sf;
  gp__unlock(&list_lock);
}

/* ---- the interposers' side ---- */

void gp__stdio_enter_slow(struct gp__stdio_call *c, FILE *fp, int what)
{
  struct sfile *sf, *so;
  FILE *out;

  c->rec = NULL;
  if (!gp__stdio_on) {
    gp__real_init(); /* a library's constructor may come first */
    return;
  }
  if (fp == NULL)
    return;
  for (;;) {
    sf = managed(fp);
    /* A line-buffered or unbuffered stream read while stdout is managed
     * and line buffered: hook_read flushes stdout first, and may wait for
     * its lock only on a stream the shim manages. */
    if (sf == NULL && what == GP__STDIO_IN &&
        (fp->_flags & (IO_LINE_BUF | IO_UNBUFFERED)) &&
        (out = stdout) != NULL && out != fp && (so = managed(out)) != NULL &&
        (out->_flags & IO_LINE_BUF))
      sf = manage(fp, 1);
    if (sf == NULL && (sf = manage(fp, what == GP__STDIO_LOCK)) == NULL)
      return;
    if (sf->bycaller)
      return; /* glibc would take no lock either */
    rec_lock(sf, 0);
    if (!sf->dead)
      break;
    rec_unlock(sf); /* closed or let go while we waited: look again */
  }
  c->rec = sf;
}

void gp__stdio_leave_slow(struct gp__stdio_call *c)
{
  int saved = errno;
  rec_unlock(c->rec);
  errno = saved;
}

/* ---- the hooks in glibc's tables ---- */

/* Nonzero when the caller may park in a hook on fp: an app coroutine that
 * holds fp's lock (or the app locks fp itself), on a stream whose reads
 * glibc has not asked not to be cancellation points. */
static int parkable(FILE *fp, struct sfile **out)
{
  struct sfile *sf = managed(fp);
  *out = sf;
  return sf && !(fp->_flags2 & IO_FLAGS2_NOTCANCEL) &&
         gp__shim_active(GP__PATCH_SOCKET) &&
         (sf->bycaller || owner_of(sf) == me());
}

/* A socket the shim made non-blocking underneath that the app believes
 * blocking: a caller that may not park gets the blocking call it expects
 * by waiting in poll. */
static int needs_poll(int fd, short events, int *timeout_ms)
{
  struct gp__fdinfo *fi = gp__fd_info(fd);
  uint64_t t;
  if (fi == NULL || fi->kind != GP__FD_OWNED || fi->app_nonblock)
    return 0;
  t = events == POLLIN ? fi->rcvtimeo_ns : fi->sndtimeo_ns;
  *timeout_ms = t ? (int)((t + 999999) / 1000000) : -1;
  return 1;
}

int gp__shim_poll_wait(int fd, short events, int timeout_ms)
{
  struct pollfd p = {.fd = fd, .events = events};
  for (;;) {
    int n = gp__real_poll(&p, 1, timeout_ms);
    if (n > 0)
      return 0;
    if (n == 0) {
      errno = EAGAIN;
      return -1;
    }
    if (errno != EINTR || !gp__signal_restarts())
      return -1;
  }
}

/* Runs when a thread is canceled while it waits in a hook: glibc gives a
 * stream's lock back when a thread is canceled in a stdio call, and so
 * does the shim. */
static void unlock_on_cancel(void *arg)
{
  struct sfile *sf = arg;
  if (sf && !sf->bycaller && owner_of(sf) == me())
    rec_unlock(sf);
}

/* What glibc's underflow does before it refills a line-buffered or
 * unbuffered stream — flush a line-buffered stdout — for a managed stdout,
 * which glibc no longer sees in its list (see the top). Only refills of
 * fp's own buffer count: a large fread reads into the caller's memory
 * without it. */
static void flush_stdout_first(FILE *fp, const void *buf, int park)
{
  FILE *out = stdout;
  struct sfile *so;

  if (out == NULL || out == fp ||
      !(fp->_flags & (IO_LINE_BUF | IO_UNBUFFERED)) ||
      (const char *)buf < fp->_IO_buf_base ||
      (const char *)buf >= fp->_IO_buf_end || (so = managed(out)) == NULL ||
      !so->linked ||
      (out->_flags & (IO_NO_WRITES | IO_LINE_BUF)) != IO_LINE_BUF)
    return;
  if (so->bycaller) {
    gp__real___overflow(out, EOF);
  } else if (park || gp__tls.sched == NULL) {
    rec_lock(so, 0); /* a thread no scheduler runs waits in the kernel */
    gp__real___overflow(out, EOF);
    rec_unlock(so);
  } else if (rec_lock(so, 1) == 0) {
    /* A coroutine that may not park here (glibc may hold fp's own lock)
     * flushes only a stdout nobody is in the middle of. */
    gp__real___overflow(out, EOF);
    rec_unlock(so);
  }
}

static ssize_t hook_read(FILE *fp, void *buf, ssize_t n)
{
  struct sfile *sf;
  int saved = errno, park = parkable(fp, &sf), timeout;
  ssize_t r;

  flush_stdout_first(fp, buf, park);
  if (park) {
    pthread_cleanup_push(unlock_on_cancel, sf);
    r = read(fp->_fileno, buf, (size_t)n);
    pthread_cleanup_pop(0);
  } else if (needs_poll(fp->_fileno, POLLIN, &timeout)) {
    while ((r = gp__real_read(fp->_fileno, buf, (size_t)n)) < 0 &&
           (errno == EAGAIN || errno == EWOULDBLOCK) &&
           gp__shim_poll_wait(fp->_fileno, POLLIN, timeout) == 0)
      ;
  } else {
    return orig_read(fp, buf, n);
  }
  if (r >= 0)
    errno = saved; /* a read that succeeds leaves errno alone */
  return r;
}

/* Writes everything, or fails: with the shim's write (park), or as a
 * blocking write in poll. Returns the bytes written. */
static ssize_t write_all(int fd, const char *data, ssize_t n, int park,
                         int timeout)
{
  ssize_t to_do = n;
  while (to_do > 0) {
    ssize_t count = park ? write(fd, data, (size_t)to_do)
                         : gp__real_write(fd, data, (size_t)to_do);
    if (count < 0 && !park && (errno == EAGAIN || errno == EWOULDBLOCK) &&
        gp__shim_poll_wait(fd, POLLOUT, timeout) == 0)
      continue;
    if (count < 0)
      break;
    to_do -= count;
    data += count;
  }
  return n - to_do;
}

/* glibc's _IO_new_file_write: everything is written, or the error flag is
 * set; the cached offset moves on by what was. */
static ssize_t hook_write(FILE *fp, const void *data, ssize_t n)
{
  struct sfile *sf;
  int saved = errno, park = parkable(fp, &sf), timeout = -1;
  ssize_t done;

  if (!park && !needs_poll(fp->_fileno, POLLOUT, &timeout))
    return orig_write(fp, data, n);
  pthread_cleanup_push(unlock_on_cancel, park ? sf : NULL);
  done = write_all(fp->_fileno, data, n, park, timeout);
  pthread_cleanup_pop(0);
  if (done < n)
    fp->_flags |= _IO_ERR_SEEN;
  else
    errno = saved;
  if (fp->_offset >= 0)
    fp->_offset += done;
  return done;
}

/* The stream's fd is closed behind the interposers' back: its waiters wake
 * with EBADF and its record goes before the number can be reused. A popen
 * stream's close also waits for the child (popen.c). */
static int hook_close(FILE *fp)
{
  struct sfile *sf = managed(fp);
  if (sf && sf->pid)
    return gp__popen_close(fp->_fileno, sf->pid,
                           gp__shim_active(GP__PATCH_SOCKET) &&
                               (sf->bycaller || owner_of(sf) == me()));
  if (gp__shim_active(GP__PATCH_SOCKET))
    gp__fd_forget(fp->_fileno);
  return orig_close(fp);
}

/* ---- set-up ---- */

/* Says once, on stderr, why stdio is left as glibc's. */
static void not_patched(const char *why)
{
  gp__debug_out(2,
                "gpatch: stdio is not cooperative in this process (%s): a "
                "stdio call that waits on a socket, pipe or terminal blocks "
                "its OS thread\n",
                why);
}

/* Points the read, write and close entries of one of glibc's tables at the
 * hooks, once they are checked to be glibc's own functions. Returns 0, or
 * -1 (nothing changed). */
static int patch_table(void **t, void *rd, void *wr, void *cl)
{
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t lo = (uintptr_t)&t[SLOT_READ] & ~(uintptr_t)(page - 1);
  uintptr_t hi = ((uintptr_t)&t[SLOT_CLOSE] + sizeof(void *) + page - 1) &
                 ~(uintptr_t)(page - 1);

  if (t[SLOT_READ] != rd || t[SLOT_WRITE] != wr || t[SLOT_CLOSE] != cl)
    return -1;
  if (mprotect((void *)lo, hi - lo, PROT_READ | PROT_WRITE) != 0)
    return -1;
  __atomic_store_n(&t[SLOT_READ], (void *)hook_read, __ATOMIC_RELEASE);
  __atomic_store_n(&t[SLOT_WRITE], (void *)hook_write, __ATOMIC_RELEASE);
  __atomic_store_n(&t[SLOT_CLOSE], (void *)hook_close, __ATOMIC_RELEASE);
  mprotect((void *)lo, hi - lo, PROT_READ); /* glibc's RELRO, as it was */
  return 0;
}

/* In a fork's child only the forking thread goes on: the locks the others
 * held are free, as glibc makes its stream locks in a multi-threaded
 * process's child. */
static void fork_child(void)
{
  void *self = me();
  gp__lock_reset(&list_lock);
  adopt_mutex.word = 0;
  for (struct sfile *sf = streams; sf; sf = sf->next)
    if (owner_of(sf) != self) {
      sf->lock.word = 0;
      sf->lock.cnt = 0;
      sf->lock.owner = NULL;
    }
}

__attribute__((constructor)) static void stdio_init(void)
{
  void **fj, **wj, *rd, *wr, *cl;

  gp__runtime_init();
  if (!(gp__config.patch & GP__PATCH_SOCKET))
    return;
  fj = dlsym(RTLD_NEXT, "_IO_file_jumps");
  wj = dlsym(RTLD_NEXT, "_IO_wfile_jumps");
  rd = dlsym(RTLD_NEXT, "_IO_file_read");
  wr = dlsym(RTLD_NEXT, "_IO_file_write");
  cl = dlsym(RTLD_NEXT, "_IO_file_close");
  io_un_link = (void (*)(FILE *))dlsym(RTLD_NEXT, "_IO_un_link");
  io_link_in = (void (*)(FILE *))dlsym(RTLD_NEXT, "_IO_link_in");
  std_files[0] = dlsym(RTLD_NEXT, "_IO_2_1_stdin_");
  std_files[1] = dlsym(RTLD_NEXT, "_IO_2_1_stdout_");
  std_files[2] = dlsym(RTLD_NEXT, "_IO_2_1_stderr_");
  if (!fj || !wj || !rd || !wr || !cl || !io_un_link || !io_link_in) {
    not_patched("this C library has no glibc stdio tables");
    return;
  }
  orig_read = (ssize_t(*)(FILE *, void *, ssize_t))rd;
  orig_write = (ssize_t(*)(FILE *, const void *, ssize_t))wr;
  orig_close = (int (*)(FILE *))cl;
  if (patch_table(fj, rd, wr, cl) != 0) {
    not_patched("glibc's stream table is not laid out as expected, or "
                "cannot be written");
    return;
  }
  if (patch_table(wj, rd, wr, cl) != 0) {
    not_patched("glibc's wide stream table is not laid out as expected, or "
                "cannot be written");
    /* The narrow table's hooks stay: they only ever park with a lock. */
  }
  pthread_atfork(NULL, NULL, fork_child);
  __atomic_store_n(&gp__stdio_on, 1, __ATOMIC_RELEASE);
}

/* One managed stream as it was when the list was looked at. */
struct snap {
  struct sfile *sf; /* its record (never freed: recycled at most) */
  FILE *fp;         /* the stream it stood for then */
};

/* The managed streams, newest first: an array to free, its length in *n;
 * NULL with *n 0 when there are none or no memory. */
static struct snap *snapshot(size_t *n)
{
  struct snap *all = NULL;
  size_t cap = 0, k;

  for (;;) {
    k = 0;
    gp__lock(&list_lock);
    for (struct sfile *sf = streams; sf; sf = sf->next, k++)
      if (k < cap) {
        all[k].sf = sf;
        all[k].fp = sf->fp;
      }
    gp__unlock(&list_lock);
    if (k <= cap || k == 0)
      break;
    free(all);
    cap = k + 16;
    if ((all = malloc(sizeof(*all) * cap)) == NULL)
      break;
  }
  *n = all ? k : 0;
  return all;
}

void gp__stdio_exit(void)
{
  size_t n;
  struct snap *all;

  if (!gp__stdio_on)
    return;
  /* Oldest first, so that the newest ends up first, as glibc keeps them;
   * from here glibc's exit-time flush sees them again. */
  all = snapshot(&n);
  while (n-- > 0)
    if (all[n].sf->linked && !(all[n].fp->_flags & IO_LINKED))
      io_link_in(all[n].fp);
  free(all);
}

/* ---- the interposers that work on the records themselves ---- */

/* Lets popen.c mark fp as the stream of its child pid: hook_close then
 * waits for the child. Returns 0, or -1 when fp cannot be managed. */
int gp__stdio_set_pid(FILE *fp, pid_t pid)
{
  struct sfile *sf;
  if (!gp__stdio_on || (sf = managed(fp)) == NULL)
    sf = manage(fp, 1);
  if (sf == NULL)
    return -1;
  sf->pid = pid;
  return 0;
}

/* Nonzero once the shim runs stdio; before (a library's constructor that
 * runs before ours), the real-function table is made ready for the plain
 * call. */
static int running(void)
{
  if (__atomic_load_n(&gp__stdio_on, __ATOMIC_ACQUIRE))
    return 1;
  gp__real_init();
  return 0;
}

/* glibc's _IO_flush_all_lockp and _IO_flush_all_linebuffered, for the
 * managed streams: newest first, each under its lock, a stream with
 * pending output (line buffered only, for line_only) flushed by its
 * overflow with EOF. Returns 0, or EOF if a flush failed. */
static int flush_managed(int line_only)
{
  size_t n;
  struct snap *all = snapshot(&n);
  int r = 0;

  for (size_t i = 0; i < n; i++) {
    struct sfile *sf = all[i].sf;
    FILE *fp = all[i].fp;
    int dirty;
    if (!sf->bycaller)
      rec_lock(sf, 0);
    if (!sf->dead && sf->fp == fp) {
      if (line_only) {
        dirty = !(fp->_flags & IO_NO_WRITES) && (fp->_flags & IO_LINE_BUF);
      } else if (fp->_mode > 0) {
        /* A wide stream's output waits in its wide buffer, whose put
         * pointers follow three others at the start of _wide_data. */
        wchar_t **w = (wchar_t **)(void *)fp->_wide_data;
        dirty = w[4] > w[3];
      } else {
        dirty = fp->_IO_write_ptr > fp->_IO_write_base;
      }
      if (dirty && gp__real___overflow(fp, EOF) == EOF)
        r = EOF;
    }
    if (!sf->bycaller)
      rec_unlock(sf);
  }
  free(all);
  return r;
}

/* fflush(3) and fflush_unlocked: one stream under its lock; NULL: the
 * managed streams, then glibc's. */
static int flush(FILE *fp, int (*real)(FILE *))
{
  struct gp__stdio_call c;
  int r;

  if (fp == NULL && running()) {
    r = flush_managed(0);
    return real(NULL) == EOF ? EOF : r;
  }
  gp__stdio_enter(&c, fp, GP__STDIO_OUT);
  r = real(fp);
  gp__stdio_leave(&c);
  return r;
}

GP_EXPORT int fflush(FILE *fp)
{
  return flush(fp, gp__real_fflush);
}

GP_EXPORT int fflush_unlocked(FILE *fp)
{
  return flush(fp, gp__real_fflush_unlocked);
}

/* _flushlbf(3): every line-buffered output stream. */
GP_EXPORT void _flushlbf(void)
{
  if (running())
    flush_managed(1);
  gp__real__flushlbf();
}

/* fcloseall(3): in glibc it flushes every stream and makes it unbuffered
 * for good (and closes none). */
GP_EXPORT int fcloseall(void)
{
  size_t n;
  struct snap *all;
  int r;

  if (!running())
    return gp__real_fcloseall();
  r = flush_managed(0);
  all = snapshot(&n);
  for (size_t i = 0; i < n; i++) {
    struct sfile *sf = all[i].sf;
    FILE *fp = all[i].fp;
    if (!sf->bycaller)
      rec_lock(sf, 0);
    if (!sf->dead && sf->fp == fp && !(fp->_flags & IO_UNBUFFERED) &&
        fp->_mode != 0) {
      gp__real_setvbuf(fp, NULL, _IONBF, 0);
      fp->_mode = -1;
    }
    if (!sf->bycaller)
      rec_unlock(sf);
  }
  free(all);
  return gp__real_fcloseall() == EOF ? EOF : r;
}

/* fclose and pclose: glibc's, under the stream's lock (its flush may
 * park); the record goes once glibc is done with the stream. */
static int close_stream(FILE *fp, int (*real)(FILE *))
{
  struct gp__stdio_call c;
  struct sfile *sf;
  int r, saved;

  gp__stdio_enter(&c, fp, GP__STDIO_CTL);
  sf = fp ? managed(fp) : NULL;
  r = real(fp);
  saved = errno;
  if (sf) {
    retire(sf, 0); /* fp is freed: only its address is looked at */
    recycle(sf);
  } else {
    gp__stdio_leave(&c);
  }
  errno = saved;
  return r;
}

GP_EXPORT int fclose(FILE *fp)
{
  return close_stream(fp, gp__real_fclose);
}

/* pclose(3): glibc's is fclose; a popen stream's close waits for its
 * child. */
GP_EXPORT int pclose(FILE *fp)
{
  return close_stream(fp, gp__real_pclose);
}

/* freopen(3): the stream becomes glibc's again, after its pending output
 * went under its lock; if the new file is a socket, pipe or terminal, its
 * next use takes it over again. */
static FILE *reopen(const char *path, const char *mode, FILE *fp,
                    FILE *(*real)(const char *, const char *, FILE *))
{
  struct gp__stdio_call c;
  struct sfile *sf;
  FILE *r;
  int saved;

  gp__stdio_enter(&c, fp, GP__STDIO_CTL);
  if (fp == NULL || (sf = managed(fp)) == NULL) {
    r = real(path, mode, fp);
    gp__stdio_leave(&c);
    return r;
  }
  if (fp->_IO_write_ptr > fp->_IO_write_base)
    gp__real_fflush(fp); /* while its lock is held and a wait may park */
  word_lock(&adopt_mutex.word, "stdio take-over");
  retire(sf, 1);
  r = real(path, mode, fp);
  saved = errno;
  word_unlock(&adopt_mutex.word);
  recycle(sf);
  errno = saved;
  return r;
}

GP_EXPORT FILE *freopen(const char *path, const char *mode, FILE *fp)
{
  return reopen(path, mode, fp, gp__real_freopen);
}

GP_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *fp)
{
  return reopen(path, mode, fp, gp__real_freopen64);
}

/* flockfile(3) and friends: the shim's lock of a stream a coroutine uses
 * (taken over here if need be, whatever its fd), glibc's otherwise. */
static void lock_file(FILE *fp, void (*real)(FILE *))
{
  struct sfile *sf;
  if (!running() || fp == NULL ||
      ((sf = managed(fp)) == NULL && (sf = manage(fp, 1)) == NULL)) {
    real(fp);
    return;
  }
  rec_lock(sf, 0);
}

static void unlock_file(FILE *fp, void (*real)(FILE *))
{
  struct sfile *sf;
  if (!running() || fp == NULL || (sf = managed(fp)) == NULL) {
    real(fp);
    return;
  }
  rec_unlock(sf);
}

static int trylock_file(FILE *fp, int (*real)(FILE *))
{
  struct sfile *sf;
  if (!running() || fp == NULL ||
      ((sf = managed(fp)) == NULL && (sf = manage(fp, 1)) == NULL))
    return real(fp);
  return rec_lock(sf, 1);
}

GP_EXPORT void flockfile(FILE *fp)
{
  lock_file(fp, gp__real_flockfile);
}

GP_EXPORT void funlockfile(FILE *fp)
{
  unlock_file(fp, gp__real_funlockfile);
}

GP_EXPORT int ftrylockfile(FILE *fp)
{
  return trylock_file(fp, gp__real_ftrylockfile);
}

GP_EXPORT void _IO_flockfile(FILE *fp)
{
  lock_file(fp, gp__real__IO_flockfile);
}

GP_EXPORT void _IO_funlockfile(FILE *fp)
{
  unlock_file(fp, gp__real__IO_funlockfile);
}

GP_EXPORT int _IO_ftrylockfile(FILE *fp)
{
  return trylock_file(fp, gp__real__IO_ftrylockfile);
}

/* __fsetlocking(3): a managed stream keeps the app's choice (glibc no
 * longer locks it either way) and reports it back. */
GP_EXPORT int __fsetlocking(FILE *fp, int type)
{
  struct sfile *sf;
  int old;

  if (!running() || fp == NULL ||
      ((sf = managed(fp)) == NULL &&
       (type != FSETLOCKING_BYCALLER || (sf = manage(fp, 0)) == NULL)))
    return gp__real___fsetlocking(fp, type);
  old = sf->bycaller ? FSETLOCKING_BYCALLER : FSETLOCKING_INTERNAL;
  if (type == FSETLOCKING_BYCALLER)
    sf->bycaller = 1;
  else if (type == FSETLOCKING_INTERNAL)
    sf->bycaller = 0;
  return old;
}
