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
# workers only where the program really looks a name up, and says so. With
# GPATCH_CORES above 1 the runtime's scheduler threads (named gpatch-sched)
# run the program's threads too; they are counted in none of these.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
NAME=$(basename "$0" .sh)
LIB=$(cd "$B" 2>/dev/null && pwd)/libgpatch.so
fails=0
pids=()
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gpatch-real.XXXXXX")

started=()
cleanup() {
  local p
  for p in "${started[@]}"; do
    stop "${p%:*}" "${p#*:}"
  done
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null
  done
  for p in "${pids[@]}" "${started[@]%:*}"; do
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
# check MESSAGE COMMAND…: ok or FAIL by the command's status, which it
# returns (`check … || show FILE` shows what failed).
check() {
  local msg=$1
  shift
  if "$@"; then
    ok "$msg"
  else
    bad "$msg"
    return 1
  fi
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

# start TAG SECONDS COMMAND…: runs COMMAND in the background, stdout in
# $tmp/TAG.out, stderr in $tmp/TAG.err, stdin /dev/null, and sets $pid to
# its process at once: a background subshell execs setsid, which execs
# COMMAND in the same process (the subshell is no group leader, so setsid
# does not fork), so no search for the program's pid can race it. Before
# the exec, /proc/$pid is the subshell's (one thread). The program leads a
# process group of its own, which a watchdog sends SIGTERM after SECONDS,
# and SIGKILL 5 s later, saying so on stderr, as `timeout -k 5` did.
# `wait "$pid"` gives COMMAND's exit status (143 after the watchdog's
# SIGTERM); `stop "$pid"` ends it and its group early.
start() {
  local tag=$1 secs=$2 st
  shift 2
  (exec setsid "$@") >"$tmp/$tag.out" 2>"$tmp/$tag.err" </dev/null &
  pid=$!
  st=$(starttime "$pid")
  started+=("$pid:$st")
  watchdog "$tag" "$pid" "$st" "$secs" &
  pids+=($!)
}

# starttime PID: the start time of PID (field 22 of /proc/PID/stat), which
# tells a process from a later one that reuses its number.
starttime() {
  local line f
  read -r line 2>/dev/null <"/proc/$1/stat" || return 1
  read -ra f <<<"${line##*) }"
  echo "${f[19]}"
}

# alive PID START: PID is still the process that started at START, and not
# a zombie.
alive() {
  local line f
  read -r line 2>/dev/null <"/proc/$1/stat" || return 1
  read -ra f <<<"${line##*) }"
  [ "${f[19]}" = "$2" ] && [ "${f[0]}" != Z ]
}

# stop PID [START]: SIGTERM to the process group of a program begun by
# start, if that program still runs (START: its start time, looked up in
# $started when not given).
stop() {
  local p st=${2:-}
  if [ -z "$st" ]; then
    for p in "${started[@]}"; do
      [ "${p%:*}" = "$1" ] && st=${p#*:}
    done
  fi
  [ -n "$st" ] && alive "$1" "$st" &&
    { kill -TERM -- "-$1" || kill -TERM "$1"; } 2>/dev/null
  return 0
}

# watchdog TAG PID START SECONDS: start's time limit. Ends as soon as the
# program does; a number reused by another process is never signalled.
watchdog() {
  local end=$((SECONDS + $4)) i
  while alive "$2" "$3"; do
    if [ $SECONDS -ge $end ]; then
      echo "$NAME: $1 still running after $4 s: SIGTERM" >&2
      { kill -TERM -- "-$2" || kill -TERM "$2"; } 2>/dev/null
      for ((i = 0; i < 50; i++)); do
        alive "$2" "$3" || return 0
        sleep 0.1
      done
      echo "$NAME: $1 still running 5 s after SIGTERM: SIGKILL" >&2
      { kill -KILL -- "-$2" || kill -KILL "$2"; } 2>/dev/null
      return 0
    fi
    sleep 0.5
  done
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

# wait_lines FILE N SECONDS: waits until FILE has more than N lines.
wait_lines() {
  local i n=$(($3 * 20)) have
  for ((i = 0; i < n; i++)); do
    have=$(wc -l <"$1" 2>/dev/null)
    [ "${have:-0}" -gt "$2" ] && return 0
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

# cores: the schedulers (OS threads) the patched runtime runs the program's
# threads on: GPATCH_CORES, auto (the default) the CPUs this process may use.
cores() {
  case "${GPATCH_CORES:-auto}" in
  auto) nproc ;;
  *) echo "$GPATCH_CORES" ;;
  esac
}

# kind NAME: sets $k to the kind of a thread by its name: worker, helper,
# runtime (a scheduler of GPATCH_CORES, the blocking monitor) or prog. (No
# subshell: a sampler calls it for every thread every 20 ms.)
kind() {
  case "$1" in
  libuv-worker) k=worker ;;
  gpatch-helper) k=helper ;;
  gpatch-sched | gpatch-monitor) k=runtime ;;
  *) k=prog ;;
  esac
}

# threads PID: sets $total (Threads: of /proc/PID/status), $workers (those
# named libuv-worker), $helpers (named gpatch-helper) and $prog (the
# others). Returns 1 if PID is gone. A thread the runtime has just made
# bears the program's name until it is given its own: one that looks like a
# second program thread is looked at again 50 ms later.
threads() {
  local c n k again=
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
    read -r n 2>/dev/null <"$c" || continue
    kind "$n"
    if [ "$k" = prog ] && [ $prog -ge 1 ]; then
      again="$again $c"
      continue
    fi
    case $k in
    worker) workers=$((workers + 1)) ;;
    helper) helpers=$((helpers + 1)) ;;
    prog) prog=$((prog + 1)) ;;
    esac
  done
  [ -n "$again" ] || return 0
  sleep 0.05
  for c in $again; do
    n=
    read -r n 2>/dev/null <"$c" # gone: counted as the program's
    kind "$n"
    case $k in
    worker) workers=$((workers + 1)) ;;
    helper) helpers=$((helpers + 1)) ;;
    runtime) ;;
    *) prog=$((prog + 1)) ;;
    esac
  done
  return 0
}

# sampler PID OUT [SECONDS]: samples PID's threads every 20 ms in the
# background until it exits (or SECONDS pass); then OUT holds
# "samples max_prog max_workers max_total".
sampler() {
  (
    n=0 mp=0 mw=0 mt=0 end=$((SECONDS + ${3:-3600}))
    while [ $SECONDS -lt $end ]; do
      if ! threads "$1"; then
        # /proc gave nothing: gone, or a read that failed on a machine
        # this busy; only the first ends the sampling.
        kill -0 "$1" 2>/dev/null || break
        sleep 0.02
        continue
      fi
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

# A port free now on 127.0.0.1 (for programs that cannot pick their own),
# below the kernel's range for the local ports of outgoing connections:
# one from that range (bind to port 0) can be taken by any connection made
# before the server binds it (postgres failed so, "Address already in use",
# beside other work on the machine).
free_port() {
  "$PY" - <<'PY'
import random, socket
try:
    lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    lo = 32768
for _ in range(200):
    port = random.randrange(10000, max(lo, 10001))
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
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
  local cpid=$pid
  total=? prog=? workers=?
  if wait_file "$tmp/$tag.ready" 90; then
    threads "$spid"
  fi
  touch "$tmp/$tag.go"
  wait "$cpid"
  client_rc=$?
}
