#!/usr/bin/env bash
# gen_emulate.sh: `pinpipe gen` files and what `pinpipe emulate` sends (shapes, counts,
# keep-alive reuse, 503 retries, rejections), checked against a recording HTTP server.
set -u
: "${PINPIPE:?set PINPIPE to the pinpipe binary}"
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
SHARED=${PP_SHARED:-}
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }

# ---- gen ----
check "gen --help" bash -c "'$PINPIPE' gen --help | grep -q -- --rows"
"$PINPIPE" gen --rows x >/dev/null 2>&1; check "gen bad --rows exits 2" test $? -eq 2
"$PINPIPE" gen --rows 500 --seed 5 --out "$T/a" 2>/dev/null && "$PINPIPE" gen --rows 500 --seed 5 --out "$T/b" 2>/dev/null
check "gen writes 500 lines per table" test "$(cat "$T"/a/{pin,geo,user}.jsonl | wc -l)" -eq 1500
for k in pin geo user; do check "gen same seed -> same $k.jsonl" cmp -s "$T/a/$k.jsonl" "$T/b/$k.jsonl"; done
"$PINPIPE" gen --rows 500 --seed 6 --out "$T/c" 2>/dev/null
check "gen other seed -> other rows" bash -c "! cmp -s '$T/a/pin.jsonl' '$T/c/pin.jsonl'"
check "gen tables aligned by id 0..N-1" python3 - "$T/a" <<'PY'
import json, sys
d = sys.argv[1]
p = [json.loads(l) for l in open(d + '/pin.jsonl')]
g = [json.loads(l) for l in open(d + '/geo.jsonl')]
u = [json.loads(l) for l in open(d + '/user.jsonl')]
assert [r['index'] for r in p] == list(range(500)) == [r['ind'] for r in g] == [r['ind'] for r in u]
assert list(p[0]) == ['index', 'unique_id', 'title', 'description', 'poster_name', 'follower_count',
                      'tag_list', 'is_image_or_video', 'image_src', 'downloaded', 'save_location', 'category']
PY

# rates of a generated table against the real sample (when ../shared/data is there)
if [ -n "$SHARED" ] && [ -f "$SHARED/data/aicore_sample_pin.jsonl" ]; then
    "$PINPIPE" gen --rows 20000 --seed 100 --out "$T/big" 2>/dev/null
    check "gen rates match the real sample" python3 - "$T/big" "$SHARED/data" <<'PY'
import json, sys, collections
def load(d, pre):
    return [[json.loads(l) for l in open(f'{d}/{pre}{k}.jsonl')] for k in ('pin', 'geo', 'user')]
def rates(t):
    pins, geos, users = t; n = len(pins)
    na = lambda s: any(ord(c) > 127 for c in s)
    fc = lambda v: 'k' if v.endswith('k') else 'M' if v.endswith('M') else 'n' if v.isdigit() else 'x'
    r = {'story': sum(p['description'] == 'No description available Story format' for p in pins),
         'uie': sum(p['poster_name'] == 'User Info Error' for p in pins),
         'imgerr': sum(p['image_src'] == 'Image src error.' for p in pins),
         'video': sum(p['is_image_or_video'] == 'video' for p in pins),
         'title_na': sum(na(p['title']) for p in pins), 'desc_na': sum(na(p['description']) for p in pins),
         'age20': sum(u['age'] == 20 for u in users), 'joined2015': sum(u['date_joined'] < '2016' for u in users),
         'lat<-70': sum(g['latitude'] < -70 for g in geos), 'ts2018': sum(g['timestamp'][:4] == '2018' for g in geos)}
    for k, v in collections.Counter(fc(p['follower_count']) for p in pins).items(): r['fc_' + k] = v
    for k, v in collections.Counter(p['category'] for p in pins).items(): r['cat_' + k] = v
    return {k: 100.0 * v / n for k, v in r.items()}
g, real = rates(load(sys.argv[1], '')), rates(load(sys.argv[2], 'aicore_sample_'))
bad = {k: (round(g.get(k, 0), 2), round(v, 2)) for k, v in real.items() if abs(g.get(k, 0) - v) > max(1.0, 0.12 * v)}
assert not bad, bad  # generated vs real, in percent
PY
fi

