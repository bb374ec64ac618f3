#!/bin/bash
# Sockets passed between Python processes over Unix sockets (SCM_RIGHTS):
# socket.send_fds within one process, multiprocessing's send_handle from a
# forked child, a socket object sent through a multiprocessing Pipe
# (test/real/fdpass.py). Each arrives blocking, as its sender believes it,
# and reads wait for data; plain and patched print the same. Before, the
# receiver found the shim's own O_NONBLOCK on the shared open file
# description and os.read raised BlockingIOError.
. "$(dirname "$0")/common.bash"
need_python
run_both "$PY" test/real/fdpass.py
same_output
check "the receivers found blocking sockets and read their data" \
  grep -q "b'three'" "$tmp/patched.out"
finish
