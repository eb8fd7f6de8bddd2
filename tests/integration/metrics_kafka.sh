#!/usr/bin/env bash
# metrics_kafka.sh: metrics on the Kafka log (librdkafka's mock cluster, pp_kafka_mock): `run
# --log kafka` times every record's produce -> delivery report (pinpipe_log_append_seconds, one
# observation per delivered record); a `stream --log kafka --metrics-listen` worker counts what
# `kcat -P` produced per topic, good records as rows and bad ones as dead letters (rejected per
# stage and topic), and exports the group's lag per partition (0 once consumed).
source "$(dirname "$0")/lib.bash"
command -v sqlite3 >/dev/null || pp_fail "sqlite3 CLI missing (apt-get install sqlite3)"
command -v kcat >/dev/null || { echo "SKIP: kcat missing" >&2; exit 77; }
MOCK=${PP_TOOLS:-$(dirname "$PINPIPE")}/pp_kafka_mock
[ -x "$MOCK" ] || { echo "SKIP: $MOCK not built" >&2; exit 77; }
metric() { awk -v k="$2" '$1 == k {print $2; found=1} END {if (!found) print 0}' "$1"; }
wait_for() { local i; for i in $(seq $(($1 * 10))); do "${@:2}" && return 0; sleep 0.1; done; return 1; }

mock_start() { # DIR: sets B and MOCK_PID
  mkdir -p "$1"
  "$MOCK" --brokers 3 --partitions 6 --control "$1/control" >"$1/mock.out" 2>"$1/mock.err" &
  MOCK_PID=$!
  PP_PIDS+=("$MOCK_PID")
  for _ in $(seq 1 100); do [ -s "$1/mock.out" ] && break; sleep 0.05; done
  B=$(head -1 "$1/mock.out")
  [ -n "$B" ] || pp_fail "mock cluster did not start: $(cat "$1/mock.err")"
}

# (1) run on Kafka: one append-latency observation per delivered record
dir=$PP_TMP/run
mock_start "$dir/mock"
pp_start "$dir" run --listen 127.0.0.1:0 --log kafka --brokers "$B"
curl -sf "$PP_URL/metrics" >"$dir/m0" || pp_fail "/metrics unreachable"
"$PINPIPE" gen --rows 50 --seed 4 --out "$PP_TMP/src" >/dev/null 2>&1
"$PINPIPE" emulate --url "$PP_URL" --source "$PP_TMP/src" --events 20 >/dev/null 2>&1 \
  || pp_fail "emulate failed"
curl -sf "$PP_URL/metrics" >"$dir/m1"
n0=$(metric "$dir/m0" pinpipe_log_append_seconds_count)
n1=$(metric "$dir/m1" pinpipe_log_append_seconds_count)
[ $((n1 - n0)) = 60 ] || pp_fail "kafka append latency: $((n1 - n0)) observations, want 60"
pp_stop "$PP_PID"
kill -TERM "$MOCK_PID"; wait "$MOCK_PID" || true
echo "ok: kafka produce -> delivery latency observed per record"

# (2) a stream worker on Kafka: 3 good pins and 2 bad records from kcat
dir=$PP_TMP/stream
mock_start "$dir/mock"
head -3 "$PP_TMP/src/pin.jsonl" >"$dir/pins.txt"
printf '%s\n' 'not json' '{"index": "abc"}' >>"$dir/pins.txt"
kcat -P -b "$B" -t pin -l "$dir/pins.txt" 2>"$dir/kcat.err" || pp_fail "kcat -P: $(cat "$dir/kcat.err")"
pp_start "$dir" stream --log kafka --brokers "$B" --metrics-listen 127.0.0.1:0
wait_for 20 test -s "$dir/workers/stream-$PP_PID/listen" || pp_fail "no metrics address file"
mu=http://$(cat "$dir/workers/stream-$PP_PID/listen")
consumed() { curl -sf "$mu/metrics" >"$dir/m" &&
  [ "$(metric "$dir/m" 'pinpipe_records_in_total{stage="stream",topic="pin"}')" = 5 ]; }
wait_for 30 consumed || pp_fail "the stream did not consume the 5 records: $(grep records_in "$dir/m")"
[ "$(metric "$dir/m" 'pinpipe_records_rejected_total{stage="stream",topic="pin"}')" = 2 ] \
  || pp_fail "rejected: $(grep rejected "$dir/m")"
[ "$(metric "$dir/m" 'pinpipe_records_out_total{stage="stream",topic="pin"}')" = 3 ] \
  || pp_fail "rows out: $(grep records_out "$dir/m")"
[ "$(metric "$dir/m" pinpipe_stream_rejected_total)" = 2 ] || pp_fail "stream_rejected_total"
[ "$(sqlite3 -cmd ".timeout 2000" "$dir/warehouse.db" "select count(*) from pp_rejects")" = 2 ] \
  || pp_fail "dead letters in the warehouse"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$mu/readyz")" = 200 ] || pp_fail "/readyz"
lagrows() { curl -sf "$mu/metrics" >"$dir/m" &&
  [ "$(grep -c '^pinpipe_consumer_lag_records{group="stream",topic="pin",partition="[0-5]"} 0$' "$dir/m")" = 6 ]; }
wait_for 10 lagrows || pp_fail "lag per partition: $(grep lag_records "$dir/m")"
pp_stop "$PP_PID"
kill -TERM "$MOCK_PID"; wait "$MOCK_PID" || true
echo "ok: kafka stream worker: records in/out/rejected per topic"
