#!/usr/bin/env python3
"""verify_proxy.py: an S3 endpoint for the tests that checks the SigV4 signature of every
request as AWS S3 does, from what it received, and forwards the accepted ones to the S3 test
server (s3rver, which is lenient about signatures).

The rules checked (AWS "Create a signed AWS API request" and "Authenticating Requests: Using
the Authorization Header (AWS Signature Version 4)"), each refused with 403 and an S3 XML error:
- an Authorization header "AWS4-HMAC-SHA256 Credential=AK/YYYYMMDD/region/s3/aws4_request,
  SignedHeaders=..., Signature=..." (else AccessDenied); the access key known
  (InvalidAccessKeyId); the scope's date equal to x-amz-date's, its region and service ours;
- x-amz-date present and within 15 minutes of now (RequestTimeTooSkewed);
- x-amz-content-sha256 present (S3 requires it), equal to the body's SHA-256 unless
  UNSIGNED-PAYLOAD or a STREAMING-* value (XAmzContentSHA256Mismatch, 400);
- every header named in SignedHeaders present in the request (SignatureDoesNotMatch: this is
  what curl < 8.3 gets wrong, signing a suppressed Expect, curl issue #11664), host and every
  x-amz-* header of the request signed (AccessDenied, "headers present ... not signed");
- with --token, x-amz-security-token present, signed and equal (InvalidToken);
- the signature recomputed by botocore (S3SigV4Auth: canonical request, string to sign,
  signing key) from the method, the path (decoded, then URI-encoded once per S3's rule), the
  query (decoded, re-encoded, sorted), the signed headers as received, x-amz-date and
  x-amz-content-sha256, compared in constant time (SignatureDoesNotMatch).

s3rver itself checks no SigV4 signature (its authentication middleware: "Signature version 4
calculation is unimplemented"), which is why this proxy exists.
Bodies are read whole (Content-Length or chunked; Expect: 100-continue is answered by
http.server) into a spooled file (memory up to 1 MiB, then disk) to check their hash, then
streamed to the server; responses are streamed back. Keep-alive works on both sides.

usage: verify_proxy.py UPSTREAM_PORT PORT_FILE [--key ID:SECRET]... [--token T] [--region R]
                       [--log-accepted]
Listens on a free 127.0.0.1 port, written to PORT_FILE. One stderr line per refusal
("verify_proxy: refused <METHOD> <path>: <Code>: <why>"), never a secret. Stop with SIGTERM."""
import argparse
import datetime
import hashlib
import hmac
import http.client
import http.server
import re
import sys
import tempfile
import threading
from urllib.parse import quote, unquote

try:
    import botocore  # noqa: F401 (pip's)
except ImportError:  # Debian 12's awscli 2 carries botocore: importable once awscli is
    import awscli  # noqa: F401
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

import s3proxy

ap = argparse.ArgumentParser()
ap.add_argument("upstream", type=int)
ap.add_argument("port_file")
ap.add_argument("--key", action="append", default=[], help="ID:SECRET (repeatable)")
ap.add_argument("--token", default=None, help="require this x-amz-security-token")
ap.add_argument("--region", default="us-east-1")
ap.add_argument("--log-accepted", action="store_true",
                help='also a stderr line per accepted request: "verify_proxy: ok conn=<client '
                     'port> <METHOD> <path>[ copy=<x-amz-copy-source>][ if-match]"')
args = ap.parse_args()
KEYS = dict(k.split(":", 1) for k in (args.key or ["S3RVER:S3RVER"]))
SKEW = datetime.timedelta(minutes=15)
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
       "upgrade", "expect"}
AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/,]+)/([^/,]+)/"
                     r"aws4_request,\s*SignedHeaders=([a-z0-9;\-]+),\s*Signature=([0-9a-f]{64})$")
lock = threading.Lock()
stats = {"accepted": 0, "refused": 0}


class Refused(Exception):
    def __init__(self, status, code, why):
        super().__init__(why)
        self.status, self.code, self.why = status, code, why


