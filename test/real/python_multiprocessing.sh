#!/bin/bash
# python3 multiprocessing and subprocess (test/real/multiproc.py), plain
# and patched: the same output, exit 0, within the time limit. The pool's
# handler threads spin on poll with a zero timeout while another thread is
# to drain the results, and Pool.terminate waits on a process-shared
# semaphore a worker holds: without time slices and cooperative waits on
# shared semaphores the patched run hangs. The forking server forks from a
# thread whose slice may have run out: no switch may happen in the child's
# fork handlers.
. "$(dirname "$0")/common.bash"
need_python
run_both "$PY" test/real/multiproc.py
same_output
finish
