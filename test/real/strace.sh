#!/bin/bash
# strace, preloaded: a tracer learns of its tracees' system calls from the
# ptrace stops wait4 reports, so every stop must reach it as plain. strace
# traces a shell that runs two echo commands (-f: the shell's children
# too; -E LD_PRELOAD: the traced programs run plain, strace alone is
# patched); plain and patched must write the same trace (the pids taken
# out) and exit 0. Before, waits watched a pidfd, which tells of exits
# only, and the patched strace hung at the first stop.
. "$(dirname "$0")/common.bash"
need strace
for mode in plain patched; do
  pre=()
  [ $mode = patched ] && pre=(env LD_PRELOAD="$LIB")
  timeout 60 "${pre[@]}" strace -f -qq -e trace=write,exit_group \
    -e signal=none -E LD_PRELOAD -o "$tmp/$mode.trace" sh -c '/bin/echo hello; /bin/echo world' \
    >"$tmp/$mode.out" 2>"$tmp/$mode.err"
  rc=$?
  check "$mode strace exits 0 (exit $rc)" test $rc = 0
  [ $rc = 0 ] || show "$tmp/$mode.err"
  sed -E 's/^[0-9]+ +//' "$tmp/$mode.trace" | sort >"$tmp/$mode.calls"
done
check "patched strace printed the program's output: $(tr '\n' ' ' <"$tmp/patched.out")" \
  cmp -s "$tmp/plain.out" "$tmp/patched.out"
if [ -s "$tmp/plain.calls" ] && cmp -s "$tmp/plain.calls" "$tmp/patched.calls"; then
  ok "same trace plain and patched ($(wc -l <"$tmp/plain.calls") lines)"
else
  bad "traces differ"
  diff "$tmp/plain.calls" "$tmp/patched.calls" | head -20 | sed 's/^/    /'
fi
finish
