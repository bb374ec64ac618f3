/* d_dns: name resolution through /etc/hosts (no network) gives the same
 * answers patched, where it runs on libuv's threadpool: getaddrinfo,
 * getnameinfo, gethostbyname, gethostbyname2, gethostbyname_r,
 * gethostbyaddr, their errors, and three lookups at once. */
#include "compat.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* Prints one addrinfo list: family, socktype, protocol, address, port. */
static void show_ai(const char *what, int r, struct addrinfo *res)
{
  printf("%s: r=%d", what, r);
  for (struct addrinfo *a = res; r == 0 && a; a = a->ai_next) {
    char host[64] = "?";
    int port = -1;
    if (a->ai_family == AF_INET) {
      struct sockaddr_in *sin = (struct sockaddr_in *)a->ai_addr;
      inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
      port = ntohs(sin->sin_port);
    } else if (a->ai_family == AF_INET6) {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)a->ai_addr;
      inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
      port = ntohs(sin6->sin6_port);
    }
    printf(" [%d %d %d %s %d %s]", a->ai_family, a->ai_socktype, a->ai_protocol,
           host, port, a->ai_canonname ? a->ai_canonname : "-");
  }
  printf("\n");
  fflush(stdout);
}

static void show_he(const char *what, struct hostent *he)
{
  printf("%s:", what);
  if (he == NULL) {
    printf(" NULL h_errno %d\n", h_errno);
    fflush(stdout);
    return;
  }
  printf(" name %s type %d len %d", he->h_name, he->h_addrtype, he->h_length);
  for (char **al = he->h_aliases; al && *al; al++)
    printf(" alias %s", *al);
  for (char **a = he->h_addr_list; a && *a; a++) {
    char host[64];
    inet_ntop(he->h_addrtype, *a, host, sizeof(host));
    printf(" addr %s", host);
  }
  printf("\n");
  fflush(stdout);
}

static int lookup(const char *node, const char *serv, int family, int flags,
                  struct addrinfo **res)
{
  struct addrinfo hints;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags;
  return getaddrinfo(node, serv, &hints, res);
}

struct job {
  int r;
  char addr[64];
};

static void *worker(void *arg)
{
  struct job *j = arg;
  struct addrinfo *res = NULL;
  j->r = lookup("localhost", "80", AF_INET, 0, &res);
  if (j->r == 0) {
    inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, j->addr,
              sizeof(j->addr));
    freeaddrinfo(res);
  }
  return NULL;
}

