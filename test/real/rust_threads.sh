#!/bin/bash
# Rust standard threads (test/real/rust_threads.rs, built here with rustc
# when it is installed): a sync_channel, Mutex, Condvar, mpsc, Barrier,
# park and thread_local!. Rust's std waits on futexes through syscall(3),
# keeps each thread's handle in TLS (it aborts when two threads share one)
# and tells threads apart by a thread-local's address (GPATCH_TLS auto
# gives a program rustc built a TLS area per thread). Same output plain and
# patched, exit 0.
. "$(dirname "$0")/common.bash"
need rustc
bin=$tmp/rust_threads
if ! rustc -O -o "$bin" test/real/rust_threads.rs 2>"$tmp/build.err"; then
  skip "a working rustc (see $tmp/build.err)"
fi
run_both "$bin"
same_output
finish
