/* config.c: GPATCH_* variables. Each is read once; a value that does not
 * parse, or that cannot work, is named on stderr with the reason and
 * replaced by the default, never guessed at. Messages are written without
 * stdio (msg.h): values are quoted, bounded and escaped. */
#define _GNU_SOURCE
#include "config.h"
#include "msg.h"
#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

struct gp__config gp__config = {
    .cores = 1,
    .stack_size = GP__FALLBACK_STACK_SIZE,
    .patch = GP__PATCH_ALL,
    .on_deadlock = GP__DEADLOCK_ABORT,
    .preempt_ms = 10,
};

/* The signal GPATCH_DEBUG=1 selects: few programs use SIGPWR (its
 * original meaning, power failure, is obsolete on Linux). */
#define DEFAULT_DEBUG_SIGNAL SIGPWR
/* The most of a rejected value shown. */
#define SHOWN 64

/* Writes "gpatch: <pre>VAR="val": <why><post>", the value quoted, bounded
 * and escaped. */
static void say(const char *pre, const char *var, const char *val,
                const char *why, const char *post)
{
  struct gp__msg m = {.len = 0};
  gp__msg_put(&m, "gpatch: ");
  gp__msg_put(&m, pre);
  gp__msg_put(&m, var);
  gp__msg_put(&m, "=");
  gp__msg_quote(&m, val, SHOWN);
  gp__msg_put(&m, ": ");
  gp__msg_put(&m, why);
  gp__msg_put(&m, post);
  gp__msg_send(&m);
}

/* Says that var's value val is ignored, and why: "expected ..." for a value
 * that does not parse, a reason for one that cannot work. */
static void bad(const char *var, const char *val, const char *why)
{
  say("ignoring ", var, val, why, "; using the default");
}

size_t gp__config_default_stack(void)
{
  pthread_attr_t a;
  size_t size = 0;

  if (pthread_getattr_default_np(&a) == 0) {
    pthread_attr_getstacksize(&a, &size);
    pthread_attr_destroy(&a);
  }
  return size >= 16384 ? size : GP__FALLBACK_STACK_SIZE;
}

static int named(struct dl_phdr_info *info, size_t size, void *prefix)
{
  const char *name = info->dlpi_name, *base;
  (void)size;
  if (name == NULL)
    return 0;
  base = strrchr(name, '/');
  base = base ? base + 1 : name;
  return strncmp(base, prefix, strlen(prefix)) == 0;
}

int gp__config_lib_loaded(const char *prefix)
{
  return dl_iterate_phdr(named, (void *)prefix);
}

/* Reads up to len bytes of fd at off into buf; returns how many (0 on
 * error). */
static size_t read_at(int fd, void *buf, size_t len, uint64_t off)
{
  long n = gp__real_syscall(SYS_pread64, fd, buf, len, (long)off);
  return n > 0 ? (size_t)n : 0;
}

