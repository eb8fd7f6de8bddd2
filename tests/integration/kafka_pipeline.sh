#!/usr/bin/env bash
# kafka_pipeline.sh: the real sample through `pinpipe run --log kafka` on librdkafka's mock
# cluster (pp_kafka_mock: 3 brokers, 6 partitions): FastAPI and REST-proxy shapes, broker errors
# injected mid-load (retriable and not), 2019 rows per table, batch + insights equal to the
# independent computation; interop with kcat both ways (kcat reads what serve produced;
# `pinpipe stream --log kafka` loads what `kcat -P` produced).
source "$(dirname "$0")/lib.bash"
pp_need_data
command -v sqlite3 >/dev/null || pp_fail "sqlite3 CLI missing (apt-get install sqlite3)"
command -v kcat >/dev/null || { echo "SKIP: kcat missing" >&2; exit 77; }
MOCK=${PP_TOOLS:-$(dirname "$PINPIPE")}/pp_kafka_mock
[ -x "$MOCK" ] || { echo "SKIP: $MOCK not built" >&2; exit 77; }
today=$(date -u +%F)

# mock_start DIR: start a mock cluster with a control file; sets B (bootstrap servers), MOCK_PID.
mock_start() {
  mkdir -p "$1"
  "$MOCK" --brokers 3 --partitions 6 --control "$1/control" >"$1/mock.out" 2>"$1/mock.err" &
  MOCK_PID=$!
  PP_PIDS+=("$MOCK_PID")
  for _ in $(seq 1 100); do [ -s "$1/mock.out" ] && break; sleep 0.05; done
  B=$(head -1 "$1/mock.out")
  [ -n "$B" ] || pp_fail "mock cluster did not start: $(cat "$1/mock.err")"
}

# inject DIR LINES...: hand control lines to the mock (atomically: write + rename).
inject() {
  local dir=$1; shift
  printf '%s\n' "$@" >"$dir/control.tmp"
  mv "$dir/control.tmp" "$dir/control"
}

for api in fastapi rest-proxy; do
  dir=$PP_TMP/$api
  mock_start "$dir/mock"
  pp_start "$dir" run --listen 127.0.0.1:0 --log kafka --brokers "$B" -X retry.backoff.ms=20
  "$PINPIPE" emulate --url "$PP_URL" --api "$api" --replay "$EVENTS" --concurrency 8 --quiet \
    --json >"$dir/emulate.json" &
  em=$!
  sleep 0.3
  # Produce: 20 x NOT_ENOUGH_REPLICAS (retried inside librdkafka), then 3 x INVALID_RECORD
  # (failed deliveries: those requests get errors and the emulator sends them again)
  inject "$dir/mock" "errors 0 19 20" "errors 0 87 3"
  wait "$em" || pp_fail "$api: emulate failed: $(cat "$dir/emulate.json")"
  pp_wait_rows "$dir/warehouse.db" 2019 # ids are primary keys: no loss, no duplicates
  pp_stop "$PP_PID"
  "$PINPIPE" batch --date "$today" --data-dir "$dir" --format json >"$dir/batch.json" \
    || pp_fail "$api: batch failed"
  "$PINPIPE" insights --warehouse "$dir/warehouse.db" --format json >"$dir/insights.json" \
    || pp_fail "$api: insights failed"
  python3 "$PP_SRC/tests/integration/insights_check.py" --events "$EVENTS" --quiet \
    --compare "$dir/insights.json" || pp_fail "$api: insights differ from the independent computation"
  # the day's quality checks read the log from Kafka: every id of the day in the warehouse and
  # in the lake, nothing refused at ingest (the thresholds are 0: a miss fails the command)
  "$PINPIPE" quality --date "$today" --data-dir "$dir" --log kafka --brokers "$B" \
    >"$dir/quality.out" 2>"$dir/quality.err" \
    || pp_fail "$api: quality on Kafka failed: $(tail -3 "$dir/quality.err")"
  # kcat reads back what serve produced: every pin of the sample, as JSON, none missing
  kcat -b "$B" -C -t pin -o beginning -e -q >"$dir/kcat_pin.jsonl" 2>"$dir/kcat.err" \
    || pp_fail "$api: kcat -C failed: $(cat "$dir/kcat.err")"
  python3 - "$EVENTS" "$dir/kcat_pin.jsonl" <<'EOF' || pp_fail "$api: kcat read-back differs"
