/* popen.c: popen, and what closing its stream does (pclose, fclose,
 * freopen).
 *
 * glibc's popen stream reads and writes through a table of glibc's own that
 * no preload can reach (a blocking pipe would stop every coroutine of the
 * OS thread), and its close waits for the child through an internal
 * waitpid. So popen is made here, as glibc 2.36's is: a pipe, the shell
 * spawned with the child's end as its stdin or stdout and every earlier
 * popen stream's fd closed in it, the parent's end close-on-exec only with
 * "e"; errno ENOMEM when the spawn fails; the stream a byte stream for good
 * (glibc's popen streams have no wide side). The stream is an fdopen
 * stream taken over by stdio.c, whose close hook calls gp__popen_close
 * below: the stream leaves the list, its fd is closed, and the child is
 * waited for with cancellation off, again after EINTR, as glibc does — the
 * caller parks meanwhile. One difference remains: glibc's popen stream
 * refills its buffer for every fread, where an fdopen stream reads a large
 * fread straight into the caller's memory (the same bytes, in other read
 * sizes). */
#define _GNU_SOURCE
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* An open popen stream: its fd, closed in the children of later popens. */
struct child {
  int fd;             /* the parent's end of its pipe */
  pid_t pid;          /* the shell */
  struct child *next; /* the next older one */
};

static struct child *children; /* open popen streams, newest first */
static pthread_mutex_t children_lock = PTHREAD_MUTEX_INITIALIZER;

/* Spawns sh -c cmd with child_end as child_fd, and without the fds of the
 * open popen streams. children_lock is held. Returns 0 or an error number. */
static int spawn_shell(pid_t *pid, const char *cmd, int child_end, int child_fd)
{
  posix_spawn_file_actions_t fa;
  char *argv[] = {"sh", "-c", (char *)cmd, NULL};
  int err;

  posix_spawn_file_actions_init(&fa);
  err = posix_spawn_file_actions_adddup2(&fa, child_end, child_fd);
  for (struct child *c = children; c && err == 0; c = c->next)
    if (c->fd != child_fd)
      err = posix_spawn_file_actions_addclose(&fa, c->fd);
  if (err == 0)
    err = posix_spawn(pid, "/bin/sh", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  return err;
}

/* popen(3). */
GP_EXPORT FILE *popen(const char *cmd, const char *mode)
{
  int rd = 0, wr = 0, cloexec = 0, fds[2], parent, child, child_fd, err;
  struct child *c;
  const char *m;
  pid_t pid;
  FILE *fp;

  gp__real_init();
  if (!gp__shim_active(GP__PATCH_SOCKET) || !gp__stdio_on ||
      !(gp__config.patch & GP__PATCH_PROCESS)) {
    gp__shim_before_spawn();
    return gp__real_popen(cmd, mode);
  }
  for (m = mode; *m; m++) {
    if (*m == 'r')
      rd = 1;
    else if (*m == 'w')
      wr = 1;
    else if (*m == 'e')
      cloexec = 1;
    else
      break;
  }
  if (*m || rd == wr) {
    errno = EINVAL;
    return NULL;
  }
  if ((c = malloc(sizeof(*c))) == NULL || pipe2(fds, O_CLOEXEC) != 0) {
    free(c);
    return NULL;
  }
  parent = rd ? 0 : 1;
  child = !parent;
  child_fd = rd ? 1 : 0;
  /* The child's end must not already be the fd it becomes: dup2 onto
   * itself would leave it close-on-exec. */
  if (fds[child] == child_fd) {
    int tmp = fcntl(child_fd, F_DUPFD_CLOEXEC, 0);
    if (tmp < 0)
      goto fail;
    close(fds[child]);
    fds[child] = tmp;
  }
  pthread_mutex_lock(&children_lock);
  err = spawn_shell(&pid, cmd, fds[child], child_fd);
  if (err == 0) {
    close(fds[child]);
    fds[child] = -1;
    if (!cloexec)
      fcntl(fds[parent], F_SETFD, 0);
    fp = gp__real_fdopen(fds[parent], rd ? "r" : "w");
    if (fp == NULL || gp__stdio_set_pid(fp, pid) != 0) {
      /* Out of memory after the spawn: the child sees its pipe close. */
      if (fp)
        gp__real_fclose(fp);
      else
        close(fds[parent]);
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
      pthread_mutex_unlock(&children_lock);
      free(c);
      errno = ENOMEM;
      return NULL;
    }
    fp->_mode = -1; /* a byte stream for good, as glibc's popen streams */
    c->fd = fds[parent];
    c->pid = pid;
    c->next = children;
    children = c;
  }
  pthread_mutex_unlock(&children_lock);
  if (err == 0)
    return fp;
fail:
  if (fds[child] >= 0)
    close(fds[child]);
  close(fds[parent]);
  free(c);
  errno = ENOMEM; /* glibc says ENOMEM whatever went wrong */
  return NULL;
}

int gp__popen_close(int fd, pid_t pid, int park)
{
  struct child **p, *c = NULL;
  int status, state;
  pid_t r;

  pthread_mutex_lock(&children_lock);
  for (p = &children; *p; p = &(*p)->next)
    if ((*p)->fd == fd && (*p)->pid == pid) {
      c = *p;
      *p = c->next;
      break;
    }
  pthread_mutex_unlock(&children_lock);
  if (c == NULL)
    return -1;
  free(c);
  if (park)
    gp__fd_forget(fd);
  if (gp__real_close(fd) < 0)
    return -1;
  do {
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
    r = park ? waitpid(pid, &status, 0) : gp__real_wait4(pid, &status, 0, 0);
    pthread_setcancelstate(state, NULL);
  } while (r == -1 && errno == EINTR);
  return r == -1 ? -1 : status;
}
