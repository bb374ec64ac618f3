#!/bin/bash
# When the runtime cannot start — too few free fds (ulimit -n), too little
# address space (ulimit -v) — the program must run as it does plain, and
# stderr must say so, once per process, naming the step and the error:
#   gpatch: cannot start the runtime: uv_loop_init failed (EMFILE: Too
#   many open files); the program runs unpatched
# or, under GPATCH_CORES, when only a worker could not start:
#   gpatch: cannot start a scheduler of GPATCH_CORES: ... failed (EMFILE:
#   ...); the program runs on the schedulers that started
# Each limit is tried plain and patched; where the plain program runs, the
# patched one must print the same and exit the same way, with nothing on
# stderr or that one line. Some limit of each kind must give the line.
# Before this was added the program ran unpatched without a word, and
# with 5 or 6 fds it died by SIGABRT (libuv aborts when it cannot make
# its signal pipe).
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
lib=$(cd "$B" && pwd)/libgpatch.so
prog=$B/shim/d_thread_alloc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
say() { echo "startup_fail: $*"; }
bad() {
  say "FAIL: $*"
  fails=$((fails + 1))
}
[ -x "$prog" ] || { bad "$prog not built (make tests)"; exit 1; }

# try KIND LIMIT COMMAND…: runs COMMAND under ulimit -KIND LIMIT plain and
# patched; sets $said to 1 when the patched run gave the line.
try() {
  local kind=$1 limit=$2 rc1 rc2 lines
  shift 2
  said=0
  (ulimit -"$kind" "$limit" && exec timeout 60 "$@") \
    >"$tmp/plain.out" 2>"$tmp/plain.err" </dev/null
  rc1=$?
  if [ $rc1 != 0 ]; then
    say "ulimit -$kind $limit: $(basename "$1") fails plain too (exit $rc1): not compared"
    return
  fi
  (ulimit -"$kind" "$limit" && exec timeout 60 env LD_PRELOAD="$lib" "$@") \
    >"$tmp/patched.out" 2>"$tmp/patched.err" </dev/null
  rc2=$?
  lines=$(wc -l <"$tmp/patched.err")
  if grep -qE '^gpatch: cannot start the runtime: .+ failed \([A-Z0-9]+: .+\); the program runs unpatched$' \
    "$tmp/patched.err" ||
    grep -qE '^gpatch: cannot start a scheduler of GPATCH_CORES: .+ failed \([A-Z0-9]+: .+\); the program runs on the schedulers that started$' \
      "$tmp/patched.err"; then
    said=1
  fi
  if [ $rc2 = 0 ] && cmp -s "$tmp/plain.out" "$tmp/patched.out" &&
    { [ "$lines" = 0 ] || [ "$lines" = 1 -a $said = 1 ]; }; then
    say "ok: ulimit -$kind $limit: $(basename "$1") as plain (exit 0), $([ $said = 1 ] && sed 's/^gpatch: //' "$tmp/patched.err" || echo 'the runtime started')"
  else
    bad "ulimit -$kind $limit: $(basename "$1"): exit $rc2 (plain 0), $(cmp -s "$tmp/plain.out" "$tmp/patched.out" && echo same || echo different) output, $lines line(s) on stderr:"
    head -n 5 "$tmp/patched.err" | sed 's/^/    /'
  fi
}

any=0
for n in 4 5 6 7 8 9 10 12 16; do
  try n $n "$prog"
  any=$((any + said))
done
[ $any -gt 0 ] || bad "no fd limit made the runtime say it could not start"

# The address space a process of /bin/echo needs, plain, then limits from
# there up: the runtime maps the hub's stack and its libraries.
any=0
for kb in 4096 8192 12288 16384 20480 24576 32768 49152 65536; do
  try v $kb /bin/echo "hello from echo"
  any=$((any + said))
done
[ $any -gt 0 ] || bad "no address-space limit made the runtime say it could not start"

if [ $fails = 0 ]; then
  say "all checks passed"
  exit 0
fi
say "$fails check(s) failed"
exit 1
