# multiproc.py: multiprocessing and subprocess, which mix processes,
# threads, pipes and process-shared semaphores: a ProcessPoolExecutor, a
# Pool (its handler threads poll in a loop; terminate() takes a lock a
# worker holds), a Process with a Queue, a Popen whose communicate() times
# out, a spawn-context pool, a Lock, and a forking TCP server (it forks
# from its serving thread while main waits for the answer). Prints what it
# gets.
import concurrent.futures
import multiprocessing as mp
import socket
import socketserver
import subprocess
import threading


def square(x):
    return x * x


class Upper(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(self.rfile.readline().upper())


class ForkingServer(socketserver.ForkingMixIn, socketserver.TCPServer):
    pass


if __name__ == "__main__":
    with concurrent.futures.ProcessPoolExecutor(2) as ex:
        print("executor", list(ex.map(square, range(6))))
    with mp.Pool(2) as pool:
        print("pool map", pool.map(square, range(5)))
        print("pool async", pool.apply_async(square, (9,)).get(timeout=10))
    q = mp.Queue()
    p = mp.Process(target=q.put, args=("from the child",))
    p.start()
    print("queue", q.get(timeout=10))
    p.join()
    print("exitcode", p.exitcode)
    proc = subprocess.Popen(["sh", "-c", "sleep 0.2; echo hi"],
                            stdout=subprocess.PIPE)
    try:
        proc.communicate(timeout=0.05)
    except subprocess.TimeoutExpired:
        print("communicate: timeout expired")
    print("communicate", proc.communicate(timeout=5)[0])
    with mp.get_context("spawn").Pool(1) as pool:
        print("spawn pool", pool.apply(square, (7,)))
    lock = mp.Lock()
    with lock:
        print("lock held")
    server = ForkingServer(("127.0.0.1", 0), Upper)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for word in (b"one\n", b"two\n"):
        with socket.create_connection(server.server_address) as c:
            c.sendall(word)
            print("forking server", c.makefile("rb").readline())
    server.shutdown()
    server.server_close()
    print("done")