# ---- a recording HTTP/1.1 keep-alive server ----
cat > "$T/recorder.py" <<'PY'
import http.server, json, socket, sys, threading
portfile, outfile, mode = sys.argv[1], sys.argv[2], sys.argv[3]
out = open(outfile, 'w'); lock = threading.Lock(); state = {'n': 0}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def setup(self):
        super().setup(); self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def handle_one(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0))).decode('utf-8')
        with lock:
            state['n'] += 1; n = state['n']
            out.write(json.dumps({'m': self.command, 'path': self.path, 'ct': self.headers.get('Content-Type'),
                                  'port': self.client_address[1], 'body': body}) + '\n'); out.flush()
        code, resp, extra = 200, b'{"ok":true}', []
        if mode.startswith('503:') and n % int(mode[4:]) == 0:
            code, resp, extra = 503, b'{"detail":"overloaded"}', [('Retry-After', '0')]
        elif mode == 'reject-geo' and 'geo' in self.path:
            code, resp = 422, b'{"detail":[{"loc":["body","latitude"],"msg":"bad","type":"value_error"}]}'
        self.send_response(code)
        for h, v in extra: self.send_header(h, v)
        self.send_header('Content-Type', 'application/json'); self.send_header('Content-Length', str(len(resp)))
        self.end_headers(); self.wfile.write(resp)
    do_POST = do_PUT = handle_one
srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
with open(portfile + '.tmp', 'w') as f: f.write(str(srv.server_address[1]))
import os; os.rename(portfile + '.tmp', portfile)
srv.serve_forever()
PY
start_recorder() { # name mode -> sets URL
    python3 "$T/recorder.py" "$T/$1.port" "$T/$1.rec" "$2" & PIDS+=($!)
    for _ in $(seq 100); do [ -s "$T/$1.port" ] && break; sleep 0.05; done
    URL="http://127.0.0.1:$(cat "$T/$1.port")"
}
jget() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

# ---- fastapi from gen's files: exact bytes, ids aligned, order per event, keep-alive ----
start_recorder fa ok
"$PINPIPE" emulate --url "$URL" --source "$T/a" -n 40 -c 3 --json --quiet >"$T/fa.json" 2>"$T/fa.err"
check "fastapi: exit 0" test $? -eq 0
check "fastapi: summary counts" python3 - "$T/fa.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert (s['events'], s['sent'], s['acked'], s['rejected'], s['retried'], s['failed']) == (40, 120, 120, 0, 0, 0), s
assert s['latency_p50_ms'] > 0 and s['latency_p99_ms'] >= s['latency_p50_ms'] and s['req_per_s'] > 0
PY
check "fastapi: requests as sent, bodies byte-exact, pin->geo->user per id, <=3 connections" python3 - "$T/fa.rec" "$T/a" <<'PY'
import json, sys, collections
rec = [json.loads(l) for l in open(sys.argv[1])]
src = {k: set(l.rstrip('\n') for l in open(f'{sys.argv[2]}/{k}.jsonl')) for k in ('pin', 'geo', 'user')}
assert len(rec) == 120
ports, seen, kinds = set(), collections.defaultdict(lambda: [0, 0, 0]), collections.Counter()
for r in rec:
    k = r['path'].strip('/')
    assert r['m'] == 'POST' and r['path'] in ('/pin/', '/geo/', '/user/') and r['ct'] == 'application/json'
    assert r['body'] in src[k], r['body'][:80]
    rid = json.loads(r['body'])['index' if k == 'pin' else 'ind']
    c = seen[rid]; c[('pin', 'geo', 'user').index(k)] += 1
    assert c[0] >= c[1] >= c[2], (rid, c)  # per id: pin before geo before user
    ports.add(r['port']); kinds[k] += 1
assert all(c[0] == c[1] == c[2] for c in seen.values())
assert kinds == {'pin': 40, 'geo': 40, 'user': 40}
assert 1 <= len(ports) <= 3, len(ports)  # keep-alive: at most --concurrency connections
PY

# ---- rest-proxy from the real sample tables (naming scheme aicore_sample_*.jsonl) ----
if [ -n "$SHARED" ] && [ -f "$SHARED/data/aicore_sample_pin.jsonl" ]; then
    start_recorder rp ok
    "$PINPIPE" emulate --url "$URL/" --api rest-proxy --source "$SHARED/data" --topic-prefix 12a3b4c5d6e7 \
        --events 30 -c 2 --seed 1 --quiet >"$T/rp.out" 2>"$T/rp.err"
    check "rest-proxy: exit 0" test $? -eq 0
    check "rest-proxy: text summary" grep -Eq '^acked +90$' "$T/rp.out"
    check "rest-proxy: envelope, topic names, content type, exact record bytes" python3 - "$T/rp.rec" "$SHARED/data" <<'PY'
