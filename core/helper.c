/* helper.c: blocking calls on helper threads.
 *
 * Each scheduler thread keeps a pool of helper threads. A helper sleeps on
 * a semaphore until a call is handed to it, makes the call with every
 * signal blocked (process-directed signals go to the program's threads, as
 * unpatched), then says so on its eventfd, on which the caller waits with
 * gp__wait_fd as on any fd. A caller whose wait ends first abandons the
 * call: the helper finishes it, releases its argument and goes back to the
 * pool by itself. At most POOL_IDLE idle helpers are kept; the caller tells
 * any more to exit.
 *
 * The hand-over is one atomic state per helper: the caller sets BUSY and
 * posts; the helper, done, moves BUSY to DONE and then writes its eventfd;
 * a caller that leaves moves BUSY to ABANDONED. Whichever move fails tells
 * its maker that the other side got there first. */
#define _GNU_SOURCE
#include "helper.h"
#include "mem.h"
#include "clock.h"
#include "fdtab.h"
#include "ownfd.h"
#include "real.h"
#include "scheduler.h"
#include "wait.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

/* Idle helpers a pool keeps. */
#define POOL_IDLE 4
/* A caller looks at the eventfd at least this often (see gp__helper_call). */
#define BACKSTOP_NS 1000000000ull

/* A helper's state. */
enum { IDLE, BUSY, DONE, ABANDONED };

struct pool;

struct helper {
  int efd;                    /* eventfd: written once per finished call */
  sem_t go;                   /* posted when a call (or the order to exit,
                                 fn NULL) is handed over */
  int state;                  /* IDLE, BUSY, DONE, ABANDONED; atomic */
  void (*fn)(void *arg);      /* the call; NULL: exit */
  void *arg;                  /* its argument */
  void (*release)(void *arg); /* frees arg once an abandoned call ends */
  struct pool *pool;          /* the pool it returns to */
  struct helper *next;        /* in its pool's idle list */
  struct helper *all_next;    /* in the list of every helper (for fork) */
};

/* The helpers of one scheduler thread. */
struct pool {
  pthread_mutex_t lock; /* guards idle and nidle: a helper whose
                           caller left puts itself back */
  struct helper *idle;  /* idle helpers, the last used first */
  unsigned nidle;       /* how many */
};

static __thread struct pool *tls_pool
    __attribute__((tls_model("initial-exec")));
/* Every helper alive, so that a fork's child can let go of them. */
static struct helper *all;
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;

static void atfork_child(void);

static void put_idle(struct pool *p, struct helper *h)
{
  gp__real_pthread_mutex_lock(&p->lock);
  h->next = p->idle;
  p->idle = h;
  p->nidle++;
  gp__real_pthread_mutex_unlock(&p->lock);
}

static void unlink_all(struct helper *h)
{
  struct helper **pp;

  gp__real_pthread_mutex_lock(&all_lock);
  for (pp = &all; *pp; pp = &(*pp)->all_next)
    if (*pp == h) {
      *pp = h->all_next;
      break;
    }
  gp__real_pthread_mutex_unlock(&all_lock);
}

