#!/usr/bin/env bash
# keys.sh: API keys end to end: `pinpipe keys add|list|revoke`, then `serve --api-keys`: 401
# (no or bad key) / 403 (role or topic) / 200 on each API shape (FastAPI + Bearer, REST proxy +
# Basic, Kinesis + x-api-key), /healthz open, /metrics and the dashboard need read, a revoked
# key refused within a bounded wait while a keep-alive connection opened before the reload goes
# on, quota 429 + Retry-After, auth refusals counted but not dead letters, a non-loopback
# listen refused without keys, and no key ever in serve's stderr.
set -uo pipefail
: "${PINPIPE:?}"
tmp=$(mktemp -d); pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if [ "$2" = "$3" ]; then pass=$((pass+1)); else
  echo "FAIL: $1: got '$2', expected '$3'" >&2; fail=$((fail+1)); fi; }
K=$tmp/api-keys
add() { # NAME ROLE [flags]: prints the key (the last line of stdout)
  local name=$1 role=$2; shift 2
  "$PINPIPE" keys add "$name" --role "$role" "$@" --keys "$K" 2>>"$tmp/keys.err" | tail -n 1
}
ING=$(add ing ingest --topics pin)
ALL=$(add all ingest)
RD=$(add rd read)
ADM=$(add adm admin)
Q=$(add q ingest --rate 0.2 --burst 2)
check "key shape" "$(printf '%s\n' "$ING" "$ALL" "$RD" "$ADM" "$Q" | grep -cE '^pp_[A-Za-z0-9_-]{43}$')" 5
check "keys distinct" "$(printf '%s\n' "$ING" "$ALL" "$RD" "$ADM" "$Q" | sort -u | wc -l)" 5
check "file mode" "$(stat -c %a "$K")" 600
check "no key in the file" "$(grep -cF -e "$ING" -e "$ADM" "$K")" 0
check "one line per key" "$(grep -c '^name=' "$K")" 5
"$PINPIPE" keys list --keys "$K" >"$tmp/list" 2>&1
check "list" "$(awk 'NR > 1 {print $1, $2, $3}' "$tmp/list" | tr '\n' ';')" \
  "ing ingest pin;all ingest *;rd read *;adm admin *;q ingest *;"
check "list shows no hash" "$(grep -ciE '[0-9a-f]{64}|pp_' "$tmp/list")" 0
"$PINPIPE" keys add ing --role read --keys "$K" >/dev/null 2>"$tmp/e"
check "add of an existing name fails" "$?:$(wc -l <"$tmp/e")" "1:1"
"$PINPIPE" keys add x --role boss --keys "$K" >/dev/null 2>"$tmp/e"
check "bad role is a usage error" "$?:$(wc -l <"$tmp/e")" "2:1"
"$PINPIPE" keys revoke nobody --keys "$K" 2>/dev/null
check "revoke of an unknown name fails" "$?" 1
check "help" "$("$PINPIPE" keys add --help | grep -c '^usage: pinpipe keys add')" 1

# a non-loopback address without keys is refused (nothing is bound: loopback only here)
for cmd in serve run; do
  "$PINPIPE" $cmd --listen 0.0.0.0:0 --data-dir "$tmp/nl" 2>"$tmp/e" >/dev/null
  check "$cmd: non-loopback without keys" "$?:$(wc -l <"$tmp/e"):$(grep -c -- --insecure "$tmp/e")" "2:1:1"
done
check "nothing started" "$([ -e "$tmp/nl/listen" ] && echo yes || echo no)" no

D=$tmp/d
"$PINPIPE" serve --listen 127.0.0.1:0 --data-dir "$D" --api-keys "$K" 2>"$tmp/serve.log" &
pid=$!
for _ in $(seq 200); do [ -s "$D/listen" ] && break; sleep 0.05; done
url=http://$(cat "$D/listen")
req() { # curl args...: prints the status; body in $tmp/b, headers in $tmp/h
  curl -s -o "$tmp/b" -D "$tmp/h" -w '%{http_code}' "$@"
}
hdr() { tr -d '\r' <"$tmp/h" | awk -v k="$1" 'tolower($1) == tolower(k) ":" {print $2}'; }
J=application/json
PIN='{"index": 1, "unique_id": "u", "title": "t", "description": "d", "poster_name": "p", "follower_count": "1k", "tag_list": "a", "is_image_or_video": "image", "image_src": "s", "downloaded": 1, "save_location": "Local save in /data/x", "category": "c"}'
GEO='{"ind": 1, "timestamp": "2020-08-28 03:52:47", "latitude": 1.5, "longitude": 2.5, "country": "Albania"}'
fast() { req -H "Content-Type: $J" --data-binary "$2" "${@:3}" "$url$1"; }

