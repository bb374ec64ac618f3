/* debug.c: what the runtime tells people — the report of every coroutine
 * with its backtrace (deadlocks, GPATCH_DEBUG's signal), stack overflow
 * reports from a SIGSEGV handler on an alternate stack, and the blocking
 * monitor (GPATCH_MAX_BLOCKING_MS). */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include "debug.h"
#include "config.h"
#include "coro.h"
#include "ownfd.h"
#include "real.h"
#include "preempt.h"
#include "scheduler.h"

#include <dlfcn.h>
#include <errno.h>
#include <libunwind.h>
#include <link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* Frames shown per coroutine. */
#define MAX_FRAMES 32
/* The alternate signal stack's size. */
#define ALTSTACK_SIZE (64 * 1024)

static struct sigaction old_segv; /* the handler before ours, to chain to */
static int segv_installed;        /* ours is installed */

void gp__debug_out(int fd, const char *fmt, ...)
{
  char buf[512];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n > (int)sizeof(buf) - 1)
    n = sizeof(buf) - 1;
  if (n > 0 && gp__real_write)
    gp__real_write(fd, buf, (size_t)n);
}

void gp__debug_backtrace(struct gp__coro *co, int fd)
{
  unw_context_t uc;
  unw_cursor_t cur;
  int i = 0;

  GP__RUNTIME_ENTER();
  unw_getcontext(&uc);
  if (co != co->sched->current && gp__ctx_unwind_context(&co->ctx, &uc) != 0) {
    GP__RUNTIME_LEAVE();
    gp__debug_out(fd, "    (no backtrace: the context was never saved)\n");
    return;
  }
  if (unw_init_local(&cur, &uc) != 0) {
    GP__RUNTIME_LEAVE();
    gp__debug_out(fd, "    (no backtrace)\n");
    return;
  }
  do {
    unw_word_t ip = 0, off = 0;
    char name[128];
    unw_get_reg(&cur, UNW_REG_IP, &ip);
    if (ip == 0)
      break;
    if (unw_get_proc_name(&cur, name, sizeof(name), &off) != 0)
      strcpy(name, "??");
    gp__debug_out(fd, "    #%-2d 0x%012lx %s+0x%lx\n", i, (unsigned long)ip,
                  name, (unsigned long)off);
  } while (++i < MAX_FRAMES && unw_step(&cur) > 0);
  GP__RUNTIME_LEAVE();
}

static const char *state_name(const struct gp__coro *co)
{
  switch (co->state) {
  case GP__READY:
    return "ready";
  case GP__RUNNING:
    return "running";
  case GP__PARKED:
    return "waiting";
  default:
    return "finished";
  }
}

static void describe_wait(const struct gp__wait *w, char *buf, size_t n)
{
  if (w == NULL)
    snprintf(buf, n, "-");
  else if (w->fd >= 0)
    snprintf(buf, n, "fd %d to become%s%s", w->fd,
             (w->events & EPOLLIN) ? " readable" : "",
             (w->events & EPOLLOUT) ? " writable" : "");
  else if (w->obj && strcmp(w->what, "join") == 0)
    snprintf(buf, n, "join of coroutine %llu",
             (unsigned long long)((const struct gp__coro *)w->obj)->id);
  else if (w->obj)
    snprintf(buf, n, "%s %p", w->what, w->obj);
  else
    snprintf(buf, n, "%s", w->what);
}

void gp__debug_dump(struct gp__sched *s, int fd, const char *title)
{
  struct gp__list *l;
  char what[96];

  if (title)
    gp__debug_out(fd, "%s\n", title);
  for (l = s->all.next; l != &s->all; l = l->next) {
    struct gp__coro *co = GP__CONTAINER(l, struct gp__coro, all_link);
    if (co->state == GP__DEAD)
      continue;
    describe_wait(co->wait, what, sizeof(what));
    gp__debug_out(fd, "  coroutine %llu%s%s%s: %s%s%s\n",
                  (unsigned long long)co->id, co->name[0] ? " '" : "", co->name,
                  co->name[0] ? "'" : "", state_name(co),
                  co->state == GP__PARKED ? " on " : "",
                  co->state == GP__PARKED ? what : "");
    if (co != s->current && co->started)
      gp__debug_backtrace(co, fd);
  }
}