import json, sys, re
rec = [json.loads(l) for l in open(sys.argv[1])]
src = {k: set(l.rstrip('\n') for l in open(f'{sys.argv[2]}/aicore_sample_{k}.jsonl')) for k in ('pin', 'geo', 'user')}
assert len(rec) == 90
for r in rec:
    m = re.fullmatch(r'/topics/12a3b4c5d6e7\.(pin|geo|user)', r['path']); assert m and r['m'] == 'POST'
    assert r['ct'] == 'application/vnd.kafka.json.v2+json'
    b = r['body']; pre, post = '{"records":[{"value":', '}]}'
    assert b.startswith(pre) and b.endswith(post) and b[len(pre):-len(post)] in src[m.group(1)]
    json.loads(b)
PY
else
    echo "skip rest-proxy real-sample case: no shared data"
fi

# ---- kinesis from generated rows, with 503s (Retry-After: 0) every 4th request ----
start_recorder ki 503:4
"$PINPIPE" emulate --url "$URL" --api kinesis --rows 1000 -n 50 -c 4 --json --quiet >"$T/ki.json" 2>"$T/ki.err"
check "kinesis+503: exit 0" test $? -eq 0
check "kinesis+503: retried, all acked, sent = requests seen" python3 - "$T/ki.json" "$T/ki.rec" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); rec = [json.loads(l) for l in open(sys.argv[2])]
assert s['events'] == 50 and s['acked'] == 150 and s['failed'] == 0 and s['rejected'] == 0, s
assert s['retried'] > 0 and s['sent'] == s['acked'] + s['retried'] == len(rec), (s, len(rec))
for r in rec:
    k = r['path'].split('/')[2].rsplit('-', 1)[1]
    assert r['m'] == 'PUT' and r['path'] == f'/streams/streaming-0a1b2c3d4e5f-{k}/record'
    b = json.loads(r['body'])
    assert list(b) == ['StreamName', 'Data', 'PartitionKey'] and b['StreamName'] == f'streaming-0a1b2c3d4e5f-{k}'
    assert str(b['Data']['index' if k == 'pin' else 'ind']) == b['PartitionKey']
    assert 0 <= int(b['PartitionKey']) < 1000
PY
# the same seed picks the same rows and generates the same records: a second run repeats them
for i in 1 2; do
    start_recorder ks$i ok
    "$PINPIPE" emulate --url "$URL" --api kinesis --rows 1000 -n 50 -c 1 --quiet >/dev/null 2>&1
done
check "kinesis: same seed sends the same records" python3 - "$T/ks1.rec" "$T/ks2.rec" <<'PY'
import json, sys
a = [json.loads(l)['body'] for l in open(sys.argv[1])]; b = [json.loads(l)['body'] for l in open(sys.argv[2])]
assert a == b and len(a) == 150
PY

# ---- replay an events file in order ----
if [ -n "$SHARED" ] && [ -f "$SHARED/data/aicore_events.jsonl" ]; then
    start_recorder re ok
    "$PINPIPE" emulate --url "$URL" --replay "$SHARED/data/aicore_events.jsonl" --events 60 -c 1 --json --quiet \
        >"$T/re.json" 2>"$T/re.err"
    check "replay: exit 0" test $? -eq 0
    check "replay: the first 60 events, in order, records exact" python3 - "$T/re.rec" "$SHARED/data/aicore_events.jsonl" "$T/re.json" <<'PY'
import json, sys
rec = [json.loads(l) for l in open(sys.argv[1])]
ev = [json.loads(l) for l in open(sys.argv[2])][:60]
want = [(k, e[k]) for e in ev for k in ('pin', 'geo', 'user')]
assert [(r['path'].strip('/'), json.loads(r['body'])) for r in rec] == want
s = json.load(open(sys.argv[3])); assert s['events'] == 60 and s['acked'] == 180
PY
fi

# ---- rejections: 4xx counted, shown with the body, exit 1 ----
start_recorder rj reject-geo
"$PINPIPE" emulate --url "$URL" --rows 100 -n 10 -c 2 --json --quiet >"$T/rj.json" 2>"$T/rj.err"
check "reject: exit 1" test $? -eq 1
check "reject: 10 geo rejected, pin+user acked" python3 -c "
import json; s=json.load(open('$T/rj.json')); assert (s['rejected'], s['acked'], s['retried']) == (10, 20, 0), s"
check "reject: stderr shows status and body" grep -q 'HTTP 422.*value_error' "$T/rj.err"

