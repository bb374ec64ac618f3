#!/bin/bash
# Debian's PostgreSQL server (postgres 15, a fresh cluster, TCP on
# localhost), plain and preloaded (GPATCH_CORES as the suite runs it): the
# same transcript of SQL statements against each, a parallel query with
# two workers, then pgbench (4 clients, 4 threads, 100 transactions each),
# every transaction processed and none failed, then a clean stop.
#
# The postmaster forks its processes inside its signal handlers, which
# patched run in the scheduler's hub while its main thread waits in
# select: their waits there stopped the process (internal error), their
# exit after the postmaster had resolved a name crashed in libuv's
# destructor, and OpenSSL's random numbers failed there (no cancel key,
# so no parallel worker).
. "$(dirname "$0")/common.bash"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$bin" ] && [ -x "$bin/postgres" ] || skip "postgres (Debian's postgresql)"
need runuser
need_python
id postgres >/dev/null 2>&1 || skip "the postgres user"
[ "$(id -u)" = 0 ] || skip "root (to run the server as postgres)"
chmod 755 "$tmp"
as_pg() { runuser -u postgres -- "$@"; }
data=$tmp/data
mkdir "$data" "$tmp/sock" && chown postgres "$data" "$tmp/sock"
as_pg "$bin/initdb" -D "$data" -A trust -U postgres >"$tmp/initdb.log" 2>&1 || {
  bad "initdb failed"
  show "$tmp/initdb.log"
  finish
}

cat >"$tmp/sql" <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS kv;
CREATE TABLE kv (k INT PRIMARY KEY, v TEXT);
INSERT INTO kv SELECT g, md5(g::text) FROM generate_series(1, 200000) g;
UPDATE kv SET v = upper(v) WHERE k % 1000 = 0;
SELECT count(*), sum(k), count(*) FILTER (WHERE v ~ '^[A-F0-9]+$') FROM kv;
BEGIN;
DELETE FROM kv WHERE k <= 10;
ROLLBACK;
SELECT count(*) FROM kv;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT count(*), max(v) FROM kv;
SQL

# serve MODE PRE…: starts the server (PRE: env settings), runs the
# transcript into $tmp/MODE.out, a parallel query and pgbench, then stops
# it.
serve() {
  local mode=$1 port i pgb
  port=$(free_port)
  shift
  start "$mode.server" 180 runuser -u postgres -- env "$@" "$bin/postgres" \
    -D "$data" -k "$tmp/sock" -p "$port" -c listen_addresses=localhost
  for ((i = 0; i < 150; i++)); do
    "$bin/pg_isready" -h localhost -p "$port" -U postgres >/dev/null 2>&1 &&
      break
    sleep 0.2
  done
  if ! "$bin/pg_isready" -h localhost -p "$port" -U postgres >/dev/null; then
    bad "$mode: the server does not answer"
    show "$tmp/$mode.server.err"
    return
  fi
  ok "$mode: the server answers"
  timeout 120 "$bin/psql" -h localhost -p "$port" -U postgres -X -A -t \
    -v ON_ERROR_STOP=1 -f "$tmp/sql" >"$tmp/$mode.out" 2>&1
  check "$mode: the transcript ran (exit $?)" test $? = 0 ||
    show "$tmp/$mode.out"
  timeout 120 "$bin/psql" -h localhost -p "$port" -U postgres -X -A -t \
    -c "SET parallel_setup_cost = 0" -c "SET parallel_tuple_cost = 0" \
    -c "SET min_parallel_table_scan_size = 0" \
    -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT count(*) FROM kv" \
    >"$tmp/$mode.explain" 2>&1
  check "$mode: a parallel query launched its 2 workers" \
    grep -q "Workers Launched: 2" "$tmp/$mode.explain" ||
    show "$tmp/$mode.explain"
  timeout 120 "$bin/pgbench" -h localhost -p "$port" -U postgres -i -s 1 \
    postgres >"$tmp/$mode.pgbi" 2>&1
  timeout 180 "$bin/pgbench" -h localhost -p "$port" -U postgres -c 4 -j 4 \
    -t 100 postgres >"$tmp/$mode.pgb" 2>&1
  pgb=$(grep -E "actually processed|failed transactions|^tps" "$tmp/$mode.pgb" |
    tr '\n' ' ')
  check "$mode: pgbench processed 400 of 400, none failed ($pgb)" \
    grep -q "actually processed: 400/400" "$tmp/$mode.pgb" ||
    show "$tmp/$mode.pgb"
  grep -q "failed transactions: 0 " "$tmp/$mode.pgb" ||
    { bad "$mode: pgbench: transactions failed" && show "$tmp/$mode.pgb"; }
  as_pg "$bin/pg_ctl" -D "$data" stop -m fast -t 60 >"$tmp/$mode.stop" 2>&1
  check "$mode: a clean stop (exit $?)" test $? = 0 || {
    show "$tmp/$mode.stop"
    show "$tmp/$mode.server.err"
  }
  if grep -E "terminated by signal|internal error|random cancel key|PANIC" \
    "$tmp/$mode.server.err" >"$tmp/$mode.bad"; then
    bad "$mode: the server log says"
    show "$tmp/$mode.bad"
  else
    ok "$mode: no process died, no internal error in the server log"
  fi
  info "$mode: $pgb"
}

serve plain
serve patched LD_PRELOAD="$LIB"
same_output
finish