/* Writes an unsigned number without stdio (signal handlers). */
static size_t fmt_u(char *p, unsigned long long v)
{
  char tmp[24];
  size_t n = 0, i;
  do
    tmp[n++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  for (i = 0; i < n; i++)
    p[i] = tmp[n - 1 - i];
  return n;
}

/* Writes "gpatch: coroutine N overflowed its K KiB stack" and then tail
 * to stderr, without stdio or an interposer (a signal handler runs this). */
static void say_overflow(const struct gp__coro *co, const char *tail)
{
  char msg[256];
  size_t n = 0;
  const char *a = "gpatch: coroutine ";
  const char *b = " overflowed its ";
  const char *c = " KiB stack";

  memcpy(msg + n, a, strlen(a));
  n += strlen(a);
  n += fmt_u(msg + n, co->id);
  memcpy(msg + n, b, strlen(b));
  n += strlen(b);
  n += fmt_u(msg + n, co->stack ? co->stack->size / 1024 : 0);
  memcpy(msg + n, c, strlen(c));
  n += strlen(c);
  if (strlen(tail) < sizeof(msg) - n) {
    memcpy(msg + n, tail, strlen(tail));
    n += strlen(tail);
  }
  if (gp__real_write(2, msg, n) < 0)
    (void)0; /* nothing more can be said */
}

_Noreturn void gp__debug_overflow(struct gp__coro *co)
{
  struct sigaction dfl;

  say_overflow(co, "; set GPATCH_STACK_SIZE\n");
  /* Die the way a segfault does. */
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  gp__real_sigaction(SIGSEGV, &dfl, NULL);
  if (gp__real_raise) /* raise is the shim's, which keeps it pending */
    gp__real_raise(SIGSEGV);
  _exit(128 + SIGSEGV);
}

/* Nonzero when the action runs a handler of the program's. */
static int catches(const struct sigaction *a)
{
  if (a->sa_flags & SA_SIGINFO)
    return a->sa_sigaction != NULL;
  return a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN;
}

static void on_segv(int sig, siginfo_t *si, void *uctx);

/* Installs the runtime's own SIGSEGV action. Returns sigaction's result;
 * old receives the action it replaced. */
static int install_ours(struct sigaction *old)
{
  struct sigaction sa;

  memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  return gp__real_sigaction(SIGSEGV, &sa, old);
}

/* The program's handler, delivered by the kernel with the program's own
 * flags, mask and stack (on_segv put this in place just for it): ours goes
 * back first, SA_RESETHAND is done here (ours must stay), then the
 * program's handler runs. */
static void chained(int sig, siginfo_t *si, void *uctx)
{
  struct sigaction app = old_segv;
  int saved = errno;

  install_ours(NULL);
  errno = saved; /* the program's handler finds it as it was */
  if (app.sa_flags & SA_RESETHAND)
    old_segv.sa_handler = SIG_DFL; /* as the kernel does: flags stay */
  if (app.sa_flags & SA_SIGINFO) {
    if (app.sa_sigaction)
      app.sa_sigaction(sig, si, uctx);
  } else if (app.sa_handler != SIG_DFL && app.sa_handler != SIG_IGN) {
    app.sa_handler(sig);
  }
}

/* The stack pointer of the context a signal interrupted, or 0. */
static uintptr_t sp_of(const void *uctx)
{
#if defined(__x86_64__)
  return (uintptr_t)((const ucontext_t *)uctx)->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
  return (uintptr_t)((const ucontext_t *)uctx)->uc_mcontext.sp;
#else
  (void)uctx;
  return 0;
#endif
}

/* A SIGSEGV that is not a coroutine's stack overflow (or one the program
 * handles itself) goes to the program exactly as unpatched. Calling its
 * handler from here would run it on the runtime's stack, with the
 * runtime's mask and flags; instead the program's own action (or the
 * default) is put in place and the very signal, its siginfo whole, is
 * sent again to this thread, blocked until this handler returns: the
 * kernel then delivers it as it would have — the program's alternate
 * stack (SA_ONSTACK), sa_mask, SA_NODEFER, SA_RESETHAND — or kills with
 * the default action, also when it was sent (kill, raise, sigqueue) and
 * would never recur as a fault does. An ignored signal that was sent is
 * ignored; an ignored fault kills, as the kernel forces it. */
static void on_segv(int sig, siginfo_t *si, void *uctx)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__coro *co = s ? s->current : NULL;
  struct sigaction app = old_segv, now;
  int sent = si->si_code <= 0; /* SI_USER, SI_QUEUE, SI_TKILL … */
  int saved = errno;
  sigset_t segv;

  if (!sent && co && co->stack &&
      gp__stack_overflow_hit(co->stack, si->si_addr, sp_of(uctx))) {
    if (!catches(&app))
      gp__debug_overflow(co);
    say_overflow(co, "; the program's SIGSEGV handler takes it\n");
  }
  if (sent && !catches(&app) && app.sa_handler == SIG_IGN)
    return;
  memset(&now, 0, sizeof(now));
  sigemptyset(&now.sa_mask);
  if (catches(&app)) {
    now.sa_sigaction = chained;
    now.sa_flags = (app.sa_flags & ~SA_RESETHAND) | SA_SIGINFO;
    now.sa_mask = app.sa_mask;
  } else {
    now.sa_handler = SIG_DFL;
  }
  gp__real_sigaction(sig, &now, NULL);
  sigemptyset(&segv);
  sigaddset(&segv, sig);
  gp__real_pthread_sigmask(SIG_BLOCK, &segv, NULL);
  if (gp__real_syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), sig, si) != 0)
    gp__real_syscall(SYS_tgkill, getpid(), gettid(), sig);
  errno = saved; /* the interrupted code's */
}

