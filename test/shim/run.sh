#!/bin/bash
# Runs every program of test/shim/ plain and with libgpatch preloaded and
# compares what they print and how they exit (d_*.c, differential), or runs
# it preloaded only and expects exit 0 (p_*.c, patched-only).
# Usage: test/shim/run.sh [name...]   (B=build dir)
set -u
B=${B:-build}
lib=$(cd "$B" && pwd)/libgpatch.so
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

names=("$@")
if [ ${#names[@]} = 0 ]; then
  for f in test/shim/[dp]_*.c; do names+=("$(basename "$f" .c)"); done
fi

for n in "${names[@]}"; do
  bin=$B/shim/$n
  [ -x "$bin" ] || { echo "$n: not built"; fail=$((fail + 1)); continue; }
  case $n in
  d_*)
    timeout 60 "$bin" >"$tmp/plain" 2>"$tmp/plain.err" </dev/null
    rc1=$?
    timeout 60 env LD_PRELOAD="$lib" "$bin" >"$tmp/patched" 2>"$tmp/patched.err" </dev/null
    rc2=$?
    if [ $rc1 = $rc2 ] && cmp -s "$tmp/plain" "$tmp/patched"; then
      echo "$n: same output and exit status ($rc1), plain and patched"
      pass=$((pass + 1))
    else
      echo "$n: DIFFERENT (exit $rc1 plain, $rc2 patched)"
      diff "$tmp/plain" "$tmp/patched" | head -20
      sed 's/^/  plain stderr: /' "$tmp/plain.err" | head -5
      sed 's/^/  patched stderr: /' "$tmp/patched.err" | head -5
      fail=$((fail + 1))
    fi
    ;;
  p_*)
    timeout 60 env LD_PRELOAD="$lib" "$bin" >"$tmp/patched" 2>&1 </dev/null
    rc=$?
    if [ $rc = 0 ]; then
      echo "$n: patched run passed"
      pass=$((pass + 1))
    else
      echo "$n: patched run FAILED (exit $rc)"
      sed 's/^/  /' "$tmp/patched" | tail -20
      fail=$((fail + 1))
    fi
    ;;
  esac
done
echo "shim tests: $pass passed, $fail failed"
[ $fail = 0 ]
