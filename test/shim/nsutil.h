/* nsutil.h: running part of a test in a private mount namespace, for the
 * tests that need a path the system owns to be something else: /dev/log a
 * socket of the test's own (syslog), /bin without a shell (system). The
 * test runs itself again there with an argument that says which part; the
 * host's mounts are never touched. Root gets a mount namespace; anyone else
 * a user namespace with one. */
#ifndef GP_TEST_NSUTIL_H
#define GP_TEST_NSUTIL_H

#include "compat.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>

/* Exit status of a child that could not set the namespace up. */
#define NS_UNAVAILABLE 77

/* Writes s to the file at path; returns 0 or -1. */
static inline int ns_write(const char *path, const char *s)
{
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  ssize_t n = fd < 0 ? -1 : write(fd, s, strlen(s));
  if (fd >= 0)
    close(fd);
  return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* Runs this program again with argument arg, in a mount namespace where dir
 * is an empty tmpfs. Returns the child's exit status, or NS_UNAVAILABLE when
 * no namespace could be had here (the caller says it skipped). */
static inline int run_in_private_mounts(const char *arg, const char *dir)
{
  pid_t pid;
  int status;

  fflush(stdout);
  pid = fork();
  if (pid == 0) {
    char map[64];
    uid_t uid = geteuid();
    gid_t gid = getegid();
    char *argv[] = {"self", (char *)arg, NULL};
    if (uid != 0) {
      if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
        _exit(NS_UNAVAILABLE);
      snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
      ns_write("/proc/self/setgroups", "deny");
      if (ns_write("/proc/self/uid_map", map) != 0)
        _exit(NS_UNAVAILABLE);
      snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
      ns_write("/proc/self/gid_map", map);
    } else if (unshare(CLONE_NEWNS) != 0) {
      _exit(NS_UNAVAILABLE);
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", dir, "tmpfs", 0, "mode=0755") != 0)
      _exit(NS_UNAVAILABLE);
    execv("/proc/self/exe", argv);
    _exit(NS_UNAVAILABLE);
  }
  if (pid < 0 || waitpid(pid, &status, 0) != pid)
    return NS_UNAVAILABLE;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#endif /* GP_TEST_NSUTIL_H */
