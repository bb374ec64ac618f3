/* d_sud_uring: io_uring through liburing, which makes its system calls
 * with syscall instructions of its own (no libc, so no preload sees them).
 * One thread waits for a completion (io_uring_wait_cqe: io_uring_enter
 * with GETEVENTS) of a read from a pipe that another thread fills 50 ms
 * later, while a third ticks. Patched on one OS thread, the wait must
 * park only its thread: the runtime routes the call (syscall user
 * dispatch, on by itself when liburing is loaded). Built without liburing
 * it says so, the same plain and patched. */
#include "compat.h"

#if defined(__has_include) && __has_include(<liburing.h>) && defined(HAVE_LIBURING)
#include <liburing.h>

static int pfd[2];
static volatile int done;
static long ticks;

static void *writer(void *arg)
{
  sleep_ms(50);
  if (write(pfd[1], "hello", 5) != 5)
    return (void *)1;
  return arg;
}

static void *ticker(void *arg)
{
  while (!done) {
    sleep_ms(5);
    ticks++;
  }
  return arg;
}

int main(void)
{
  struct io_uring ring;
  struct io_uring_sqe *sqe;
  struct io_uring_cqe *cqe;
  char buf[16] = {0};
  pthread_t w, t;
  int r;

  setvbuf(stdout, NULL, _IOLBF, 0);
  if (pipe(pfd) != 0 || (r = io_uring_queue_init(8, &ring, 0)) != 0) {
    SAY("io_uring: unavailable here\n");
    return 0;
  }
  sqe = io_uring_get_sqe(&ring);
  io_uring_prep_read(sqe, pfd[0], buf, sizeof(buf), 0);
  io_uring_submit(&ring);
  pthread_create(&w, NULL, writer, NULL);
  pthread_create(&t, NULL, ticker, NULL);
  r = io_uring_wait_cqe(&ring, &cqe);
  SAY("wait: %d, result %d, data %s\n", r, cqe->res, buf);
  io_uring_cqe_seen(&ring, cqe);
  done = 1;
  pthread_join(w, NULL);
  pthread_join(t, NULL);
  SAY("the ticker ran meanwhile: %s\n", ticks > 2 ? "yes" : "NO");
  /* A wait with a timeout that passes. */
  {
    struct __kernel_timespec ts = {0, 20 * 1000000};
    r = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
    SAY("timed wait: %s\n", r == -ETIME ? "ETIME" : strerror(-r));
  }
  io_uring_queue_exit(&ring);
  return 0;
}
#else
int main(void)
{
  printf("liburing: not built in\n");
  return 0;
}
#endif
