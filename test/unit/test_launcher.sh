#!/bin/bash
# The gpatch launcher (scripts/gpatch) refuses, with exit status 2 and one
# line saying why, whatever would make it run the program unpatched or
# broken without a word, and otherwise runs it preloaded:
#   - an option without its value (it said "2: parameter not set"), or with
#     an empty one;
#   - a --lib that does not exist (it said "run make first"), or whose path
#     has a space or a colon (LD_PRELOAD splits on both: the program ran
#     unpatched);
#   - GPATCH_* values the library refuses (GPATCH_PATCH=-socket hung,
#     GPATCH_DEBUG=SEGV looped), from an option or from the environment;
#   - a statically linked program, or a #! script whose interpreter is one
#     (LD_PRELOAD cannot reach it: it ran unpatched), a program for another
#     CPU or word size (the loader skipped the library), and one set-uid to
#     another user (the loader drops LD_PRELOAD).
# `gpatch compare` still dispatches to gpatch-compare.
set -u
B=${B:-build}
cd "$(dirname "$0")/../.." || exit 1
G=scripts/gpatch
lib=$(cd "$B" && pwd)/libgpatch.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "launcher: ok: $*"; }
bad() {
  echo "launcher: FAIL: $*"
  fails=$((fails + 1))
}

# refuses NAME PATTERN ARGS…: gpatch ARGS exits 2 with one line on stderr
# matching PATTERN (grep -E), and runs nothing.
refuses() {
  local name=$1 pat=$2 rc lines
  shift 2
  "$G" --lib "$lib" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  lines=$(wc -l <"$tmp/err")
  if [ $rc = 2 ] && [ "$lines" = 1 ] && grep -qE "^gpatch: $pat" "$tmp/err" &&
    [ ! -s "$tmp/out" ]; then
    ok "$name: exit 2, $(cut -c 1-110 "$tmp/err")"
  else
    bad "$name: exit $rc, $lines line(s) on stderr (want 2, 1 matching '$pat'):"
    sed 's/^/    /' "$tmp/err" "$tmp/out" | head -5
  fi
}

# runs NAME WANT_RC WANT_OUT ARGS…: gpatch ARGS exits WANT_RC and prints
# WANT_OUT on stdout.
runs() {
  local name=$1 want_rc=$2 want=$3 rc
  shift 3
  "$G" --lib "$lib" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  if [ $rc = "$want_rc" ] && [ "$(cat "$tmp/out")" = "$want" ]; then
    ok "$name: exit $rc, printed '$want'"
  else
    bad "$name: exit $rc (want $want_rc), printed '$(head -c 200 "$tmp/out")' (want '$want')"
    sed 's/^/    /' "$tmp/err" | head -5
  fi
}

# Options and their values.
refuses "--stack-size with no value" "--stack-size needs a value" --stack-size
refuses "--patch= (empty)" "--patch needs a value, not an empty one" --patch= -- true
"$G" --lib "$lib" --bogus -- true >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 2 ] && [ "$(head -n 1 "$tmp/err")" = "gpatch: unknown option --bogus" ] &&
  [ ! -s "$tmp/out" ]; then
  ok "an unknown option: exit 2, named, then the usage"
else
  bad "an unknown option: exit $rc, $(head -n 1 "$tmp/err")"
fi
refuses "a missing --lib" "$tmp/none.so: no such file \(the --lib given\)" \
  --lib "$tmp/none.so" -- true
mkdir -p "$tmp/a b" "$tmp/c:d"
cp "$lib" "$tmp/a b/libgpatch.so"
cp "$lib" "$tmp/c:d/libgpatch.so"
refuses "a --lib path with a space" "the library's path '.*' has a space or a colon" \
  --lib "$tmp/a b/libgpatch.so" -- true
refuses "a --lib path with a colon" "the library's path '.*' has a space or a colon" \
  --lib "$tmp/c:d/libgpatch.so" -- true

# Values the library refuses: the same reasons as at run time.
refuses "--patch -socket" 'GPATCH_PATCH="-socket": with threads patched .* a socket call that waits' \
  --patch -socket -- true
refuses "--patch=thread" 'GPATCH_PATCH="thread": with threads patched' --patch=thread -- true
refuses "--debug SEGV" "GPATCH_DEBUG=\"SEGV\": SIGSEGV is the runtime's own" --debug SEGV -- true
refuses "--stack-size 4K" 'GPATCH_STACK_SIZE="4K": expected a size of at least 16K' \
  --stack-size 4K -- true