int gp__debug_segv_chain(const struct sigaction *act, struct sigaction *oact)
{
  struct sigaction prev = old_segv;
  /* Before the runtime installs its handler, the kernel keeps the app's
   * (and the runtime takes it as the one to chain to when it does). */
  if (!__atomic_load_n(&segv_installed, __ATOMIC_ACQUIRE))
    return gp__real_sigaction(SIGSEGV, act, oact);
  if (act)
    old_segv = *act;
  if (oact)
    *oact = prev;
  return 0;
}

int gp__debug_thread_init(struct gp__sched *s)
{
  stack_t ss, old;

  /* The signal stack: only if the thread has none of its own. */
  if (sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_DISABLE)) {
    /* A retired scheduler's (gp__sched_retire) serves its next thread. */
    if (s->altstack == NULL)
      s->altstack = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (s->altstack != MAP_FAILED) {
      ss.ss_sp = s->altstack;
      ss.ss_size = ALTSTACK_SIZE;
      ss.ss_flags = 0;
      sigaltstack(&ss, NULL);
    } else {
      s->altstack = NULL;
    }
  }
  if (__atomic_exchange_n(&segv_installed, 1, __ATOMIC_ACQ_REL))
    return 0;
  return install_ours(&old_segv) == 0 ? 0 : -errno;
}

/* The monitor: a real thread that notices when a scheduler's thread has
 * run one coroutine for a while without switching (a call the shim does
 * not cover, a long computation, a spin on a flag). It preempts that
 * coroutine after GPATCH_PREEMPT_MS when others wait (preempt.c), and
 * reports it after GPATCH_MAX_BLOCKING_MS. */
/* The monitor's longest sleep, while every scheduler waits in its poll. */
#define IDLE_TICK_NS 200000000u