class Received(S3SigV4Auth):
    """S3SigV4Auth that signs exactly the headers the client named, with the values received
    (botocore's own signer chooses its headers and leaves out Expect and User-Agent)."""

    def __init__(self, creds, region, signed):
        super().__init__(creds, "s3", region)
        self.signed = signed

    def headers_to_sign(self, request):
        hm = HTTPHeaders()
        for name in self.signed:
            for v in request.headers.get_all(name) or []:
                hm[name] = v
        return hm


def canonical_query(raw):
    """S3's canonical query: each name and value decoded, then URI-encoded (unreserved kept,
    '%20' for a space), sorted by name then value ("k=v&..."; botocore sorts it again)."""
    pairs = []
    for part in raw.split("&") if raw else []:
        k, _, v = part.partition("=")
        pairs.append((quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def expected_signature(method, path, query, headers, signed, amz_date, secret, key_id, region):
    q = canonical_query(query)
    req = AWSRequest(method=method, url="http://verify" + quote(unquote(path), safe="/~")
                     + ("?" + q if q else ""))
    for name in signed:
        for v in headers.get_all(name) or []:
            req.headers.add_header(name, v)
    req.context["timestamp"] = amz_date
    auth = Received(Credentials(key_id, secret), region, signed)
    cr = auth.canonical_request(req)
    return auth.signature(auth.string_to_sign(req, cr), req), cr


def read_body(handler):
    """The request body into a spooled file: (file, length, sha256 hex)."""
    spool = tempfile.SpooledTemporaryFile(max_size=1 << 20)
    digest = hashlib.sha256()

    def copy(left):
        while left:
            b = handler.rfile.read(min(left, 1 << 16))
            if not b:
                raise ConnectionError("body cut short")
            spool.write(b)
            digest.update(b)
            left -= len(b)

    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            copy(size)
            handler.rfile.readline()
    else:
        copy(int(handler.headers.get("Content-Length") or 0))
    n = spool.tell()
    spool.seek(0)
    return spool, n, digest.hexdigest()


def verify(h, body_sha):
    """Raises Refused unless h (the handler) holds a request AWS S3 would accept."""
    hdrs = h.headers
    auth = hdrs.get("Authorization")
    m = AUTH_RE.match(auth or "")
    if not m:
        raise Refused(403, "AccessDenied", "no AWS4-HMAC-SHA256 Authorization header")
    key_id, day, region, service, signed_s, sig = m.groups()
    if key_id not in KEYS:
        raise Refused(403, "InvalidAccessKeyId", f"unknown access key {key_id}")
    if region != args.region or service != "s3":
        raise Refused(403, "SignatureDoesNotMatch", f"scope {region}/{service}")
    amz_date = hdrs.get("x-amz-date") or ""
    try:
        t = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        raise Refused(403, "AccessDenied", f"bad or missing x-amz-date '{amz_date}'")
    if abs(datetime.datetime.now(datetime.timezone.utc) - t) > SKEW:
        raise Refused(403, "RequestTimeTooSkewed", f"x-amz-date {amz_date}")
    if day != amz_date[:8]:
        raise Refused(403, "SignatureDoesNotMatch", "scope date is not x-amz-date's")
    signed = signed_s.split(";")
    if signed != sorted(set(signed)):
        raise Refused(403, "SignatureDoesNotMatch", "SignedHeaders not sorted and unique")
    present = {k.lower() for k in hdrs.keys()}
    missing = [s for s in signed if s not in present]
    if missing:
        raise Refused(403, "SignatureDoesNotMatch",
                      f"SignedHeaders names {','.join(missing)}, absent from the request")
    unsigned = sorted(p for p in present if (p == "host" or p.startswith("x-amz-"))
                      and p not in signed)
    if unsigned:
        raise Refused(403, "AccessDenied", "headers present in the request which were not "
                      f"signed: {','.join(unsigned)}")
    payload = hdrs.get("x-amz-content-sha256")
    if not payload:
        raise Refused(400, "InvalidRequest", "missing x-amz-content-sha256")
    if payload != "UNSIGNED-PAYLOAD" and not payload.startswith("STREAMING-") \
            and payload != body_sha:
        raise Refused(400, "XAmzContentSHA256Mismatch", "x-amz-content-sha256 is not the body's")
    if args.token is not None:
        tok = hdrs.get("x-amz-security-token")
        if tok is None or not hmac.compare_digest(tok.encode(), args.token.encode()):
            raise Refused(403, "InvalidToken", "missing or wrong x-amz-security-token")
    path, _, query = h.path.partition("?")
    want, cr = expected_signature(h.command, path, query, hdrs, signed, amz_date, KEYS[key_id],
                                  key_id, region)
    if not hmac.compare_digest(want.encode(), sig.encode()):
        raise Refused(403, "SignatureDoesNotMatch", "signature differs; canonical request: "
                      + cr.replace("\n", "\\n"))


def error_xml(code, why, path):
    esc = why.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    msg = ("The request signature we calculated does not match the signature you provided. "
           if code == "SignatureDoesNotMatch" else "") + esc
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{msg}'
            f'</Message><Resource>{path}</Resource></Error>').encode()


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    up = None

    def log_message(self, *a):
        pass

    def refuse(self, e):
        with lock:
            stats["refused"] += 1
        print(f"verify_proxy: refused {self.command} {self.path}: {e.code}: {e.why}",
              file=sys.stderr, flush=True)
        data = error_xml(e.code, e.why, self.path.partition("?")[0])
        self.send_response(e.status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def forward(self, body, n):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        if n or self.command in ("PUT", "POST"):
            headers["Content-Length"] = str(n)
        for k in headers:
            if k.lower() == "x-amz-copy-source":
                # s3rver 3.7 decodes it with JavaScript's decodeURI, which leaves %2B, %3D
                # and the other reserved escapes as they are (AWS decodes them): after the
                # verification, send those characters raw (s3rver verifies no SigV4 signature)
                headers[k] = quote(unquote(headers[k]), safe="/;?:@&=+$,#~")
        for attempt in (0, 1):  # a kept-alive upstream connection the server closed: reopen
            if self.up is None:
                self.up = http.client.HTTPConnection("127.0.0.1", args.upstream, timeout=120)
            try:
                # Host passes through unchanged: the signature covers it
                self.up.request(self.command, self.path, body=body if n else None,
                                headers=headers)
                return self.up.getresponse()
            except (ConnectionError, http.client.HTTPException):
                self.up.close()
                self.up = None
                if attempt:
                    raise
                body.seek(0)

    def handle_any(self):
        body, n, sha = read_body(self)
        try:
            verify(self, sha)
        except Refused as e:
            self.refuse(e)
            return
        with lock:
            stats["accepted"] += 1
        if args.log_accepted:
            copy = self.headers.get("x-amz-copy-source")
            print(f"verify_proxy: ok conn={self.client_address[1]} {self.command} {self.path}"
                  + (f" copy={copy}" if copy else "")
                  + (" if-match" if self.headers.get("If-Match") else ""),
                  file=sys.stderr, flush=True)
        resp = self.forward(body, n)
        self.send_response(resp.status)
        length = resp.getheader("Content-Length")
        for h, v in resp.getheaders():
            if h.lower() not in HOP and h.lower() != "content-length":
                self.send_header(h, v)
        chunked = length is None and self.command != "HEAD" and resp.status not in (204, 304)
        if length is not None:
            self.send_header("Content-Length", length)
        elif chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif self.command != "HEAD":
            self.send_header("Content-Length", "0")
        self.end_headers()
        while self.command != "HEAD":
            b = resp.read(1 << 16)
            if not b:
                break
            self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b) if chunked else b)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        resp.read()  # drain, so the upstream connection can be reused
        if resp.will_close:
            self.up.close()
            self.up = None

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


s3proxy.serve(Proxy, args.port_file)
