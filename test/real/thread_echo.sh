#!/bin/bash
# examples/thread_echo, a thread-per-connection echo server built plain
# (it knows nothing of libgpatch), run plain and preloaded. 200 concurrent
# clients (test/real/echo_clients.py, asyncio, unpatched) each send three
# messages, one of 20 KB, and check the echoes: all must succeed, with the
# same client transcript against both; while all 200 are open the plain
# server has 201 OS threads and the patched one 1 (no name lookups: no
# threadpool either).
. "$(dirname "$0")/common.bash"
need_python
n=200
bin=$B/examples/thread_echo
[ -x "$bin" ] || { bad "$bin not built (make tests)"; finish; }

for mode in plain patched; do
  if [ $mode = patched ]; then
    start server.$mode 100 env LD_PRELOAD="$LIB" "$bin" 0
  else
    start server.$mode 100 "$bin" 0
  fi
  spid=$pid
  if ! wait_line "$tmp/server.$mode.out" '^listening on 127.0.0.1:[0-9]+$' 20; then
    bad "$mode server did not start"
    show "$tmp/server.$mode.err"
    continue
  fi
  port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$tmp/server.$mode.out")
  echo_load clients.$mode "$port" $n 3 "$spid"
  if [ "$client_rc" = 0 ]; then
    ok "$mode server: $(tail -n 1 "$tmp/clients.$mode.out")"
  else
    bad "$mode server: clients failed (exit $client_rc)"
    show "$tmp/clients.$mode.out" 5
    show "$tmp/clients.$mode.err" 5
    show "$tmp/server.$mode.err" 5
  fi
  if [ $mode = plain ]; then
    check "plain server with $n connections open: Threads: $total (want $((n + 1)), a thread each)" \
      test "$total" = $((n + 1))
  else
    check "patched server with $n connections open: $prog program thread(s) of $total, $workers libuv-worker(s) (want 1, 0)" \
      test "$prog" = 1 -a "$workers" = 0
    check "patched server still alive" kill -0 "$spid"
  fi
  stop "$spid"
done
check "client transcripts identical against plain and patched servers" \
  cmp -s "$tmp/clients.plain.out" "$tmp/clients.patched.out"
finish
