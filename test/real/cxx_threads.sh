#!/bin/bash
# C++ standard threads (test/real/cxx_threads.cc, built here with g++ when
# it is installed): std::future, std::async, std::condition_variable,
# std::atomic::wait and a future's wait_for timeout. libstdc++ waits on
# futexes of its own through syscall(SYS_futex): patched, those waits must
# let the other threads run. Same output plain and patched, exit 0, one OS
# thread patched (counted while the last async task sleeps).
. "$(dirname "$0")/common.bash"
need g++
bin=$tmp/cxx_threads
if ! g++ -std=c++20 -O2 -pthread -o "$bin" test/real/cxx_threads.cc \
  2>"$tmp/build.err"; then
  skip "a g++ with C++20 (see $tmp/build.err)"
fi
for mode in plain patched; do
  pre=()
  [ $mode = patched ] && pre=(env LD_PRELOAD="$LIB")
  start run.$mode 30 "${pre[@]}" "$bin"
  sleep 0.1 # the last async task sleeps 100 ms from about here
  n=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
  wait "$pid"
  rc=$?
  check "$mode run exits 0 (exit $rc)" test $rc = 0
  [ $rc = 0 ] || show "$tmp/run.$mode.err"
  info "$mode: OS threads while running: ${n:-?}"
  [ $mode = patched ] && check "patched: one OS thread (got ${n:-none})" \
    test "${n:-0}" = 1
done
if cmp -s "$tmp/run.plain.out" "$tmp/run.patched.out"; then
  ok "same output plain and patched ($(wc -l <"$tmp/run.plain.out") lines)"
else
  bad "outputs differ"
  diff "$tmp/run.plain.out" "$tmp/run.patched.out" | head -20 | sed 's/^/    /'
fi
finish
