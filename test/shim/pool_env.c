/* pool_env: built and run by test/shim/threadpool_env.sh, linked with
 * libgpatch (a set-uid program gets no LD_PRELOAD). One name lookup starts
 * the runtime's threadpool; then it prints how many threadpool threads
 * (named libuv-worker) run, whether the environment array is still the
 * one it had, and UV_THREADPOOL_SIZE as the program sees it; and whether
 * it runs in secure-execution mode (AT_SECURE). */
#define _GNU_SOURCE
#include <dirent.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

static int workers(void)
{
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  int n = 0;

  while (d && (e = readdir(d)) != NULL) {
    char path[64], comm[32] = "";
    FILE *f;
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
    if ((f = fopen(path, "re")) == NULL)
      continue;
    if (fgets(comm, sizeof(comm), f) && strcmp(comm, "libuv-worker\n") == 0)
      n++;
    fclose(f);
  }
  if (d)
    closedir(d);
  return n;
}

int main(void)
{
  char **before = environ;
  struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
  struct addrinfo *res = NULL;
  const char *uv;
  int r = getaddrinfo("localhost", "80", &hints, &res);

  if (r == 0)
    freeaddrinfo(res);
  usleep(100000); /* the pool's threads name themselves as they start */
  uv = getenv("UV_THREADPOOL_SIZE");
  printf("secure=%lu lookup=%d workers=%d environ=%s UV_THREADPOOL_SIZE=%s\n",
         getauxval(AT_SECURE), r, workers(),
         environ == before ? "same" : "changed", uv ? uv : "unset");
  return 0;
}
