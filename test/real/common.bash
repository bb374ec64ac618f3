# common.bash: what the real-program tests (test/real/*.sh) share. Sourced,
# not run. Each test prints one line per check ("NAME: ok: …" or
# "NAME: FAIL: …"), "NAME: info: …" for numbers that are not judged, and
# exits non-zero when a check failed.
#
# One OS thread: a patched process may show, besides its own one thread,
# only libuv's threadpool threads, which run name lookups (getaddrinfo,
# gethostbyaddr …) and nothing of the program, and the runtime's helper
# threads, which wait for children's state changes. The runtime names them
# "libuv-worker" when it starts the pool (as libuv >= 1.45 does itself) and
# "gpatch-helper", so prog counts the threads of a process named neither,
# workers those named libuv-worker and helpers the others. A test allows
# workers only where the program really looks a name up, and says so.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
NAME=$(basename "$0" .sh)
LIB=$(cd "$B" 2>/dev/null && pwd)/libgpatch.so
fails=0
pids=()
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gpatch-real.XXXXXX")

cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null
  done
  for p in "${pids[@]}"; do
    wait "$p" 2>/dev/null
  done
  exec 9>&- 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

ok() { echo "$NAME: ok: $*"; }
bad() {
  echo "$NAME: FAIL: $*"
  fails=$((fails + 1))
}
info() { echo "$NAME: info: $*"; }
# check MESSAGE COMMAND…: ok or FAIL by the command's status.
check() {
  local msg=$1
  shift
  if "$@"; then ok "$msg"; else bad "$msg"; fi
}
skip() {
  echo "$NAME: skipped: $1 missing"
  exit 0
}
need() { command -v "$1" >/dev/null 2>&1 || skip "$1"; }
finish() {
  if [ "$fails" = 0 ]; then
    echo "$NAME: all checks passed"
    exit 0
  fi
  echo "$NAME: $fails check(s) failed"
  exit 1
}
# Shows the end of a file, indented, after a failure.
show() { [ -s "$1" ] && tail -n "${2:-15}" "$1" | sed 's/^/    /'; }

[ -f "$LIB" ] || {
  echo "$NAME: FAIL: $B/libgpatch.so not built (make tests)"
  exit 1
}

# The real interpreter behind python3 (pyenv's python3 is a shell script,
# and a preloaded library must reach python itself).
need_python() {
  need python3
  PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
  [ -n "$PY" ] && [ -x "$PY" ] || skip "a python3 interpreter"
}

# No proxy may reroute the tests' loopback requests.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy='*' NO_PROXY='*'

# start TAG SECONDS COMMAND…: runs COMMAND in the background under a time
# limit, stdout in $tmp/TAG.out, stderr in $tmp/TAG.err; sets $pid to the
# program's own process (for /proc) and remembers it for cleanup.
start() {
  local tag=$1 secs=$2 t i
  shift 2
  timeout -k 5 "$secs" "$@" >"$tmp/$tag.out" 2>"$tmp/$tag.err" </dev/null &
  t=$!
  pids+=("$t")
  pid=
  for i in $(seq 100); do
    read -r pid _ <"/proc/$t/task/$t/children" 2>/dev/null ||
      pid=$(pgrep -P "$t" 2>/dev/null | head -n 1)
    [ -n "$pid" ] && break
    sleep 0.02
  done
  [ -n "$pid" ] || pid=$t
  timeout_pid=$t
}

# run_both COMMAND…: runs COMMAND plain, then preloaded, each under a 60 s
# limit with stdout and stderr in $tmp/{plain,patched}.{out,err}, and
# checks that both exit 0.
run_both() {
  local mode rc pre
  for mode in plain patched; do
    pre=()
    [ $mode = patched ] && pre=(env LD_PRELOAD="$LIB")
    timeout 60 "${pre[@]}" "$@" >"$tmp/$mode.out" 2>"$tmp/$mode.err"
    rc=$?
    check "$mode run exits 0 (exit $rc)" test $rc = 0
    [ $rc = 0 ] || show "$tmp/$mode.err"
  done
}

