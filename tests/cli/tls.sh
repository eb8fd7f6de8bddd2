#!/usr/bin/env bash
# tls.sh: HTTPS on `serve` (--tls-cert/--tls-key), `run` and a worker's metrics endpoint
# (--metrics-tls-cert/--metrics-tls-key), with a throwaway CA made by openssl: a pin record
# posted over TLS is acknowledged and in the log; plain HTTP to the TLS port fails; SIGHUP
# swaps in a new certificate for new connections while a keep-alive connection opened before it
# still gets answers on its old session; a bad file at reload keeps the old certificate with one
# warning; usage errors (one of the pair alone: exit 2) and bad pairs at start (exit 1, one line
# naming the file). Every wait is bounded and polls a condition.
set -uo pipefail
: "${PINPIPE:?}"
for c in openssl curl python3; do
  command -v $c >/dev/null || { echo "SKIP: $c not installed" >&2; exit 77; }
done
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
pass=0 fail=0
check() { if [ "$2" = "$3" ]; then pass=$((pass+1)); else
  echo "FAIL: $1: got '$2', expected '$3'" >&2; fail=$((fail+1)); fi; }
ok() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1" >&2; fail=$((fail+1)); fi; }
# wait_for SECONDS CMD...: poll CMD every 50 ms; 0 when it succeeded in time
wait_for() { local i; for i in $(seq $(($1 * 20))); do "${@:2}" && return 0; sleep 0.05; done; return 1; }
# subject HOST:PORT: the CN a new TLS connection is shown
subject() { openssl s_client -connect "$1" -servername localhost </dev/null 2>/dev/null |
  sed -n 's/^subject=.*CN *= *\([^,]*\).*/\1/p'; }
is_subject() { [ "$(subject "$1")" = "$2" ]; }
stopped() { ! kill -0 "$1" 2>/dev/null; }

# ---- a CA and three server certificates (CN pinpipe-a, pinpipe-b; c is for a mismatch) ----
pki=$tmp/pki; mkdir -p "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 2 \
  -subj "/CN=pinpipe test CA" 2>/dev/null || { echo "FAIL: openssl CA" >&2; exit 1; }
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$pki/ext"
for n in a b c; do
  openssl req -newkey rsa:2048 -nodes -keyout "$pki/$n.key" -out "$pki/$n.csr" \
    -subj "/CN=pinpipe-$n" 2>/dev/null &&
  openssl x509 -req -in "$pki/$n.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
    -out "$pki/$n.pem" -days 2 -extfile "$pki/ext" 2>/dev/null || { echo "FAIL: openssl $n" >&2; exit 1; }
  chmod 600 "$pki/$n.key"
done
# what serve reads: cert.pem/key.pem, replaced by renames (as certbot and friends do)
cp "$pki/a.pem" "$tmp/cert.pem"; cp -p "$pki/a.key" "$tmp/key.pem"
CA=(--cacert "$pki/ca.pem")
PIN='{"index": 4242, "unique_id": "fbe53c66-3442-4773-b19e-d3ec6f54dddf", "title": "t", "description": "d", "poster_name": "p", "follower_count": "124k", "tag_list": "a,b", "is_image_or_video": "image", "image_src": "https://x/y.jpg", "downloaded": 1, "save_location": "Local save in /data/x", "category": "tls-test"}'