int gp__config_exe_section(const char *name, const char *has)
{
  ElfW(Ehdr) eh;
  ElfW(Shdr) sh[128], str;
  char names[4096], body[1024];
  int fd, found = 0;
  size_t n, got, len = has ? strlen(has) : 0;

  fd = (int)gp__real_syscall(SYS_openat, AT_FDCWD, "/proc/self/exe",
                             O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  if (read_at(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
      memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_shentsize != sizeof(ElfW(Shdr)) || eh.e_shnum == 0 ||
      eh.e_shnum > 128 || eh.e_shstrndx >= eh.e_shnum)
    goto out;
  n = eh.e_shnum;
  if (read_at(fd, sh, n * sizeof(sh[0]), eh.e_shoff) != n * sizeof(sh[0]))
    goto out;
  str = sh[eh.e_shstrndx];
  got = read_at(fd, names,
                str.sh_size < sizeof(names) ? str.sh_size : sizeof(names) - 1,
                str.sh_offset);
  names[got] = '\0';
  for (size_t i = 0; i < n && !found; i++) {
    if (sh[i].sh_name >= got || strcmp(names + sh[i].sh_name, name) != 0)
      continue;
    if (has == NULL) {
      found = 1;
      break;
    }
    got = read_at(fd, body,
                  sh[i].sh_size < sizeof(body) ? sh[i].sh_size : sizeof(body),
                  sh[i].sh_offset);
    for (size_t j = 0; j + len <= got && !found; j++)
      found = memcmp(body + j, has, len) == 0;
  }
out:
  gp__real_syscall(SYS_close, fd);
  return found;
}

int gp__config_parse_size(const char *s, size_t *out)
{
  char *end;
  unsigned long long v;
  unsigned shift = 0;

  if (s == NULL || *s < '0' || *s > '9')
    return -EINVAL;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno != 0)
    return -EINVAL;
  switch (*end) {
  case 'k':
  case 'K':
    shift = 10;
    end++;
    break;
  case 'm':
  case 'M':
    shift = 20;
    end++;
    break;
  case 'g':
  case 'G':
    shift = 30;
    end++;
    break;
  default:
    break;
  }
  /* Checked before the shift, which would otherwise wrap around. */
  if (v > (1ULL << 40) >> shift)
    return -EINVAL;
  v <<= shift;
  if ((*end == 'b' || *end == 'B') && end[1] == '\0')
    end++;
  if (*end != '\0' || v == 0 || v > (1ULL << 40))
    return -EINVAL;
  *out = (size_t)v;
  return 0;
}

static const struct {
  const char *name;
  unsigned bit;
} families[] = {
    {"socket", GP__PATCH_SOCKET}, {"time", GP__PATCH_TIME},
    {"select", GP__PATCH_SELECT}, {"dns", GP__PATCH_DNS},
    {"thread", GP__PATCH_THREAD}, {"process", GP__PATCH_PROCESS},
    {"signal", GP__PATCH_SIGNAL}, {"all", GP__PATCH_ALL},
};

int gp__config_parse_patch(const char *s, unsigned *out)
{
  char buf[256], *tok, *save;
  unsigned set = 0;
  int first = 1;

  if (s == NULL || strlen(s) >= sizeof(buf))
    return -EINVAL;
  strcpy(buf, s);
  if (strcmp(buf, "none") == 0) {
    *out = 0;
    return 0;
  }
  for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    int neg = tok[0] == '-';
    unsigned bit = 0;
    if (neg)
      tok++;
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
      if (strcmp(tok, families[i].name) == 0)
        bit = families[i].bit;
    if (bit == 0)
      return -EINVAL;
    if (first && neg)
      set = GP__PATCH_ALL; /* "-thread" means everything but threads */
    first = 0;
    set = neg ? (set & ~bit) : (set | bit);
  }
  if (first)
    return -EINVAL;
  *out = set;
  return 0;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
  char *end;
  unsigned long v;

  if (*s < '0' || *s > '9')
    return -EINVAL;
  errno = 0;
  v = strtoul(s, &end, 10);
  if (errno || *end || v > max)
    return -EINVAL;
  *out = (unsigned)v;
  return 0;
}

int gp__config_parse_cores(const char *s, unsigned ncpus, unsigned *out)
{
  if (s != NULL && strcmp(s, "auto") == 0) {
    *out = ncpus < 1 ? 1 : ncpus > 64 ? 64 : ncpus;
    return 0;
  }
  if (s == NULL || parse_uint(s, 64, out) != 0 || *out == 0)
    return -EINVAL;
  return 0;
}

/* The CPUs the process may run on. */
static unsigned affinity_cpus(void)
{
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) != 0)
    return 1;
  return (unsigned)CPU_COUNT(&set);
}

static int parse_signal(const char *s, int *out)
{
  unsigned v;

  if (strcmp(s, "0") == 0) {
    *out = 0;
    return 0;
  }
  if (strcmp(s, "1") == 0) {
    *out = DEFAULT_DEBUG_SIGNAL;
    return 0;
  }
  if (strncasecmp(s, "SIG", 3) == 0)
    s += 3;
  for (int i = 1; i < NSIG; i++) {
    const char *abbrev = sigabbrev_np(i);
    if (abbrev && strcasecmp(abbrev, s) == 0) {
      *out = i;
      return 0;
    }
  }
  if (parse_uint(s, NSIG - 1, &v) == 0 && v > 0) {
    *out = (int)v;
    return 0;
  }
  return -EINVAL;
}

/* The families a wait can depend on another thread through. */
static const struct {
  unsigned bit;
  const char *name;
} waiting[] = {
    {GP__PATCH_SOCKET, "socket"}, {GP__PATCH_SELECT, "select"},
    {GP__PATCH_TIME, "time"},     {GP__PATCH_PROCESS, "process"},
    {GP__PATCH_SIGNAL, "signal"},
};