int main(void)
{
  struct addrinfo *res = NULL;
  int r;

  setvbuf(stdout, NULL, _IOLBF, 0);
  check_threads(1);

  r = lookup("localhost", "80", AF_INET, 0, &res);
  show_ai("localhost AF_INET", r, res);
  if (r == 0)
    freeaddrinfo(res);
  r = lookup("localhost", "80", AF_UNSPEC, 0, &res);
  show_ai("localhost AF_UNSPEC", r, res);
  if (r == 0)
    freeaddrinfo(res);
  r = lookup("localhost", "http", AF_INET, AI_CANONNAME, &res);
  show_ai("localhost http canonname", r, res);
  if (r == 0)
    freeaddrinfo(res);
  r = getaddrinfo("localhost", NULL, NULL, &res);
  show_ai("localhost no hints", r, res);
  if (r == 0)
    freeaddrinfo(res);
  r = lookup("127.0.0.1", "8080", AF_UNSPEC, 0, &res);
  show_ai("numeric", r, res);
  if (r == 0)
    freeaddrinfo(res);
  r = lookup(NULL, "8080", AF_INET, AI_PASSIVE, &res);
  show_ai("passive", r, res);
  if (r == 0)
    freeaddrinfo(res);
  /* glibc leaves errno and h_errno as they were here: the patched call,
   * which runs on a threadpool thread, must leave the caller's values, not
   * the pool thread's. They are set first so that the check does not depend
   * on what earlier lookups happened to leave (ENOENT in a minimal root). */
  res = (struct addrinfo *)0x1;
  errno = ENOTTY;
  h_errno = TRY_AGAIN;
  r = lookup("not-an-address", "80", AF_UNSPEC, AI_NUMERICHOST, &res);
  SAY("bad numeric host: r=%d (%s) res untouched %d\n", r, gai_strerror(r),
      res == (struct addrinfo *)0x1);
  SAY("errno after it: %d, h_errno %d\n", errno, h_errno);
  /* .invalid never resolves (RFC 6761); resolv.conf is asked, which fails
   * fast without a network. Only the failure is printed: its code depends
   * on the network, not on the shim. */
  r = lookup("nonexistent.invalid", "80", AF_UNSPEC, 0, &res);
  SAY("nonexistent.invalid fails: %d\n", r != 0);
  r = lookup("localhost", "no-such-service-xyz", AF_INET, 0, &res);
  SAY("bad service: r=%d (%s)\n", r, gai_strerror(r));
  r = lookup("localhost", "80", 12345, 0, &res);
  SAY("bad family: r=%d (%s)\n", r, gai_strerror(r));
  r = getaddrinfo(NULL, NULL, NULL, &res);
  SAY("no node, no service: r=%d (%s)\n", r, gai_strerror(r));

  /* getnameinfo: numeric and by name. */
  {
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(80)};
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r = getnameinfo((struct sockaddr *)&sin, sizeof(sin), host, sizeof(host),
                    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
    SAY("getnameinfo numeric: r=%d %s %s\n", r, r ? "-" : host, r ? "-" : serv);
    r = getnameinfo((struct sockaddr *)&sin, sizeof(sin), host, sizeof(host),
                    serv, sizeof(serv), 0);
    SAY("getnameinfo names: r=%d %s %s\n", r, r ? "-" : host, r ? "-" : serv);
    r = getnameinfo((struct sockaddr *)&sin, sizeof(sin), host, 2, NULL, 0,
                    NI_NUMERICHOST);
    SAY("getnameinfo short buffer: r=%d (%s)\n", r, gai_strerror(r));
    r = getnameinfo((struct sockaddr *)&sin, 3, host, sizeof(host), NULL, 0,
                    NI_NUMERICHOST);
    SAY("getnameinfo bad length: r=%d (%s)\n", r, gai_strerror(r));
  }

  /* The gethostby* family. */
  show_he("gethostbyname localhost", gethostbyname("localhost"));
  show_he("gethostbyname2 localhost AF_INET",
          gethostbyname2("localhost", AF_INET));
  show_he("gethostbyname 127.0.0.1", gethostbyname("127.0.0.1"));
  {
    struct hostent he, *out = NULL;
    char buf[1024];
    int herr = 0;
    r = gethostbyname_r("localhost", &he, buf, sizeof(buf), &out, &herr);
    SAY("gethostbyname_r: r=%d herr %d same %d\n", r, herr, out == &he);
    if (r == 0 && out)
      show_he("gethostbyname_r localhost", out);
    r = gethostbyname_r("localhost", &he, buf, 8, &out, &herr);
    SAY("gethostbyname_r small buffer: r=%d out NULL %d\n", r, out == NULL);
    r = gethostbyname2_r("localhost", AF_INET, &he, buf, sizeof(buf), &out,
                         &herr);
    SAY("gethostbyname2_r: r=%d herr %d same %d\n", r, herr, out == &he);
  }
  {
    struct in_addr a;
    struct hostent he, *out = NULL;
    char buf[1024];
    int herr = 0;
    inet_pton(AF_INET, "127.0.0.1", &a);
    show_he("gethostbyaddr 127.0.0.1", gethostbyaddr(&a, sizeof(a), AF_INET));
    r = gethostbyaddr_r(&a, sizeof(a), AF_INET, &he, buf, sizeof(buf), &out,
                        &herr);
    SAY("gethostbyaddr_r: r=%d same %d name %s\n", r, out == &he,
        out ? out->h_name : "-");
  }
  check_threads(64); /* the threadpool may run now, but no more */

  /* Three lookups at once. */
  {
    struct task t[3];
    struct job j[3];
    memset(j, 0, sizeof(j));
    for (int i = 0; i < 3; i++)
      spawn(&t[i], worker, &j[i]);
    for (int i = 0; i < 3; i++)
      join(&t[i]);
    for (int i = 0; i < 3; i++)
      SAY("concurrent lookup %d: r=%d %s\n", i, j[i].r, j[i].addr);
  }
  return compat_failures != 0;
}
