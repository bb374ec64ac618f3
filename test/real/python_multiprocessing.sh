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
for mode in plain patched; do
  pre=()
  [ $mode = patched ] && pre=(env LD_PRELOAD="$LIB")
  timeout 60 "${pre[@]}" "$PY" test/real/multiproc.py >"$tmp/$mode.out" \
    2>"$tmp/$mode.err"
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