check "/healthz open" "$(req "$url/healthz")" 200
check "/readyz open" "$(req "$url/readyz")" 200
# FastAPI + Bearer
check "fastapi: no key" "$(fast /pin/ "$PIN")" 401
check "fastapi: 401 envelope" "$(python3 -c 'import json,sys; print(list(json.load(open(sys.argv[1]))))' "$tmp/b")" "['detail']"
check "fastapi: WWW-Authenticate" "$(hdr WWW-Authenticate)" Bearer
check "fastapi: bad key" "$(fast /pin/ "$PIN" -H 'Authorization: Bearer pp_nope')" 401
check "fastapi: read key" "$(fast /pin/ "$PIN" -H "Authorization: Bearer $RD")" 403
check "fastapi: ingest key" "$(fast /pin/ "$PIN" -H "Authorization: Bearer $ING")" 200
check "fastapi: other topic" "$(fast /geo/ "$GEO" -H "Authorization: Bearer $ING")" 403
check "fastapi: all topics" "$(fast /geo/ "$GEO" -H "x-api-key: $ALL")" 200
check "fastapi: admin" "$(fast /geo/ "$GEO" -H "Authorization: Bearer $ADM")" 200
# REST proxy + Basic (the password is the key, the user anything)
P=application/vnd.kafka.json.v2+json
proxy() { req -H "Content-Type: $P" --data-binary "{\"records\":[{\"value\":$2}]}" "${@:3}" "$url$1"; }
check "proxy: no key" "$(proxy /topics/x.pin "$PIN")" 401
check "proxy: 401 envelope" "$(cat "$tmp/b")" '{"error_code":40101,"message":"Not authenticated: an API key is required (x-api-key, Authorization: Bearer or Basic)"}'
check "proxy: Basic, user = name" "$(proxy /topics/x.pin "$PIN" -u "ing:$ING")" 200
check "proxy: Basic, any user" "$(proxy /topics/x.pin "$PIN" -u "whoever:$ING")" 200
check "proxy: Basic, read key" "$(proxy /topics/x.pin "$PIN" -u "rd:$RD")" 403
check "proxy: 403 envelope" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error_code"])' "$tmp/b")" 40301
check "proxy: other topic" "$(proxy /topics/x.geo "$GEO" -u "ing:$ING")" 403
check "proxy: malformed Basic" "$(proxy /topics/x.pin "$PIN" -H 'Authorization: Basic !!!')" 401
check "proxy: Basic without ':'" "$(proxy /topics/x.pin "$PIN" -H "Authorization: Basic $(printf %s "$ING" | base64 -w0)")" 401
check "proxy: metadata, ingest" "$(req -u "x:$ING" "$url/topics")" 200
check "proxy: metadata, read" "$(req -u "x:$RD" "$url/topics")" 403
# Kinesis + x-api-key
kin() { req -X PUT -H "Content-Type: $J" --data-binary "{\"StreamName\":\"s\",\"Data\":$2,\"PartitionKey\":\"k\"}" "${@:3}" "$url$1"; }
check "kinesis: no key" "$(kin /streams/streaming-x-pin/record "$PIN")" 401
check "kinesis: 401 envelope" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["__type"])' "$tmp/b")" UnrecognizedClientException
check "kinesis: x-api-key" "$(kin /streams/streaming-x-pin/record "$PIN" -H "x-api-key: $ING")" 200
check "kinesis: read key" "$(kin /streams/streaming-x-pin/record "$PIN" -H "x-api-key: $RD")" 403
check "kinesis: 403 envelope" "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["__type"])' "$tmp/b")" AccessDeniedException
check "kinesis: other topic" "$(kin /streams/streaming-x-geo/record "$GEO" -H "x-api-key: $ING")" 403
# /metrics and the dashboard need read (or admin)
check "metrics: no key" "$(req "$url/metrics")" 401
check "metrics: ingest key" "$(req -H "x-api-key: $ING" "$url/metrics")" 403
check "metrics: read key" "$(req -H "Authorization: Bearer $RD" "$url/metrics")" 200
check "metrics: admin key" "$(req -H "Authorization: Bearer $ADM" "$url/metrics")" 200
check "dashboard: no key" "$(req "$url/")" 401
check "dashboard: a browser asks for Basic" "$(hdr WWW-Authenticate)" 'Basic'
check "dashboard: Basic, read key" "$(req -u "me:$RD" "$url/api/stats")" 200
check "dashboard: ingest key" "$(req -H "x-api-key: $ALL" "$url/")" 403
check "dashboard: read key" "$(req -H "x-api-key: $RD" "$url/")" 200
check "dashboard api: read key" "$(req -H "x-api-key: $RD" "$url/api/stats")" 200

# quota: rate 0.2/s, burst 2: the third request at once is throttled, in each envelope
st=""
for _ in 1 2 3; do st="$st $(fast /pin/ "$PIN" -H "x-api-key: $Q")"; done
check "quota: burst then 429" "$st" " 200 200 429"
check "quota: Retry-After" "$(hdr Retry-After)" 5
check "quota: FastAPI envelope" "$(cat "$tmp/b")" '{"detail":"Too Many Requests"}'
check "quota: Kinesis envelope" "$(kin /streams/streaming-x-pin/record "$PIN" -H "x-api-key: $Q"):$(cat "$tmp/b")" \
  '429:{"__type":"ThrottlingException","message":"Rate exceeded"}'
