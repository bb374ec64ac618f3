/* tls.c: thread-local storage per coroutine.
 *
 * The coroutines that stand in for a program's threads run on one OS
 * thread, so they have one copy of every __thread variable between them.
 * From the first coroutine made on (gp__tls_setup), the runtime
 * keeps a copy per coroutine instead: the TLS blocks of the objects loaded
 * then, in the OS thread's own memory, are saved into the coroutine that
 * switches out and loaded from the one that switches in (the hub, which
 * runs no program code, takes none). A coroutine starts with what a new
 * thread gets: each object's initialisation image. Left out: libc (errno
 * is saved per coroutine by the scheduler; the rest is libc's business),
 * the loader, and the runtime with its libraries. Objects whose block for
 * this thread does not exist yet (loaded later with dlopen, or not touched
 * yet) keep one shared copy, and stderr says so.
 *
 * An allocator's block (jemalloc, tcmalloc, mimalloc by name, and any
 * shared object other than libc that defines the program's malloc) stays
 * the OS thread's, one for all its coroutines, as glibc malloc's cache does:
 * jemalloc links each thread's block into lists that other threads walk
 * (its threads, its arenas' caches), so a copy swapped in and out of that
 * place corrupts them for every OS thread (d_thread_alloc crashed about 1
 * run in 10 with GPATCH_CORES=4). Shared, the block must never be in use
 * by two coroutines at once: a coroutine inside the allocator never
 * switches (gp__tls_os_thread_code), it waits for the allocator's locks as
 * a thread would, in the kernel — the holder, never switched out while it
 * holds one either, runs on another OS thread.
 *
 * The cost is a copy of the program's TLS at each switch between two
 * different program coroutines: nothing for a program without any. */
#define _GNU_SOURCE
#include "tls.h"
#include "mem.h"
#include "coro.h"
#include "debug.h"
#include "scheduler.h"
#include "config.h"
#include "tp.h"
#include "real.h"
#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MODS 64

static struct tls_mod {
  size_t modid;      /* the loader's module id (dlpi_tls_modid) */
  const void *image; /* its initialisation image (p_filesz bytes) */
  size_t filesz;     /* bytes of the image; the rest starts zeroed */
  size_t memsz;      /* bytes of the block */
  size_t off;        /* where the block goes in a coroutine's copy */
} mods[MAX_MODS];
static size_t nmods, total;

/* The code of the objects whose TLS stays the OS thread's. */
#define MAX_CODE 8
static struct {
  uintptr_t lo, hi;
} code[MAX_CODE];
static int ncode;   /* atomic: code[0..ncode) are complete */
static int enabled; /* atomic: mods is complete; copies are made */

/* One OS thread's own TLS blocks of the objects in mods, found on that
 * thread (each thread has its own), NULL where it has none yet. */
struct gp__tls_blocks {
  char *live[MAX_MODS];
};

/* A C++ thread_local's destructor, registered by its first use. */
struct gp__tls_dtor {
  void (*fn)(void *);
  void *obj;
  struct gp__tls_dtor *next;
};

/* Objects whose TLS is not the program's: libc's (errno is saved per
 * coroutine), the loader's, the runtime's own libraries', and the
 * sanitizers' (their per-thread state belongs to the OS thread). */
static int tls_known(const char *path)
{
  static const char *const known[] = {
      "libc.so",  "ld-linux", "libgpatch",     "libuv.so", "libunwind",
      "libm.so",  "libdl.so", "libpthread.so", "libasan",  "libtsan",
      "libubsan", "liblsan",  "libclang_rt"};
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
    if (strncmp(base, known[i], strlen(known[i])) == 0)
      return 1;
  return 0;
}

int gp__tls_holds(const struct dl_phdr_info *info, uintptr_t a)
{
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && a >= lo && a < lo + ph->p_memsz)
      return 1;
  }
  return 0;
}

/* Nonzero when the object holds the runtime's own code (libgpatch.so, or
 * a program that links the core statically): its TLS is gp__tls. */
