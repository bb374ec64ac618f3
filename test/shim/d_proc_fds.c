/* d_proc_fds: the process's own listings of its fds (/proc/self/fd by
 * opendir and readdir, readdir_r, scandir, getdents64, fdopendir on
 * /dev/fd, /proc/self/fdinfo) hold the fds the program opened and nothing
 * else, and so do probes of each number (fstat, fcntl, fstatat, statx,
 * dup; and fstat in an exec'd child, as CPython's test_subprocess does);
 * closing every fd listed above stderr, as a crash reporter does before
 * it execs, succeeds for each. The runtime's own fds (its
 * epoll sets, eventfds, libuv's pipes) showed in every listing, and their
 * close said EBADF (chromium's crashpad printed it eight times). */
#include "compat.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* The fds a listing names, in order, as one line. */
static void say_list(const char *label, int *fds, int n)
{
  char line[2048];
  size_t len = 0;

  for (int i = 1; i < n; i++) /* insertion sort: listings are short */
    for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
      int t = fds[j];
      fds[j] = fds[j - 1];
      fds[j - 1] = t;
    }
  line[0] = '\0';
  for (int i = 0; i < n && len < sizeof(line) - 16; i++)
    len += (size_t)snprintf(line + len, sizeof(line) - len, " %d", fds[i]);
  SAY("%s:%s\n", label, line);
}

/* Lists dir with readdir, leaving out the stream's own fd. */
static void by_readdir(const char *label, DIR *d)
{
  int fds[512], n = 0;
  struct dirent *e;

  if (d == NULL) {
    SAY("%s: %s\n", label, strerror(errno));
    return;
  }
  while ((e = readdir(d)) != NULL && n < 512)
    if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d))
      fds[n++] = atoi(e->d_name);
  closedir(d);
  say_list(label, fds, n);
}

static void by_readdir_r(void)
{
  DIR *d = opendir("/proc/self/fd");
  struct dirent ent, *res;
  int fds[512], n = 0;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  while (d && readdir_r(d, &ent, &res) == 0 && res != NULL && n < 512)
#pragma GCC diagnostic pop
    if (ent.d_name[0] != '.' && atoi(ent.d_name) != dirfd(d))
      fds[n++] = atoi(ent.d_name);
  if (d)
    closedir(d);
  say_list("readdir_r", fds, n);
}

static int numeric(const struct dirent *e)
{
  return e->d_name[0] != '.';
}

static void by_scandir(void)
{
  struct dirent **list;
  int fds[512], n = scandir("/proc/self/fd", &list, numeric, alphasort), k = 0;

  for (int i = 0; i < n; i++) {
    if (k < 512)
      fds[k++] = atoi(list[i]->d_name);
    free(list[i]);
  }
  if (n >= 0)
    free(list);
  /* scandir's own fd was open while it read: named, and closed since. */
  say_list("scandir (with its own fd)", fds, k);
}

static void by_getdents(void)
{
  char buf[1024];
  int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY), fds[512], n = 0;
  ssize_t got;

  /* A small buffer: several calls, some that met only the runtime's. */
  while (fd >= 0 && (got = getdents64(fd, buf, sizeof(buf))) > 0)
    for (ssize_t off = 0; off < got;) {
      struct dirent64 *e = (struct dirent64 *)(void *)(buf + off);
      if (e->d_name[0] != '.' && atoi(e->d_name) != fd && n < 512)
        fds[n++] = atoi(e->d_name);
      off += e->d_reclen;
    }
  if (fd >= 0)
    close(fd);
  say_list("getdents64", fds, n);
}

/* Which of the numbers 0..1023 a probe finds open. */
static void by_probe(const char *label, int (*open_fd)(int fd))
{
  int fds[1024], n = 0;
  for (int fd = 0; fd < 1024; fd++)
    if (open_fd(fd))
      fds[n++] = fd;
  say_list(label, fds, n);
}

static int fstat_open(int fd)
{
  struct stat st;
  return fstat(fd, &st) == 0 || errno != EBADF;
}

static int fcntl_open(int fd)
{
  return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

static int fstatat_open(int fd)
{
  struct stat st;
  return fstatat(fd, "", &st, AT_EMPTY_PATH) == 0 || errno != EBADF;
}

static int statx_open(int fd)
{
  struct statx st;
  return statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &st) == 0 ||
         errno != EBADF;
}

static int dup_open(int fd)
{
  int d = dup(fd);
  if (d >= 0)
    close(d);
  return d >= 0 || errno != EBADF;
}

/* As CPython's test_subprocess runs its fd_status.py in a child: fstat
 * of every number, after an exec (the child's runtime is its own). */
static void child_probe(void)
{
  pid_t pid = fork();
  int status;

  if (pid == 0) {
    execl("/proc/self/exe", "d_proc_fds", "probe", (char *)NULL);
    _exit(127);
  }
  waitpid(pid, &status, 0);
  SAY("the child's probe ended with %d\n", WEXITSTATUS(status));
}

/* Closes every fd above stderr a listing names, as crashpad does. */
static void close_listed(void)
{
  DIR *d = opendir("/proc/self/fd");
  int fds[512], n = 0, failed = 0;
  struct dirent *e;

  while (d && (e = readdir(d)) != NULL && n < 512)
    if (e->d_name[0] != '.' && atoi(e->d_name) > 2 &&
        atoi(e->d_name) != dirfd(d))
      fds[n++] = atoi(e->d_name);
  if (d)
    closedir(d);
  for (int i = 0; i < n; i++)
    if (close(fds[i]) != 0) {
      SAY("close(%d): %s\n", fds[i], strerror(errno));
      failed++;
    }
  SAY("closed every listed fd: %d failed\n", failed);
}

static void *nap(void *arg)
{
  sleep_ms(20);
  return arg;
}

int main(int argc, char **argv)
{
  int sv[2], p[2];
  pthread_t t;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1) {
    by_probe("the exec'd child's fstat", fstat_open);
    return 0;
  }
  /* Fds of every kind the runtime handles, and a thread (a scheduler of
   * its own under GPATCH_CORES, with its fds). */
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || pipe(p) != 0)
    return 2;
  if (pthread_create(&t, NULL, nap, NULL) == 0)
    pthread_join(t, NULL);
  by_readdir("readdir", opendir("/proc/self/fd"));
  by_readdir("readdir of /dev/fd", opendir("/dev/fd"));
  by_readdir("fdopendir of fdinfo",
             fdopendir(open("/proc/self/fdinfo", O_RDONLY | O_DIRECTORY)));
  by_readdir_r();
  by_scandir();
  by_getdents();
  by_probe("fstat", fstat_open);
  by_probe("fcntl F_GETFD", fcntl_open);
  by_probe("fstatat AT_EMPTY_PATH", fstatat_open);
  by_probe("statx AT_EMPTY_PATH", statx_open);
  by_probe("dup", dup_open);
  child_probe();
  close_listed();
  return compat_failures != 0;
}
