/* d_rlimit_as: a program that makes no thread and lowers its own address
 * space limit (RLIMIT_AS) can still map memory, as unpatched.
 *
 * vsftpd's session process sets RLIMIT_AS to about 200 MB and then maps
 * memory. Patched, the runtime had reserved a slab of 64 thread stacks at
 * start for its hub's (516 MiB of address space with 8 MiB stacks), and
 * every mmap after the setrlimit failed with ENOMEM ("500 OOPS: mmap"). */
#include "compat.h"

#include <sys/mman.h>
#include <sys/resource.h>

int main(void)
{
  struct rlimit rl = {200ul << 20, 200ul << 20};
  void *p;

  if (setrlimit(RLIMIT_AS, &rl) != 0)
    perror("setrlimit");
  p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
           -1, 0);
  printf("mmap of 1 MiB under RLIMIT_AS = 200 MB: %s\n",
         p == MAP_FAILED ? strerror(errno) : "ok");
  p = malloc(16 << 20);
  printf("malloc of 16 MiB: %s\n", p ? "ok" : "failed");
  free(p);
  return 0;
}