# same_output [sorted]: the plain and the patched run printed the same, or
# with "sorted" the same lines in any order.
same_output() {
  local a=$tmp/plain.out b=$tmp/patched.out
  if [ "${1:-}" = sorted ]; then
    sort "$a" >"$tmp/plain.sorted"
    sort "$b" >"$tmp/patched.sorted"
    a=$tmp/plain.sorted b=$tmp/patched.sorted
  fi
  if cmp -s "$a" "$b"; then
    ok "same output plain and patched ($(wc -l <"$a") lines)"
  else
    bad "outputs differ"
    diff "$tmp/plain.out" "$tmp/patched.out" | head -20 | sed 's/^/    /'
  fi
}

# wait_line FILE REGEX SECONDS: waits until a line of FILE matches.
wait_line() {
  local i n=$(($3 * 20))
  for ((i = 0; i < n; i++)); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# wait_file FILE SECONDS: waits until FILE exists.
wait_file() {
  local i n=$(($2 * 20))
  for ((i = 0; i < n; i++)); do
    [ -e "$1" ] && return 0
    sleep 0.05
  done
  return 1
}

# threads PID: sets $total (Threads: of /proc/PID/status), $workers (those
# named libuv-worker), $helpers (named gpatch-helper) and $prog (the
# others). Returns 1 if PID is gone.
threads() {
  local c n
  total=
  workers=0
  helpers=0
  prog=0
  {
    while read -r k v; do
      [ "$k" = Threads: ] && total=$v
    done <"/proc/$1/status"
  } 2>/dev/null
  [ -n "$total" ] || return 1
  for c in /proc/"$1"/task/*/comm; do
    n=
    read -r n <"$c" 2>/dev/null || continue
    if [ "$n" = libuv-worker ]; then
      workers=$((workers + 1))
    elif [ "$n" = gpatch-helper ]; then
      helpers=$((helpers + 1))
    else
      prog=$((prog + 1))
    fi
  done
  return 0
}

# sampler PID OUT [SECONDS]: samples PID's threads every 20 ms in the
# background until it exits (or SECONDS pass); then OUT holds
# "samples max_prog max_workers max_total".
sampler() {
  (
    n=0 mp=0 mw=0 mt=0 end=$((SECONDS + ${3:-3600}))
    while [ $SECONDS -lt $end ] && threads "$1"; do
      n=$((n + 1))
      [ "$prog" -gt "$mp" ] && mp=$prog
      [ "$workers" -gt "$mw" ] && mw=$workers
      [ "$total" -gt "$mt" ] && mt=$total
      echo "$n $mp $mw $mt" >"$2.part"
      sleep 0.02
    done
    mv "$2.part" "$2" 2>/dev/null || echo "0 0 0 0" >"$2"
  ) &
  pids+=($!)
}

# A port free now on 127.0.0.1 (for programs that cannot pick their own).
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# echo_load TAG PORT N ROUNDS SERVER_PID: runs test/real/echo_clients.py
# (unpatched) with N connections against PORT; while all N are open, takes
# the server's threads (sets $total, $prog, $workers as threads() does).
# Sets $client_rc; the client's output is in $tmp/TAG.out.
echo_load() {
  local tag=$1 port=$2 n=$3 rounds=$4 spid=$5
  rm -f "$tmp/$tag.ready" "$tmp/$tag.go"
  start "$tag" 120 "$PY" test/real/echo_clients.py "$port" "$n" "$rounds" \
    "$tmp/$tag.ready" "$tmp/$tag.go"
  local cpid=$timeout_pid
  total=? prog=? workers=?
  if wait_file "$tmp/$tag.ready" 90; then
    threads "$spid"
  fi
  touch "$tmp/$tag.go"
  wait "$cpid"
  client_rc=$?
}
