#!/bin/bash
# Python's signal handlers survive its subprocesses (test/real/
# vfork_signals.py): _posixsubprocess resets every handler in its vfork
# child, which shares the parent's memory, and the shim's table of the
# program's handlers used to be overwritten there: afterwards the parent's
# SIGUSR1 handler never ran, Ctrl-C raised no KeyboardInterrupt, and
# asyncio's subprocess tests hung. Plain and patched print the same.
. "$(dirname "$0")/common.bash"
need_python
run_both "$PY" test/real/vfork_signals.py
same_output
check "patched: the handlers ran (KeyboardInterrupt, SIGUSR1)" \
  grep -q "^SIGINT: KeyboardInterrupt" "$tmp/patched.out"
finish
