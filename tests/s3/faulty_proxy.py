#!/usr/bin/env python3
"""faulty_proxy.py: an HTTP proxy in front of the S3 test server that injects the failures the
S3 lake must retry: every Nth request gets 503 SlowDown, every Mth has its connection closed
without a response, before reaching the server (so nothing is half-applied).

usage: faulty_proxy.py UPSTREAM_PORT PORT_FILE [--slowdown N] [--drop M]
Listens on a free 127.0.0.1 port, written to PORT_FILE; prints the counts to stderr after
each injected fault. Stop it with SIGTERM."""
import argparse
import http.client
import http.server
import sys
import threading

import s3proxy

ap = argparse.ArgumentParser()
ap.add_argument("upstream", type=int)
ap.add_argument("port_file")
ap.add_argument("--slowdown", type=int, default=5)
ap.add_argument("--drop", type=int, default=7)
args = ap.parse_args()
lock = threading.Lock()
stats = {"requests": 0, "slowdown": 0, "dropped": 0}

SLOWDOWN = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
            b'<Message>Please reduce your request rate.</Message></Error>')


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        with lock:
            stats["requests"] += 1
            k = stats["requests"]
        if args.drop and k % args.drop == 0:
            with lock:
                stats["dropped"] += 1
                print(f"faulty_proxy: {stats}", file=sys.stderr, flush=True)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if args.slowdown and k % args.slowdown == 0:
            with lock:
                stats["slowdown"] += 1
                print(f"faulty_proxy: {stats}", file=sys.stderr, flush=True)
            self.send_response(503)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(SLOWDOWN)))
            self.end_headers()
            if self.command != "HEAD":  # a HEAD response has no body (else the client desyncs)
                self.wfile.write(SLOWDOWN)
            return
        up = http.client.HTTPConnection("127.0.0.1", args.upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items()}  # Host kept: the signature covers it
        up.request(self.command, self.path, body=body if (body or n) else None, headers=headers)
        resp = up.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for h, v in resp.getheaders():
            if h.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(h, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        up.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


s3proxy.serve(Proxy, args.port_file)
