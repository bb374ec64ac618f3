#!/bin/bash
# gpatch compare (scripts/gpatch-compare, run through the scripts/gpatch
# launcher as a user would):
#   - its load-output parsers, on saved outputs of wrk, ab, siege,
#     redis-benchmark, memcslap and loadgen (test/real/compare_parsers.py);
#   - examples/thread_echo under the built-in ping-pong load: every row of
#     the table with three numbers, the patched server on 1 OS thread and
#     the plain one on more, the load's own output shown, a PNG (gnuplot);
#   - python3 -m http.server under wrk (--load, {host} and {port}): the
#     parsed requests/s above 0 plain and patched; and under the built-in
#     HTTP load, which the probe must choose;
#   - a server that daemonizes (its first process exits at once), with
#     --runs 2: median (min-max) cells;
#   - bad input, each exit 2 with its message: a server that exits at once,
#     one that never listens (--port, and any port with
#     GPATCH_COMPARE_TIMEOUT), a load command that fails (its stderr shown),
#     an unknown option, no server; and SIGINT in the middle of a run
#     (exit 130).
# After every run no process of the server or the load may be left: the
# servers run from copies named under this test's temporary directory,
# which pgrep looks for. Timings are never judged; waits are generous.
. "$(dirname "$0")/common.bash"
need_python

G=scripts/gpatch
echo_bin=$B/examples/thread_echo
[ -x "$echo_bin" ] || { bad "$echo_bin not built (make tests)"; finish; }
[ -x "$B/bench/loadgen" ] || { bad "$B/bench/loadgen not built (make tests)"; finish; }
# The launcher finds the library and the load generator in build/; another
# build directory is named.
dirs=()
[ "$B" = build ] || dirs=(--lib "$LIB" --loadgen "$(pwd)/$B/bench/loadgen")
te=$tmp/te-marker
cp "$echo_bin" "$te"
slp=$tmp/sleep-marker
cp "$(command -v sleep)" "$slp"

# compare TAG SECONDS ARGS…: runs gpatch compare ARGS under a time limit,
# stdout in $tmp/TAG.out, stderr in $tmp/TAG.err; sets $rc.
compare() {
  local tag=$1 secs=$2
  shift 2
  timeout -k 10 "$secs" $G compare "${dirs[@]}" "$@" >"$tmp/$tag.out" \
    2>"$tmp/$tag.err" </dev/null
  rc=$?
}

# left: the processes still running from this test's copies, one line.
left() {
  pgrep -a -f "^[^ ]*$tmp/" | tr '\n' ';'
}

# nothing_left WHAT: checks that no server copy runs (a second's grace).
nothing_left() {
  local l
  for _ in $(seq 20); do
    l=$(left)
    [ -z "$l" ] && break
    sleep 0.05
  done
  check "nothing left running after $1${l:+ (left: $l)}" test -z "$l"
}

isnum() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
matches() { [[ $1 =~ $2 ]]; }

# row FILE MEASURE: sets $plain, $patched and $ratio from the table's row.
row() {
  local line
  plain="" patched="" ratio=""
  line=$(grep -F -- "$2  " "$1" | grep -v '^ ' | head -n 1)
  [ -n "$line" ] || return 1
  read -r plain patched ratio <<<"${line#"$2"}"
}

# rows FILE MEASURE…: every row present with three numbers (the ratio may
# be n/a only when the plain figure is 0).
rows() {
  local f=$1 m missing=""
  shift
  for m in "$@"; do
    if ! row "$f" "$m" || ! isnum "$plain" || ! isnum "$patched" ||
      { ! isnum "$ratio" && ! { [ "$ratio" = n/a ] && [ "$plain" = 0 ]; }; }; then
      missing="$missing [$m: ${plain:-?} ${patched:-?} ${ratio:-?}]"
    fi
  done
  check "table has $# rows with three numbers each${missing:+; not:$missing}" \
    test -z "$missing"
}

# 1. The parsers.
"$PY" test/real/compare_parsers.py "$NAME" || fails=$((fails + 1))