int gp__config_check_patch(unsigned patch, struct gp__msg *why)
{
  struct gp__msg list = {.len = 0};

  if (!(patch & GP__PATCH_THREAD))
    return 0; /* real threads: each waits on its own */
  for (size_t i = 0; i < sizeof(waiting) / sizeof(waiting[0]); i++)
    if (!(patch & waiting[i].bit)) {
      gp__msg_put(&list, list.len ? ", " : "");
      gp__msg_put(&list, waiting[i].name);
    }
  if (list.len > 0) {
    gp__msg_put(why, "with threads patched (coroutines of one OS thread) a ");
    gp__msg_put(why, list.buf);
    gp__msg_put(why, " call that waits, left to libc, would stop every "
                     "thread, and hang when another thread of the program "
                     "is to end the wait; keep ");
    gp__msg_put(why, list.buf);
    gp__msg_put(why, " patched, or add -thread for real threads");
    return -EINVAL;
  }
  if (!(patch & GP__PATCH_DNS)) {
    gp__msg_put(why, "name lookups left to libc stop every thread (all "
                     "coroutines of one OS thread) until they return");
    return 1;
  }
  return 0;
}

int gp__config_check_signal(int sig, struct gp__msg *why)
{
  const char *name = sigabbrev_np(sig), *reason;

  switch (sig) {
  case SIGKILL:
  case SIGSTOP:
    reason = " cannot be caught";
    break;
  case SIGSEGV:
    reason = " is the runtime's own: its handler reports stack overflows";
    break;
  case SIGBUS:
  case SIGFPE:
  case SIGILL:
  case SIGTRAP:
  case SIGSYS:
    reason = " comes from a faulting instruction, which would fault again "
             "after each dump, for ever";
    break;
  default:
    if (sig < 32 || sig >= SIGRTMIN)
      return 0;
    reason = " is glibc's own (thread cancellation, set*id)";
  }
  if (name) {
    gp__msg_put(why, "SIG");
    gp__msg_put(why, name);
  } else {
    gp__msg_put(why, "signal ");
    gp__msg_num(why, (unsigned long)sig);
  }
  gp__msg_put(why, reason);
  gp__msg_put(why, "; choose another, or 1 for SIGPWR");
  return -EINVAL;
}