# ---- usage errors: one of a pair alone is exit 2 with one line ----
usage() { # expect exit 2 and one stderr line
  local out rc; out=$("$PINPIPE" "$@" 2>&1 >/dev/null); rc=$?
  [ $rc = 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || { echo "  $* -> rc=$rc: $out" >&2; return 1; }
}
ok "serve --tls-cert alone: usage error" 'usage serve --data-dir "$tmp/u" --tls-cert "$tmp/cert.pem"'
ok "serve --tls-key alone: usage error" 'usage serve --data-dir "$tmp/u" --tls-key "$tmp/key.pem"'
ok "run --tls-key alone: usage error" 'usage run --data-dir "$tmp/u" --tls-key "$tmp/key.pem"'
ok "stream --metrics-tls-cert alone: usage error" \
  'usage stream --data-dir "$tmp/u" --metrics-listen 127.0.0.1:0 --metrics-tls-cert "$tmp/cert.pem"'
ok "lake --metrics-tls-key alone: usage error" \
  'usage lake --data-dir "$tmp/u" --metrics-listen 127.0.0.1:0 --metrics-tls-key "$tmp/key.pem"'
ok "schedule --metrics-tls-* without --metrics-listen: usage error" \
  'usage schedule --data-dir "$tmp/u" --metrics-tls-cert "$tmp/cert.pem" --metrics-tls-key "$tmp/key.pem"'
ok "env PINPIPE_SERVE_TLS_CERT alone: usage error" \
  'PINPIPE_SERVE_TLS_CERT="$tmp/cert.pem" usage serve --data-dir "$tmp/u"'

# ---- bad pairs at start: exit 1, one line naming the file ----
fails() { # $1: the file the line must name; rest: the command
  local want=$1 out rc; shift; out=$("$PINPIPE" "$@" 2>&1 >/dev/null); rc=$?
  [ $rc = 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && [[ "$out" == *"$want"* ]] ||
    { echo "  $* -> rc=$rc: $out" >&2; return 1; }
}
ok "mismatched key refused at start" \
  'fails "$pki/c.key" serve --listen 127.0.0.1:0 --data-dir "$tmp/u" --tls-cert "$pki/a.pem" --tls-key "$pki/c.key"'
ok "missing certificate refused at start" \
  'fails "$tmp/nope.pem" serve --listen 127.0.0.1:0 --data-dir "$tmp/u" --tls-cert "$tmp/nope.pem" --tls-key "$pki/a.key"'
ok "a key as the certificate refused at start" \
  'fails "$pki/a.key" serve --listen 127.0.0.1:0 --data-dir "$tmp/u" --tls-cert "$pki/a.key" --tls-key "$pki/a.key"'
ok "mismatched metrics key refused at start" \
  'fails "$pki/c.key" stream --data-dir "$tmp/u" --metrics-listen 127.0.0.1:0 --metrics-tls-cert "$pki/a.pem" --metrics-tls-key "$pki/c.key"'

# ---- serve over TLS ----
d=$tmp/d
"$PINPIPE" serve --listen 127.0.0.1:0 --data-dir "$d" --fsync always \
  --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" 2>"$tmp/serve.err" & spid=$!; pids+=($spid)
wait_for 10 test -s "$d/listen" || { cat "$tmp/serve.err" >&2; exit 1; }
hp=$(cat "$d/listen"); url=https://localhost:${hp##*:}
check "POST /pin/ over TLS" "$(curl -s "${CA[@]}" -o "$tmp/ack" -w '%{http_code}' \
  -H 'Content-Type: application/json' --data-binary "$PIN" "$url/pin/")" 200
ok "the record is in the log" \
  '"$PINPIPE" log tail --data-dir "$d" --topic pin --from-beginning --value-only 2>/dev/null | grep -q "\"index\": 4242"'
ok "plain HTTP to the TLS port fails" '! curl -s -m 5 -o /dev/null "http://$hp/healthz"'
ok "the CA is needed (no --cacert: refused)" '! curl -s -m 5 -o /dev/null "$url/healthz"'
check "s_client shows the subject" "$(subject "$hp")" pinpipe-a
ok "TLS 1.1 refused" '! openssl s_client -connect "$hp" -tls1_1 </dev/null >/dev/null 2>&1'
ok "TLS 1.2 accepted" 'openssl s_client -connect "$hp" -tls1_2 </dev/null 2>/dev/null | grep -q "^subject="'

# ---- SIGHUP reload while a keep-alive connection stays open ----
cat >"$tmp/keepalive.py" <<'PY'
# One HTTPS connection: a request, then (once GO exists) another on the same socket.
import http.client, json, os, ssl, sys, time
port, ca, go, body = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
conn = http.client.HTTPSConnection("localhost", port, context=ctx, timeout=30)
def post():
    conn.request("POST", "/pin/", body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse(); r.read()
    cn = dict(x[0] for x in conn.sock.getpeercert()["subject"])["commonName"]
    return r.status, cn, id(conn.sock)
s1, cn1, sock1 = post()
print("first", s1, cn1, flush=True)
deadline = time.time() + 30
while not os.path.exists(go) and time.time() < deadline:
    time.sleep(0.05)
s2, cn2, sock2 = post()
print("second", s2, cn2, "same-socket" if sock1 == sock2 else "new-socket", flush=True)
PY
python3 "$tmp/keepalive.py" "${hp##*:}" "$pki/ca.pem" "$tmp/go" "$PIN" >"$tmp/ka.out" 2>"$tmp/ka.err" &
kpid=$!; pids+=($kpid)
ok "keep-alive connection open (first request answered)" 'wait_for 10 grep -q "^first 200 pinpipe-a$" "$tmp/ka.out"'
cp "$pki/b.pem" "$tmp/cert.new" && mv "$tmp/cert.new" "$tmp/cert.pem"
cp -p "$pki/b.key" "$tmp/key.new" && mv "$tmp/key.new" "$tmp/key.pem"
kill -HUP $spid
ok "new connections get the new certificate after SIGHUP" 'wait_for 10 is_subject "$hp" pinpipe-b'
ok "serve survives SIGHUP" 'kill -0 $spid'
touch "$tmp/go"
wait_for 30 stopped $kpid; wait $kpid 2>/dev/null
check "the old keep-alive connection still answers, on its old session" \
  "$(cat "$tmp/ka.out" | sed -n 2p)" "second 200 pinpipe-a same-socket"
check "curl after the reload" "$(curl -s "${CA[@]}" -o /dev/null -w '%{http_code}' "$url/healthz")" 200

# a bad file at reload: the previous certificate stays, one warning
echo "not a certificate" >"$tmp/cert.new" && mv "$tmp/cert.new" "$tmp/cert.pem"
kill -HUP $spid
ok "bad certificate at reload: one warning" 'wait_for 10 grep -q "tls reload failed" "$tmp/serve.err"'
check "bad certificate at reload: warned once" "$(grep -c "tls reload failed" "$tmp/serve.err")" 1
check "bad certificate at reload: still serving the previous one" "$(subject "$hp")" pinpipe-b
check "bad certificate at reload: requests answered" \
  "$(curl -s "${CA[@]}" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary "$PIN" "$url/pin/")" 200
cp "$pki/a.pem" "$tmp/cert.pem"   # a mismatched pair (key is b's): refused too
kill -HUP $spid
warned() { [ "$(grep -c "tls reload failed" "$tmp/serve.err")" = "$1" ]; }
ok "mismatched pair at reload: warned" 'wait_for 10 warned 2'
check "mismatched pair at reload: still the previous one" "$(subject "$hp")" pinpipe-b
kill -TERM $spid; wait_for 15 stopped $spid; wait $spid; check "serve stops cleanly" $? 0
check "four records acknowledged over TLS are in the log" \
  "$("$PINPIPE" log tail --data-dir "$d" --topic pin --from-beginning --value-only 2>/dev/null | grep -c '"index": 4242')" 4

# reloads racing handshakes: 8 clients opening new connections while SIGHUPs swap the two
# certificates every 20 ms (a reload may see a half-renamed pair: refused, the old one stays)
cp "$pki/a.pem" "$tmp/cert.pem"; cp -p "$pki/a.key" "$tmp/key.pem"
"$PINPIPE" serve --listen 127.0.0.1:0 --data-dir "$tmp/s" --tls-cert "$tmp/cert.pem" \
  --tls-key "$tmp/key.pem" 2>"$tmp/stress.err" & xpid=$!; pids+=($xpid)
wait_for 10 test -s "$tmp/s/listen" || { cat "$tmp/stress.err" >&2; exit 1; }
xp=$(cat "$tmp/s/listen"); xp=${xp##*:}
client() { local i; for i in $(seq 40); do
  curl -s -m 5 "${CA[@]}" -o /dev/null -w '%{http_code}\n' "https://localhost:$xp/healthz"; done; }
for c in 1 2 3 4 5 6 7 8; do client >"$tmp/client.$c" & done
for i in $(seq 100); do
  n=$([ $((i % 2)) = 0 ] && echo a || echo b)
  cp "$pki/$n.pem" "$tmp/c.new" && mv "$tmp/c.new" "$tmp/cert.pem"
  cp -p "$pki/$n.key" "$tmp/k.new" && mv "$tmp/k.new" "$tmp/key.pem"
  kill -HUP $xpid; sleep 0.02
done
clients_done() { [ "$(cat "$tmp"/client.* | wc -l)" = 320 ]; }
wait_for 60 clients_done
check "handshakes during reloads: all answered" "$(sort "$tmp"/client.* | uniq -c | awk '{print $2 "x" $1}')" 200x320
ok "reloads happened" 'wait_for 10 grep -q "tls certificate reloaded" "$tmp/stress.err"'
kill -TERM $xpid; wait_for 15 stopped $xpid; wait $xpid; check "serve stops cleanly after the reloads" $? 0

# one SIGHUP reloads both the certificate and the API keys (one handler, two reloaders)
cp "$pki/a.pem" "$tmp/cert.pem"; cp -p "$pki/a.key" "$tmp/key.pem"
KEY1=$("$PINPIPE" keys add one --role ingest --keys "$tmp/api-keys" 2>/dev/null | tail -n 1)
"$PINPIPE" serve --listen 127.0.0.1:0 --data-dir "$tmp/k" --api-keys "$tmp/api-keys" \
  --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" 2>"$tmp/keys.err" & apid=$!; pids+=($apid)
wait_for 10 test -s "$tmp/k/listen" || { cat "$tmp/keys.err" >&2; exit 1; }
ap=$(cat "$tmp/k/listen"); ap=${ap##*:}
kpost() { curl -s "${CA[@]}" -o /dev/null -w '%{http_code}' -H "x-api-key: $1" \
  -H 'Content-Type: application/json' --data-binary "$PIN" "https://localhost:$ap/pin/"; }
check "API key over TLS" "$(kpost "$KEY1")" 200
KEY2=$("$PINPIPE" keys add two --role ingest --keys "$tmp/api-keys" 2>/dev/null | tail -n 1)
cp "$pki/b.pem" "$tmp/cert.pem"; cp -p "$pki/b.key" "$tmp/key.pem"
kill -HUP $apid
ok "SIGHUP with API keys: new certificate" 'wait_for 10 is_subject "127.0.0.1:$ap" pinpipe-b'
key2_ok() { [ "$(kpost "$KEY2")" = 200 ]; }
ok "SIGHUP with API keys: the new key works" 'wait_for 10 key2_ok'
ok "SIGHUP with API keys: both reloads logged" \
  'grep -q "tls certificate reloaded" "$tmp/keys.err" && grep -q "api keys reloaded" "$tmp/keys.err"'
kill -TERM $apid; wait_for 15 stopped $apid; wait $apid; check "serve with keys stops cleanly" $? 0

# a key readable by others is a warning, not an error
cp "$pki/a.pem" "$tmp/cert.pem"; cp "$pki/a.key" "$tmp/key.pem"; chmod 644 "$tmp/key.pem"
"$PINPIPE" run --listen 127.0.0.1:0 --data-dir "$tmp/r" --no-schedule --no-dashboard \
  --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" 2>"$tmp/run.err" & rpid=$!; pids+=($rpid)
ok "run over TLS" 'wait_for 10 test -s "$tmp/r/listen"'
rp=$(cat "$tmp/r/listen"); rp=${rp##*:}
check "run: POST /pin/ over TLS" "$(curl -s "${CA[@]}" -o /dev/null -w '%{http_code}' \
  -H 'Content-Type: application/json' --data-binary "$PIN" "https://localhost:$rp/pin/")" 200
ok "run: group/world-readable key warned about" 'grep -q "readable by everyone" "$tmp/run.err"'
kill -TERM $rpid; wait_for 15 stopped $rpid; wait $rpid; check "run stops cleanly" $? 0

# ---- a worker's metrics endpoint over TLS, reloaded on SIGHUP ----
chmod 600 "$tmp/key.pem"
"$PINPIPE" stream --data-dir "$d" --metrics-listen 127.0.0.1:0 --metrics-tls-cert "$tmp/cert.pem" \
  --metrics-tls-key "$tmp/key.pem" >"$tmp/stream.out" 2>"$tmp/stream.err" & tpid=$!; pids+=($tpid)
sf=$d/workers/stream-$tpid/listen
ok "stream announces its endpoint" 'wait_for 10 test -s "$sf"'
mp=$(cat "$sf"); mp=${mp##*:}
check "stream /healthz over TLS" "$(curl -s "${CA[@]}" -o /dev/null -w '%{http_code}' "https://localhost:$mp/healthz")" 200
streamed() { curl -s "${CA[@]}" "https://localhost:$mp/metrics" | grep -q '^pinpipe_stream_records_total 4$'; }
ok "stream /metrics over TLS (the 4 records consumed)" 'wait_for 20 streamed'
ok "plain HTTP to the metrics port fails" '! curl -s -m 5 -o /dev/null "http://127.0.0.1:$mp/healthz"'
check "metrics endpoint subject" "$(subject "127.0.0.1:$mp")" pinpipe-a
cp "$pki/b.pem" "$tmp/cert.pem"; cp -p "$pki/b.key" "$tmp/key.pem"
kill -HUP $tpid
ok "stream: new certificate after SIGHUP" 'wait_for 10 is_subject "127.0.0.1:$mp" pinpipe-b'
ok "stream survives SIGHUP" 'kill -0 $tpid'
kill -TERM $tpid; wait_for 15 stopped $tpid; wait $tpid; check "stream stops cleanly" $? 0

# lake and schedule take the same flags through the same endpoint code
"$PINPIPE" lake --data-dir "$d" --metrics-listen 127.0.0.1:0 --metrics-tls-cert "$tmp/cert.pem" \
  --metrics-tls-key "$tmp/key.pem" >/dev/null 2>"$tmp/lake.err" & lpid=$!; pids+=($lpid)
"$PINPIPE" schedule --retries 0 --data-dir "$d" --metrics-listen 127.0.0.1:0 --metrics-tls-cert "$tmp/cert.pem" \
  --metrics-tls-key "$tmp/key.pem" >/dev/null 2>"$tmp/sched.err" & hpid=$!; pids+=($hpid)
for w in lake:$lpid schedule:$hpid; do
  f=$d/workers/${w%%:*}-${w##*:}/listen
  ok "${w%%:*} announces its endpoint" 'wait_for 10 test -s "$f"'
  p=$(cat "$f" 2>/dev/null); p=${p##*:}
  check "${w%%:*} /healthz over TLS" \
    "$(curl -s "${CA[@]}" -o /dev/null -w '%{http_code}' "https://localhost:$p/healthz")" 200
  kill -TERM ${w##*:}
  ok "${w%%:*} stops on SIGTERM" 'wait_for 15 stopped ${w##*:}'
done
# (schedule's exit status is its DAG runs' outcome: yesterday's run of this data dir may fail;
# --retries 0: a retry's backoff wait would hold up its SIGTERM)
ok "lake stopped cleanly" 'wait $lpid'
ok "schedule stopped on SIGTERM, not killed by it" 'wait $hpid; [ $? -lt 128 ]'
ok "no sanitizer or TLS errors from the workers" '! grep -qiE "runtime error|AddressSanitizer|tls reload failed" "$tmp/lake.err" "$tmp/sched.err"'


echo "tls: $pass passed, $fail failed"
[ $fail = 0 ]