# 2. thread_echo, built-in ping-pong at 10 and 50 connections.
compare echo 150 --conns 10,50 --duration 0.5 --warmup 0.2 \
  --png "$tmp/echo.png" -- "$te" 0
check "thread_echo: exit 0 (exit $rc)" test "$rc" = 0
[ "$rc" = 0 ] || { show "$tmp/echo.err"; show "$tmp/echo.out"; }
rows "$tmp/echo.out" "msgs/s, 10 conns" "msgs/s, 50 conns" \
  "p50 latency (us), 10 conns" "p99 latency (us), 50 conns" \
  "msgs per server CPU-second" "server CPU-seconds" "peak RSS (MiB)" \
  "peak RSS + page tables + kernel stacks (MiB)" "peak OS threads" \
  "peak open fds" "voluntary context switches" "involuntary context switches"
row "$tmp/echo.out" "peak OS threads"
check "thread_echo: peak OS threads plain $plain (want > 1), patched $patched (want $(($(cores) + 1)), the schedulers and the monitor)" \
  test "${plain:-0}" -gt 1 -a "$patched" = "$(($(cores) + 1))"
row "$tmp/echo.out" "msgs/s, 50 conns"
info "thread_echo at 50 connections: msgs/s plain $plain, patched $patched (not judged)"
check "thread_echo: the load's own output is shown for each run" \
  test "$(grep -c '^    conns=[0-9]* failed=' "$tmp/echo.out")" = 4
if command -v gnuplot >/dev/null 2>&1; then
  sig=$(head -c 8 "$tmp/echo.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')
  check "--png wrote a PNG (signature ${sig:-none})" \
    test "$sig" = 89504e470d0a1a0a
else
  check "--png without gnuplot says so" grep -q 'no gnuplot' "$tmp/echo.out"
fi
nothing_left "thread_echo"

# 3. python3 -m http.server: wrk through --load, then the built-in load.
www=$tmp/www
mkdir -p "$www"
head -c 512 /dev/zero | tr '\0' x >"$www/small.txt"
if command -v wrk >/dev/null 2>&1; then
  compare wrk 150 --load 'wrk -t 1 -c 10 -d 1s http://{host}:{port}/small.txt' \
    -- "$PY" -m http.server -b 127.0.0.1 -d "$www" 0
  check "http.server under wrk: exit 0 (exit $rc)" test "$rc" = 0
  [ "$rc" = 0 ] || { show "$tmp/wrk.err"; show "$tmp/wrk.out"; }
  row "$tmp/wrk.out" "requests/s"
  check "http.server under wrk: requests/s plain ${plain:-?}, patched ${patched:-?} (want numbers > 0)" \
    awk -v a="$plain" -v b="$patched" 'BEGIN { exit !(a + 0 > 0 && b + 0 > 0 &&
      a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/) }'
  check "http.server under wrk: wrk's own output is shown" \
    test "$(grep -c '^    Requests/sec:' "$tmp/wrk.out")" = 2
else
  echo "$NAME: skipped: wrk missing (the --load wrk part)"
fi
compare http 150 --conns 5 --duration 0.5 --warmup 0.2 --path /small.txt \
  -- "$PY" -m http.server -b 127.0.0.1 -d "$www" 0
check "http.server, built-in load: exit 0 (exit $rc)" test "$rc" = 0
[ "$rc" = 0 ] || { show "$tmp/http.err"; show "$tmp/http.out"; }
row "$tmp/http.out" "requests/s, 5 conns"
check "http.server, built-in load: the probe chose HTTP; requests/s plain ${plain:-?}, patched ${patched:-?} (want > 0)" \
  awk -v a="$plain" -v b="$patched" 'BEGIN { exit !(a + 0 > 0 && b + 0 > 0) }'

# 4. A server that daemonizes: sh starts thread_echo in the background and
# exits; the copy is found, measured and stopped all the same. Two runs.
compare daemon 150 --runs 2 --conns 10 --duration 0.3 --warmup 0.1 \
  -- sh -c "$te 0 >/dev/null 2>&1 &"
