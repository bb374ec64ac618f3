#!/bin/bash
# python3's threading synchronisation (test/real/sync_transcript.py):
# queue.Queue producers/consumers, Event, Condition (notify, notify_all,
# wait with timeout, wait_for), Timer (fired and cancelled), Semaphore,
# BoundedSemaphore, Lock.acquire(timeout=…), RLock, Barrier, join(timeout).
# Plain and patched must print the same transcript, which includes
# "threads: ok" only if, at each point where threads wait, the process had
# as many OS threads as live threads (plain) or exactly one (patched). Also
# sampled from outside while it runs: one OS thread, no threadpool (the
# script looks no name up).
. "$(dirname "$0")/common.bash"
need_python

start plain 60 "$PY" test/real/sync_transcript.py
wait "$pid"
rc_plain=$?
start patched 60 env LD_PRELOAD="$LIB" "$PY" test/real/sync_transcript.py
sampler "$pid" "$tmp/samples"
wait "$pid"
rc_patched=$?
wait_file "$tmp/samples" 5

if [ $rc_plain = 0 ] && grep -q '^threads: ok' "$tmp/plain.out"; then
  ok "plain transcript complete, $(wc -l <"$tmp/plain.out") lines, threads: ok"
else
  bad "plain run (exit $rc_plain) did not end with threads: ok"
  show "$tmp/plain.out" 5
  show "$tmp/plain.err" 5
fi
if [ $rc_patched = 0 ] && cmp -s "$tmp/plain.out" "$tmp/patched.out"; then
  ok "patched transcript identical to plain (exit 0)"
else
  bad "patched transcript differs from plain (exit $rc_patched)"
  diff "$tmp/plain.out" "$tmp/patched.out" | head -n 20
  show "$tmp/patched.err" 10
fi
check "patched, inside: $(grep '^threads:' "$tmp/patched.out" || echo 'threads: ?')" \
  grep -q '^threads: ok' "$tmp/patched.out"
read -r n mp mw mt <"$tmp/samples"
check "patched, outside: $n samples, at most $mp program thread(s), $mw libuv-worker(s) (want 1, 0)" \
  test "$n" -gt 0 -a "$mp" = 1 -a "$mw" = 0
finish
