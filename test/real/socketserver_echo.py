"""A line echo server in the standard library's style: a
socketserver.ThreadingTCPServer (a thread per connection) with a
StreamRequestHandler. Prints its port, then serves until killed."""
import socketserver


class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024  # 500 clients connect at once


with Server(("127.0.0.1", 0), Echo) as server:
    print(server.server_address[1], flush=True)
    server.serve_forever()
