/* procfd.c: the process's own view of its fds leaves the runtime's out, as
 * they are not there unpatched: its listings (/proc/self/fd, its fdinfo,
 * by any of their names; readdir, readdir_r, scandir and getdents64 are
 * filtered, and a directory stream is looked at once, when it is opened),
 * and its probes of one number (fstat, statx and fstatat of an fd; fcntl
 * and dup, in fd.c) say EBADF. A program that closes every fd it finds (a
 * crash reporter, a daemon) or counts them (a test for leaked fds) sees
 * what it sees plain. */
#define _GNU_SOURCE
#include "shim.h"
#include "../core/ownfd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Streams open on such a listing; more at once are left unfiltered. */
#define LISTINGS 32
static DIR *listings[LISTINGS];
static int nlistings; /* atomic: slots that may be in use */

/* Nonzero when dfd is open on this process's fd or fdinfo directory:
 * /proc/<pid>/fd, /proc/<pid>/task/<tid>/fd (the thread's share the
 * process's table), or their fdinfo. */
static int own_listing(int dfd)
{
  char path[64], link[128], pid[24];
  ssize_t n;
  size_t p;

  snprintf(path, sizeof(path), "/proc/self/fd/%d", dfd);
  n = readlink(path, link, sizeof(link) - 1);
  if (n <= 0)
    return 0;
  link[n] = '\0';
  p = (size_t)snprintf(pid, sizeof(pid), "/proc/%d/", (int)getpid());
  if (strncmp(link, pid, p) != 0)
    return 0;
  if (strncmp(link + p, "task/", 5) == 0) {
    const char *t = strchr(link + p + 5, '/');
    if (t == NULL)
      return 0;
    p = (size_t)(t + 1 - link);
  }
  return strcmp(link + p, "fd") == 0 || strcmp(link + p, "fdinfo") == 0;
}

