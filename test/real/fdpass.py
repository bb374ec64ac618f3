"""Sockets passed between processes over Unix sockets (SCM_RIGHTS), the
ways Python programs pass them: socket.send_fds within one process,
multiprocessing.reduction.send_handle from a forked child, and a socket
object sent through a multiprocessing Pipe to a child (multiprocessing's
resource sharer passes its fd). Each receiver checks the socket is
blocking, as the sender believes it, and reads data written later: a
receiver that finds it non-blocking gets BlockingIOError. Prints a
transcript, the same plain and patched."""
import multiprocessing as mp
import os
import socket
import sys
import threading
import time
from multiprocessing import reduction


def later(sock, data):
    time.sleep(0.1)
    sock.sendall(data)


def read_fd(fd):
    try:
        return os.read(fd, 32)
    except OSError as e:
        return type(e).__name__


def same_process():
    a, b = socket.socketpair()
    c, s = socket.socketpair()
    socket.send_fds(a, [b"x"], [c.fileno()])
    _, fds, _, _ = socket.recv_fds(b, 1, 4)
    print("send_fds in one process: blocking", os.get_blocking(fds[0]))
    threading.Thread(target=later, args=(s, b"one")).start()
    print("  read", read_fd(fds[0]))
    print("  the sender's socket: blocking", c.getblocking(),
          os.get_blocking(c.fileno()))


def handle_child(conn):
    p, q = socket.socketpair()
    reduction.send_handle(conn, p.fileno(), os.getppid())
    time.sleep(0.1)
    q.sendall(b"two")
    conn.recv()  # the parent's word: it has read


def from_forked_child():
    here, there = mp.Pipe()
    child = mp.Process(target=handle_child, args=(there,))
    child.start()
    fd = reduction.recv_handle(here)
    print("send_handle from a forked child: blocking", os.get_blocking(fd))
    print("  read", read_fd(fd))
    here.send("done")
    child.join()
    print("  child exit code", child.exitcode)


def socket_child(conn):
    sock = conn.recv()  # rebuilt from an fd the resource sharer passes
    conn.send(("blocking", sock.getblocking(), os.get_blocking(sock.fileno())))
    try:
        conn.send(("read", sock.recv(32)))
    except OSError as e:
        conn.send(("read", type(e).__name__))


def socket_through_pipe():
    ctx = mp.get_context("fork")
    here, there = ctx.Pipe()
    a, b = socket.socketpair()
    child = ctx.Process(target=socket_child, args=(there,))
    child.start()
    here.send(a)
    print("a socket sent through a Pipe to a child:", here.recv())
    later(b, b"three")
    print(" ", here.recv())
    child.join()
    print("  child exit code", child.exitcode)


if __name__ == "__main__":
    mp.set_start_method("fork")
    same_process()
    from_forked_child()
    socket_through_pipe()
    sys.stdout.flush()