# ---- connection refused: retried, then failed ----
python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])" >"$T/free.port"
"$PINPIPE" emulate --url "http://127.0.0.1:$(cat "$T/free.port")" --rows 10 -n 1 --attempts 2 --json --quiet \
    >"$T/cr.json" 2>"$T/cr.err"
check "refused: exit 1" test $? -eq 1
check "refused: 3 failed after 1 retry each" python3 -c "
import json; s=json.load(open('$T/cr.json')); assert (s['failed'], s['retried'], s['sent']) == (3, 3, 6), s"

# ---- usage ----
"$PINPIPE" emulate --rows 10 >/dev/null 2>&1; check "emulate without --url exits 2" test $? -eq 2
"$PINPIPE" emulate --url http://x --events file.jsonl >/dev/null 2>&1; check "--events wants a count" test $? -eq 2
check "emulate --help mentions --replay" bash -c "'$PINPIPE' emulate --help | grep -q -- --replay"

# ---- MySQL source and gen --mysql: usage (a real server: tests/integration/mariadb_source.sh) ----
check "emulate --help mentions --source-mode" bash -c "'$PINPIPE' emulate --help | grep -q -- --source-mode"
check "gen --help mentions --mysql" bash -c "'$PINPIPE' gen --help | grep -q -- '--mysql URL'"
for u in "mysql://u@h" "mysql://u@h:0/d" "mysql://u@h/d?x=1" "mysql://u:%zz@h/d" "mysql://[::1/d"; do
    "$PINPIPE" emulate --url http://127.0.0.1:9 --source "$u" >/dev/null 2>&1
    check "emulate --source '$u' exits 2" test $? -eq 2
    "$PINPIPE" gen --mysql "$u" >/dev/null 2>&1
    check "gen --mysql '$u' exits 2" test $? -eq 2
done
"$PINPIPE" emulate --url http://127.0.0.1:9 --source-mode random >/dev/null 2>&1
check "--source-mode without a MySQL source exits 2" test $? -eq 2
"$PINPIPE" emulate --url http://127.0.0.1:9 --source mysql://u@h/d --source-mode all >/dev/null 2>&1
check "bad --source-mode exits 2" test $? -eq 2
"$PINPIPE" gen --truncate >/dev/null 2>&1; check "gen --truncate without --mysql exits 2" test $? -eq 2
"$PINPIPE" gen --mysql mysql://u@h/d --out "$T/x" >/dev/null 2>&1
check "gen --mysql with --out exits 2" test $? -eq 2
MP=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
"$PINPIPE" emulate --url http://127.0.0.1:9 --source "mysql://u:topsecret@127.0.0.1:$MP/d" -n 1 --quiet \
    >/dev/null 2>"$T/my.err"
check "MySQL connection refused exits 1" test $? -eq 1
check "... with one line naming the reason" bash -c "[ \$(grep -c '^pinpipe emulate: ' '$T/my.err') = 1 ] && grep -q 'cannot connect to mysql://u@127.0.0.1:$MP/d: Connection refused' '$T/my.err'"
check "... and not the password" bash -c "! grep -q topsecret '$T/my.err'"
MYSQL_PWD=topsecret "$PINPIPE" gen --mysql "mysql://u@127.0.0.1:$MP/d" --rows 1 >/dev/null 2>"$T/my.err"
check "gen --mysql refused exits 1 (MYSQL_PWD not printed)" bash -c "[ $? = 1 ] && ! grep -q topsecret '$T/my.err'"

# ---- against the real ingestion server, when it is there ----
if "$PINPIPE" serve --help >/dev/null 2>&1; then
    SP=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
    "$PINPIPE" serve --listen "127.0.0.1:$SP" --data-dir "$T/serve-data" >"$T/serve.out" 2>&1 & PIDS+=($!)
    up=0; for _ in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1',$SP),0.2)" 2>/dev/null && { up=1; break; }; sleep 0.1; done
    if [ $up = 1 ]; then
        for api in fastapi rest-proxy kinesis; do
            "$PINPIPE" emulate --url "http://127.0.0.1:$SP" --api $api --source "$T/a" -n 100 -c 4 --json --quiet \
                >"$T/sv-$api.json" 2>"$T/sv-$api.err"
            check "serve/$api: all 300 acked" python3 -c "
import json; s=json.load(open('$T/sv-$api.json')); assert s['acked'] == 300 and s['rejected'] == 0 and s['failed'] == 0, s"
        done
    else
        echo "skip real-server case: pinpipe serve did not start"; cat "$T/serve.out"
    fi
else
    echo "skip real-server case: pinpipe serve not available"
fi

echo "$fails failed"
[ $fails -eq 0 ]
