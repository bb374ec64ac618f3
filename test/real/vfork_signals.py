"""Signal handlers after subprocess.run: CPython's _posixsubprocess resets
every handler to SIG_DFL in its vfork child, which shares the parent's
memory. The parent's handlers must be untouched: a SIGUSR1 handler runs,
SIGINT raises KeyboardInterrupt, and asyncio's subprocesses (whose event
loop wakes through the signal wakeup fd) finish. Prints a transcript, the
same plain and patched."""
import asyncio
import os
import signal
import subprocess
import sys
import time

got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
subprocess.run(["true"], check=True)
os.kill(os.getpid(), signal.SIGUSR1)
print("SIGUSR1 handler after subprocess.run:", got == [signal.SIGUSR1])
print("signal.getsignal reports it:",
      callable(signal.getsignal(signal.SIGUSR1)))

out = subprocess.run(["sh", "-c", "echo child output"], check=True,
                     capture_output=True).stdout
print("output of a second child:", out.decode().strip())
try:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(10)
    print("SIGINT: no KeyboardInterrupt")
except KeyboardInterrupt:
    print("SIGINT: KeyboardInterrupt")


async def child_output():
    p = await asyncio.create_subprocess_exec(
        "sh", "-c", "echo from asyncio; exit 3",
        stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(p.communicate(), 20)
    return out.decode().strip(), p.returncode


print("asyncio subprocess:", asyncio.run(child_output()))
sys.stdout.flush()
