/* d_thread_alloc: threads that allocate. Producers malloc, calloc, realloc
 * and posix_memalign buffers of many sizes and hand them through a bounded
 * queue (a mutex and two condition variables) to consumers, which check
 * and free them on another thread; every thread keeps a buffer under a
 * thread key whose destructor frees it. What is printed does not depend on
 * the interleaving. test/real/allocators.sh runs it with jemalloc,
 * tcmalloc and mimalloc preloaded beside libgpatch: those allocators take
 * pthread mutexes and call pthread_once inside malloc, which the shim
 * interposes, from the runtime's own set-up too. */
#include "compat.h"

#define PRODUCERS    4
#define CONSUMERS    4
#define PER_PRODUCER 2000
#define SLOTS        16

/* A buffer in flight: its size and the byte it is filled with. */
struct item {
  unsigned char *p;
  size_t size;
  unsigned char fill;
};

static struct {
  pthread_mutex_t lock;
  pthread_cond_t not_full, not_empty;
  struct item slot[SLOTS];
  int head, count, producers_left;
} q = {PTHREAD_MUTEX_INITIALIZER,
       PTHREAD_COND_INITIALIZER,
       PTHREAD_COND_INITIALIZER,
       {{0}},
       0,
       0,
       PRODUCERS};

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static long destructed; /* buffers the key's destructor freed */
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static void destroy(void *p)
{
  free(p);
  pthread_mutex_lock(&count_lock);
  destructed++;
  pthread_mutex_unlock(&count_lock);
}

static void make_key(void)
{
  if (pthread_key_create(&key, destroy) != 0)
    abort();
}

/* Gives the calling thread a buffer under the key. */
static void keep_one(size_t size)
{
  pthread_once(&once, make_key);
  pthread_setspecific(key, malloc(size));
}

/* A buffer of size bytes made one of four ways, filled with fill. */
static unsigned char *make(size_t size, int how, unsigned char fill)
{
  unsigned char *p = NULL;
  switch (how) {
  case 0:
    p = malloc(size);
    break;
  case 1:
    p = calloc(1, size);
    for (size_t i = 0; p && i < size; i++)
      if (p[i] != 0)
        abort(); /* calloc's memory must be zero */
    break;
  case 2:
    p = malloc(size / 2 + 1);
    p = p ? realloc(p, size) : NULL;
    break;
  default:
    if (posix_memalign((void **)&p, 64, size) != 0 || ((uintptr_t)p & 63))
      abort();
    break;
  }
  if (p == NULL)
    abort();
  memset(p, fill, size);
  return p;
}

static void *producer(void *arg)
{
  long id = (long)(intptr_t)arg;

  keep_one(100 + (size_t)id);
  for (int i = 0; i < PER_PRODUCER; i++) {
    size_t size = (size_t)16 << ((i + id) % 13); /* 16 B to 64 KiB */
    struct item it = {make(size, i % 4, (unsigned char)(i + id)), size,
                      (unsigned char)(i + id)};
    pthread_mutex_lock(&q.lock);
    while (q.count == SLOTS)
      pthread_cond_wait(&q.not_full, &q.lock);
    q.slot[(q.head + q.count) % SLOTS] = it;
    q.count++;
    pthread_cond_signal(&q.not_empty);
    pthread_mutex_unlock(&q.lock);
    if (i % 500 == 0)
      sleep_ms(1);
  }
  pthread_mutex_lock(&q.lock);
  q.producers_left--;
  pthread_cond_broadcast(&q.not_empty);
  pthread_mutex_unlock(&q.lock);
  return NULL;
}

/* Takes items until the producers are done; returns how many bytes it
 * checked and freed, or -1 for a corrupt buffer. */
static void *consumer(void *arg)
{
  long bytes = 0;
  int first = 1;

  (void)arg;
  keep_one(200);
  for (;;) {
    struct item it;
    pthread_mutex_lock(&q.lock);
    while (q.count == 0 && q.producers_left > 0)
      pthread_cond_wait(&q.not_empty, &q.lock);
    if (q.count == 0) {
      pthread_mutex_unlock(&q.lock);
      break;
    }
    it = q.slot[q.head];
    q.head = (q.head + 1) % SLOTS;
    q.count--;
    pthread_cond_signal(&q.not_full);
    pthread_mutex_unlock(&q.lock);
    if (first) {
      first = 0;
      check_threads(1); /* the others wait: one OS thread patched */
    }
    for (size_t i = 0; i < it.size; i++)
      if (it.p[i] != it.fill)
        return (void *)(intptr_t)-1;
    free(it.p);
    bytes += (long)it.size;
  }
  return (void *)(intptr_t)bytes;
}

int main(void)
{
  pthread_t p[PRODUCERS], c[CONSUMERS];
  long total = 0, want = 0;
  char *s;

  setvbuf(stdout, NULL, _IOLBF, 0);
  /* Without a thread (short of memory) there is nothing to compare. */
  for (long i = 0; i < CONSUMERS; i++)
    if (pthread_create(&c[i], NULL, consumer, NULL) != 0)
      return 2;
  for (long i = 0; i < PRODUCERS; i++)
    if (pthread_create(&p[i], NULL, producer, (void *)(intptr_t)i) != 0)
      return 2;
  for (int i = 0; i < PRODUCERS; i++)
    EXPECT("join producer", pthread_join(p[i], NULL) == 0);
  for (int i = 0; i < CONSUMERS; i++) {
    void *r;
    EXPECT("join consumer", pthread_join(c[i], &r) == 0);
    EXPECT("buffers intact", (intptr_t)r >= 0);
    total += (long)(intptr_t)r;
  }
  for (long id = 0; id < PRODUCERS; id++)
    for (int i = 0; i < PER_PRODUCER; i++)
      want += 16L << ((i + id) % 13);
  SAY("bytes handed over and freed: %ld (expected %ld)\n", total, want);
  SAY("key destructors run: %ld\n", destructed);
  s = strdup("strdup after the threads");
  SAY("%s\n", s);
  free(s);
  return compat_failures != 0;
}