static int tls_is_runtime(const struct dl_phdr_info *info)
{
  return gp__tls_holds(info, (uintptr_t)(void *)gp__tls_setup);
}

/* The program's malloc, looked up before the scan: the shared object that
 * defines it, when not libc, is an allocator whatever its name. */
static uintptr_t malloc_at;
static int malloc_own; /* it is the program's own (linked into it) */

static void shared_report(const char *name, size_t memsz, const char *why)
{
  gp__debug_out(2,
                "gpatch: %s has %zu bytes of thread-local storage "
                "(__thread) that %s: its threads, coroutines on one OS "
                "thread, share one copy (see README, Limitations)\n",
                name, memsz, why);
}

/* Objects whose TLS stays the OS thread's (above). */
static int tls_os_thread(const char *path)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  static const char *const allocators[] = {"libjemalloc", "libtcmalloc",
                                           "libmimalloc"};
  for (size_t i = 0; i < sizeof(allocators) / sizeof(allocators[0]); i++)
    if (strncmp(base, allocators[i], strlen(allocators[i])) == 0)
      return 1;
  return 0;
}

static void code_add(const struct dl_phdr_info *info)
{
  int n = __atomic_load_n(&ncode, __ATOMIC_RELAXED);
  for (int i = 0; i < info->dlpi_phnum && n < MAX_CODE; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
      continue;
    code[n].lo = info->dlpi_addr + ph->p_vaddr;
    code[n].hi = code[n].lo + ph->p_memsz;
    n++;
  }
  __atomic_store_n(&ncode, n, __ATOMIC_RELEASE);
}

int gp__tls_os_thread_code(const void *pc)
{
  int n = __atomic_load_n(&ncode, __ATOMIC_ACQUIRE);
  for (int i = 0; i < n; i++)
    if ((uintptr_t)pc >= code[i].lo && (uintptr_t)pc < code[i].hi)
      return 1;
  return 0;
}

int gp__tls_os_thread_objects(void)
{
  return __atomic_load_n(&ncode, __ATOMIC_ACQUIRE) > 0;
}

/* Whether address a is where an object defines malloc: a program that
 * takes malloc's address (python3) has a canonical PLT entry under that
 * name, which is no definition (SHN_UNDEF). */
static int defines_malloc(void *a, const char *in)
{
  Dl_info i;
  const ElfW(Sym) *sym = NULL;
  return a != NULL && dladdr1(a, &i, (void **)&sym, RTLD_DL_SYMENT) &&
         sym != NULL && sym->st_shndx != SHN_UNDEF &&
         (in == NULL || (i.dli_fname && strcmp(i.dli_fname, in) == 0));
}

/* Where the program's calls to malloc go: the first definition in the
 * global search order (the program, its preloads, their dependencies). */
static uintptr_t malloc_definition(void)
{
  void *a = dlsym(RTLD_DEFAULT, "malloc"), *self;
  struct link_map *l = NULL;

  if (a == NULL || defines_malloc(a, NULL))
    return (uintptr_t)a;
  self = dlopen(NULL, RTLD_LAZY | RTLD_NOLOAD);
  if (self == NULL || dlinfo(self, RTLD_DI_LINKMAP, &l) != 0)
    l = NULL;
  for (l = l ? l->l_next : NULL; l != NULL; l = l->l_next) {
    void *h = l->l_name[0] ? dlopen(l->l_name, RTLD_LAZY | RTLD_NOLOAD) : NULL;
    int found = h && defines_malloc(a = dlsym(h, "malloc"), l->l_name);
    if (h)
      dlclose(h);
    if (found)
      break;
  }
  if (self != NULL)
    dlclose(self);
  return l ? (uintptr_t)a : 0;
}

