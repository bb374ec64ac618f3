#!/bin/bash
# C++ code that ends a thread with pthread_exit or pthread_cancel
# (test/real/cxx_cancel.cc, built here with g++ when it is installed): the
# thread's stack is unwound as glibc unwinds it, so destructors run (a
# std::unique_lock gives its mutex back), catch (...) blocks that throw
# again see it, and C++ code's pthread_cleanup_push runs. Patched, none of
# that ran before: the mutex stayed locked. Same output plain and patched,
# and the same abort when a catch (...) swallows the unwinding.
. "$(dirname "$0")/common.bash"
need g++
bin=$tmp/cxx_cancel
if ! g++ -std=c++17 -O2 -pthread -o "$bin" test/real/cxx_cancel.cc \
  2>"$tmp/build.err"; then
  skip "a g++ with C++17 (see $tmp/build.err)"
fi
run_both "$bin"
same_output
for mode in plain patched; do
  pre=()
  [ $mode = patched ] && pre=(env LD_PRELOAD="$LIB")
  # (in a subshell, whose own "Aborted" note goes nowhere)
  (
    timeout 30 "${pre[@]}" "$bin" swallow >"$tmp/$mode.sw.out" \
      2>"$tmp/$mode.sw.err"
    exit $?
  ) 2>/dev/null
  rc=$?
  check "$mode: a swallowed unwinding aborts (exit $rc)" test $rc = 134
  check "$mode: with glibc's message" \
    grep -q "FATAL: exception not rethrown" "$tmp/$mode.sw.err" ||
    show "$tmp/$mode.sw.err"
done
finish
