"""threading's synchronisation, exercised the way programs use it, printing
a transcript that does not depend on how the threads interleave (threads
record, the main thread prints). Run plain and under libgpatch: the two
transcripts must be identical. While threads wait, it compares
/proc/self/status's Threads: with what it expects: every live thread
plain, one OS thread patched (LD_PRELOAD names libgpatch); it prints only
whether they matched."""
import os
import queue
import threading
import time

PATCHED = "libgpatch" in os.environ.get("LD_PRELOAD", "")
checks = []


def os_threads():
    """The OS threads that run this program's code: the runtime's own
    (its GPATCH_CORES schedulers, gpatch-sched, its monitor,
    gpatch-monitor, and libuv's threadpool, libuv-worker) are not
    counted."""
    n = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open("/proc/self/task/%s/comm" % tid) as f:
                name = f.read().strip()
        except OSError:
            continue
        n += name not in ("gpatch-sched", "gpatch-helper", "gpatch-monitor",
                          "libuv-worker")
    return n


def check_threads(where):
    want = 1 if PATCHED else threading.active_count()
    got = os_threads()
    checks.append(got == want)
    if got != want:
        print("threads %s: got %d, want %d" % (where, got, want))


def within(t, lo, hi):
    return "yes" if lo <= t < hi else "NO (%.3f s)" % t


# queue.Queue: producers and consumers through a bounded queue, join().
q = queue.Queue(maxsize=3)
consumed = []
clock = threading.Lock()


def producer(base):
    for i in range(50):
        q.put(base + i)


def consumer():
    while True:
        item = q.get()
        if item is None:
            q.task_done()
            return
        with clock:
            consumed.append(item)
        q.task_done()


prods = [threading.Thread(target=producer, args=(b,)) for b in (0, 1000)]
cons = [threading.Thread(target=consumer) for _ in range(3)]
for t in prods + cons:
    t.start()
time.sleep(0.05)
check_threads("queue")
for t in prods:
    t.join()
q.join()
for _ in cons:
    q.put(None)
for t in cons:
    t.join()
print("queue: consumed %d items, sum %d, all distinct: %s" %
      (len(consumed), sum(consumed), len(set(consumed)) == len(consumed)))
try:
    q.get(timeout=0.05)
except queue.Empty:
    print("queue: get(timeout) on an empty queue raised Empty")
full = queue.Queue(maxsize=1)
full.put(1)
try:
    full.put(2, timeout=0.05)
except queue.Full:
    print("queue: put(timeout) on a full queue raised Full")

# threading.Event: waiters wake when it is set; wait(timeout) says False.
ev = threading.Event()
woke = []


def waiter(i):
    if ev.wait(5):
        with clock:
            woke.append(i)


ws = [threading.Thread(target=waiter, args=(i,)) for i in range(4)]
for t in ws:
    t.start()
time.sleep(0.05)
check_threads("event")
print("event: nobody woke before set: %s" % (woke == []))
t0 = time.monotonic()
print("event: wait(0.1) unset returns %s" % threading.Event().wait(0.1))
print("event: it waited 0.1 s: %s" % within(time.monotonic() - t0, 0.09, 1.0))
ev.set()
for t in ws:
    t.join()
print("event: woke after set: %s" % sorted(woke))

# threading.Condition: notify(1) wakes one, notify_all the rest; a timed
# wait with nobody notifying returns False; wait_for a predicate.
cond = threading.Condition()
state = {"n": 0, "go": 0}
cwoke = []


def cwaiter(i):
    with cond:
        while state["go"] == 0:
            cond.wait()
        state["go"] -= 1
        cwoke.append(i)


cws = [threading.Thread(target=cwaiter, args=(i,)) for i in range(3)]
for t in cws:
    t.start()
time.sleep(0.05)
check_threads("condition")
with cond:
    state["go"] = 1
    cond.notify()
time.sleep(0.05)
print("condition: after notify(1), woken: %d" % len(cwoke))
with cond:
    state["go"] = 2
    cond.notify_all()
