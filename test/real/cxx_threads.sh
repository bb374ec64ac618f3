#!/bin/bash
# C++ standard threads (test/real/cxx_threads.cc, built here with g++ when
# it is installed): std::future, std::async, std::condition_variable,
# std::atomic::wait and a future's wait_for timeout. libstdc++ waits on
# futexes of its own through syscall(SYS_futex): patched, those waits must
# let the other threads run. Same output plain and patched, exit 0, one OS
# thread patched, counted by the program itself as its last async task
# starts (THREADS_FILE), not sampled from outside at a guessed moment.
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
  THREADS_FILE=$tmp/threads.$mode timeout 30 "${pre[@]}" "$bin" \
    >"$tmp/$mode.out" 2>"$tmp/$mode.err"
  rc=$?
  check "$mode run exits 0 (exit $rc)" test $rc = 0
  [ $rc = 0 ] || show "$tmp/$mode.err"
  n=$(cat "$tmp/threads.$mode" 2>/dev/null)
  info "$mode: OS threads as the last async task starts: ${n:-?}"
done
check "patched: one OS thread (got ${n:-none})" test "${n:-0}" = 1
same_output
finish