check "daemonizing server: exit 0 (exit $rc)" test "$rc" = 0
[ "$rc" = 0 ] || { show "$tmp/daemon.err"; show "$tmp/daemon.out"; }
line=$(grep '^peak OS threads  ' "$tmp/daemon.out")
check "daemonizing server, --runs 2: threads row is median (min-max) twice and a ratio: ${line:-none}" \
  matches "$line" '^peak OS threads +[0-9]+ \([0-9]+-[0-9]+\) +[0-9]+ \([0-9]+-[0-9]+\) +[0-9.]+$'
nothing_left "a daemonizing server"

# 5. Bad input.
compare false 60 -- false
check "a server that exits at once: exit 2 (exit $rc)" test "$rc" = 2
check "  … says it exited, with its status: $(grep -m1 exited "$tmp/false.err")" \
  grep -q 'exited before it listened (exit status 1' "$tmp/false.err"
compare boom 60 -- sh -c 'echo boom-on-stderr >&2; exit 3'
check "a server that fails: exit 2, its status and stderr shown" \
  test "$rc" = 2 -a -n "$(grep 'exit status 3' "$tmp/boom.err")" \
  -a -n "$(grep boom-on-stderr "$tmp/boom.err")"
port=$(free_port)
compare noport 60 --port "$port" --timeout 2 -- "$slp" 30
check "a port that never opens: exit 2 (exit $rc): $(grep -m1 accept "$tmp/noport.err")" \
  test "$rc" = 2 -a -n "$(grep "did not accept on port $port within 2 s" "$tmp/noport.err")"
nothing_left "a port that never opened"
GPATCH_COMPARE_TIMEOUT=2 compare noany 60 -- "$slp" 30
check "no listening socket (GPATCH_COMPARE_TIMEOUT=2): exit 2 (exit $rc)" \
  test "$rc" = 2 -a -n "$(grep 'did not accept on any TCP port within 2 s' "$tmp/noany.err")"
nothing_left "a server that never listened"
compare loadfail 60 --load 'echo load-stderr-says-no >&2; false' -- "$te" 0
check "a load command that fails: exit 2 (exit $rc), its stderr shown" \
  test "$rc" = 2 -a -n "$(grep 'load command failed (exit status 1)' "$tmp/loadfail.err")" \
  -a -n "$(grep load-stderr-says-no "$tmp/loadfail.err")"
nothing_left "a failed load command"
compare unknown 60 --no-such-option -- "$te" 0
check "an unknown option: exit 2 and one line (exit $rc): $(cat "$tmp/unknown.err")" \
  test "$rc" = 2 -a "$(wc -l <"$tmp/unknown.err")" = 1 \
  -a -n "$(grep 'unknown option --no-such-option' "$tmp/unknown.err")"
compare noserver 60 --runs 1
check "no server: exit 2 and one line (exit $rc): $(cat "$tmp/noserver.err")" \
  test "$rc" = 2 -a "$(wc -l <"$tmp/noserver.err")" = 1

# 6. SIGINT while the load runs.
$G compare "${dirs[@]}" --conns 10 --duration 60 -- "$te" 0 \
  >"$tmp/int.out" 2>"$tmp/int.err" </dev/null &
gp=$!
pids+=("$gp")
if wait_line "$tmp/int.err" 'echo load, 10 connections' 60; then
  sleep 0.5
  check "while the load runs, the server and loadgen run ($(left))" \
    test -n "$(left)" -a -n "$(pgrep -f 'loadgen -c 10 -d 60 ')"
  kill -INT "$gp"
  for _ in $(seq 400); do
    kill -0 "$gp" 2>/dev/null || break
    sleep 0.05
  done
  wait "$gp"
  rc=$?
  check "SIGINT: exit 130 (exit $rc): $(grep -m1 interrupted "$tmp/int.err")" \
    test "$rc" = 130
  nothing_left "SIGINT"
  check "SIGINT: no loadgen left" test -z "$(pgrep -f 'loadgen -c 10 -d 60 ')"
else
  bad "the SIGINT run did not start its load"
  show "$tmp/int.err"
  kill "$gp" 2>/dev/null
fi
finish
