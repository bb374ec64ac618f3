"""Many concurrent echo clients, run unpatched as the peer of the echo
server tests: opens N connections to 127.0.0.1:PORT at once, and on each
sends ROUNDS newline-ended messages (one of them 20 KB), one at a time,
checking that each comes back byte for byte. After the first round, with
all N connected, it creates READY and waits (at most 60 s) for GO to exist,
so that the test can look at the server while every connection is open.

  echo_clients.py PORT N ROUNDS READY GO
Prints a deterministic summary; exits 0 only if every echo was right."""
import asyncio
import os
import sys
import time

port, n, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ready, go = sys.argv[4], sys.argv[5]


def message(i, r):
    if r == 1:
        return ("client %d round %d " % (i, r)).encode() + b"x" * 20000 + b"\n"
    return ("client %d round %d\n" % (i, r)).encode()


async def echo(i, conn, r):
    reader, writer = conn
    msg = message(i, r)
    writer.write(msg)
    await writer.drain()
    got = await asyncio.wait_for(reader.readexactly(len(msg)), 30)
    if got != msg:
        raise ValueError("client %d round %d: wrong echo" % (i, r))


async def connect(i):
    for attempt in range(3):
        try:
            return await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), 20)
        except (OSError, asyncio.TimeoutError):
            if attempt == 2:
                raise


async def main():
    conns = await asyncio.gather(*(connect(i) for i in range(n)),
                                 return_exceptions=True)
    up = [c for c in conns if not isinstance(c, BaseException)]
    print("%d of %d clients connected" % (len(up), n))
    bad = 0
    alive = {i: c for i, c in enumerate(conns) if not isinstance(c, BaseException)}
    for r in range(rounds):
        res = await asyncio.gather(*(echo(i, c, r) for i, c in alive.items()),
                                   return_exceptions=True)
        for i, e in zip(list(alive), res):
            if isinstance(e, BaseException):
                bad += 1
                print("client %d round %d failed: %r" % (i, r, e), file=sys.stderr)
                del alive[i]
        if r == 0:
            print("round 0: %d of %d echoes right, all connections open" % (len(alive), n))
            open(ready, "w").close()
            deadline = time.monotonic() + 60
            while not os.path.exists(go) and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
    for c in alive.values():
        c[1].close()
    print("%d of %d clients got all %d echoes right" % (len(alive), n, rounds))
    return 0 if len(alive) == n and bad == 0 else 1


sys.exit(asyncio.run(main()))
