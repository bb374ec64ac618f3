#!/bin/bash
# python3 -m http.server (a ThreadingHTTPServer: a thread per connection)
# serves a temporary directory, patched and plain. curl (unpatched) fetches
# several files from each and must get the files' exact bytes, and the same
# directory listing from both; then wrk (unpatched) loads each server with
# 200 connections for 3 s: the patched server may have no more socket
# errors than the plain one, and holds the load on one OS thread.
#
# Threads: http.server's server_bind calls socket.getfqdn("127.0.0.1"), a
# real reverse lookup (gethostbyaddr), so the patched server has libuv's
# threadpool (GPATCH_THREADPOOL=2 here), whose threads are named
# libuv-worker; every other thread counts, and there must be exactly one.
. "$(dirname "$0")/common.bash"
need_python
need curl
need wrk
pool=2

www=$tmp/www
mkdir -p "$www/sub"
head -c 262144 /dev/urandom >"$www/random.bin"
seq 1 20000 >"$www/numbers.txt"
: >"$www/empty"
printf '<html><body>hello</body></html>\n' >"$www/sub/index.html"
echo small >"$www/small.txt"
files="random.bin numbers.txt empty sub/index.html small.txt"

# serve TAG [env…]: starts http.server on a free port; sets $port, $spid
# and $slog (its request log, on stderr).
serve() {
  local tag=$1
  shift
  start "$tag" 120 env "$@" "$PY" -u -m http.server -b 127.0.0.1 -d "$www" 0
  spid=$pid slog=$tmp/$tag.err
  port=
  if wait_line "$tmp/$tag.out" 'port [0-9]+' 20; then
    port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$tmp/$tag.out" | head -n 1)
  fi
}

# fetch TAG: curl fetches every file and the root listing from $port.
fetch() {
  local f bad_files=""
  mkdir -p "$tmp/got.$1"
  for f in $files; do
    if ! timeout 20 curl -sS --max-time 15 -o "$tmp/got.$1/${f//\//_}" \
      "http://127.0.0.1:$port/$f" || ! cmp -s "$www/$f" "$tmp/got.$1/${f//\//_}"; then
      bad_files="$bad_files $f"
    fi
  done
  timeout 20 curl -sS --max-time 15 -o "$tmp/got.$1/listing" "http://127.0.0.1:$port/"
  [ -z "$bad_files" ] || echo "differs:$bad_files"
  [ -z "$bad_files" ]
}

# load TAG: wrk against $port; sets $errors and $rps. A long wrk timeout:
# latency is not what is compared, failures are.
load() {
  timeout 30 wrk -c 200 -t 2 -d 3s --timeout 10s "http://127.0.0.1:$port/small.txt" \
    >"$tmp/wrk.$1" 2>&1
  local rc=$? c=0 r=0 w=0 t=0 non=0
  read -r c r w t < <(sed -n 's/.*Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1 \2 \3 \4/p' "$tmp/wrk.$1")
  non=$(sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p' "$tmp/wrk.$1")
  errors=$((${c:-0} + ${r:-0} + ${w:-0} + ${t:-0} + ${non:-0}))
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$tmp/wrk.$1")
  [ $rc = 0 ] && [ -n "$rps" ]
}

# sample_load OUT: in the background, samples the server's threads for 2 s
# (OUT as sampler's) from the moment its log shows a request it had not
# logged when this was called: wrk's first, so the load is on.
sample_load() {
  local before
  before=$(wc -l <"$slog")
  (wait_lines "$slog" "$before" 20 && sampler "$spid" "$1" 2; wait) &
  pids+=($!)
}

# Plain server first.
serve plain
[ -n "$port" ] || { bad "plain http.server did not start"; show "$tmp/plain.err"; finish; }
fetch plain >/dev/null
sample_load "$tmp/plain.samples"
load plain || { bad "wrk failed against the plain server"; show "$tmp/wrk.plain"; }
plain_errors=$errors plain_rps=$rps
wait_file "$tmp/plain.samples" 5
read -r n mp mw mt <"$tmp/plain.samples" 2>/dev/null
info "plain server during load: up to ${mt:-?} OS threads"
stop "$spid"

serve patched LD_PRELOAD="$LIB" GPATCH_THREADPOOL=$pool
[ -n "$port" ] || { bad "patched http.server did not start"; show "$tmp/patched.err"; finish; }
threads "$spid"
info "patched server after start-up: $prog program thread(s), $workers libuv-worker(s) (getfqdn at bind)"
if out=$(fetch patched); then
  ok "curl got the exact bytes of $(echo $files | wc -w) files from the patched server"
else
  bad "curl from the patched server: $out"
fi
check "directory listing identical from plain and patched servers" \
  cmp -s "$tmp/got.plain/listing" "$tmp/got.patched/listing"
sed -n 's/.*\] "\(.*\)" \([0-9]*\) .*/"\1" \2/p' "$tmp/plain.err" | head -n 6 >"$tmp/log.plain"
sed -n 's/.*\] "\(.*\)" \([0-9]*\) .*/"\1" \2/p' "$tmp/patched.err" | head -n 6 >"$tmp/log.patched"
check "request logs identical, timestamps aside ($(wc -l <"$tmp/log.plain") lines)" \
  test -s "$tmp/log.plain" -a "$(cat "$tmp/log.plain")" = "$(cat "$tmp/log.patched")"

sample_load "$tmp/load.samples"
load patched || { bad "wrk failed against the patched server"; show "$tmp/wrk.patched"; }
info "requests/s: plain ${plain_rps:-?}, patched ${rps:-?} (not judged)"
check "wrk socket errors + non-2xx: patched $errors <= plain $plain_errors" \
  test "$errors" -le "$plain_errors"
wait_file "$tmp/load.samples" 5
read -r n mp mw mt <"$tmp/load.samples" 2>/dev/null
check "patched server during load: ${n:-0} samples, at most ${mp:-?} program thread(s) (want 1), ${mw:-?} libuv-worker(s) (<= $pool)" \
  test "${n:-0}" -gt 0 -a "${mp:-0}" = 1 -a "${mw:-99}" -le $pool
check "patched server still alive after the load" kill -0 "$spid"
finish
