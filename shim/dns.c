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

/* One lookup, carried to a threadpool thread and back. */
struct lookup {
  void (*run)(struct lookup *l); /* runs on the threadpool thread */
  int herr;                      /* h_errno: the caller's, then the lookup's */
  int err;                       /* errno, likewise */
  const void *a[4];              /* arguments, by call */
  void *p[5];
  size_t n[3];
  int i[3];
  long ret; /* the result, by call */
  void *retp;
};

/* On the threadpool thread: the lookup, and what it leaves in errno and
 * h_errno, which are that thread's. glibc leaves both alone on many paths
 * (a numeric host that does not parse, a name found in /etc/hosts): the
 * lookup starts from the caller's values, so that what comes back is what
 * the caller would have seen, not what this thread's previous lookup
 * left. */
static void run(void *arg)
{
  struct lookup *l = arg;
  errno = l->err;
  h_errno = l->herr;
  l->run(l);
  l->err = errno;
  l->herr = h_errno;
}

/* Runs the lookup on the threadpool and parks until it is done; errno and
 * h_errno are then what the lookup left. Returns 0, or -ENOMEM with errno
 * as it was on entry (then the caller runs the lookup itself). */
static int offload(struct lookup *l)
{
  l->err = errno;
  l->herr = h_errno;
  if (gp__offload(run, l, "name lookup") != 0) {
    errno = l->err;
    return -ENOMEM;
  }
  h_errno = l->herr;
  errno = l->err;
  return 0;
}

static void run_getaddrinfo(struct lookup *l)
{
  l->ret = gp__real_getaddrinfo(l->a[0], l->a[1], l->a[2],
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
                          const struct addrinfo *hints, struct addrinfo **res)
{
  struct lookup l = {
      .run = run_getaddrinfo, .a = {node, service, hints}, .p = {res}};
  if (!gp__shim_active(GP__PATCH_DNS) || numeric(node, service) ||
      offload(&l) != 0)
    return gp__real_getaddrinfo(node, service, hints, res);
  return (int)l.ret;
}

static void run_getnameinfo(struct lookup *l)
{
  l->ret = gp__real_getnameinfo(l->a[0], (socklen_t)l->n[0], l->p[0],
                                (socklen_t)l->n[1], l->p[1], (socklen_t)l->n[2],
                                l->i[0]);
}

/* getnameinfo(3). */
GP_EXPORT int getnameinfo(const struct sockaddr *sa, socklen_t salen,
                          char *host, socklen_t hostlen, char *serv,
                          socklen_t servlen, int flags)
{
  struct lookup l = {.run = run_getnameinfo,
                     .a = {sa},
                     .n = {salen, hostlen, servlen},
                     .p = {host, serv},
                     .i = {flags}};
  if (!gp__shim_active(GP__PATCH_DNS) || offload(&l) != 0)
    return gp__real_getnameinfo(sa, salen, host, hostlen, serv, servlen, flags);
  return (int)l.ret;
}

static void run_gethostbyname2(struct lookup *l)
{
  l->retp = gp__real_gethostbyname2(l->a[0], l->i[0]);
}

/* gethostbyname2(3): the result lives in glibc's static storage, as
 * without the shim. */
GP_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
  struct lookup l = {.run = run_gethostbyname2, .a = {name}, .i = {af}};
  if (!gp__shim_active(GP__PATCH_DNS) || offload(&l) != 0)
    return gp__real_gethostbyname2(name, af);
  return l.retp;
}

static void run_gethostbyname(struct lookup *l)
{
  l->retp = gp__real_gethostbyname(l->a[0]);
}

/* gethostbyname(3). */
GP_EXPORT struct hostent *gethostbyname(const char *name)
{
  struct lookup l = {.run = run_gethostbyname, .a = {name}};
  if (!gp__shim_active(GP__PATCH_DNS) || offload(&l) != 0)
    return gp__real_gethostbyname(name);
  return l.retp;
}

static void run_gethostbyaddr(struct lookup *l)
{
  l->retp = gp__real_gethostbyaddr(l->a[0], (socklen_t)l->n[0], l->i[0]);
}

/* gethostbyaddr(3). */
GP_EXPORT struct hostent *gethostbyaddr(const void *addr, socklen_t len,
                                        int type)
{
  struct lookup l = {
      .run = run_gethostbyaddr, .a = {addr}, .n = {len}, .i = {type}};
  if (!gp__shim_active(GP__PATCH_DNS) || offload(&l) != 0)
    return gp__real_gethostbyaddr(addr, len, type);
  return l.retp;
}

static void run_gethostbyname2_r(struct lookup *l)
{
  l->ret = gp__real_gethostbyname2_r(l->a[0], l->i[0], l->p[0], l->p[1],
                                     l->n[0], l->p[2], l->p[3]);
}

/* gethostbyname2_r(3). */
GP_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret,
                               char *buf, size_t buflen,
                               struct hostent **result, int *herr)
{
  struct lookup l = {.run = run_gethostbyname2_r,
                     .a = {name},
                     .i = {af},
                     .p = {ret, buf, result, herr},
                     .n = {buflen}};
  if (!gp__shim_active(GP__PATCH_DNS) || offload(&l) != 0)
    return gp__real_gethostbyname2_r(name, af, ret, buf, buflen, result, herr);
  return (int)l.ret;
}

static void run_gethostbyname_r(struct lookup *l)
{
  l->ret = gp__real_gethostbyname_r(l->a[0], l->p[0], l->p[1], l->n[0], l->p[2],
                                    l->p[3]);
}

/* gethostbyname_r(3). */
GP_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf,
                              size_t buflen, struct hostent **result, int *herr)
{
  struct lookup l = {.run = run_gethostbyname_r,
                     .a = {name},
                     .p = {ret, buf, result, herr},
                     .n = {buflen}};
  if (!gp__shim_active(GP__PATCH_DNS) || offload(&l) != 0)
    return gp__real_gethostbyname_r(name, ret, buf, buflen, result, herr);
  return (int)l.ret;
}

static void run_gethostbyaddr_r(struct lookup *l)
{
  l->ret =
      gp__real_gethostbyaddr_r(l->a[0], (socklen_t)l->n[0], l->i[0], l->p[0],
                               l->p[1], l->n[1], l->p[2], l->p[3]);
}

/* gethostbyaddr_r(3). */
GP_EXPORT int gethostbyaddr_r(const void *addr, socklen_t len, int type,
                              struct hostent *ret, char *buf, size_t buflen,
                              struct hostent **result, int *herr)
{
  struct lookup l = {.run = run_gethostbyaddr_r,
                     .a = {addr},
                     .n = {len, buflen},
                     .i = {type},
                     .p = {ret, buf, result, herr}};
  if (!gp__shim_active(GP__PATCH_DNS) || offload(&l) != 0)
    return gp__real_gethostbyaddr_r(addr, len, type, ret, buf, buflen, result,
                                    herr);
  return (int)l.ret;
}
