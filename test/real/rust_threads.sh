#!/bin/bash
# Rust standard threads (test/real/rust_threads.rs, built here with rustc
# when it is installed): a sync_channel, Mutex, Condvar, mpsc, Barrier,
# park and thread_local!. Rust's std waits on futexes through syscall(3),
# keeps each thread's handle in TLS (it aborts when two threads share one)
# and tells threads apart by a thread-local's address (GPATCH_TLS auto
# gives a program rustc built a TLS area per thread). Same output plain and
# patched, exit 0. Then rustc itself, patched, builds it with -C
# incremental, as every cargo build does: rustc carries jemalloc, which
# sets a thread-specific value from inside its malloc, and the runtime's
# pthread_setspecific re-entered it (SIGSEGV in jemalloc's destructor).
. "$(dirname "$0")/common.bash"
need rustc
bin=$tmp/rust_threads
if ! rustc -O -o "$bin" test/real/rust_threads.rs 2>"$tmp/build.err"; then
  skip "a working rustc (see $tmp/build.err)"
fi
run_both "$bin"
same_output
timeout 300 env LD_PRELOAD="$LIB" rustc -o "$tmp/incr" -C incremental="$tmp/inc" \
  test/real/rust_threads.rs >"$tmp/incr.err" 2>&1
rc=$?
check "rustc -C incremental, patched, builds it (exit $rc)" test $rc = 0 ||
  show "$tmp/incr.err"
finish