static int scan_one(struct dl_phdr_info *info, size_t size, void *data)
{
  const char *name = info->dlpi_name;
  int main_obj = name == NULL || name[0] == '\0', alloc;

  (void)size;
  (void)data;
  if (main_obj)
    name = "the program";
  if (tls_is_runtime(info) || tls_known(name))
    return 0;
  alloc = tls_os_thread(name);
  if (malloc_at && gp__tls_holds(info, malloc_at)) {
    malloc_own = main_obj;
    alloc = !main_obj;
  }
  if (alloc) {
    code_add(info);
    return 0;
  }
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    struct tls_mod *m;
    if (ph->p_type != PT_TLS || ph->p_memsz == 0)
      continue;
    if (info->dlpi_tls_data == NULL) {
      shared_report(name, ph->p_memsz, "this thread has not allocated yet");
      continue;
    }
    if (nmods == MAX_MODS) {
      shared_report(name, ph->p_memsz, "is past the runtime's limit");
      continue;
    }
    m = &mods[nmods++];
    m->modid = info->dlpi_tls_modid;
    m->image = (const void *)(info->dlpi_addr + ph->p_vaddr);
    m->filesz = ph->p_filesz;
    m->memsz = ph->p_memsz;
    m->off = total;
    total += (ph->p_memsz + 15) & ~(size_t)15;
  }
  return 0;
}

int gp__tls_own_malloc(void)
{
  return malloc_own;
}

static int find_blocks(struct dl_phdr_info *info, size_t size, void *data)
{
  struct gp__tls_blocks *b = data;
  (void)size;
  for (size_t i = 0; i < nmods; i++)
    if (info->dlpi_tls_modid == mods[i].modid)
      b->live[i] = info->dlpi_tls_data;
  return 0;
}

/* The calling thread's blocks, looked up on its first switch. */
static struct gp__tls_blocks *blocks(struct gp__sched *s)
{
  if (s->tls == NULL && (s->tls = gp__calloc(1, sizeof(*s->tls))) != NULL)
    dl_iterate_phdr(find_blocks, s->tls);
  return s->tls;
}

void gp__tls_check_wait(const void *p)
{
  static int said;
  struct gp__sched *s = gp__tls.sched;
  struct gp__tls_blocks *b;

  if (__atomic_load_n(&said, __ATOMIC_RELAXED) || gp__tp_on || s == NULL ||
      !__atomic_load_n(&enabled, __ATOMIC_ACQUIRE) || (b = blocks(s)) == NULL)
    return;
  for (size_t i = 0; i < nmods; i++) {
    const char *lo = b->live[i];
    if (lo == NULL || (const char *)p < lo ||
        (const char *)p >= lo + mods[i].memsz)
      continue;
    if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
      gp__debug_out(2, "gpatch: a thread waits on a futex in its own "
                       "thread-local storage, where other threads cannot "
                       "reach it while each coroutine's copy is swapped in "
                       "(GPATCH_TLS=copy): its wake-up may be lost; "
                       "GPATCH_TLS=thread gives each thread its own (see "
                       "README)\n");
    return;
  }
}

/* Makes co's copy: what a new thread gets, or (fresh 0) the live blocks of
 * scheduler s. */
static int make_copy(struct gp__sched *s, struct gp__coro *co, int fresh)
{
  struct gp__tls_blocks *b = fresh ? NULL : blocks(s);

  co->tls = gp__malloc(total);
  if (co->tls == NULL)
    return -1;
  for (size_t i = 0; i < nmods; i++) {
    struct tls_mod *m = &mods[i];
    char *dst = co->tls + m->off;
    if (fresh) {
      memcpy(dst, m->image, m->filesz);
      memset(dst + m->filesz, 0, m->memsz - m->filesz);
    } else if (b && b->live[i]) {
      memcpy(dst, b->live[i], m->memsz);
    }
  }
  return 0;
}

