/* sysvipc.c: System V message queues and semaphores. Their waits have a
 * form that does not wait (IPC_NOWAIT) and no fd that says when to try
 * again: a thread that is a coroutine asks without waiting and, while the
 * call would wait, parks and asks again (gp__shim_retry: 1 ms, doubling
 * to 16 ms), its scheduler's other coroutines running meanwhile; glibc's
 * calls waited in the kernel, holding the OS thread. A caught signal ends
 * the wait with EINTR whatever SA_RESTART says, as the kernel never
 * restarts these calls; msgrcv and msgsnd are cancellation points, as
 * glibc makes them, semop and semtimedop are not. What differs (README):
 * a wait ends up to 16 ms after it could, not in turn with the kernel's
 * own waiters. A queue or set removed while a call waits gives EIDRM, as
 * the kernel's wait says: the next try finds the id gone (EINVAL). */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/sem.h>

/* The most operations one semop takes here (the kernel's default SEMOPM
 * is 500); past it, or with none, the kernel's own call says why not. */
#define MAX_SOPS 500

/* r, with EINVAL after a first try (the id was good then) made EIDRM. */
static long removed(long r, int *tried)
{
  if (r < 0 && errno == EINVAL && *tried)
    errno = EIDRM;
  *tried = 1;
  return r;
}

struct msg_try {
  int id, flg, tried;
  void *msgp;
  size_t sz;
  long type;
};

static long msgrcv_now(void *arg)
{
  struct msg_try *m = arg;
  return removed(
      gp__real_msgrcv(m->id, m->msgp, m->sz, m->type, m->flg | IPC_NOWAIT),
      &m->tried);
}

static long msgsnd_now(void *arg)
{
  struct msg_try *m = arg;
  return removed(gp__real_msgsnd(m->id, m->msgp, m->sz, m->flg | IPC_NOWAIT),
                 &m->tried);
}

GP_EXPORT ssize_t msgrcv(int id, void *msgp, size_t sz, long type, int flg)
{
  gp__real_init();
  if ((flg & IPC_NOWAIT) || !gp__shim_parks(GP__PATCH_THREAD))
    return gp__real_msgrcv(id, msgp, sz, type, flg);
  struct msg_try m = {id, flg, 0, msgp, sz, type};
  return gp__shim_retry(msgrcv_now, &m, ENOMSG, GP__NEVER, GP__RETRY_CANCEL,
                        EINTR);
}

GP_EXPORT int msgsnd(int id, const void *msgp, size_t sz, int flg)
{
  gp__real_init();
  if ((flg & IPC_NOWAIT) || !gp__shim_parks(GP__PATCH_THREAD))
    return gp__real_msgsnd(id, msgp, sz, flg);
  struct msg_try m = {id, flg, 0, (void *)msgp, sz, 0};
  return (int)gp__shim_retry(msgsnd_now, &m, EAGAIN, GP__NEVER,
                             GP__RETRY_CANCEL, EINTR);
}

struct sem_try {
  int id, tried;
  struct sembuf *sops;
  size_t n;
};

static long semop_now(void *arg)
{
  struct sem_try *t = arg;
  return removed(gp__real_semtimedop(t->id, t->sops, t->n, NULL), &t->tried);
}

GP_EXPORT int semtimedop(int id, struct sembuf *sops, size_t n,
                         const struct timespec *tmo)
{
  struct sembuf *mine;
  struct timespec t;
  uint64_t deadline = GP__NEVER;
  int64_t ns;
  long r;

  gp__real_init();
  __asm__("" : "+r"(tmo));
  if (!gp__shim_parks(GP__PATCH_THREAD) || n < 1 || n > MAX_SOPS)
    return gp__real_semtimedop(id, sops, n, tmo);
  if (tmo != NULL) {
    if (gp__shim_copy_in(&t, tmo, sizeof(t)) != 0)
      return -1; /* EFAULT */
    if ((ns = gp__ts_to_ns(&t)) < 0) {
      errno = EINVAL;
      return -1;
    }
    deadline = gp__now() + (uint64_t)ns;
  }
  if ((mine = malloc(n * sizeof(*mine))) == NULL)
    return gp__real_semtimedop(id, sops, n, tmo);
  if (gp__shim_copy_in(mine, sops, n * sizeof(*mine)) != 0) {
    free(mine);
    return -1; /* EFAULT */
  }
  /* An operation the program gave IPC_NOWAIT must fail at once where the
   * others wait: with any, the kernel's own call decides. */
  for (size_t i = 0; i < n; i++)
    if (mine[i].sem_flg & IPC_NOWAIT) {
      free(mine);
      return gp__real_semtimedop(id, sops, n, tmo);
    }
  for (size_t i = 0; i < n; i++)
    mine[i].sem_flg |= IPC_NOWAIT;
  struct sem_try st = {id, 0, mine, n};
  r = gp__shim_retry(semop_now, &st, EAGAIN, deadline, 0, EAGAIN);
  int e = errno;
  free(mine);
  errno = e;
  return (int)r;
}

GP_EXPORT int semop(int id, struct sembuf *sops, size_t n)
{
  return semtimedop(id, sops, n, NULL);
}
