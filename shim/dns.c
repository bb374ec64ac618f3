/* dns.c: name resolution on libuv's threadpool.
 *
 * The system resolver itself (nsswitch, /etc/hosts, resolv.conf) runs on a
 * threadpool thread while the calling coroutine waits; nothing is
 * reimplemented. A lookup writes into the caller's buffers, so its wait
 * cannot be cut short: gp_kill and gp_timeout take effect when it returns.
 * GPATCH_THREADPOOL sets the pool's size. */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Real resolver functions: resolved here, on first use (gp__real_sym
 * stops the program with a message if one is missing). */
static int (*real_getaddrinfo)(const char *, const char *,
                               const struct addrinfo *, struct addrinfo **);
static int (*real_getnameinfo)(const struct sockaddr *, socklen_t, char *,
                               socklen_t, char *, socklen_t, int);
static struct hostent *(*real_gethostbyname)(const char *);
static struct hostent *(*real_gethostbyname2)(const char *, int);
static struct hostent *(*real_gethostbyaddr)(const void *, socklen_t, int);
static int (*real_gethostbyname_r)(const char *, struct hostent *, char *,
                                   size_t, struct hostent **, int *);
static int (*real_gethostbyname2_r)(const char *, int, struct hostent *,
                                    char *, size_t, struct hostent **, int *);
static int (*real_gethostbyaddr_r)(const void *, socklen_t, int,
                                   struct hostent *, char *, size_t,
                                   struct hostent **, int *);

static void resolve(void)
{
  static int done;
  if (__atomic_load_n(&done, __ATOMIC_ACQUIRE))
    return;
  real_getaddrinfo = gp__real_sym("getaddrinfo");
  real_getnameinfo = gp__real_sym("getnameinfo");
  real_gethostbyname = gp__real_sym("gethostbyname");
  real_gethostbyname2 = gp__real_sym("gethostbyname2");
  real_gethostbyaddr = gp__real_sym("gethostbyaddr");
  real_gethostbyname_r = gp__real_sym("gethostbyname_r");
  real_gethostbyname2_r = gp__real_sym("gethostbyname2_r");
  real_gethostbyaddr_r = gp__real_sym("gethostbyaddr_r");
  __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
}

/* One lookup, carried to a threadpool thread and back. */
struct lookup {
  uv_work_t req;            /* libuv's request */
  struct gp__wait w;        /* the caller's wait */
  void (*run)(struct lookup *l); /* runs on the threadpool thread */
  int done;                 /* the after-work callback ran */
  int herr;                 /* h_errno: the caller's, then the lookup's */
  int err;                  /* errno, likewise */
  const void *a[4];         /* arguments, by call */
  void *p[5];
  size_t n[3];
  int i[3];
  long ret;                 /* the result, by call */
  void *retp;
};

static void work_cb(uv_work_t *req)
{
  struct lookup *l = req->data;
  gp__tls.foreign = 1; /* a threadpool thread: every call passes through */
  /* glibc leaves errno and h_errno alone on many paths (a numeric host
   * that does not parse, a name found in /etc/hosts): the lookup starts
   * from the caller's values, so that what comes back is what the caller
   * would have seen, not what this thread's previous lookup left. */
  errno = l->err;
  h_errno = l->herr;
  l->run(l);
  l->err = errno;
  l->herr = h_errno;
}

static void after_cb(uv_work_t *req, int status)
{
  struct lookup *l = req->data;
  (void)status;
  l->done = 1;
  if (l->w.co && l->w.co->wait == &l->w)
    gp__wake(&l->w, 0);
}

static void nothing(struct gp__wait *w)
{
  (void)w; /* the request is libuv's until it completes */
}

/* Runs l->run on the threadpool and parks until it is done, then sets
 * errno and h_errno as the lookup left them. Returns 0, or -ENOMEM with
 * errno as it was on entry (then the caller runs the lookup itself). */
static int offload(struct lookup *l)
{
  struct gp__sched *s = gp__tls.sched;
  const char *old = NULL;
  char num[16];
  static int sized;
  int r;

  l->err = errno;
  l->herr = h_errno;
  l->req.data = l;
  l->w.unlink = nothing;
  l->w.fd = -1;
  l->w.what = "name lookup";
  l->w.uncancelable = 1;
  gp__list_init(&l->w.link);
  if (gp__config.threadpool && !sized) {
    /* libuv reads UV_THREADPOOL_SIZE once, when its first work starts. */
    old = getenv("UV_THREADPOOL_SIZE");
    snprintf(num, sizeof(num), "%u", gp__config.threadpool);
    setenv("UV_THREADPOOL_SIZE", num, 1);
  }
  GP__RUNTIME_ENTER();
  r = uv_queue_work(&s->loop, &l->req, work_cb, after_cb);
  GP__RUNTIME_LEAVE();
  if (gp__config.threadpool && !sized) {
    sized = 1;
    if (old)
      setenv("UV_THREADPOOL_SIZE", old, 1);
    else
      unsetenv("UV_THREADPOOL_SIZE");
  }
  if (r != 0) {
    errno = l->err;
    return -ENOMEM;
  }
  while (!l->done)
    gp__park(&l->w, GP__NEVER);
  h_errno = l->herr;
  errno = l->err;
  return 0;
}

static void run_getaddrinfo(struct lookup *l)
{
  l->ret = real_getaddrinfo(l->a[0], l->a[1], l->a[2],
                            (struct addrinfo **)l->p[0]);
}

/* Nonzero when getaddrinfo needs no lookup at all: a numeric address (or
 * none) and a numeric port (or none). Then it is answered on the spot. */
