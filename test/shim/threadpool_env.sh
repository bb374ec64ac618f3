#!/bin/bash
# How the runtime sizes libuv's threadpool (which runs name lookups), with
# test/shim/pool_env.c linked with libgpatch:
#   - GPATCH_THREADPOOL=N gives N threads, and the program's environment
#     is left as it was: the same array (environ), and no
#     UV_THREADPOOL_SIZE in it afterwards. Before, setenv/unsetenv around
#     the pool's start replaced the array (and raced getenv in other
#     threads);
#   - the program's own UV_THREADPOOL_SIZE is libuv's business, as plain,
#     and it still sees it;
#   - set-uid (AT_SECURE, run here as root with the program owned by
#     nobody): the environment is not trusted, GPATCH_* are ignored, and
#     UV_THREADPOOL_SIZE=64 must not make 64 threads either (it did): 4,
#     libuv's default. Skipped when not root, or where set-uid does not
#     take effect (a nosuid mount).
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${B:-build}
libdir=$(cd "$B" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
fails=0
bad() {
  echo "threadpool_env: FAIL: $*"
  fails=$((fails + 1))
}
if ! cc -O1 -o "$tmp/pool_env" test/shim/pool_env.c -L"$libdir" -lgpatch \
  -Wl,-rpath,"$libdir" 2>"$tmp/cc.err"; then
  bad "test/shim/pool_env.c does not build: $(head -c 300 "$tmp/cc.err")"
  exit 1
fi

# expect NAME WANT ENV…: pool_env run with ENV prints WANT (its
# secure=, workers=, environ= and UV_THREADPOOL_SIZE= fields).
expect() {
  local name=$1 want=$2 got
  shift 2
  got=$(env -u UV_THREADPOOL_SIZE -u GPATCH_THREADPOOL "$@" 2>&1 |
    sed 's/ lookup=0//')
  if [ "$got" = "$want" ]; then
    echo "threadpool_env: ok: $name: $got"
  else
    bad "$name: got '$got', want '$want'"
  fi
}

expect "default" "secure=0 workers=4 environ=same UV_THREADPOOL_SIZE=unset" \
  "$tmp/pool_env"
expect "GPATCH_THREADPOOL=2" \
  "secure=0 workers=2 environ=same UV_THREADPOOL_SIZE=unset" \
  GPATCH_THREADPOOL=2 "$tmp/pool_env"
expect "the program's own UV_THREADPOOL_SIZE=3" \
  "secure=0 workers=3 environ=same UV_THREADPOOL_SIZE=3" \
  UV_THREADPOOL_SIZE=3 "$tmp/pool_env"
expect "GPATCH_THREADPOOL=5 over the program's UV_THREADPOOL_SIZE=3" \
  "secure=0 workers=5 environ=same UV_THREADPOOL_SIZE=3" \
  UV_THREADPOOL_SIZE=3 GPATCH_THREADPOOL=5 "$tmp/pool_env"

cp "$tmp/pool_env" "$tmp/pool_env_suid"
if [ "$(id -u)" = 0 ] && chown nobody "$tmp/pool_env_suid" &&
  chmod u+s "$tmp/pool_env_suid" &&
  "$tmp/pool_env_suid" | grep -q '^secure=1 '; then
  expect "set-uid, UV_THREADPOOL_SIZE=64 GPATCH_THREADPOOL=8" \
    "secure=1 workers=4 environ=same UV_THREADPOOL_SIZE=64" \
    UV_THREADPOOL_SIZE=64 GPATCH_THREADPOOL=8 "$tmp/pool_env_suid"
else
  echo "threadpool_env: skipped: the set-uid case (needs root and a mount that honours set-uid)"
fi

if [ $fails = 0 ]; then
  echo "threadpool_env: all checks passed"
  exit 0
fi
echo "threadpool_env: $fails check(s) failed"
exit 1