import json, sys
want = {json.dumps(json.loads(l)["pin"], sort_keys=True) for l in open(sys.argv[1]) if l.strip()}
got = [json.dumps(json.loads(l), sort_keys=True) for l in open(sys.argv[2]) if l.strip()]
missing = want - set(got)
if missing or len(got) < 2262:
    print(f"kcat: {len(got)} records, {len(missing)} of {len(want)} distinct pins missing")
    sys.exit(1)
print(f"kcat: {len(got)} pin records read back, all {len(want)} distinct pins present")
EOF
  kill -TERM "$MOCK_PID"; wait "$MOCK_PID" || true
  echo "ok: $api"
done

# kcat -P produces a few real records; pinpipe stream --log kafka loads them
dir=$PP_TMP/interop
mock_start "$dir/mock"
python3 - "$PP_SHARED/data/aicore_sample_pin.jsonl" >"$dir/pins.txt" <<'EOF'
import json, sys
for line in list(open(sys.argv[1]))[:5]:
    rec = json.loads(line)
    print(f'{rec["index"]}:{json.dumps(rec)}')
EOF
kcat -P -b "$B" -t pin -K: -X partitioner=murmur2 -l "$dir/pins.txt" 2>"$dir/kcat.err" \
  || pp_fail "kcat -P failed: $(cat "$dir/kcat.err")"
# a group member that stops by itself once its partitions are committed up to Kafka's high
# watermarks (--until-caught-up)
timeout 60 "$PINPIPE" stream --log kafka --brokers "$B" --data-dir "$dir" --until-caught-up \
  >"$dir/stream.out" 2>"$dir/stream.err" || pp_fail "stream --until-caught-up exited with $?: $(tail -5 "$dir/stream.err")"
got=$(sqlite3 -cmd ".timeout 2000" "$dir/warehouse.db" "select count(*) from pin" 2>/dev/null || true)
[ "$got" = 5 ] || pp_fail "stream loaded ${got:-0} of the 5 records kcat produced"
"$PINPIPE" log offsets --log kafka --brokers "$B" >"$dir/offsets.tsv" || pp_fail "log offsets failed"
grep -q "^stream	pin	" "$dir/offsets.tsv" || pp_fail "no stream group commits in Kafka: $(cat "$dir/offsets.tsv")"
kill -TERM "$MOCK_PID"; wait "$MOCK_PID" || true
echo "ok: kcat interop"

# Per-record outcomes: a REST-proxy batch over 6 partitions (3 leaders) whose produce request to
# one broker fails (INVALID_RECORD, not retried by librdkafka) is answered 200 with error_code 2
# for exactly the records that broker refused and offsets for the others; resending only those
# leaves every record in Kafka exactly once. Then the same for a Kinesis PutRecords batch
# (FailedRecordCount, a retriable ErrorCode per refused record).
dir=$PP_TMP/perrecord
mock_start "$dir/mock"
pp_start "$dir" serve --listen 127.0.0.1:0 --partitions 6 --log kafka --brokers "$B" \
  -X retry.backoff.ms=20 -X linger.ms=50
"$PINPIPE" gen --rows 81 --seed 3 --out "$dir/src" >/dev/null 2>&1 || pp_fail "gen failed"
proxy_post() { # $1: body file; prints the response body, fails on a non-200
  curl -sf -H 'Content-Type: application/vnd.kafka.json.v2+json' --data-binary @"$1" \
    "$PP_URL/topics/x.user" || pp_fail "proxy post of $1 failed"
}
python3 - "$dir/src/user.jsonl" "$dir" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
open(sys.argv[2] + "/warm.json", "w").write(json.dumps({"records": [{"value": recs[0]}]}))
open(sys.argv[2] + "/batch.json", "w").write(json.dumps({"records": [{"value": r} for r in recs[1:41]]}))
open(sys.argv[2] + "/kinesis.json", "w").write(json.dumps(
    {"records": [{"data": r, "partition-key": str(r["ind"])} for r in recs[41:81]]}))
