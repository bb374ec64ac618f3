/* config.c: GPATCH_* variables. Each is read once; a value that does not
 * parse is named on stderr and replaced by the default, never guessed at. */
#define _GNU_SOURCE
#include "config.h"
#include "debug.h"
#include "real.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/auxv.h>

struct gp__config gp__config = {
  .cores = 1,
  .stack_size = GP__DEFAULT_STACK_SIZE,
  .patch = GP__PATCH_ALL,
  .on_deadlock = GP__DEADLOCK_ABORT,
};

/* The signal GPATCH_DEBUG=1 selects: few programs use SIGPWR (its
 * original meaning, power failure, is obsolete on Linux). */
#define DEFAULT_DEBUG_SIGNAL SIGPWR

/* Names a bad value on stderr. Written with the real write(2), not stdio:
 * the runtime never calls a name the shim interposes (stdio's are). */
static void bad(const char *var, const char *val, const char *expected)
{
  int saved = errno;
  gp__real_init();
  gp__debug_out(2,
                "gpatch: ignoring %s=\"%s\": expected %s; using the default\n",
                var, val, expected);
  errno = saved;
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
  case 'k': case 'K': shift = 10; end++; break;
  case 'm': case 'M': shift = 20; end++; break;
  case 'g': case 'G': shift = 30; end++; break;
  default: break;
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

void gp__config_init(void)
{
  static int done;
  struct gp__config *c = &gp__config;
  const char *v;
  int saved = errno;

  if (__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
    return;
  if (getauxval(AT_SECURE))
    return; /* set-uid and friends: the environment is not trusted */

  if ((v = getenv("GPATCH_STACK_SIZE")) && *v) {
    size_t sz;
    if (gp__config_parse_size(v, &sz) || sz < 16384)
      bad("GPATCH_STACK_SIZE", v, "a size of at least 16K, like 256K or 8M");
    else
      c->stack_size = sz;
  }
  if ((v = getenv("GPATCH_PATCH")) && *v &&
      gp__config_parse_patch(v, &c->patch))
    bad("GPATCH_PATCH", v,
        "all, none, or a list of socket,time,select,dns,thread,process,signal "
        "(a leading - removes one)");
  if ((v = getenv("GPATCH_CONTEXT")) && *v) {
    if (strcmp(v, "ucontext") == 0)
      c->use_ucontext = 1;
    else if (strcmp(v, "asm") != 0)
      bad("GPATCH_CONTEXT", v, "asm or ucontext");
  }
  if ((v = getenv("GPATCH_MAX_BLOCKING_MS")) && *v &&
      parse_uint(v, 3600 * 1000, &c->max_blocking_ms))
    bad("GPATCH_MAX_BLOCKING_MS", v, "milliseconds, 0 for off");
  if ((v = getenv("GPATCH_ON_DEADLOCK")) && *v) {
    if (strcmp(v, "hang") == 0)
      c->on_deadlock = GP__DEADLOCK_HANG;
    else if (strcmp(v, "abort") != 0)
      bad("GPATCH_ON_DEADLOCK", v, "abort or hang");
  }
  if ((v = getenv("GPATCH_DEBUG")) && *v &&
      parse_signal(v, &c->debug_signal))
    bad("GPATCH_DEBUG", v, "0, 1 (SIGPWR) or a signal name or number");
  if ((v = getenv("GPATCH_THREADPOOL")) && *v &&
      (parse_uint(v, 1024, &c->threadpool) || c->threadpool == 0))
    bad("GPATCH_THREADPOOL", v, "a thread count from 1 to 1024");
  if ((v = getenv("GPATCH_CORES")) && *v &&
      gp__config_parse_cores(v, affinity_cpus(), &c->cores))
    bad("GPATCH_CORES", v, "a count from 1 to 64, or auto");
  if ((v = getenv("GPATCH_NO_MADV_GUARD")) && strcmp(v, "1") == 0)
    c->no_madv_guard = 1;
  errno = saved;
}
