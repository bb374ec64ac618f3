#!/bin/bash
# make install PREFIX=…: the library, header, launcher, gpatch compare (its
# script and load generator) and gpatch.pc land there; a program builds with
# `pkg-config gpatch` and runs, the installed launcher preloads the
# installed library, and the installed `gpatch compare` uses the installed
# library and load generator.
set -u
B=${B:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { if eval "$2"; then echo "$1: ok"; else echo "$1: FAILED"; fail=1; fi; }

make --no-print-directory -s install PREFIX="$tmp/p" B="$B" >"$tmp/log" 2>&1
check "install succeeds" '[ $? = 0 ]'
for f in lib/libgpatch.so include/gpatch.h bin/gpatch bin/gpatch-compare \
  lib/gpatch/gpatch-load lib/pkgconfig/gpatch.pc; do
  check "installs $f" "[ -f '$tmp/p/$f' ]"
done
export PKG_CONFIG_PATH="$tmp/p/lib/pkgconfig"
cc -o "$tmp/spawn" examples/spawn.c $(pkg-config --cflags --libs gpatch) \
  -Wl,-rpath,"$tmp/p/lib" 2>"$tmp/cc.err"
check "a program builds with pkg-config gpatch" '[ -x "$tmp/spawn" ]'
check "and runs, interleaving with gp_sleep(0)" \
  '[ "$("$tmp/spawn" | sed -n "18,20p" | tr "\n" " ")" = "a 0 b 0 c 0 " ]'
out=$("$tmp/p/bin/gpatch" -- sh -c 'echo "$LD_PRELOAD"')
check "the installed launcher preloads the installed library" \
  '[ "$out" = "$tmp/p/lib/libgpatch.so" ]'
check "the launcher rejects an unknown option" \
  '! "$tmp/p/bin/gpatch" --bogus -- true 2>/dev/null'
(cd "$tmp" && timeout 120 "$tmp/p/bin/gpatch" compare --conns 5 \
  --duration 0.3 --warmup 0.1 -- "$OLDPWD/$B/examples/thread_echo" 0 \
  >"$tmp/compare.out" 2>&1)
check "the installed gpatch compare runs (exit $?)" '[ $? = 0 ]'
check "  … preloading the installed library" \
  'grep -q "LD_PRELOAD=$tmp/p/lib/libgpatch.so" "$tmp/compare.out"'
check "  … with the installed load generator" \
  'grep -q "^  plain run 1, 5 connections: $tmp/p/lib/gpatch/gpatch-load " \
    "$tmp/compare.out"'
# One OS thread per scheduler (GPATCH_CORES; auto, the default: the CPUs),
# and the runtime's monitor.
cores=${GPATCH_CORES:-auto}
[ "$cores" = auto ] && cores=$(nproc)
check "  … and the patched server on $cores OS thread(s) and the monitor" \
  'grep -Eq "^peak OS threads +[0-9]+ +$((cores + 1)) " "$tmp/compare.out"'
[ $fail = 0 ] || tail -n 20 "$tmp/compare.out"
exit $fail
