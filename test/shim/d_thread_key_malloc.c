/* d_thread_key_malloc: pthread_setspecific does not call the program's
 * malloc. An allocator that the program carries (rustc links jemalloc
 * into itself) sets a thread-specific value from inside its own malloc, on
 * a thread's first allocation, and from its key's destructor as the thread
 * ends. glibc keeps the first 32 keys' values in the thread itself; the
 * runtime grew its table with the program's realloc, which re-entered the
 * allocator half-way through: rustc -C incremental (every cargo build)
 * died of SIGSEGV in jemalloc's destructor, on a value the re-entry had
 * garbled. Now the table is the runtime's own memory.
 *
 * The program's allocator (own_malloc.h) counts the allocations made
 * while one is in progress on the same thread. Four threads allocate;
 * the key's destructor sets the value again once (as jemalloc's does). */
#include "compat.h"

static __thread int depth, booted;
static int reentered, key_made, destructed;
static pthread_key_t key;

static void own_malloc_enter(void)
{
  if (depth++ > 0) {
    __atomic_add_fetch(&reentered, 1, __ATOMIC_RELAXED);
    return;
  }
  if (__atomic_load_n(&key_made, __ATOMIC_ACQUIRE) && !booted) {
    booted = 1;
    pthread_setspecific(key, &booted); /* inside malloc, as jemalloc */
  }
}

static void own_malloc_leave(void)
{
  depth--;
}

#include "own_malloc.h"

static void destructor(void *v)
{
  int *b = v;
  __atomic_add_fetch(&destructed, 1, __ATOMIC_RELAXED);
  if (*b == 1) {
    *b = 2;
    pthread_setspecific(key, b); /* once more, as jemalloc's does */
  }
}

static void *work(void *arg)
{
  char *p = malloc(64);
  (void)arg;
  if (p)
    snprintf(p, 64, "thread");
  return p;
}

int main(void)
{
  pthread_t t[4];
  void *r;
  int ok = 0;

  if (pthread_key_create(&key, destructor) != 0)
    return 1;
  __atomic_store_n(&key_made, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < 4; i++)
    if (pthread_create(&t[i], NULL, work, NULL) != 0)
      return 2;
  for (int i = 0; i < 4; i++)
    if (pthread_join(t[i], &r) == 0 && r && strcmp(r, "thread") == 0)
      ok++;
  printf("%d threads allocated\n", ok);
  printf("destructor calls: %d\n", destructed);
  printf("allocations made inside an allocation: %d\n", reentered);
  return 0;
}
