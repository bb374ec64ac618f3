// cxx_cancel: pthread_exit and pthread_cancel in C++ code unwind the
// thread's stack as glibc's do: destructors of objects on it run (a
// std::unique_lock gives its mutex back), a catch (...) that throws again
// sees the unwinding go on, C++ code's pthread_cleanup_push (an object
// whose destructor runs the handler) runs, and pthread_exit in main
// destroys main's objects before the process waits for its last thread.
// With the argument "swallow", a catch (...) that does not throw again
// ends the process with glibc's message and SIGABRT. Built and run by
// cxx_cancel.sh, plain and patched.
#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

static std::string log_;
static std::mutex log_mutex;
static sem_t ready;

static void note(const char *what)
{
  std::lock_guard<std::mutex> g(log_mutex);
  log_ += what;
  log_ += ' ';
}

struct Noisy {
  const char *name;
  explicit Noisy(const char *n) : name(n) {}
  ~Noisy() { note(name); }
};

static void *exits(void *)
{
  Noisy outer("exit-outer");
  {
    Noisy inner("exit-inner");
    pthread_exit(reinterpret_cast<void *>(42));
  }
  note("exit-NOT-REACHED");
  return nullptr;
}

static void deeper(int n)
{
  Noisy level(n == 0 ? "deep-0" : n == 1 ? "deep-1" : "deep-2");
  if (n == 2)
    pthread_exit(nullptr);
  deeper(n + 1);
}

static void *exits_deep(void *)
{
  deeper(0);
  return nullptr;
}

static std::mutex m;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

// Blocked in pthread_cond_wait with a unique_lock: the cancel takes the
// mutex again, and the lock's destructor gives it back.
static void *waits_locked(void *)
{
  Noisy n("cond-object");
  std::unique_lock<std::mutex> lock(m);
  sem_post(&ready);
  for (;;)
    pthread_cond_wait(&cv, lock.mutex()->native_handle());
  return nullptr;
}

static void *rethrows(void *)
{
  try {
    Noisy n("try-object");
    sem_post(&ready);
    for (;;)
      pause();
  } catch (...) {
    note("caught-and-rethrown");
    throw;
  }
  return nullptr;
}

static void cleanup(void *arg)
{
  note(static_cast<const char *>(arg));
}

static void *pushes(void *)
{
  pthread_cleanup_push(cleanup, const_cast<char *>("cleanup-handler"));
  Noisy n("push-object");
  sem_post(&ready);
  for (;;)
    sleep(10);
  pthread_cleanup_pop(0);
  return nullptr;
}

static void run(const char *name, void *(*fn)(void *), bool cancel)
{
  pthread_t th;
  void *ret = nullptr;

  log_.clear();
  pthread_create(&th, nullptr, fn, nullptr);
  if (cancel) {
    sem_wait(&ready);
    usleep(20000); // it waits by now
    pthread_cancel(th);
  }
  pthread_join(th, &ret);
  std::printf("%s: %s; %s\n", name,
              ret == PTHREAD_CANCELED ? "PTHREAD_CANCELED"
              : ret == nullptr        ? "nullptr"
                                      : std::to_string((long)ret).c_str(),
              log_.c_str());
}

static void *last(void *)
{
  usleep(50000);
  std::printf("last thread: main's objects %s\n", log_.c_str());
  std::fflush(stdout);
  return nullptr;
}

// A catch (...) that swallows the unwinding: glibc aborts the process.
static void *swallows(void *)
{
  try {
    pthread_exit(nullptr);
  } catch (...) {
    note("swallowed");
  }
  return nullptr;
}

int main(int argc, char **argv)
{
  if (argc > 1 && std::strcmp(argv[1], "swallow") == 0) {
    run("swallowed", swallows, false);
    return 0;
  }
  sem_init(&ready, 0, 0);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  run("pthread_exit", exits, false);
  run("pthread_exit three calls down", exits_deep, false);
  run("cancel in pthread_cond_wait", waits_locked, true);
  bool free_after = m.try_lock();
  std::printf("mutex free after: %s\n", free_after ? "yes" : "no");
  if (free_after)
    m.unlock();
  run("cancel in pause, catch and rethrow", rethrows, true);
  run("cancel in sleep, pthread_cleanup_push", pushes, true);

  log_.clear();
  pthread_t th;
  pthread_create(&th, nullptr, last, nullptr);
  Noisy mains("main-object");
  pthread_exit(nullptr);
}
