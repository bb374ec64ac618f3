/* startup.h: what happens once per process before the runtime runs — the
 * real-function table, the configuration, the context mechanism
 * (gp__runtime_init, declared in common.h) — and what the program is told
 * when the runtime cannot start on a thread. */
#ifndef GP_STARTUP_H
#define GP_STARTUP_H

/* Says on stderr, once per process, that the runtime could not start on
 * the calling thread, naming the step (what) and its error (err, a
 * negative errno), and that the thread, or the whole program when it is
 * the first thread, runs unpatched. Async-signal-safe: no stdio, no
 * allocation. Does not touch errno. */
void gp__startup_failed(const char *what, int err);

/* The same for a worker of the pool (GPATCH_CORES): the program runs on
 * the schedulers that did start. */
void gp__startup_worker_failed(const char *what, int err);

#endif /* GP_STARTUP_H */
