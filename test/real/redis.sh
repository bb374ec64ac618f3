#!/bin/bash
# Debian's redis-server, linked with jemalloc (whose malloc takes pthread
# mutexes, which the shim interposes), plain and preloaded on a free port
# of 127.0.0.1: the same transcript of redis-cli commands against each,
# then redis-benchmark, itself plain against the plain server and
# preloaded against the preloaded one: it must finish (exit 0) and the
# counter its INCR test bumps must read exactly the number of requests.
# Before the re-entry guard both programs died by SIGSEGV at start.
#
# Threads: plain, redis runs its bio threads and jemalloc's background
# thread beside the main one. Patched, the bio threads are coroutines, so
# the only program thread is redis's own; jemalloc starts its background
# thread with the pthread_create that dlsym(RTLD_NEXT) finds after
# libgpatch, libc's, so that one stays a real thread (counted apart).
. "$(dirname "$0")/common.bash"
need redis-cli
need redis-benchmark
need_python
# Debian's redis-server is a link to redis-check-rdb (in redis-tools), which
# is the server unless argv[0] names a checker: the package redis-server
# adds only the service, which scripts/deps does not install.
if ! command -v redis-server >/dev/null 2>&1; then
  need redis-check-rdb
  mkdir -p "$tmp/bin"
  ln -s "$(command -v redis-check-rdb)" "$tmp/bin/redis-server"
  PATH=$tmp/bin:$PATH
fi
requests=2000

# The commands of the transcript: their replies do not depend on time.
cat >"$tmp/commands" <<'EOF'
PING
SET greeting hello
GET greeting
APPEND greeting ", world"
GET greeting
INCR counter
INCRBY counter 41
DECR counter
MSET a 1 b 2 c 3
MGET a b c missing
RPUSH list one two three four
LRANGE list 0 -1
LPOP list
LLEN list
HSET h f1 v1 f2 v2
HGET h f2
HLEN h
SADD s x y z x
SCARD s
SISMEMBER s y
ZADD z 1 one 2 two 3 three
ZRANGE z 0 -1 WITHSCORES
ZSCORE z two
SETEX volatile 1000 v
EXISTS volatile
DEL a b c missing
DBSIZE
EVAL "return redis.call('GET', KEYS[1])" 1 greeting
FLUSHALL
DBSIZE
EOF

for mode in plain patched; do
  pre=()
  [ $mode = patched ] && pre=(env LD_PRELOAD="$LIB")
  port=$(free_port)
  start server.$mode 120 "${pre[@]}" redis-server --port "$port" \
    --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
    --logfile "" --dir "$tmp"
  spid=$pid
  up=
  for _ in $(seq 200); do
    [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ] && { up=1; break; }
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$up" ]; then
    kill -0 "$spid" 2>/dev/null && stop "$spid"
    wait "$spid"
    bad "$mode redis-server did not answer PING (exit $?)"
    show "$tmp/server.$mode.out"
    show "$tmp/server.$mode.err"
    continue
  fi
  ok "$mode redis-server answers PING on port $port"
  redis-cli -p "$port" <"$tmp/commands" >"$tmp/cli.$mode.out" 2>&1
  check "$mode: redis-cli transcript exits 0 ($(wc -l <"$tmp/cli.$mode.out") lines)" \
    test $? = 0

  timeout 120 "${pre[@]}" redis-benchmark -p "$port" -n $requests -c 20 \
    -t set,get,incr,lpush -q >"$tmp/bench.$mode.out" 2>"$tmp/bench.$mode.err"
  rc=$?
  tr '\r' '\n' <"$tmp/bench.$mode.out" | grep -E '^[A-Z]+: [0-9.]+ requests' \
    >"$tmp/bench.$mode.rps"
  check "$mode redis-benchmark: exit $rc, $(wc -l <"$tmp/bench.$mode.rps") tests of 4 reported" \
    test $rc = 0 -a "$(wc -l <"$tmp/bench.$mode.rps")" = 4
  [ $rc = 0 ] || show "$tmp/bench.$mode.err"
  sed "s/^/$mode: /" "$tmp/bench.$mode.rps" | while read -r l; do info "$l"; done
  n=$(redis-cli -p "$port" GET 'counter:__rand_int__')
  check "$mode: the INCR test's counter reads $n (want $requests)" \
    test "$n" = $requests

  if threads "$spid"; then
    jem=0
    for c in /proc/"$spid"/task/*/comm; do
      [ "$(cat "$c" 2>/dev/null)" = jemalloc_bg_thd ] && jem=$((jem + 1))
    done
    info "$mode redis-server: Threads: $total ($jem jemalloc_bg_thd)"
    [ $mode = patched ] &&
      check "patched redis-server: $((prog - jem)) program thread(s) besides jemalloc's (want 1), $workers libuv-worker(s) (want 0)" \
        test $((prog - jem)) = 1 -a "$workers" = 0
  else
    bad "$mode redis-server is gone after the benchmark"
  fi
  redis-cli -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1
  wait "$spid"
  rc=$?
  check "$mode redis-server exits 0 at SHUTDOWN (exit $rc)" test $rc = 0
  [ $rc = 0 ] || show "$tmp/server.$mode.out"
done
if cmp -s "$tmp/cli.plain.out" "$tmp/cli.patched.out"; then
  ok "same redis-cli transcript plain and patched"
else
  bad "redis-cli transcripts differ"
  diff "$tmp/cli.plain.out" "$tmp/cli.patched.out" | head -20 | sed 's/^/    /'
fi
finish