check "quota: REST proxy envelope" "$(proxy /topics/x.pin "$PIN" -u "q:$Q"):$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error_code"])' "$tmp/b")" 429:42901
req -H "x-api-key: $RD" "$url/metrics" >/dev/null
metric() { awk -v k="$1" '$1 == k {print $2; f=1} END {if (!f) print 0}' "$tmp/b"; }
check "metrics: throttled" "$(metric 'pinpipe_http_throttled_total{key="q"}')" 3
check "metrics: missing" "$(metric 'pinpipe_http_auth_refusals_total{reason="missing"}')" 5
check "metrics: invalid" "$(metric 'pinpipe_http_auth_refusals_total{reason="invalid"}')" 3
check "metrics: forbidden" "$(metric 'pinpipe_http_auth_refusals_total{reason="forbidden"}')" 9
check "metrics: 401s by route" "$(metric 'pinpipe_http_requests_total{route="fastapi",code="401"}')" 2

# the emulator sends $PINPIPE_API_KEY as each API's clients do
for api in fastapi rest-proxy kinesis; do
  PINPIPE_API_KEY=$ALL "$PINPIPE" emulate --url "$url" --api $api --events 3 --rows 10 --quiet \
    >/dev/null 2>"$tmp/emu.err"
  check "emulate $api with PINPIPE_API_KEY" "$?" 0
done
"$PINPIPE" emulate --url "$url" --api kinesis --events 1 --rows 10 --quiet >/dev/null 2>&1
check "emulate without a key is refused" "$?" 1

# revoke while a keep-alive connection is open: the key is refused within a bounded wait, the
# connection (opened before the reload) keeps working for the keys that remain
python3 - "$url" "$ALL" "$ADM" "$PINPIPE" "$K" >"$tmp/ka" 2>&1 <<'PY'
import http.client, subprocess, sys, time, urllib.parse
url, key, adm, pinpipe, keys = sys.argv[1:]
u = urllib.parse.urlparse(url)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
def get(k):
    conn.request("GET", "/topics", headers={"x-api-key": k})
    r = conn.getresponse(); r.read()
    return r.status, conn.sock.getsockname() if conn.sock else None
st, port = get(key)
assert st == 200, st
subprocess.run([pinpipe, "keys", "revoke", "all", "--keys", keys], check=True,
               stderr=subprocess.DEVNULL)
t0 = time.monotonic()
while time.monotonic() - t0 < 3:
    st, p = get(key)
    assert p == port, "connection dropped"
    if st == 401:
        break
    time.sleep(0.05)
waited = time.monotonic() - t0
st2, p = get(adm)
print("refused" if st == 401 else "still %d" % st, "within" if waited < 2.5 else "late",
      "same-conn" if p == port else "new-conn", st2)
PY
check "revoked key refused, keep-alive kept" "$(tail -n 1 "$tmp/ka")" "refused within same-conn 200"

# SIGHUP reloads too (a key added meanwhile works at once after it)
NEW=$(add new ingest)
kill -HUP $pid
for _ in $(seq 100); do [ "$(grep -c 'api keys reloaded' "$tmp/serve.log")" -ge 2 ] && break; sleep 0.05; done
check "SIGHUP: reloaded, still serving" "$(kill -0 $pid && fast /pin/ "$PIN" -H "x-api-key: $NEW")" 200

kill -TERM $pid; wait $pid; rc=$?; pid=
check "serve stopped cleanly" "$rc" 0
# auth refusals are not dead letters (an unauthenticated flood must not fill the disk)
check "no dead letters from auth" \
  "$("$PINPIPE" log tail --data-dir "$D" --topic pinpipe.rejected --from-beginning --value-only 2>/dev/null | grep -cE '"status":(401|403|429)')" 0
leaked=0
for k in "$ING" "$ALL" "$RD" "$ADM" "$Q" "$NEW"; do grep -qF -- "$k" "$tmp/serve.log" && leaked=1; done
check "no key in serve's stderr" "$leaked" 0

# run takes the same flags
"$PINPIPE" run --listen 127.0.0.1:0 --data-dir "$tmp/r" --api-keys "$K" --no-schedule \
  2>"$tmp/run.log" &
pid=$!
for _ in $(seq 200); do [ -s "$tmp/r/listen" ] && break; sleep 0.05; done
url=http://$(cat "$tmp/r/listen")
check "run: /healthz open" "$(req "$url/healthz")" 200
check "run: no key" "$(fast /pin/ "$PIN")" 401
check "run: ingest key" "$(fast /pin/ "$PIN" -H "x-api-key: $ING")" 200
kill -TERM $pid; wait $pid; rc=$?; pid=
check "run stopped cleanly" "$rc" 0

echo "keys: $pass passed, $fail failed"
[ "$fail" = 0 ]
