"""The seeds' urlopen example: three threading.Threads each fetch a URL
with urllib.request.urlopen; prints each answer as it arrives, then (on
stderr) the total time, the process's OS thread count taken as the first
answer arrives, while the other two fetches still wait (plain, the three
fetching threads and main; patched, one), and its peak RSS."""
import os
import sys
import threading
import time
import urllib.request

ports = sys.argv[1:4]
start = time.monotonic()
lock = threading.Lock()
threads_seen = []


def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])


def program_threads():
    """The OS threads that run this program's code, as (threads of its
    own, the runtime's GPATCH_CORES schedulers, gpatch-sched, which run
    its threads too); the runtime's helpers, its monitor (gpatch-monitor)
    and libuv's threadpool (libuv-worker) are not counted."""
    n = workers = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open("/proc/self/task/%s/comm" % tid) as f:
                name = f.read().strip()
        except OSError:
            continue
        workers += name == "gpatch-sched"
        n += name not in ("gpatch-sched", "gpatch-helper", "gpatch-monitor",
                          "libuv-worker")
    return n, workers


def fetch(port):
    body = urllib.request.urlopen("http://127.0.0.1:%s/" % port).read()
    with lock:
        if not threads_seen:
            threads_seen.append(program_threads())
        print(body.decode().strip(), flush=True)


ts = [threading.Thread(target=fetch, args=(p,)) for p in ports]
for t in ts:
    t.start()
for t in ts:
    t.join()
took = time.monotonic() - start
print("took %.0f ms; OS threads while waiting: %s; schedulers: %s; "
      "peak RSS %d KiB" % (took * 1000, threads_seen[0][0], threads_seen[0][1],
                          status("VmHWM")), file=sys.stderr)
