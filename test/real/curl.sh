#!/bin/bash
# curl, patched, as a client of local unpatched servers: python3 -m
# http.server serving a temporary directory, and test/real/delay_server.py
# (answers after 300, 100, 200 ms, so that the patched process lives long
# enough to be sampled). curl's threaded resolver starts a thread per name
# lookup, so the URLs use a host name: one that /etc/hosts maps to
# 127.0.0.1, other than localhost, which curl >= 7.78 answers itself
# without a lookup (then only localhost is used, and the test says so).
# Checks: the same bytes as plain curl and as the files, exit code 0, the
# same for three URLs fetched with curl --parallel; and the patched process
# never has more than one OS thread of its own. The lookups run getaddrinfo
# on libuv's threadpool (GPATCH_THREADPOOL=2 here); those threads are named
# libuv-worker and allowed, at most 2.
. "$(dirname "$0")/common.bash"
need_python
need curl
need getent
pool=2

host=localhost
for h in $(awk '$1 == "127.0.0.1" { for (i = 2; i <= NF; i++) print $i }' /etc/hosts 2>/dev/null); do
  case $h in localhost | *.localhost | \#*) continue ;; esac
  if [ "$(getent ahostsv4 "$h" 2>/dev/null | awk 'NR == 1 { print $1 }')" = 127.0.0.1 ]; then
    host=$h
    break
  fi
done
if [ $host = localhost ]; then
  info "no name but localhost maps to 127.0.0.1 in /etc/hosts: URLs use localhost, which curl may answer without a lookup thread"
else
  info "URLs use $host (/etc/hosts: 127.0.0.1), a real getaddrinfo lookup"
fi

www=$tmp/www
mkdir -p "$www"
head -c 300000 /dev/urandom >"$www/random.bin"
seq 1 5000 >"$www/numbers.txt"
start files 90 "$PY" -u -m http.server -b 127.0.0.1 -d "$www" 0
wait_line "$tmp/files.out" 'port [0-9]+' 20 || { bad "http.server did not start"; show "$tmp/files.err"; finish; }
fport=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$tmp/files.out" | head -n 1)

mkfifo "$tmp/hold" && exec 9<>"$tmp/hold" # keeps the delay servers' stdin open
timeout -k 5 90 "$PY" test/real/delay_server.py <&9 >"$tmp/ports" 2>"$tmp/delay.err" &
pids+=($!)
wait_line "$tmp/ports" '^[0-9]+ [0-9]+ [0-9]+$' 20 || { bad "delay servers did not start"; show "$tmp/delay.err"; finish; }
read -r p1 p2 p3 <"$tmp/ports"

patched=(env LD_PRELOAD="$LIB" GPATCH_THREADPOOL=$pool)
CURL=(curl -sS --max-time 20)

# One file at a time, plain then patched.
for f in random.bin numbers.txt; do
  timeout 30 "${CURL[@]}" -o "$tmp/plain.$f" "http://$host:$fport/$f"
  rc1=$?
  timeout 30 "${patched[@]}" "${CURL[@]}" -o "$tmp/patched.$f" "http://$host:$fport/$f" 2>"$tmp/patched.$f.err"
  rc2=$?
  if [ $rc1 = 0 ] && [ $rc2 = 0 ] && cmp -s "$www/$f" "$tmp/plain.$f" && cmp -s "$www/$f" "$tmp/patched.$f"; then
    ok "$f: plain and patched curl got the file's exact $(wc -c <"$www/$f") bytes, exit 0"
  else
    bad "$f: plain exit $rc1, patched exit $rc2, or different bytes"
    show "$tmp/patched.$f.err" 5
  fi
done

# One slow answer, sampled.
start one 30 "${patched[@]}" "${CURL[@]}" "http://$host:$p1/"
sampler "$pid" "$tmp/one.samples"
wait "$pid"
rc=$?
wait_file "$tmp/one.samples" 5
check "patched curl from the 300 ms server: exit $rc, body \"$(cat "$tmp/one.out")\"" \
  test $rc = 0 -a "$(cat "$tmp/one.out")" = "answered after 300 ms"
read -r n mp mw mt <"$tmp/one.samples"
check "patched curl: $n samples, at most $mp program thread(s) (want 1), $mw libuv-worker(s) (<= $pool)" \
  test "$n" -gt 0 -a "$mp" = 1 -a "$mw" -le $pool

# Three URLs at once: curl --parallel.
par() {
  local tag=$1
  shift
  start "$tag" 30 "$@" "${CURL[@]}" --parallel \
    -o "$tmp/$tag.1" "http://$host:$p1/" -o "$tmp/$tag.2" "http://$host:$p2/" \
    -o "$tmp/$tag.3" "http://$host:$p3/" -o "$tmp/$tag.4" "http://$host:$fport/numbers.txt"
  sampler "$pid" "$tmp/$tag.samples"
  local t0=$(date +%s%N)
  wait "$pid"
  prc=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  wait_file "$tmp/$tag.samples" 5
  cat "$tmp/$tag.1" "$tmp/$tag.2" "$tmp/$tag.3" "$tmp/$tag.4" >"$tmp/$tag.all" 2>/dev/null
}
par par.plain
rc1=$prc ms1=$ms
read -r n mp mw mt <"$tmp/par.plain.samples"
info "plain curl --parallel: up to $mt OS threads, $ms1 ms"
par par.patched "${patched[@]}"
info "patched curl --parallel: $ms ms"
if [ $rc1 = 0 ] && [ $prc = 0 ] && cmp -s "$tmp/par.plain.all" "$tmp/par.patched.all" &&
  cmp -s "$www/numbers.txt" "$tmp/par.patched.4"; then
  ok "curl --parallel, 4 URLs: patched got the same 4 bodies as plain, exit 0"
else
  bad "curl --parallel: plain exit $rc1, patched exit $prc, or different bodies"
  show "$tmp/par.patched.err" 5
fi
read -r n mp mw mt <"$tmp/par.patched.samples"
check "patched curl --parallel: $n samples, at most $mp program thread(s) (want 1), $mw libuv-worker(s) (<= $pool)" \
  test "$n" -gt 0 -a "$mp" = 1 -a "$mw" -le $pool
finish