for t in cws:
    t.join()
print("condition: after notify_all, woken: %d" % len(cwoke))
with cond:
    t0 = time.monotonic()
    r = cond.wait(timeout=0.1)
    print("condition: wait(timeout=0.1) with no notify returns %s after 0.1 s: %s"
          % (r, within(time.monotonic() - t0, 0.09, 1.0)))


def bump():
    for _ in range(5):
        time.sleep(0.01)
        with cond:
            state["n"] += 1
            cond.notify_all()


b = threading.Thread(target=bump)
b.start()
with cond:
    print("condition: wait_for(n == 5) returns %s" %
          cond.wait_for(lambda: state["n"] == 5, timeout=5))
b.join()

# threading.Timer: one fires, a cancelled one does not.
fired = []
t1 = threading.Timer(0.1, lambda: fired.append("first"))
t2 = threading.Timer(0.2, lambda: fired.append("cancelled"))
t1.start()
t2.start()
time.sleep(0.02)
check_threads("timer")
t2.cancel()
print("timer: nothing fired yet: %s" % (fired == []))
t1.join()
t2.join()
print("timer: fired %s" % fired)

# threading.Semaphore: at most 2 of 6 threads inside at once.
sem = threading.Semaphore(2)
inside = {"now": 0, "max": 0}


def limited():
    with sem:
        with clock:
            inside["now"] += 1
            inside["max"] = max(inside["max"], inside["now"])
        time.sleep(0.03)
        with clock:
            inside["now"] -= 1


ss = [threading.Thread(target=limited) for _ in range(6)]
for t in ss:
    t.start()
time.sleep(0.01)
check_threads("semaphore")
for t in ss:
    t.join()
# The bound, not the count reached: on a busy machine the threads may
# start too far apart to overlap at all, plain as well.
print("semaphore: never more than 2 inside at once: %s" %
      (1 <= inside["max"] <= 2))
print("semaphore: acquire(timeout=0.05) on a zero semaphore: %s" %
      threading.Semaphore(0).acquire(timeout=0.05))
bs = threading.BoundedSemaphore(1)
try:
    bs.release()
except ValueError:
    print("semaphore: BoundedSemaphore over-release raised ValueError")

# Lock.acquire(timeout=…) while another thread holds it; RLock re-entry.
lock = threading.Lock()
held = threading.Event()
release = threading.Event()


def holder():
    with lock:
        held.set()
        release.wait(5)


h = threading.Thread(target=holder)
h.start()
held.wait(5)
check_threads("lock")
print("lock: acquire(blocking=False) while held: %s" % lock.acquire(False))
t0 = time.monotonic()
r = lock.acquire(timeout=0.15)
print("lock: acquire(timeout=0.15) while held: %s, after 0.15 s: %s" %
      (r, within(time.monotonic() - t0, 0.14, 1.0)))
threading.Timer(0.05, release.set).start()
t0 = time.monotonic()
r = lock.acquire(timeout=5)
print("lock: acquire(timeout=5) once released: %s, well before 5 s: %s" %
      (r, within(time.monotonic() - t0, 0.0, 2.0)))
lock.release()
h.join()
rl = threading.RLock()
with rl:
    with rl:
        print("lock: RLock re-entered: %s" % rl._is_owned())

# threading.Barrier: three parties meet; join(timeout) on a live thread.
bar = threading.Barrier(3)
ids = []


def party():
    ids.append(bar.wait(5))


ps = [threading.Thread(target=party) for _ in range(2)]
for t in ps:
    t.start()
ids.append(bar.wait(5))
for t in ps:
    t.join()
print("barrier: indices %s" % sorted(ids))
sl = threading.Thread(target=time.sleep, args=(0.3,))
sl.start()
sl.join(0.05)
print("join(0.05) on a sleeping thread: alive %s" % sl.is_alive())
sl.join()
print("joined: alive %s" % sl.is_alive())

print("threads: %s (%d checks)" % ("ok" if all(checks) else "MISMATCH", len(checks)))
