"""Three HTTP servers on 127.0.0.1 that answer after 300, 100 and 200 ms.

Run unpatched, as the peer of the real-program tests; prints the three
ports on one line, then serves until killed. Each server is threaded so
that its delay does not queue requests."""
import http.server
import socketserver
import sys
import threading
import time


def make(delay):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(delay / 1000)
            body = ("answered after %d ms\n" % delay).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    return Server(("127.0.0.1", 0), Handler)


servers = [make(d) for d in (300, 100, 200)]
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()
print(" ".join(str(s.server_address[1]) for s in servers), flush=True)
sys.stdin.read() if not sys.stdin.isatty() else time.sleep(3600)