GPATCH_PATCH=-time refuses "GPATCH_PATCH=-time from the environment" \
  'GPATCH_PATCH="-time": with threads patched' -- true
runs "--stack-size=1M" 0 "1M" --stack-size=1M -- sh -c 'echo "$GPATCH_STACK_SIZE"'
refuses "--cores 0" 'GPATCH_CORES="0": expected a count from 1 to 64, or auto' \
  --cores 0 -- true
refuses "--sud=maybe" 'GPATCH_SUD="maybe": expected auto, on or off' --sud=maybe -- true
runs "--cores auto --sud off" 0 "auto off" --cores auto --sud off -- \
  sh -c 'echo "$GPATCH_CORES $GPATCH_SUD"'
refuses "--tls threads" 'GPATCH_TLS="threads": expected auto, copy or thread' \
  --tls threads -- true
runs "--tls=thread" 0 "thread" --tls=thread -- sh -c 'echo "$GPATCH_TLS"'
"$G" --lib "$lib" --patch=-dns -- true 2>"$tmp/err"
rc=$?
if [ $rc = 0 ] && grep -q '^gpatch: GPATCH_PATCH="-dns": name lookups left to libc' "$tmp/err"; then
  ok "--patch=-dns runs, with the library's warning"
else
  bad "--patch=-dns: exit $rc, stderr: $(head -c 200 "$tmp/err")"
fi

# Programs LD_PRELOAD cannot reach.
printf 'int main(void) { return 0; }\n' >"$tmp/s.c"
if cc -static -o "$tmp/static" "$tmp/s.c" 2>/dev/null; then
  refuses "a static program" "$tmp/static is statically linked \(no program interpreter\)" \
    -- "$tmp/static"
  printf '#!%s\n' "$tmp/static" >"$tmp/script"
  chmod +x "$tmp/script"
  refuses "a script run by a static program" \
    "$tmp/script \(run by $tmp/static\) is statically linked" -- "$tmp/script"
  mkdir -p "$tmp/bin"
  ln -s "$tmp/static" "$tmp/bin/static-tool"
  PATH=$tmp/bin:$PATH refuses "a static program found in PATH" \
    "static-tool is statically linked" -- static-tool
else
  echo "launcher: skipped: cc -static (no libc.a) for the static cases"
fi
# An ELF32 i386 executable with a PT_INTERP program header: the header
# (52 bytes) and one program header (32 bytes) are all the launcher reads.
{
  printf '\177ELF\001\001\001\000\000\000\000\000\000\000\000\000'
  printf '\002\000\003\000\001\000\000\000\000\000\000\000\064\000\000\000'
  printf '\000\000\000\000\000\000\000\000\064\000\040\000\001\000\000\000'
  printf '\000\000\000\000'
  printf '\003\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000'
  printf '\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000'
} >"$tmp/i386"
chmod +x "$tmp/i386"
refuses "a 32-bit i386 program" "$tmp/i386 is built for another CPU or word size" \
  -- "$tmp/i386"

# A set-uid program of another user: the loader ignores LD_PRELOAD.
cp /bin/true "$tmp/suid"
if [ "$(id -u)" = 0 ] && chown nobody "$tmp/suid" 2>/dev/null && chmod u+s "$tmp/suid"; then
  refuses "a set-uid program of another user" "$tmp/suid is set-uid or set-gid" -- "$tmp/suid"
else
  chmod u+s "$tmp/suid"
  runs "a set-uid program of one's own (no secure mode)" 0 "" -- "$tmp/suid"
fi

# What it runs.
runs "a dynamic program, preloaded" 0 "$lib" -- sh -c 'echo "$LD_PRELOAD"'
runs "its exit status" 3 "" -- sh -c 'exit 3'
printf '#!/usr/bin/env sh\necho "script: $LD_PRELOAD"\n' >"$tmp/env-script"
chmod +x "$tmp/env-script"
runs "a #!/usr/bin/env sh script" 0 "script: $lib" -- "$tmp/env-script"
"$G" --lib "$lib" compare --help >"$tmp/out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -qi 'usage' "$tmp/out"; then
  ok "gpatch compare --help dispatches to gpatch-compare (exit 0)"
else
  bad "gpatch compare --help: exit $rc: $(head -c 200 "$tmp/out")"
fi

if [ $fails = 0 ]; then
  echo "launcher: all checks passed"
  exit 0
fi
echo "launcher: $fails check(s) failed"
exit 1