static void *monitor_main(void *arg)
{
  unsigned ms = gp__config.max_blocking_ms;
  struct {
    uint64_t last, since, reported;
  } seen[GP__MAX_SCHEDS];

  unsigned idle = 0; /* turns in a row that found every hub polling */

  (void)arg;
  gp__tls.foreign = 1;
  for (int i = 0; i < GP__MAX_SCHEDS; i++)
    seen[i].last = seen[i].reported = UINT64_MAX;
  for (;;) {
    /* Sample four times per blocking period (a run is seen within 1.25
     * periods), and twice per preemption period; while every hub waits in
     * its poll (nothing runs that could be stuck), less and less often, up
     * to IDLE_TICK_NS. */
    uint64_t ns = ms ? (uint64_t)ms * 250000u : UINT64_MAX;
    uint64_t pre = gp__preempt_period_ns();
    struct timespec tick;
    int n, busy = 0;
    if (pre && pre < ns)
      ns = pre;
    if (ns == UINT64_MAX)
      ns = IDLE_TICK_NS; /* preemption ended, no reports: idle */
    ns <<= idle;
    if (ns > IDLE_TICK_NS && idle)
      ns = IDLE_TICK_NS;
    tick.tv_sec = (time_t)(ns / 1000000000u);
    tick.tv_nsec = (long)(ns % 1000000000u);
    gp__real_nanosleep(&tick, NULL);
    n = __atomic_load_n(&gp__nsched, __ATOMIC_ACQUIRE);
    for (int i = 0; i < n; i++) {
      struct gp__sched *s = __atomic_load_n(&gp__scheds[i], __ATOMIC_ACQUIRE);
      uint64_t sw, now;
      int polling;
      if (s == NULL || __atomic_load_n(&s->retired, __ATOMIC_ACQUIRE)) {
        seen[i].last = UINT64_MAX; /* its next thread is seen anew */
        continue;
      }
      sw = __atomic_load_n(&s->switches, __ATOMIC_RELAXED);
      now = gp__now();
      polling = __atomic_load_n(&s->in_poll, __ATOMIC_RELAXED);
      busy |= !polling;
      if (sw != seen[i].last || polling) {
        seen[i].last = sw;
        seen[i].since = now;
        continue;
      }
      gp__preempt_check(s, now - seen[i].since);
      if (ms && now - seen[i].since >= (uint64_t)ms * 1000000u &&
          seen[i].reported != sw) {
        struct gp__coro *co = __atomic_load_n(&s->current, __ATOMIC_RELAXED);
        seen[i].reported = sw;
        gp__debug_out(
            2,
            "gpatch: coroutine %llu%s%s%s has run %llu ms without yielding "
            "(a blocking call the shim does not cover, or a long "
            "computation); every other coroutine of scheduler %d (thread "
            "%d) waits\n",
            (unsigned long long)co->id, co->name[0] ? " '" : "", co->name,
            co->name[0] ? "'" : "",
            (unsigned long long)((now - seen[i].since) / 1000000), i,
            (int)s->tid);
      }
    }
    idle = busy ? 0 : idle < 8 ? idle + 1 : idle;
  }
  return NULL;
}

/* GPATCH_DEBUG's signal, caught through libuv so that the report is made
 * on the hub, between coroutines, never inside a signal handler. */
static void on_debug_signal(uv_signal_t *h, int sig)
{
  gp__sched_dump_all(h->data, sig);
}

/* libuv's handler of the dump signal, which gp__debug_monitor_start wraps:
 * it reads and writes pipes of libuv's own (its lock, its loop's pipe),
 * and a signal handler must never meet an interposer — which may park, or
 * yield the caller's time slice, from inside the handler. */
static void (*uv_handler)(int sig);

static void debug_signal_wrapper(int sig)
{
  gp__tls.depth++; /* every interposer passes straight through */
  uv_handler(sig);
  gp__tls.depth--;
}

/* Puts debug_signal_wrapper before the handler libuv installed for sig,
 * with the same flags and mask. */
static void wrap_uv_handler(int sig)
{
  struct sigaction cur;

  if (gp__real_sigaction(sig, NULL, &cur) != 0 || (cur.sa_flags & SA_SIGINFO) ||
      cur.sa_handler == SIG_DFL || cur.sa_handler == SIG_IGN ||
      cur.sa_handler == debug_signal_wrapper)
    return;
  uv_handler = cur.sa_handler;
  cur.sa_handler = debug_signal_wrapper;
  gp__real_sigaction(sig, &cur, NULL);
}

/* The dump signal's handle, on the first scheduler's loop. */
static uv_signal_t sig;
static int sig_on;

