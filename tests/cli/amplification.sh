#!/usr/bin/env bash
# amplification.sh: what one request can make serve produce stays bounded: a REST proxy batch
# of invalid records gets an answer within a small factor of its size and ONE dead letter;
# batches past --max-records (REST proxy) or 500 (Kinesis PutRecords) are refused whole;
# parallel big batches leave the server's memory bounded; requests the HTTP library refuses
# itself (oversized headers, a malformed chunked body) are counted in /metrics.
set -euo pipefail
PINPIPE=${PINPIPE:?set PINPIPE to the pinpipe binary}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
# Under AddressSanitizer (the sanitizer pass) freed memory sits in ASan's quarantine, 256 MiB by
# default, and counts in RSS: a small quarantine keeps the bound below about serve's own memory
# (ignored by a build without ASan).
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16" \
"$PINPIPE" serve --listen 127.0.0.1:0 --data-dir "$tmp/d" --fsync never --max-records 10000 \
  2>"$tmp/serve.log" &
pid=$!
for _ in $(seq 1 200); do [ -s "$tmp/d/listen" ] && break; sleep 0.05; done
url=http://$(cat "$tmp/d/listen")
python3 - "$url" "$pid" <<'PY'
import http.client, json, socket, sys, threading, time, urllib.parse
url, pid = sys.argv[1], int(sys.argv[2])
u = urllib.parse.urlparse(url)
PROXY = "application/vnd.kafka.json.v2+json"
def post(method, path, body, ctype="application/json"):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request(method, path, body=body, headers={"Content-Type": ctype})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data
def rss_kb():
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
fails = 0
def check(name, cond, detail=""):
    global fails
    if not cond:
        fails += 1
        print("FAIL: %s %s" % (name, detail), file=sys.stderr)
# 1. 10,000 invalid minimal records: answer within 8x the request, per-record error_code 1
body = json.dumps({"records": [{"value": 0}] * 10000}, separators=(",", ":")).encode()
st, ans = post("POST", "/topics/x.pin", body, PROXY)
check("invalid batch answered 200", st == 200, st)
offs = json.loads(ans)["offsets"]
check("one entry per record", len(offs) == 10000, len(offs))
check("non-retriable", all(o["error_code"] == 1 for o in offs))
check("answer within 8x the request", len(ans) <= 8 * len(body), "%d vs %d" % (len(ans), len(body)))
print("amplification: request %d B, answer %d B (%.1fx)" % (len(body), len(ans), len(ans) / len(body)))
# 2. past the caps: refused whole
big = json.dumps({"records": [{"value": 0}] * 10001}).encode()
st, ans = post("POST", "/topics/x.pin", big, PROXY)
check("REST proxy past --max-records: 413", st == 413 and b"too many records" in ans, (st, ans[:200]))
kin = json.dumps({"records": [{"data": {"index": 1}}] * 501}).encode()
st, ans = post("PUT", "/streams/x.pin/records", kin)
check("PutRecords past 500: 400", st == 400 and b"less than or equal to 500" in ans, (st, ans[:200]))
# 3. six parallel 7.8 MB bodies of invalid records (650k each): refused, memory bounded
huge = json.dumps({"records": [{"value": 0}] * 650000}, separators=(",", ":")).encode()
res = []
def one():
    res.append(post("POST", "/topics/x.pin", huge, PROXY)[0])
ts = [threading.Thread(target=one) for _ in range(6)]
[t.start() for t in ts]
[t.join() for t in ts]
check("huge batches refused", res == [413] * 6, res)
rss = rss_kb()
print("amplification: serve RSS after 6 parallel 7.8 MB batches: %d MiB" % (rss // 1024))
check("memory bounded", rss < 512 * 1024, rss)
# 4. refusals made inside the HTTP library are counted
s = socket.create_connection((u.hostname, u.port))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
s.settimeout(10)
first = s.recv(100)
s.close()
check("oversized headers answered by the library", first.startswith(b"HTTP/1.1 4"), first)
s = socket.create_connection((u.hostname, u.port))
s.sendall(b"POST /pin/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Transfer-Encoding: chunked\r\n\r\nzz\r\nnot a chunk\r\n")
s.settimeout(10)
try:
    s.recv(100)
except OSError:
    pass
s.close()
# the library counts a refusal when it completes the connection, which may come after the
# client saw the answer: wait (bounded) for both counters rather than read them once
for _ in range(100):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request("GET", "/metrics")
    m = c.getresponse().read().decode()
    lib = [l for l in m.splitlines() if l.startswith("pinpipe_http_unhandled_requests_total{")]
    if any('where="body"' in l for l in lib) and any('where="headers"' in l for l in lib):
        break
    time.sleep(0.05)
print("\n".join(lib))
check("library refusal counted (headers)", any('where="headers"' in l for l in lib), lib)
check("library refusal counted (body)", any('where="body"' in l for l in lib), lib)
sys.exit(1 if fails else 0)
PY
rc=$?
"$PINPIPE" log tail --data-dir "$tmp/d" --topic pinpipe.rejected --from-beginning --value-only \
  >"$tmp/dl" 2>/dev/null
kill -TERM $pid; wait $pid || true; pid=
n=$(grep -c '"records":10000' "$tmp/dl" || true)
[ "$n" = 1 ] || { echo "FAIL: one dead letter for the 10,000 invalid records, got $n" >&2; rc=1; }
max=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$tmp/dl")
[ "$max" -le 1600 ] || { echo "FAIL: a dead letter of $max bytes" >&2; rc=1; }
[ "$rc" = 0 ] && echo "amplification: ok"
exit $rc