/* Notes d when it is open on such a listing; returns d, errno as it was. */
static DIR *note_listing(DIR *d)
{
  int saved = errno;

  if (d == NULL || !own_listing(dirfd(d)))
    goto out;
  for (int i = 0; i < LISTINGS; i++) {
    DIR *none = NULL;
    if (__atomic_compare_exchange_n(&listings[i], &none, d, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_RELAXED)) {
      /* nlistings only grows, to past the highest slot taken: two taking
       * slots at once must not leave it short of either. */
      int n = __atomic_load_n(&nlistings, __ATOMIC_RELAXED);
      while (n < i + 1 &&
             !__atomic_compare_exchange_n(&nlistings, &n, i + 1, 1,
                                          __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        ;
      break;
    }
  }
out:
  errno = saved;
  return d;
}

/* The slot of d, or -1. One load until a listing has been opened. */
static int listing_slot(DIR *d)
{
  int n = __atomic_load_n(&nlistings, __ATOMIC_ACQUIRE);
  for (int i = 0; i < n; i++)
    if (__atomic_load_n(&listings[i], __ATOMIC_ACQUIRE) == d)
      return i;
  return -1;
}

int gp__shim_fd_hidden(int fd)
{
  return fd >= 0 && !gp__tls.depth && gp__ownfd_is(fd);
}

/* Nonzero when name, an entry of such a listing, is one of the runtime's
 * fds (the runtime's own listings see everything). */
static int hidden(const char *name)
{
  char *end;
  long fd;

  if (*name < '0' || *name > '9')
    return 0;
  fd = strtol(name, &end, 10);
  return *end == '\0' && fd <= INT32_MAX && gp__shim_fd_hidden((int)fd);
}

GP_EXPORT DIR *opendir(const char *name)
{
  gp__real_init(); /* a library's constructor may call it before ours */
  return note_listing(gp__real_opendir(name));
}

GP_EXPORT DIR *fdopendir(int fd)
{
  gp__real_init();
  return note_listing(gp__real_fdopendir(fd));
}

GP_EXPORT int closedir(DIR *d)
{
  int i = listing_slot(d);

  gp__real_init();
  if (i >= 0)
    __atomic_store_n(&listings[i], NULL, __ATOMIC_RELEASE);
  return gp__real_closedir(d);
}

GP_EXPORT struct dirent *readdir(DIR *d)
{
  struct dirent *e;

  gp__real_init();
  e = gp__real_readdir(d);
  if (e == NULL || listing_slot(d) < 0)
    return e;
  while (e && hidden(e->d_name))
    e = gp__real_readdir(d);
  return e;
}

GP_EXPORT struct dirent64 *readdir64(DIR *d)
{
  struct dirent64 *e;

  gp__real_init();
  e = gp__real_readdir64(d);
  if (e == NULL || listing_slot(d) < 0)
    return e;
  while (e && hidden(e->d_name))
    e = gp__real_readdir64(d);
  return e;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
GP_EXPORT int readdir_r(DIR *d, struct dirent *entry, struct dirent **result)
{
  int r;

  gp__real_init();
  do
    r = gp__real_readdir_r(d, entry, result);
  while (r == 0 && *result && listing_slot(d) >= 0 && hidden(entry->d_name));
  return r;
}

GP_EXPORT int readdir64_r(DIR *d, struct dirent64 *entry,
                          struct dirent64 **result)
{
  int r;

  gp__real_init();
  do
    r = gp__real_readdir64_r(d, entry, result);
  while (r == 0 && *result && listing_slot(d) >= 0 && hidden(entry->d_name));
  return r;
}
#pragma GCC diagnostic pop

/* Nonzero when path (relative to dirfd) names such a listing; errno stays
 * as it was. */
static int listing_at(int dirfd, const char *path)
{
  int fd, own, saved = errno;

  if (path == NULL)
    return 0;
  fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    errno = saved;
    return 0;
  }
  own = own_listing(fd);
  gp__real_close(fd);
  errno = saved;
  return own;
}

/* Drops the runtime's fds from n entries of a scandir result. */
#define DROP_HIDDEN(list, n)                                                   \
  do {                                                                         \
    int kept_ = 0;                                                             \
    for (int i_ = 0; i_ < (n); i_++) {                                         \
      if (hidden((list)[i_]->d_name))                                          \
        free((list)[i_]);                                                      \
      else                                                                     \
        (list)[kept_++] = (list)[i_];                                          \
    }                                                                          \
    (n) = kept_;                                                               \
  } while (0)

GP_EXPORT int scandir(const char *dir, struct dirent ***list,
                      int (*sel)(const struct dirent *),
                      int (*cmp)(const struct dirent **,
                                 const struct dirent **))
{
  int n;

  gp__real_init();
  n = gp__real_scandir(dir, list, sel, cmp);
  if (n > 0 && listing_at(AT_FDCWD, dir))
    DROP_HIDDEN(*list, n); /* free leaves errno as it is */
  return n;
}

GP_EXPORT int scandir64(const char *dir, struct dirent64 ***list,
                        int (*sel)(const struct dirent64 *),
                        int (*cmp)(const struct dirent64 **,
                                   const struct dirent64 **))
{
  int n;

  gp__real_init();
  n = gp__real_scandir64(dir, list, sel, cmp);
  if (n > 0 && listing_at(AT_FDCWD, dir))
    DROP_HIDDEN(*list, n); /* free leaves errno as it is */
  return n;
}

GP_EXPORT int scandirat(int dirfd, const char *dir, struct dirent ***list,
                        int (*sel)(const struct dirent *),
                        int (*cmp)(const struct dirent **,
                                   const struct dirent **))
{
  int n;

  gp__real_init();
  n = gp__real_scandirat(dirfd, dir, list, sel, cmp);
  if (n > 0 && listing_at(dirfd, dir))
    DROP_HIDDEN(*list, n); /* free leaves errno as it is */
  return n;
}

/* getdents64(2) through glibc's wrapper: the records of the runtime's fds
 * are taken out of the buffer. A call that returns only such records
 * reads on, as if they were not there. */
GP_EXPORT ssize_t getdents64(int fd, void *buf, size_t len)
{
  ssize_t n;
  int own = -1;

  gp__real_init();
  for (;;) {
    size_t off = 0, kept = 0;
    n = gp__real_getdents64(fd, buf, len);
    if (n <= 0)
      return n;
    if (own < 0)
      own = own_listing(fd);
    if (!own)
      return n;
    while (off < (size_t)n) {
      struct dirent64 *e = (struct dirent64 *)(void *)((char *)buf + off);
      unsigned short rec = e->d_reclen;
      if (!hidden(e->d_name)) {
        if (kept != off)
          memmove((char *)buf + kept, e, rec);
        kept += rec;
      }
      off += rec;
    }
    if (kept > 0)
      return (ssize_t)kept;
  }
}

/* A probe of fd (an fstat; a *at call that names it with an empty or a
 * relative path): one of the runtime's says EBADF, as an fd not open
 * does. */
static int probe_hidden(int fd, const char *path)
{
  if (fd == AT_FDCWD || (path && path[0] == '/') || !gp__shim_fd_hidden(fd))
    return 0;
  errno = EBADF;
  return 1;
}

GP_EXPORT int fstat(int fd, struct stat *st)
{
  gp__real_init();
  return probe_hidden(fd, NULL) ? -1 : gp__real_fstat(fd, st);
}

GP_EXPORT int fstat64(int fd, struct stat64 *st)
{
  gp__real_init();
  return probe_hidden(fd, NULL) ? -1 : gp__real_fstat64(fd, st);
}

GP_EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
  gp__real_init();
  return probe_hidden(dirfd, path) ? -1
                                   : gp__real_fstatat(dirfd, path, st, flags);
}

GP_EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st,
                        int flags)
{
  gp__real_init();
  return probe_hidden(dirfd, path) ? -1
                                   : gp__real_fstatat64(dirfd, path, st, flags);
}

GP_EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask,
                    struct statx *st)
{
  gp__real_init();
  return probe_hidden(dirfd, path)
             ? -1
             : gp__real_statx(dirfd, path, flags, mask, st);
}
