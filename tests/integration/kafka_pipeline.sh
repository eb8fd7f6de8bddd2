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
pp_start "$dir" stream --log kafka --brokers "$B"
for _ in $(seq 1 200); do
  got=$(sqlite3 -cmd ".timeout 2000" "$dir/warehouse.db" "select count(*) from pin" 2>/dev/null || true)
  [ "$got" = 5 ] && break
  sleep 0.05
done
[ "$got" = 5 ] || pp_fail "stream loaded ${got:-0} of the 5 records kcat produced"
pp_stop "$PP_PID"
"$PINPIPE" log offsets --log kafka --brokers "$B" >"$dir/offsets.tsv" || pp_fail "log offsets failed"
grep -q "^stream	pin	" "$dir/offsets.tsv" || pp_fail "no stream group commits in Kafka: $(cat "$dir/offsets.tsv")"
kill -TERM "$MOCK_PID"; wait "$MOCK_PID" || true
echo "ok: kcat interop"
echo "kafka pipeline: passed"