/* Reads the GPATCH_* variables into c. */
static void read_env(struct gp__config *c)
{
  struct gp__msg why = {.len = 0};
  const char *v;
  unsigned patch;
  int sig, r;

  if ((v = getenv("GPATCH_STACK_SIZE")) && *v) {
    size_t sz;
    if (gp__config_parse_size(v, &sz) || sz < 16384)
      bad("GPATCH_STACK_SIZE", v,
          "expected a size of at least 16K, like 256K or 8M");
    else
      c->stack_size = sz;
  }
  if ((v = getenv("GPATCH_PATCH")) && *v) {
    why.len = 0;
    if (gp__config_parse_patch(v, &patch)) {
      bad("GPATCH_PATCH", v,
          "expected all, none, or a list of socket,time,select,dns,thread,"
          "process,signal (a leading - removes one)");
    } else if ((r = gp__config_check_patch(patch, &why)) < 0) {
      bad("GPATCH_PATCH", v, why.buf);
    } else {
      c->patch = patch;
      if (r > 0)
        say("", "GPATCH_PATCH", v, why.buf, "");
    }
  }
  if ((v = getenv("GPATCH_CONTEXT")) && *v) {
    if (strcmp(v, "ucontext") == 0)
      c->use_ucontext = 1;
    else if (strcmp(v, "asm") != 0)
      bad("GPATCH_CONTEXT", v, "expected asm or ucontext");
  }
  if ((v = getenv("GPATCH_MAX_BLOCKING_MS")) && *v &&
      parse_uint(v, 3600 * 1000, &c->max_blocking_ms))
    bad("GPATCH_MAX_BLOCKING_MS", v, "expected milliseconds, 0 for off");
  if ((v = getenv("GPATCH_PREEMPT_MS")) && *v &&
      parse_uint(v, 60 * 1000, &c->preempt_ms))
    bad("GPATCH_PREEMPT_MS", v, "expected milliseconds, 0 for never");
  if ((v = getenv("GPATCH_ON_DEADLOCK")) && *v) {
    if (strcmp(v, "hang") == 0)
      c->on_deadlock = GP__DEADLOCK_HANG;
    else if (strcmp(v, "abort") != 0)
      bad("GPATCH_ON_DEADLOCK", v, "expected abort or hang");
  }
  if ((v = getenv("GPATCH_DEBUG")) && *v) {
    why.len = 0;
    if (parse_signal(v, &sig))
      bad("GPATCH_DEBUG", v,
          "expected 0, 1 (SIGPWR) or a signal name or number");
    else if (gp__config_check_signal(sig, &why) < 0)
      bad("GPATCH_DEBUG", v, why.buf);
    else
      c->debug_signal = sig;
  }
  if ((v = getenv("GPATCH_THREADPOOL")) && *v &&
      (parse_uint(v, 1024, &c->threadpool) || c->threadpool == 0))
    bad("GPATCH_THREADPOOL", v, "expected a thread count from 1 to 1024");
  v = getenv("GPATCH_CORES");
  if (v == NULL || *v == '\0')
    v = "auto"; /* the default: every CPU the process may use */
  c->cores_auto = strcmp(v, "auto") == 0;
  if (gp__config_parse_cores(v, affinity_cpus(), &c->cores)) {
    bad("GPATCH_CORES", v, "expected a count from 1 to 64, or auto");
    gp__config_parse_cores("auto", affinity_cpus(), &c->cores);
    c->cores_auto = 1;
  }
  if ((v = getenv("GPATCH_SUD")) && *v) {
    if (strcmp(v, "1") == 0 || strcmp(v, "on") == 0)
      c->sud = GP__SUD_ON;
    else if (strcmp(v, "0") == 0 || strcmp(v, "off") == 0)
      c->sud = GP__SUD_OFF;
    else if (strcmp(v, "auto") != 0)
      bad("GPATCH_SUD", v, "expected auto, on or off");
  }
  if ((v = getenv("GPATCH_TLS")) && *v) {
    if (strcmp(v, "thread") == 0)
      c->tls = GP__TLS_THREAD;
    else if (strcmp(v, "copy") == 0)
      c->tls = GP__TLS_COPY;
    else if (strcmp(v, "auto") != 0)
      bad("GPATCH_TLS", v, "expected auto, copy or thread");
  }
  if ((v = getenv("GPATCH_NO_MADV_GUARD")) && strcmp(v, "1") == 0)
    c->no_madv_guard = 1;
}

void gp__config_init(void)
{
  static int done;
  struct gp__config *c = &gp__config;
  const char *given;
  int saved = errno;

  int expected = 0;

  if (!__atomic_compare_exchange_n(&done, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                   __ATOMIC_ACQUIRE)) {
    while (__atomic_load_n(&done, __ATOMIC_ACQUIRE) != 2)
      ; /* another thread reads the environment */
    return;
  }
  c->stack_size = gp__config_default_stack();
  if (!getauxval(AT_SECURE)) /* set-uid and friends: not trusted */
    read_env(c);
  /* Boehm's collector stops the world by sending each thread a signal
   * whose handler must run on that thread, its stack and registers, while
   * it waits for a lock or computes; a coroutine that waits for the
   * collector's lock cannot, and the collection hangs. So its programs
   * keep real threads unless GPATCH_PATCH says otherwise. */
  given = getenv("GPATCH_PATCH");
  if ((c->patch & GP__PATCH_THREAD) &&
      (getauxval(AT_SECURE) || given == NULL || *given == '\0') &&
      gp__config_lib_loaded("libgc.so")) {
    c->patch &= ~GP__PATCH_THREAD;
    c->gc_real_threads = 1;
  }
  /* Go's runtime (a program built with cgo reaches libc, and makes its
   * threads with pthread_create) waits with futex and sleeps with raw
   * system calls of its own, which block a scheduler's OS thread with
   * every other thread on it: goroutines and C calls hung with one or two
   * schedulers. Its threads stay real; the Go linker's build-id note names
   * such a program. */
  if ((c->patch & GP__PATCH_THREAD) &&
      (getauxval(AT_SECURE) || given == NULL || *given == '\0') &&
      (gp__config_exe_section(".note.go.buildid", NULL) ||
       gp__config_exe_section(".go.buildinfo", NULL))) {
    c->patch &= ~GP__PATCH_THREAD;
    c->go_real_threads = 1;
  }
  __atomic_store_n(&done, 2, __ATOMIC_RELEASE);
  errno = saved;
}
