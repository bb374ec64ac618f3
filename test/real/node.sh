#!/bin/bash
# node: a program with an event loop and a thread pool of its own (libuv,
# often built into the binary and exported), patched. test/real/node_mix.js
# serves three delayed HTTP answers to itself while zlib, pbkdf2 and a file
# read run on node's thread pool: the output must be the same plain and
# patched, the answers fastest first, and patched the process must run on one OS thread (node's worker
# and pool threads are coroutines). When the node binary exports a libuv of
# its own, the runtime must say at start that its loop runs on that copy.
. "$(dirname "$0")/common.bash"
need node
need nm
js=test/real/node_mix.js
node_bin=$(command -v node)

for mode in plain patched; do
  pre=()
  [ $mode = patched ] && pre=(env LD_PRELOAD="$LIB")
  THREADS_FILE=$tmp/threads.$mode timeout 60 "${pre[@]}" node "$js" \
    >"$tmp/$mode.out" 2>"$tmp/$mode.err"
  rc=$?
  check "$mode run exits 0 (exit $rc)" test $rc = 0
  [ $rc = 0 ] || show "$tmp/$mode.err"
done
# The pool's jobs and the timer may finish in either order: compared as
# sets, and the answers' order is checked on its own.
same_output sorted
check "answers fastest first: $(grep '^http' "$tmp/patched.out" | tr '\n' ' ')" \
  test "$(grep '^http' "$tmp/patched.out" | tr -d '\n')" = \
  "http answer 1http answer 2http answer 0"
plain_t=$(cat "$tmp/threads.plain" 2>/dev/null)
patched_t=$(cat "$tmp/threads.patched" 2>/dev/null)
info "OS threads during the run: plain ${plain_t:-?}, patched ${patched_t:-?}"
check "patched: one OS thread (got ${patched_t:-none})" test "${patched_t:-0}" = 1
if nm -D --defined-only "$node_bin" 2>/dev/null | grep -q ' uv_version_string$'; then
  check "the runtime reports node's own libuv" \
    grep -q "carries its own libuv .* and exports it" "$tmp/patched.err"
else
  if grep -q "carries its own libuv" "$tmp/patched.err"; then
    bad "node uses the shared libuv, yet the runtime reports one of its own"
  else
    ok "node uses the shared libuv: no report"
  fi
fi
finish
