#!/bin/bash
# The reads a patched thread-per-connection server makes per message.
# examples/thread_echo runs patched under strace (recvfrom only: the shim's
# reads of a socket are recv with MSG_DONTWAIT), while 8 clients play 300
# rounds of 64-byte ping-pong each. A handler's recv comes back short (64
# of 4096 bytes), which on TCP leaves the receive queue empty: the next recv
# must wait for input before it tries, so almost no recv says EAGAIN (one
# per connection, before the socket is in the hub's epoll set; the bound
# allows 5% of the messages more). Without that, every message costs an
# EAGAIN recv as well as the real one.
. "$(dirname "$0")/common.bash"
need_python
need strace
bin=$B/examples/thread_echo
[ -x "$bin" ] || { bad "$bin not built (make tests)"; finish; }
conns=8 rounds=300

start server 120 strace -f -qq -e trace=recvfrom -o "$tmp/strace" \
  env LD_PRELOAD="$LIB" "$bin" 0
if ! wait_line "$tmp/server.out" '^listening on 127.0.0.1:[0-9]+$' 30; then
  bad "patched server did not start under strace"
  show "$tmp/server.err"
  finish
fi
port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$tmp/server.out")
timeout 120 "$PY" - "$port" $conns $rounds >"$tmp/client.out" 2>&1 <<'EOF'
import socket, sys
port, conns, rounds = (int(a) for a in sys.argv[1:4])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(conns)]
for s in socks:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for r in range(rounds):
    for i, s in enumerate(socks):
        msg = (b"%03d:%05d:" % (i, r)).ljust(64, b"x")
        s.sendall(msg)
        got = b""
        while len(got) < 64:
            part = s.recv(64 - len(got))
            if not part:
                sys.exit("connection %d closed at round %d" % (i, r))
            got += part
        if got != msg:
            sys.exit("connection %d round %d: wrong echo" % (i, r))
for s in socks:
    s.close()
print("echoes ok:", conns * rounds)
EOF
client_rc=$?
check "$conns clients x $rounds rounds echoed by the patched server" \
  test $client_rc = 0
[ $client_rc = 0 ] || show "$tmp/client.out"
sleep 0.3 # the handlers see the closes
pkill -P "$pid" 2>/dev/null # the server, traced by strace ($pid)
wait "$pid" 2>/dev/null
# A call another thread's interrupted (GPATCH_CORES above 1) is two lines:
# "recvfrom(… <unfinished …>", then "<… recvfrom resumed>…) = 64".
reads=$(grep -c 'recvfrom.*= [1-9][0-9]*$' "$tmp/strace")
eagain=$(grep -c 'recvfrom.*= -1 EAGAIN' "$tmp/strace")
info "server recv calls: $reads with data, $eagain EAGAIN, for $((conns * rounds)) messages"
check "recv with data: at least one per message ($reads >= $((conns * rounds)))" \
  test "$reads" -ge $((conns * rounds))
max=$((conns + conns * rounds / 20))
check "EAGAIN recvs: about one per connection ($eagain <= $max)" \
  test "$eagain" -le $max
finish
