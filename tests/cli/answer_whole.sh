#!/usr/bin/env bash
# answer_whole.sh: an answer that cannot be built whole is never sent as a success. `serve`
# runs with the fault point buf_grow_over_64k (PINPIPE_TEST_FAULTS, src/core/buf.c: growing
# any buffer past 64 KiB fails as a failed realloc would). A REST Proxy batch of 4000 invalid
# records (a 52 KB body) needs a ~250 KB answer: it must be an error (the builder's own check
# answers 500 "out of memory"; the last line of defence, pp_http_resp_whole, a 503 with
# Retry-After) in the REST Proxy's error envelope, valid JSON -- never a 200 cut short. A
# small batch still gets 200.
set -euo pipefail
: "${PINPIPE:?}"
tmp=$(mktemp -d); pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp" || true' EXIT
PINPIPE_TEST_FAULTS=buf_grow_over_64k "$PINPIPE" serve --listen 127.0.0.1:0 --data-dir "$tmp/d" \
  2>"$tmp/serve.err" &
pid=$!
for _ in $(seq 200); do [ -s "$tmp/d/listen" ] && break; sleep 0.05; done
url=http://$(cat "$tmp/d/listen")
python3 -c 'print("{\"records\":[" + ",".join(["{\"value\":{}}"] * 4000) + "]}")' >"$tmp/big.json"
ct='Content-Type: application/vnd.kafka.json.v2+json'
code=$(curl -s -o "$tmp/big.out" -D "$tmp/big.hdr" -w '%{http_code}' -H "$ct" \
  --data-binary @"$tmp/big.json" "$url/topics/0a1b.pin")
case $code in 500|503) ;; *) head -c 300 "$tmp/big.out"; echo; echo "FAIL: got $code, want an error" >&2; exit 1 ;; esac
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["error_code"] in (50002, 503), d; assert "out of memory" in d["message"], d' "$tmp/big.out" \
  || { echo "FAIL: not the REST Proxy error envelope: $(head -c 300 "$tmp/big.out")" >&2; exit 1; }
echo "ok: a batch whose answer could not be built got $code: $(cat "$tmp/big.out")"
code=$(curl -s -o "$tmp/small.out" -w '%{http_code}' -H "$ct" \
  --data-binary '{"records":[{"value":{}},{"value":{}}]}' "$url/topics/0a1b.pin")
[ "$code" = 200 ] || { echo "FAIL: small batch got $code: $(cat "$tmp/small.out")" >&2; exit 1; }
echo "ok: a small batch still answered 200"
kill -TERM $pid; wait $pid; pid=
