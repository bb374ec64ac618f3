// cxx_threads.cc: C++ standard threads, whose futures and atomic waits
// use futexes of libstdc++'s own (syscall(SYS_futex)), besides mutexes and
// condition variables (pthreads), and thread_local objects with
// constructors and destructors. Prints what it gets. With THREADS_FILE
// set, it writes there its OS thread count (Threads: of /proc/self/status)
// as the last async task starts: a point where, plain, that task's thread
// and main's live, and where, patched, there must be one OS thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

struct Tracer {
  std::string name = "fresh";
  ~Tracer() { std::cout << "thread_local destroyed: " << name << std::endl; }
};
thread_local Tracer tracer;
thread_local int counter = 10;

// Writes the process's OS thread count to $THREADS_FILE, if it is set.
static void note_threads()
{
  const char *path = std::getenv("THREADS_FILE");
  if (path == nullptr)
    return;
  // The runtime's own threads (its GPATCH_CORES schedulers, gpatch-sched,
  // its monitor, gpatch-monitor, and libuv's threadpool, libuv-worker) do
  // not run this program's code.
  int n = 0;
  for (const auto &task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    n += name != "gpatch-sched" && name != "gpatch-helper" &&
         name != "gpatch-monitor" && name != "libuv-worker";
  }
  std::ofstream(path) << n << "\n";
}

int main()
{
  std::promise<int> p;
  auto f = p.get_future();
  std::thread t([&] {
    std::this_thread::sleep_for(20ms);
    p.set_value(42);
  });
  std::cout << "future " << f.get() << std::endl;
  t.join();

  std::vector<std::future<int>> v;
  for (int i = 0; i < 3; i++)
    v.push_back(std::async(std::launch::async, [i] {
      std::this_thread::sleep_for(std::chrono::milliseconds(30 - 10 * i));
      return i * i;
    }));
  for (auto &a : v)
    std::cout << "async " << a.get() << std::endl;

  std::mutex m;
  std::condition_variable cv;
  bool ready = false;
  std::thread t2([&] {
    std::this_thread::sleep_for(10ms);
    {
      std::lock_guard<std::mutex> g(m);
      ready = true;
    }
    cv.notify_one();
  });
  {
    std::unique_lock<std::mutex> l(m);
    cv.wait_for(l, 2s, [&] { return ready; });
  }
  std::cout << "condition_variable " << ready << std::endl;
  t2.join();

  std::atomic<int> x{0};
  std::thread t3([&] {
    std::this_thread::sleep_for(10ms);
    x.store(1);
    x.notify_one();
  });
  x.wait(0);
  std::cout << "atomic wait " << x.load() << std::endl;
  t3.join();

  auto slow = std::async(std::launch::async, [] {
    note_threads();
    std::this_thread::sleep_for(100ms);
    return 1;
  });
  std::cout << "wait_for 5 ms times out "
            << (slow.wait_for(5ms) == std::future_status::timeout)
            << std::endl;
  std::cout << "then " << slow.get() << std::endl;

  tracer.name = "main";
  counter = 1;
  for (const char *name : {"first", "second"}) {
    std::thread t4([name] {
      std::cout << "thread_local in a new thread: " << tracer.name << " "
                << counter << std::endl;
      tracer.name = name;
      counter += 5;
      std::this_thread::sleep_for(5ms);
      std::cout << "kept: " << tracer.name << " " << counter << std::endl;
    });
    t4.join();
  }
  std::cout << "main's thread_local: " << tracer.name << " " << counter
            << std::endl;
  return 0;
}
