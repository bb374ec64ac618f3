#!/bin/bash
# A python3 socketserver.ThreadingTCPServer line echo server
# (test/real/socketserver_echo.py), plain and patched, against 500
# concurrent clients (test/real/echo_clients.py, asyncio, unpatched) that
# each send three messages, one of 20 KB, and check the echoes. All 500
# must succeed against both, with the same client transcript; while all 500
# are connected the patched server has one OS thread (no name lookup
# happens: no threadpool either), the plain one a thread per client.
. "$(dirname "$0")/common.bash"
need_python
n=500

[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((n * 2 + 64)) ] ||
  ulimit -n $((n * 2 + 64)) 2>/dev/null ||
  { bad "open-file limit $(ulimit -n) too low for $n connections"; finish; }

for mode in plain patched; do
  if [ $mode = patched ]; then
    start server.$mode 150 env LD_PRELOAD="$LIB" "$PY" test/real/socketserver_echo.py
  else
    start server.$mode 150 "$PY" test/real/socketserver_echo.py
  fi
  spid=$pid
  if ! wait_line "$tmp/server.$mode.out" '^[0-9]+$' 20; then
    bad "$mode server did not start"
    show "$tmp/server.$mode.err"
    continue
  fi
  port=$(head -n 1 "$tmp/server.$mode.out")
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
    info "plain server with $n connections open: $total OS threads"
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
