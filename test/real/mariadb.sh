#!/bin/bash
# Debian's MariaDB server (mariadbd 10.11, default settings, a fresh data
# directory, a Unix socket only), plain and preloaded with
# GPATCH_TLS=thread: the same transcript of SQL statements against each,
# then mysqlslap (10 clients, 3 iterations of 1000 generated queries),
# which must finish, then a clean shutdown (exit 0).
#
# InnoDB waits on futex words in its threads' own thread-local storage,
# which other threads set and wake. With GPATCH_TLS=copy (the default)
# every coroutine of an OS thread has its __thread variables at one
# address, so those wakes reach whichever copy is in place: mysqlslap hung
# for good. GPATCH_TLS=thread gives each thread its own; the last check
# runs the default mode briefly and wants the runtime's note that says so
# on stderr (whether or not mysqlslap finishes there).
. "$(dirname "$0")/common.bash"
PATH=$PATH:/usr/sbin:/sbin
need mariadbd
need mariadb-install-db
need mysqlslap
need mysqladmin
need mysql
[ "$(uname -m)" = x86_64 ] || { echo "$NAME: skipped: GPATCH_TLS=thread is x86_64 only"; exit 0; }
case "$(getconf GNU_LIBC_VERSION 2>/dev/null)" in
"glibc 2.36") ;;
*) echo "$NAME: skipped: GPATCH_TLS=thread knows glibc 2.36 only"; exit 0 ;;
esac

data=$tmp/data
mariadb-install-db --no-defaults --datadir="$data" --user="$(id -un)" \
  --auth-root-authentication-method=normal --skip-test-db \
  >"$tmp/install.log" 2>&1 || {
  bad "mariadb-install-db failed"
  show "$tmp/install.log"
  finish
}

cat >"$tmp/sql" <<'EOF'
CREATE DATABASE t;
USE t;
CREATE TABLE kv (k INT PRIMARY KEY, v VARCHAR(32)) ENGINE=InnoDB;
INSERT INTO kv VALUES (1, 'one'), (2, 'two'), (3, 'three');
UPDATE kv SET v = CONCAT(v, '!') WHERE k >= 2;
SELECT * FROM kv ORDER BY k;
SELECT COUNT(*), SUM(k) FROM kv;
BEGIN;
DELETE FROM kv WHERE k = 1;
ROLLBACK;
SELECT COUNT(*) FROM kv;
DROP DATABASE t;
EOF

# serve MODE PRE…: starts mariadbd (PRE: env settings), runs the
# transcript into $tmp/MODE.out and mysqlslap (limit $slap_limit s), then
# shuts it down. Sets $slap_rc.
serve() {
  local mode=$1 sock=$tmp/sock rc i
  shift
  rm -f "$sock"
  start "$mode.server" 180 env "$@" mariadbd --no-defaults --datadir="$data" \
    --user="$(id -un)" --socket="$sock" --skip-networking \
    --pid-file="$tmp/pid" --log-error="$tmp/$mode.log"
  local server=$pid
  wait_file "$sock" 60 || {
    bad "$mode: mariadbd did not start in 60 s"
    show "$tmp/$mode.log"
    stop "$server"
    wait "$server"
    return
  }
  ok "$mode: mariadbd started"
  mysql --no-defaults --socket="$sock" -uroot <"$tmp/sql" >"$tmp/$mode.out" 2>&1
  check "$mode: the transcript ran (exit $?)" test $? = 0
  timeout "$slap_limit" mysqlslap --no-defaults --socket="$sock" -uroot \
    --concurrency=10 --iterations=3 --number-of-queries=1000 \
    --auto-generate-sql >"$tmp/$mode.slap" 2>&1
  slap_rc=$?
  if [ "$mode" = copy ]; then # it may be stuck: no clean shutdown asked
    { kill -KILL -- "-$server" && wait "$server"; } 2>/dev/null
    return
  fi
  timeout 30 mysqladmin --no-defaults --socket="$sock" -uroot shutdown \
    >/dev/null 2>&1 || stop "$server"
  wait "$server"
  rc=$?
  check "$mode: mariadbd shut down, exit $rc" test $rc = 0
}

slap_limit=120
serve plain
check "plain: mysqlslap finished (exit $slap_rc)" test "$slap_rc" = 0
serve patched LD_PRELOAD="$LIB" GPATCH_TLS=thread
if [ "$slap_rc" = 0 ]; then
  ok "patched ($(cores) schedulers): mysqlslap finished"
  info "mysqlslap plain: $(grep -h 'Average number of seconds' "$tmp/plain.slap" | tr -s ' \t' ' ')"
  info "mysqlslap patched: $(grep -h 'Average number of seconds' "$tmp/patched.slap" | tr -s ' \t' ' ')"
else
  bad "patched: mysqlslap exit $slap_rc (124: still waiting after ${slap_limit} s)"
  show "$tmp/patched.slap"
  show "$tmp/patched.log"
fi
grep -q '^gpatch:' "$tmp/patched.log" && {
  bad "patched: the runtime wrote on stderr"
  grep '^gpatch:' "$tmp/patched.log" | head -3 | sed 's/^/    /'
}
same_output

# The default mode: where mysqlslap does not finish, the runtime's note
# says why (with one scheduler it may well finish: which copy a wake
# reaches depends on who runs).
slap_limit=10
serve copy LD_PRELOAD="$LIB" GPATCH_TLS=copy
if grep -q 'futex in its own thread-local storage' "$tmp/copy.log"; then
  ok "GPATCH_TLS=copy: the runtime names the futex in thread-local storage (mysqlslap exit $slap_rc)"
elif [ "$slap_rc" = 0 ]; then
  ok "GPATCH_TLS=copy: mysqlslap finished, and no futex in thread-local storage was waited on"
else
  bad "GPATCH_TLS=copy: mysqlslap exit $slap_rc, and the runtime did not say why"
  show "$tmp/copy.log"
fi
finish
