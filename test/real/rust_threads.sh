#!/bin/bash
# Rust standard threads (test/real/rust_threads.rs, built here with rustc
# when it is installed): Mutex, Condvar, mpsc, Barrier, park and
# thread_local!. Rust's std waits on futexes through syscall(3) and keeps
# each thread's handle in TLS (it aborts when two threads share one).
# Same output plain and patched, exit 0.
. "$(dirname "$0")/common.bash"
need rustc
bin=$tmp/rust_threads
if ! rustc -O -o "$bin" test/real/rust_threads.rs 2>"$tmp/build.err"; then
  skip "a working rustc (see $tmp/build.err)"
fi
for mode in plain patched; do
  pre=()
  [ $mode = patched ] && pre=(env LD_PRELOAD="$LIB")
  timeout 60 "${pre[@]}" "$bin" >"$tmp/$mode.out" 2>"$tmp/$mode.err"
  rc=$?
  check "$mode run exits 0 (exit $rc)" test $rc = 0
  [ $rc = 0 ] || show "$tmp/$mode.err"
done
if cmp -s "$tmp/plain.out" "$tmp/patched.out"; then
  ok "same output plain and patched ($(wc -l <"$tmp/plain.out") lines)"
else
  bad "outputs differ"
  diff "$tmp/plain.out" "$tmp/patched.out" | head -20 | sed 's/^/    /'
fi
finish