void gp__tls_setup(void)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__list *l;
  static int done;

  if (s == NULL || __atomic_load_n(&done, __ATOMIC_ACQUIRE) ||
      __atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL))
    return; /* (a load first: this runs at every spawn) */
  if (gp__tp_wanted() && gp__tp_init() == 0) {
    /* Each coroutine has its own thread pointer: no copies; thread_local
     * destructors are still run per coroutine by gp__tls_atexit's. */
    __atomic_store_n(&enabled, 1, __ATOMIC_RELEASE);
    return;
  }
  malloc_at = malloc_definition(); /* for scan_one */
  dl_iterate_phdr(scan_one, NULL);
  if (total == 0)
    return;
  /* Until now every coroutine shared the live blocks: each keeps that. */
  for (l = s->all.next; l != &s->all; l = l->next) {
    struct gp__coro *co = GP__CONTAINER(l, struct gp__coro, all_link);
    if (co->state != GP__DEAD && co->tls == NULL && make_copy(s, co, 0) != 0) {
      shared_report("the program", total, "found no memory for copies");
      return;
    }
  }
  s->tls_owner = s->current;
  __atomic_store_n(&enabled, 1, __ATOMIC_RELEASE);
  if (total > 4096)
    gp__debug_out(2,
                  "gpatch: the program has %zu KiB of thread-local storage, "
                  "copied at each switch between its threads (see README, "
                  "Limitations)\n",
                  (total + 1023) / 1024);
}

void gp__tls_locale(locale_t loc)
{
  struct gp__sched *s = gp__tls.sched;
  void *l = loc == LC_GLOBAL_LOCALE ? NULL : (void *)loc;
  if (s == NULL || s->current == NULL || gp__tp_on)
    return;
  s->current->locale = l;
  s->live_locale = l;
}

void gp__tls_switch(struct gp__sched *s, struct gp__coro *to)
{
  struct gp__coro *from = s->tls_owner;
  struct gp__tls_blocks *b;

  if (to->is_hub)
    return;
  if (to->locale != s->live_locale) { /* libc's own TLS: per coroutine too */
    gp__real_uselocale(to->locale ? (locale_t)to->locale : LC_GLOBAL_LOCALE);
    s->live_locale = to->locale;
  }
  if (to == from || !__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
    return;
  if ((b = blocks(s)) == NULL)
    return; /* no memory: it runs with the blocks as they are */
  if (to->tls == NULL && make_copy(s, to, 1) != 0)
    return;
  for (size_t i = 0; i < nmods; i++) {
    struct tls_mod *m = &mods[i];
    if (b->live[i] == NULL)
      continue; /* not allocated on this thread: one shared copy */
    if (from && from->tls)
      memcpy(from->tls + m->off, b->live[i], m->memsz);
    memcpy(b->live[i], to->tls + m->off, m->memsz);
  }
  s->tls_owner = to;
}

void gp__tls_release(struct gp__sched *s, struct gp__coro *co)
{
  if (s->tls_owner == co)
    s->tls_owner = NULL; /* the live blocks are nobody's now */
  gp__free(co->tls);
  co->tls = NULL;
}

void gp__tls_thread_gone(struct gp__sched *s)
{
  gp__tls_release(s, s->main);
  gp__free(s->tls); /* the ended thread's blocks' addresses */
  s->tls = NULL;
  s->live_locale = NULL; /* a new thread starts in the global locale */
}

/* Each coroutine's copy of a thread_local is its own object, with its own
 * destructor to run when the coroutine (the thread it stands in for)
 * exits; glibc would run them all at the OS thread's exit, on one copy. */
int gp__tls_atexit(void (*fn)(void *), void *obj)
{
  struct gp__sched *s = gp__tls.sched;
  struct gp__tls_dtor *d;

  if (s == NULL || !__atomic_load_n(&enabled, __ATOMIC_ACQUIRE) ||
      s->current == s->main || s->current->is_hub)
    return 0;
  if ((d = gp__malloc(sizeof(*d))) == NULL)
    return -1;
  d->fn = fn;
  d->obj = obj;
  d->next = s->current->tls_dtors;
  s->current->tls_dtors = d;
  return 1;
}

void gp__tls_run_dtors(struct gp__coro *co)
{
  struct gp__tls_dtor *d;
  while ((d = co->tls_dtors) != NULL) {
    co->tls_dtors = d->next; /* a destructor may register more */
    d->fn(d->obj);
    gp__free(d);
  }
}