static void *helper_main(void *arg)
{
  struct helper *h = arg;

  gp__tls.foreign = 1; /* every interposer passes through here */
  for (;;) {
    int busy = BUSY;
    while (gp__real_sem_wait(&h->go) != 0)
      ;
    if (h->fn == NULL)
      break;
    h->fn(h->arg);
    if (__atomic_compare_exchange_n(&h->state, &busy, DONE, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
      /* The count never nears the maximum: the write cannot block. */
      uint64_t one = 1;
      while (gp__real_write(h->efd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
    } else {
      /* ABANDONED: nobody waits; the eventfd stays clean. */
      h->release(h->arg);
      __atomic_store_n(&h->state, IDLE, __ATOMIC_RELEASE);
      put_idle(h->pool, h);
    }
  }
  /* Told to exit: the caller has closed the eventfd already. */
  unlink_all(h);
  gp__free(h);
  return NULL;
}

/* A new helper for pool p, its thread started with every signal blocked.
 * Returns it, or NULL with *err set. */
static struct helper *spawn(struct pool *p, int *err)
{
  static int registered;
  struct helper *h = gp__calloc(1, sizeof(*h));
  sigset_t all_sigs, old;
  pthread_attr_t a;
  pthread_t t;
  int r;

  if (h == NULL) {
    *err = -ENOMEM;
    return NULL;
  }
  h->pool = p;
  h->efd = gp__ownfd_move(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (h->efd < 0) {
    *err = -errno;
    goto fail_h;
  }
  gp__real_sem_init(&h->go, 0, 0);
  if (!__atomic_exchange_n(&registered, 1, __ATOMIC_ACQ_REL))
    pthread_atfork(NULL, NULL, atfork_child);
  gp__real_pthread_mutex_lock(&all_lock);
  h->all_next = all;
  all = h;
  gp__real_pthread_mutex_unlock(&all_lock);

  /* The new thread inherits the creator's mask: all blocked, so that no
   * signal meant for the program ever runs there. */
  sigfillset(&all_sigs);
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  gp__real_pthread_sigmask(SIG_SETMASK, &all_sigs, &old);
  GP__RUNTIME_ENTER();
  r = gp__real_pthread_create(&t, &a, helper_main, h);
  GP__RUNTIME_LEAVE();
  gp__real_pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&a);
  if (r == 0) {
    /* Named by its maker, so that it has its name from the start. */
    gp__real_pthread_setname_np(t, GP__HELPER_NAME);
    return h;
  }
  *err = -r;
  unlink_all(h);
  gp__real_close(h->efd);
fail_h:
  gp__free(h);
  return NULL;
}

/* An idle helper of this thread's pool, or a new one (NULL, *err set, when
 * none can be had). */
static struct helper *take(int *err)
{
  struct pool *p = tls_pool;
  struct helper *h;

  if (p == NULL) {
    if ((p = gp__calloc(1, sizeof(*p))) == NULL) {
      *err = -ENOMEM;
      return NULL;
    }
    gp__real_pthread_mutex_init(&p->lock, NULL);
    tls_pool = p;
  }
  gp__real_pthread_mutex_lock(&p->lock);
  h = p->idle;
  if (h) {
    p->idle = h->next;
    p->nidle--;
  }
  gp__real_pthread_mutex_unlock(&p->lock);
  return h ? h : spawn(p, err);
}

/* Puts h, whose call the caller has collected, back in its pool, or tells
 * it to exit when the pool has idle helpers enough. */
static void give_back(struct helper *h)
{
  struct pool *p = h->pool;
  int keep;

  __atomic_store_n(&h->state, IDLE, __ATOMIC_RELEASE);
  gp__real_pthread_mutex_lock(&p->lock);
  keep = p->nidle < POOL_IDLE;
  if (keep) {
    h->next = p->idle;
    p->idle = h;
    p->nidle++;
  }
  gp__real_pthread_mutex_unlock(&p->lock);
  if (keep)
    return;
  /* The eventfd is this thread's (its record, its poller): closed here,
   * before the helper may free h. */
  gp__fd_forget(h->efd);
  gp__real_close(h->efd);
  h->fn = NULL;
  gp__real_sem_post(&h->go);
}

int gp__helper_call(void (*fn)(void *arg), void *arg,
                    void (*release)(void *arg), int interruptible)
{
  struct helper *h;
  uint64_t n, pause = 1000000; /* 1 ms, doubling to 16 ms */
  int err = 0, w, saved = errno;

  h = take(&err);
  errno = saved; /* core leaves errno alone */
  if (h == NULL)
    return err;
  h->fn = fn;
  h->arg = arg;
  h->release = release;
  __atomic_store_n(&h->state, BUSY, __ATOMIC_RELEASE);
  gp__real_sem_post(&h->go);
  for (;;) {
    int busy = BUSY;
    if (gp__real_read(h->efd, &n, sizeof(n)) == (ssize_t)sizeof(n))
      break;
    /* Looked at again every BACKSTOP_NS as well: a poller that lost the
     * eventfd (its epoll fd closed or replaced behind the runtime's back)
     * costs time, never a hang. */
    w = gp__wait_fd(h->efd, EPOLLIN, gp__now() + BACKSTOP_NS, interruptible);
    if (w >= 0 || w == -ETIMEDOUT)
      continue;
    if (w != -EINTR && w != -ECANCELED && w != -GP__EXPIRED) {
      /* The poller refused the eventfd: look after growing pauses. */
      w = gp__sleep_until(gp__now() + pause, interruptible);
      if (pause < 16000000)
        pause *= 2;
      if (w >= 0)
        continue;
    }
    if (__atomic_compare_exchange_n(&h->state, &busy, ABANDONED, 0,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      errno = saved;
      return w; /* the helper finishes, releases arg, goes back itself */
    }
    /* DONE: fn returned just now, and the helper's write is a few
     * instructions away; take it (a real wait of that long). */
    for (;;) {
      struct pollfd pf = {.fd = h->efd, .events = POLLIN};
      if (gp__real_read(h->efd, &n, sizeof(n)) == (ssize_t)sizeof(n))
        break;
      gp__real_poll(&pf, 1, -1);
    }
    break;
  }
  give_back(h);
  errno = saved;
  return 0;
}

/* In the child of fork(): no helper thread exists there. Their eventfds,
 * inherited, are closed so that the child's fd numbers are as unpatched;
 * the pool of the forking thread starts empty. */
static void atfork_child(void)
{
  struct helper *h = all, *next;

  all = NULL;
  gp__real_pthread_mutex_init(&all_lock, NULL);
  for (; h; h = next) {
    next = h->all_next;
    gp__fd_forget(h->efd);
    gp__real_close(h->efd);
    gp__free(h);
  }
  if (tls_pool) {
    gp__real_pthread_mutex_init(&tls_pool->lock, NULL);
    tls_pool->idle = NULL;
    tls_pool->nidle = 0;
  }
}
