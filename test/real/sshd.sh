#!/bin/bash
# OpenSSH's sshd, patched, serving an unpatched ssh client on 127.0.0.1.
# sshd forks a child per connection, and that child confines itself with
# a seccomp filter before the key exchange (the pre-authentication
# sandbox), which kills it at any system call it did not expect: patched,
# the shim's own calls there (a look at an fd; later a scheduler poll at a
# time slice, in OpenSSL's locks) killed it, and every login failed.
# Checks, each against the same run with sshd unpatched: a command's
# output and exit status (3), 5 MB through the session's stdin, and a
# session with a terminal (ssh -tt). Its own host key, client key and
# configuration, in a temporary directory. Needs root, sshd and its
# privilege separation user; scripts/deps does not install openssh-server
# (its package starts a service on port 22), so the test says "skipped"
# where it is missing.
. "$(dirname "$0")/common.bash"
need_python
need ssh
need ssh-keygen
[ -x /usr/sbin/sshd ] || skip "/usr/sbin/sshd (openssh-server)"
[ "$(id -u)" = 0 ] || skip "root (sshd's privilege separation)"
getent passwd sshd >/dev/null 2>&1 || skip "the sshd user"
mkdir -p /run/sshd 2>/dev/null || skip "/run/sshd"

ssh-keygen -q -t ed25519 -N '' -f "$tmp/host" || { bad "ssh-keygen (host key)"; finish; }
ssh-keygen -q -t ed25519 -N '' -f "$tmp/id" || { bad "ssh-keygen (client key)"; finish; }
cp "$tmp/id.pub" "$tmp/authorized_keys"
port=$(free_port)
cat >"$tmp/sshd_config" <<EOF
ListenAddress 127.0.0.1:$port
HostKey $tmp/host
AuthorizedKeysFile $tmp/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PidFile none
LogLevel INFO
EOF
head -c 5000000 /dev/urandom >"$tmp/data"
want=$(md5sum <"$tmp/data")
SSH=(timeout 30 ssh -i "$tmp/id" -p "$port" -F /dev/null -o StrictHostKeyChecking=no
  -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR)

for mode in plain patched; do
  pre=()
  [ $mode = patched ] && pre=(env LD_PRELOAD="$LIB")
  start "sshd.$mode" 90 "${pre[@]}" /usr/sbin/sshd -D -e -f "$tmp/sshd_config"
  sp=$pid
  wait_line "$tmp/sshd.$mode.err" 'Server listening' 20 ||
    { bad "$mode sshd did not start"; show "$tmp/sshd.$mode.err"; finish; }
  "${SSH[@]}" root@127.0.0.1 'echo hello; seq 1 1000 | md5sum; exit 3' >"$tmp/$mode.cmd" 2>&1
  echo "exit $?" >>"$tmp/$mode.cmd"
  "${SSH[@]}" root@127.0.0.1 md5sum <"$tmp/data" >"$tmp/$mode.stdin" 2>&1
  echo "exit $?" >>"$tmp/$mode.stdin"
  "${SSH[@]}" -tt root@127.0.0.1 'tty >/dev/null && echo has a tty' </dev/null 2>&1 |
    tr -d '\r' >"$tmp/$mode.tty"
  stop "$sp"
  wait "$sp" 2>/dev/null
done

check "a command: the same output and exit status as with sshd plain ($(tr '\n' ' ' <"$tmp/plain.cmd"))" \
  cmp -s "$tmp/plain.cmd" "$tmp/patched.cmd" ||
  { diff "$tmp/plain.cmd" "$tmp/patched.cmd" | sed 's/^/    /'; show "$tmp/sshd.patched.err"; }
check "5 MB through stdin: the same digest as plain, the file's" \
  test "$(head -n 1 "$tmp/patched.stdin")" = "$want" -a "$(head -n 1 "$tmp/plain.stdin")" = "$want" ||
  show "$tmp/patched.stdin"
check "ssh -tt: a terminal, as plain ($(cat "$tmp/plain.tty"))" \
  cmp -s "$tmp/plain.tty" "$tmp/patched.tty" ||
  { diff "$tmp/plain.tty" "$tmp/patched.tty" | sed 's/^/    /'; }
finish
