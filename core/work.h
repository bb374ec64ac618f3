/* work.h: calls offloaded to the threadpool (name lookups), while only the
 * calling coroutine waits. */
#ifndef GP_WORK_H
#define GP_WORK_H

/* Runs fn(arg) on a threadpool thread, where every interposer passes
 * through, and parks the calling coroutine until it has returned. The wait
 * cannot be cut short (fn may write into the caller's buffers): gp_kill and
 * gp_timeout take effect at the caller's next wait. fn's errno is its own:
 * it must carry whatever it needs back in arg. Returns 0, or -ENOMEM when
 * the work could not be queued (the caller then calls fn itself). */
int gp__offload(void (*fn)(void *arg), void *arg, const char *what);

#endif /* GP_WORK_H */
