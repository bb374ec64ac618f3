"""The seeds' urlopen example: three threading.Threads each fetch a URL
with urllib.request.urlopen; prints each answer as it arrives, then the
total time and the OS thread count seen while the fetches waited."""
import sys
import threading
import time
import urllib.request

ports = sys.argv[1:4]
start = time.monotonic()
results = []
lock = threading.Lock()
threads_seen = []


def fetch(port):
    body = urllib.request.urlopen("http://127.0.0.1:%s/" % port).read()
    with lock:
        results.append(body.decode().strip())
        print(body.decode().strip(), flush=True)


def watch():
    time.sleep(0.05)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                threads_seen.append(int(line.split()[1]))


ts = [threading.Thread(target=fetch, args=(p,)) for p in ports]
ts.append(threading.Thread(target=watch))
for t in ts:
    t.start()
for t in ts:
    t.join()
took = time.monotonic() - start
print("took %.0f ms; OS threads while waiting: %s" % (took * 1000, threads_seen[0]),
      file=sys.stderr)