static int numeric(const char *node, const char *service)
{
  unsigned char buf[sizeof(struct in6_addr)];
  if (node && inet_pton(AF_INET, node, buf) != 1 &&
      inet_pton(AF_INET6, node, buf) != 1)
    return 0;
  if (service)
    for (const char *p = service; *p; p++)
      if (*p < '0' || *p > '9')
        return 0;
  return 1;
}

/* getaddrinfo(3). */
GP_EXPORT int getaddrinfo(const char *node, const char *service,
                          const struct addrinfo *hints,
                          struct addrinfo **res)
{
  struct lookup l = {.run = run_getaddrinfo, .a = {node, service, hints},
                     .p = {res}};
  resolve();
  if (!gp__shim_active(GP__PATCH_DNS) || numeric(node, service) ||
      offload(&l) != 0)
    return real_getaddrinfo(node, service, hints, res);
  return (int)l.ret;
}

static void run_getnameinfo(struct lookup *l)
{
  l->ret = real_getnameinfo(l->a[0], (socklen_t)l->n[0], l->p[0],
                            (socklen_t)l->n[1], l->p[1], (socklen_t)l->n[2],
                            l->i[0]);
}

/* getnameinfo(3). */
GP_EXPORT int getnameinfo(const struct sockaddr *sa, socklen_t salen,
                          char *host, socklen_t hostlen, char *serv,
                          socklen_t servlen, int flags)
{
  struct lookup l = {.run = run_getnameinfo, .a = {sa},
                     .n = {salen, hostlen, servlen}, .p = {host, serv},
                     .i = {flags}};
  resolve();
  if (!gp__shim_active(GP__PATCH_DNS) || offload(&l) != 0)
    return real_getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
  return (int)l.ret;
}

static void run_gethostbyname2(struct lookup *l)
{
  l->retp = real_gethostbyname2(l->a[0], l->i[0]);
}

/* gethostbyname2(3): the result lives in glibc's static storage, as
 * without the shim. */
GP_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
  struct lookup l = {.run = run_gethostbyname2, .a = {name}, .i = {af}};
  resolve();
  if (!gp__shim_active(GP__PATCH_DNS) || offload(&l) != 0)
    return real_gethostbyname2(name, af);
  return l.retp;
}

static void run_gethostbyname(struct lookup *l)
{
  l->retp = real_gethostbyname(l->a[0]);
}

/* gethostbyname(3). */
GP_EXPORT struct hostent *gethostbyname(const char *name)
{
  struct lookup l = {.run = run_gethostbyname, .a = {name}};
  resolve();
  if (!gp__shim_active(GP__PATCH_DNS) || offload(&l) != 0)
    return real_gethostbyname(name);
  return l.retp;
}

static void run_gethostbyaddr(struct lookup *l)
{
  l->retp = real_gethostbyaddr(l->a[0], (socklen_t)l->n[0], l->i[0]);
}

/* gethostbyaddr(3). */
GP_EXPORT struct hostent *gethostbyaddr(const void *addr, socklen_t len,
                                        int type)
{
  struct lookup l = {.run = run_gethostbyaddr, .a = {addr}, .n = {len},
                     .i = {type}};
  resolve();
  if (!gp__shim_active(GP__PATCH_DNS) || offload(&l) != 0)
    return real_gethostbyaddr(addr, len, type);
  return l.retp;
}

static void run_gethostbyname2_r(struct lookup *l)
{
  l->ret = real_gethostbyname2_r(l->a[0], l->i[0], l->p[0], l->p[1],
                                 l->n[0], l->p[2], l->p[3]);
}

/* gethostbyname2_r(3). */
GP_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret,
                               char *buf, size_t buflen,
                               struct hostent **result, int *herr)
{
  struct lookup l = {.run = run_gethostbyname2_r, .a = {name}, .i = {af},
                     .p = {ret, buf, result, herr}, .n = {buflen}};
  resolve();
  if (!gp__shim_active(GP__PATCH_DNS) || offload(&l) != 0)
    return real_gethostbyname2_r(name, af, ret, buf, buflen, result, herr);
  return (int)l.ret;
}

static void run_gethostbyname_r(struct lookup *l)
{
  l->ret = real_gethostbyname_r(l->a[0], l->p[0], l->p[1], l->n[0], l->p[2],
                                l->p[3]);
}

/* gethostbyname_r(3). */
GP_EXPORT int gethostbyname_r(const char *name, struct hostent *ret,
                              char *buf, size_t buflen,
                              struct hostent **result, int *herr)
{
  struct lookup l = {.run = run_gethostbyname_r, .a = {name},
                     .p = {ret, buf, result, herr}, .n = {buflen}};
  resolve();
  if (!gp__shim_active(GP__PATCH_DNS) || offload(&l) != 0)
    return real_gethostbyname_r(name, ret, buf, buflen, result, herr);
  return (int)l.ret;
}

static void run_gethostbyaddr_r(struct lookup *l)
{
  l->ret = real_gethostbyaddr_r(l->a[0], (socklen_t)l->n[0], l->i[0],
                                l->p[0], l->p[1], l->n[1], l->p[2], l->p[3]);
}

/* gethostbyaddr_r(3). */
GP_EXPORT int gethostbyaddr_r(const void *addr, socklen_t len, int type,
                              struct hostent *ret, char *buf, size_t buflen,
                              struct hostent **result, int *herr)
{
  struct lookup l = {.run = run_gethostbyaddr_r, .a = {addr},
                     .n = {len, buflen}, .i = {type},
                     .p = {ret, buf, result, herr}};
  resolve();
  if (!gp__shim_active(GP__PATCH_DNS) || offload(&l) != 0)
    return real_gethostbyaddr_r(addr, len, type, ret, buf, buflen, result,
                                herr);
  return (int)l.ret;
}
