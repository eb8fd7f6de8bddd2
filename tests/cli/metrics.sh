#!/usr/bin/env bash
# metrics.sh: GET /metrics on `pinpipe run` (Prometheus text format): scrape before and after
# a known workload and check the deltas — accepted records, rejected ones, requests by status,
# log appends, stream and lake counts; failures must move their counters. /readyz and
# /healthz answer 200.
set -uo pipefail
: "${PINPIPE:?}"
tmp=$(mktemp -d); pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if [ "$2" = "$3" ]; then pass=$((pass+1)); else
  echo "FAIL: $1: got '$2', expected '$3'" >&2; fail=$((fail+1)); fi; }
"$PINPIPE" run --listen 127.0.0.1:0 --data-dir "$tmp/d" --roll-age 100ms 2>"$tmp/run.log" &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/d/listen" ] && break; sleep 0.05; done
url=http://$(cat "$tmp/d/listen")
# metric NAME{LABELS}: its value in a scrape file (0 when absent)
metric() { awk -v k="$2" '$1 == k {print $2; found=1} END {if (!found) print 0}' "$1"; }
curl -sf "$url/metrics" >"$tmp/m0" || { echo "FAIL: /metrics unreachable" >&2; exit 1; }
check "content is Prometheus text" "$(grep -c '^# TYPE pinpipe_http_requests_total counter' "$tmp/m0")" 1

"$PINPIPE" gen --rows 50 --seed 7 --out "$tmp/src" >/dev/null 2>&1
ok=0
for i in $(seq 1 20); do
  sed -n "${i}p" "$tmp/src/pin.jsonl" | curl -sf -o /dev/null -H 'Content-Type: application/json' \
    --data-binary @- "$url/pin/" && ok=$((ok+1))
done
check "20 good posts acked" "$ok" 20
for body in '{"index":"x"}' 'not json' '{"index":1}'; do
  curl -s -o /dev/null -H 'Content-Type: application/json' -d "$body" "$url/pin/"
done
curl -s -o /dev/null "$url/no/such/route"
# 5 records through the REST proxy: 4 valid, 1 invalid slot
python3 - "$tmp/src/geo.jsonl" >"$tmp/batch.json" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])][:4]
print(json.dumps({"records": [{"value": r} for r in recs] + [{"value": {"ind": "bad"}}]}))
PY
curl -s -o /dev/null -H 'Content-Type: application/vnd.kafka.json.v2+json' \
  --data-binary @"$tmp/batch.json" "$url/topics/x.geo"
delta() { echo $(( $(metric "$tmp/m1" "$1") - $(metric "$tmp/m0" "$1") )); }
# stream and lake catch up (lake files roll after 100 ms): wait (bounded) until both have
# the 24 records and the lake finished a file, then read the counters once
for _ in $(seq 200); do
  curl -sf "$url/metrics" >"$tmp/m1"
  [ "$(delta pinpipe_stream_records_total)" = 24 ] && [ "$(delta pinpipe_lake_records_total)" = 24 ] &&
    [ "$(delta pinpipe_lake_files_total)" -ge 2 ] &&
    [ "$(grep -c '^pinpipe_consumer_lag_records{group="stream".* [1-9]' "$tmp/m1")" = 0 ] && break
  sleep 0.05
done
check "fastapi 200s" "$(delta 'pinpipe_http_requests_total{route="fastapi",code="200"}')" 20
check "fastapi 422s" "$(delta 'pinpipe_http_requests_total{route="fastapi",code="422"}')" 2
check "fastapi 400s" "$(delta 'pinpipe_http_requests_total{route="fastapi",code="400"}')" 1
check "unknown route 404s" "$(delta 'pinpipe_http_requests_total{route="unknown",code="404"}')" 1
check "produce 200s" "$(delta 'pinpipe_http_requests_total{route="produce",code="200"}')" 1
check "pin accepted" "$(delta 'pinpipe_ingest_records_total{topic="pin",outcome="accepted"}')" 20
check "pin rejected" "$(delta 'pinpipe_ingest_records_total{topic="pin",outcome="rejected"}')" 3
check "geo accepted" "$(delta 'pinpipe_ingest_records_total{topic="geo",outcome="accepted"}')" 4
check "geo rejected" "$(delta 'pinpipe_ingest_records_total{topic="geo",outcome="rejected"}')" 1
# 24 records + 4 dead letters (3 refused /pin/ posts, 1 invalid proxy record) in pinpipe.rejected
check "log appends" "$(delta pinpipe_log_appends_total)" 28
check "stream records" "$(delta pinpipe_stream_records_total)" 24
check "lake records" "$(delta pinpipe_lake_records_total)" 24
check "latency histogram count" "$(delta pinpipe_ingest_to_warehouse_seconds_count)" 24
check "stream in: pin" "$(delta 'pinpipe_records_in_total{stage="stream",topic="pin"}')" 20
check "stream out: geo" "$(delta 'pinpipe_records_out_total{stage="stream",topic="geo"}')" 4
check "lake in: geo" "$(delta 'pinpipe_records_in_total{stage="lake",topic="geo"}')" 4
check "warehouse load histogram: one per transaction" \
  "$(delta pinpipe_warehouse_transaction_seconds_count)" "$(delta pinpipe_stream_transactions_total)"
# 20 single appends + the proxy's batch, and the dead letters' appends
check "log append histogram observed" "$(( $(delta pinpipe_log_append_seconds_count) >= 21 ))" 1
check "lake files counted" "$(( $(delta pinpipe_lake_files_total) >= 2 ))" 1
check "stream lag 0" "$(grep -c '^pinpipe_consumer_lag_records{group="stream".* [1-9]' "$tmp/m1")" 0
check "/readyz" "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" 200
check "/healthz" "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" 200
kill -TERM $pid; wait $pid; pid=
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