void gp__debug_hold_loop(struct gp__sched *s, int hold)
{
  if (!sig_on || sig.loop != &s->loop)
    return;
  if (hold)
    uv_ref((uv_handle_t *)&sig);
  else
    uv_unref((uv_handle_t *)&sig);
}

void gp__debug_monitor_start(struct gp__sched *s)
{
  static int started;

  if (__atomic_exchange_n(&started, 1, __ATOMIC_ACQ_REL))
    return;
  if (gp__config.debug_signal) {
    struct gp__ownfd_hold h;
    gp__ownfd_hold(&h); /* libuv's signal pipe, above the floor */
    GP__RUNTIME_ENTER();
    uv_signal_init(&s->loop, &sig);
    GP__RUNTIME_LEAVE();
    gp__ownfd_release(&h);
    gp__ownfd_note(s->loop.signal_pipefd[0]);
    gp__ownfd_note(s->loop.signal_pipefd[1]);
    GP__RUNTIME_ENTER();
    sig.data = s;
    if (uv_signal_start(&sig, on_debug_signal, gp__config.debug_signal) == 0) {
      /* libuv adds the signal pipe to its epoll set only in its next
       * poll, and the hub runs the loop only when that set reports
       * something (or a timer is due): without this turn, made while the
       * handle still keeps the loop alive, the dump signal was caught and
       * never acted on. */
      uv_run(&s->loop, UV_RUN_NOWAIT);
      uv_unref((uv_handle_t *)&sig); /* it must not hide a deadlock */
      wrap_uv_handler(gp__config.debug_signal);
      sig_on = 1;
    }
    GP__RUNTIME_LEAVE();
  }
  if (gp__config.max_blocking_ms != 0)
    gp__debug_monitor_run();
}

/* The monitor's thread is running (in this process). */
static int monitor_running;

static void monitor_fork_child(void)
{
  monitor_running = 0; /* the child has no such thread */
}

void gp__debug_monitor_run(void)
{
  static int atfork_done;
  pthread_t t;
  pthread_attr_t a;
  sigset_t all, old;

  if (__atomic_exchange_n(&monitor_running, 1, __ATOMIC_ACQ_REL))
    return;
  if (!__atomic_exchange_n(&atfork_done, 1, __ATOMIC_ACQ_REL))
    pthread_atfork(NULL, NULL, monitor_fork_child);
  pthread_attr_init(&a);
  pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
  /* Blind to every signal (it inherits the mask): the kernel must never
   * give it one meant for the program. */
  sigfillset(&all);
  gp__real_pthread_sigmask(SIG_SETMASK, &all, &old);
  GP__RUNTIME_ENTER();
  if (gp__real_pthread_create(&t, &a, monitor_main, NULL) != 0)
    gp__debug_out(2, "gpatch: cannot start the blocking monitor\n");
  else
    gp__real_pthread_setname_np(t, "gpatch-monitor");
  GP__RUNTIME_LEAVE();
  gp__real_pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&a);
}

void gp__debug_report_uv(void)
{
  static int done;
  void *ours, *global, *h;
  Dl_info where;
  const char *(*version)(void);

  if (__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
    return;
  /* The runtime's uv_* calls bind by the global lookup order, in which the
   * program comes before libuv.so.1: a program that carries a libuv of its
   * own and exports it (node does) gets the runtime's calls. */
  h = dlopen("libuv.so.1", RTLD_LAZY | RTLD_NOLOAD);
  ours = h ? dlsym(h, "uv_version_string") : NULL;
  global = dlsym(RTLD_DEFAULT, "uv_version_string");
  if (h)
    dlclose(h);
  if (ours == NULL || global == NULL || ours == global)
    return;
  version = (const char *(*)(void))global;
  if (dladdr(global, &where) == 0 || where.dli_fname == NULL ||
      where.dli_fname[0] == '\0')
    where.dli_fname = "the program";
  gp__debug_out(
      2,
      "gpatch: %s carries its own libuv %s and exports it: the runtime's "
      "event loop runs on that copy (built against %d.%d.%d; see README, "
      "Limitations)\n",
      where.dli_fname, version(), UV_VERSION_MAJOR, UV_VERSION_MINOR,
      UV_VERSION_PATCH);
}
