"""s3proxy.py: what the test proxies in front of the S3 test server share (faulty_proxy.py,
verify_proxy.py): a threaded HTTP/1.1 server on a free 127.0.0.1 port, its port written to a
file (atomically: tests poll for it)."""
import http.server
import os
import socketserver


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def serve(handler, port_file):
    """Serve handler forever on a free loopback port, written to port_file first."""
    srv = Server(("127.0.0.1", 0), handler)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(port_file + ".tmp", port_file)
    srv.serve_forever()
