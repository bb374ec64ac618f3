#!/bin/bash
# python3 fetches three URLs, each with urllib in its own threading.Thread
# (test/real/fetch3.py), from local servers that answer after 300, 100 and
# 200 ms (test/real/delay_server.py, unpatched). Plain and patched must print
# the same answers, fastest first: the fetches overlap (one after another,
# the order would be 300, 100, 200). Patched, the process has one OS thread
# when the first answer arrives (counted by the program then, while two
# fetches wait) and whenever it is sampled from outside (the URLs are
# numeric: no name lookup, so no threadpool either). The times (~300 ms
# patched, not the ~600 ms of a sum) are printed, not judged.
. "$(dirname "$0")/common.bash"
need_python

mkfifo "$tmp/hold" && exec 9<>"$tmp/hold" # keeps the servers' stdin open
timeout -k 5 90 "$PY" test/real/delay_server.py <&9 >"$tmp/ports" 2>"$tmp/servers.err" &
pids+=($!)
wait_line "$tmp/ports" '^[0-9]+ [0-9]+ [0-9]+$' 20 || {
  bad "delay servers did not start"
  show "$tmp/servers.err"
  finish
}
read -r p1 p2 p3 <"$tmp/ports"

start plain 30 "$PY" test/real/fetch3.py "$p1" "$p2" "$p3"
sampler "$pid" "$tmp/plain.samples"
wait "$pid"
rc_plain=$?
start patched 30 env LD_PRELOAD="$LIB" "$PY" test/real/fetch3.py "$p1" "$p2" "$p3"
sampler "$pid" "$tmp/samples"
wait "$pid"
rc_patched=$?
wait_file "$tmp/samples" 5

printf 'answered after %s ms\n' 100 200 300 >"$tmp/expected"
check "plain run prints the answers fastest first (exit $rc_plain)" \
  cmp -s "$tmp/expected" "$tmp/plain.out"
if [ $rc_patched = 0 ] && cmp -s "$tmp/plain.out" "$tmp/patched.out"; then
  ok "patched output identical to plain (exit 0)"
else
  bad "patched output differs from plain (exit $rc_patched)"
  diff "$tmp/plain.out" "$tmp/patched.out" | head
  show "$tmp/patched.err"
fi

took() { sed -n 's/^took \([0-9]*\) ms.*/\1/p' "$1"; }
tp=$(took "$tmp/plain.err")
tq=$(took "$tmp/patched.err")
info "plain took ${tp:-?} ms, patched ${tq:-?} ms (answers after 300, 100, 200 ms; one after another ~600)"

inside() { sed -n 's/.*OS threads while waiting: \([0-9]*\).*/\1/p' "$1"; }
info "plain process: Threads: $(inside "$tmp/plain.err") as the first answer arrived"
check "patched process saw Threads: $(inside "$tmp/patched.err") as the first answer arrived, two fetches waiting (want 1)" \
  test "$(inside "$tmp/patched.err")" = 1
wait_file "$tmp/plain.samples" 5
read -r n mp mw mt <"$tmp/plain.samples"
info "plain process: up to $mt OS threads over $n samples"
read -r n mp mw mt <"$tmp/samples"
check "patched process sampled $n times from outside: at most $mp program thread(s), $mw libuv worker(s) (want 1, 0)" \
  test "$n" -gt 0 -a "$mp" = 1 -a "$mw" = 0

# GPATCH_CORES=auto gives python3 every CPU. Debian's python3 (a non-PIE
# executable) takes malloc's address, so its executable has a symbol malloc
# (a PLT entry, no definition), which once made auto take it for a program
# with its own allocator and give it one scheduler.
dpy=/usr/bin/python3
[ -x "$dpy" ] || dpy=$PY
if [ "$(nproc)" -ge 2 ]; then
  start auto 30 env LD_PRELOAD="$LIB" GPATCH_CORES=auto "$dpy" test/real/fetch3.py "$p1" "$p2" "$p3"
  wait "$pid"
  scheds=$(sed -n 's/.*schedulers: \([0-9]*\).*/\1/p' "$tmp/auto.err")
  want=$(nproc)
  [ "$want" -gt 64 ] && want=64
  check "GPATCH_CORES=auto: $((${scheds:-0} + 1)) scheduler(s) as the first answer arrived (want $want), nothing on stderr but the timing" \
    test "${scheds:-0}" = $((want - 1)) -a "$(grep -c . "$tmp/auto.err")" = 1
fi
finish