PY
proxy_post "$dir/warm.json" >/dev/null # metadata and producer id are known from here
inject "$dir/mock" "errors 0 87 1"
for _ in $(seq 1 100); do [ -e "$dir/mock/control" ] || break; sleep 0.05; done
proxy_post "$dir/batch.json" >"$dir/resp1.json"
python3 - "$dir" <<'PY' || pp_fail "per-record answer wrong: $(head -c 600 "$dir/resp1.json")"
import json, sys
d = sys.argv[1]
batch = json.load(open(d + "/batch.json"))["records"]
offs = json.load(open(d + "/resp1.json"))["offsets"]
assert len(offs) == len(batch) == 40, len(offs)
failed = [i for i, o in enumerate(offs) if o.get("error_code") is not None]
assert all(offs[i]["error_code"] == 2 for i in failed), "delivery failures must be retriable"
assert all(o["offset"] is not None and o["offset"] >= 0 for i, o in enumerate(offs) if i not in failed)
assert 0 < len(failed) < 40, f"{len(failed)} of 40 failed: want some, not all"
json.dump({"records": [batch[i] for i in failed]}, open(d + "/resend.json", "w"))
print(f"per-record: {40 - len(failed)} stored, {len(failed)} refused with error_code 2")
PY
resp=$(proxy_post "$dir/resend.json") || pp_fail "resend failed"
grep -q '"error_code"' <<<"$resp" && pp_fail "resend still refused: $resp"
kinesis_put() { # $1: body file; prints the response body, fails on a non-200
  curl -sf -X PUT -H 'Content-Type: application/json' --data-binary @"$1" \
    "$PP_URL/streams/streaming-x-user/records" || pp_fail "kinesis put of $1 failed"
}
inject "$dir/mock" "errors 0 87 1"
for _ in $(seq 1 100); do [ -e "$dir/mock/control" ] || break; sleep 0.05; done
kinesis_put "$dir/kinesis.json" >"$dir/resp2.json"
python3 - "$dir" <<'PY' || pp_fail "per-record Kinesis answer wrong: $(head -c 600 "$dir/resp2.json")"
import json, sys
d = sys.argv[1]
batch = json.load(open(d + "/kinesis.json"))["records"]
resp = json.load(open(d + "/resp2.json"))
recs = resp["Records"]
assert len(recs) == len(batch) == 40, len(recs)
failed = [i for i, r in enumerate(recs) if "ErrorCode" in r]
assert resp["FailedRecordCount"] == len(failed)
assert all(recs[i]["ErrorCode"] == "ProvisionedThroughputExceededException" for i in failed)
assert all("SequenceNumber" in r for i, r in enumerate(recs) if i not in failed)
assert 0 < len(failed) < 40, f"{len(failed)} of 40 failed: want some, not all"
json.dump({"records": [batch[i] for i in failed]}, open(d + "/kresend.json", "w"))
print(f"per-record (Kinesis): {40 - len(failed)} stored, {len(failed)} refused, retriable")
PY
resp=$(kinesis_put "$dir/kresend.json") || pp_fail "Kinesis resend failed"
grep -q '"FailedRecordCount":0' <<<"$resp" || pp_fail "Kinesis resend still refused: $resp"
pp_stop "$PP_PID"
kcat -b "$B" -C -t user -o beginning -e -q -f '%k\n' >"$dir/keys.txt" 2>"$dir/kcat.err" \
  || pp_fail "kcat -C failed: $(cat "$dir/kcat.err")"
[ "$(wc -l <"$dir/keys.txt")" = 81 ] && [ "$(sort -u "$dir/keys.txt" | wc -l)" = 81 ] \
  || pp_fail "Kafka holds $(wc -l <"$dir/keys.txt") user records ($(sort -u "$dir/keys.txt" | wc -l) distinct), want 81 once each"
kill -TERM "$MOCK_PID"; wait "$MOCK_PID" || true
echo "ok: per-record delivery outcomes in REST-proxy and Kinesis answers"
echo "kafka pipeline: passed"
