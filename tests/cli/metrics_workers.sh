#!/usr/bin/env bash
# metrics_workers.sh: --metrics-listen on separate `stream`, `lake` and `schedule` workers
# (embedded log): /healthz, /readyz, /metrics scraped before and after a known workload (serve +
# emulate N events) with the deltas checked against the warehouse and the lake files; injected
# failures move their counters and /readyz: a warehouse that refuses inserts (an SQLite trigger)
# makes the stream retry (retries counter, 503 with a reason) until it recovers, a lake folder
# that cannot be created makes the lake worker retry (write errors, retries, 503) until it is
# fixed, a DAG run that fails is counted by state. `pinpipe status` (text and --json) shows the stages.
set -uo pipefail
: "${PINPIPE:?}"
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 not installed" >&2; exit 77; }
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
pass=0 fail=0
check() { if [ "$2" = "$3" ]; then pass=$((pass+1)); else
  echo "FAIL: $1: got '$2', expected '$3'" >&2; fail=$((fail+1)); fi; }
ok() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1" >&2; fail=$((fail+1)); fi; }
# wait_for SECONDS CMD...: poll CMD every 50 ms; 0 when it succeeded in time
wait_for() { local i; for i in $(seq $(($1 * 20))); do "${@:2}" && return 0; sleep 0.05; done; return 1; }
# metric FILE NAME{LABELS}: its value in a scrape file (0 when absent)
metric() { awk -v k="$2" '$1 == k {print $2; found=1} END {if (!found) print 0}' "$1"; }
delta() { echo $(( $(metric "$2" "$3") - $(metric "$1" "$3") )); } # delta OLD NEW NAME
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
is_code() { [ "$(code "$2")" = "$1" ]; }
N=40

d=$tmp/d
"$PINPIPE" serve --listen 127.0.0.1:0 --data-dir "$d" 2>"$tmp/serve.err" & spid=$!; pids+=($spid)
wait_for 10 test -s "$d/listen" || { cat "$tmp/serve.err" >&2; exit 1; }
url=http://$(cat "$d/listen")
"$PINPIPE" stream --data-dir "$d" --metrics-listen 127.0.0.1:0 >"$tmp/stream.out" \
  2>"$tmp/stream.err" & tpid=$!; pids+=($tpid)
"$PINPIPE" lake --data-dir "$d" --metrics-listen 127.0.0.1:0 --roll-age 100ms >"$tmp/lake.out" \
  2>"$tmp/lake.err" & lpid=$!; pids+=($lpid)
sf=$d/workers/stream-$tpid/listen lf=$d/workers/lake-$lpid/listen
ok "workers announce their endpoints" 'wait_for 10 test -s "$sf" && wait_for 10 test -s "$lf"'
su=http://$(cat "$sf") lu=http://$(cat "$lf")
check "stream /healthz" "$(code "$su/healthz")" 200
check "lake /healthz" "$(code "$lu/healthz")" 200
ok "stream /readyz" 'wait_for 10 is_code 200 "$su/readyz"'
ok "lake /readyz" 'wait_for 10 is_code 200 "$lu/readyz"'
check "unknown route 404" "$(code "$su/nope")" 404
check "POST /metrics 405" "$(code -X POST -d x "$su/metrics")" 405
curl -sf "$su/metrics" >"$tmp/s0"; curl -sf "$lu/metrics" >"$tmp/l0"
check "Prometheus text" "$(grep -c '^# TYPE pinpipe_stream_records_total counter' "$tmp/s0")" 1
ok "no duplicate metric families" '! grep "^# TYPE" "$tmp/s0" "$tmp/l0" | sort | uniq -d | grep -q .'

# the workload: N events = N records per topic
"$PINPIPE" gen --rows 100 --seed 3 --out "$tmp/src" >/dev/null 2>&1
"$PINPIPE" emulate --url "$url" --source "$tmp/src" --events $N >/dev/null 2>&1
streamed() { curl -sf "$su/metrics" >"$tmp/s1" &&
  [ "$(delta "$tmp/s0" "$tmp/s1" pinpipe_stream_records_total)" = $((3 * N)) ]; }
# done = every record written, and every lake partition committed with lag 0
lake_done() { curl -sf "$lu/metrics" >"$tmp/l1" &&
  [ "$(delta "$tmp/l0" "$tmp/l1" pinpipe_lake_records_total)" = $((3 * N)) ] &&
  [ "$(grep -c '^pinpipe_consumer_lag_records{group="lake",.*} 0$' "$tmp/l1")" = \
    "$(grep -c '^pinpipe_log_high_watermark{topic="\(pin\|geo\|user\)"' "$tmp/l1")" ]; }
ok "stream consumed the workload" 'wait_for 30 streamed'
ok "lake wrote and committed the workload" 'wait_for 30 lake_done'
for t in pin geo user; do
  check "stream in $t" "$(delta "$tmp/s0" "$tmp/s1" "pinpipe_records_in_total{stage=\"stream\",topic=\"$t\"}")" $N
  check "stream out $t" "$(delta "$tmp/s0" "$tmp/s1" "pinpipe_records_out_total{stage=\"stream\",topic=\"$t\"}")" $N
  check "lake in $t" "$(delta "$tmp/l0" "$tmp/l1" "pinpipe_records_in_total{stage=\"lake\",topic=\"$t\"}")" $N
done
check "rows upserted (no dead letters)" "$(delta "$tmp/s0" "$tmp/s1" pinpipe_stream_rows_total)" $((3 * N))
txns=$(delta "$tmp/s0" "$tmp/s1" pinpipe_stream_transactions_total)
ok "transactions counted" '[ "$txns" -ge 1 ]'
check "one load-latency observation per transaction" \
  "$(delta "$tmp/s0" "$tmp/s1" pinpipe_warehouse_transaction_seconds_count)" "$txns"
check "end-to-end latency per record" \
  "$(delta "$tmp/s0" "$tmp/s1" pinpipe_ingest_to_warehouse_seconds_count)" $((3 * N))
check "no retries without failures" "$(delta "$tmp/s0" "$tmp/s1" pinpipe_stream_retries_total)" 0
# the log's copy of the stream's positions follows the warehouse within ~100 ms
lag0() { curl -sf "$su/metrics" |
  grep -q '^pinpipe_consumer_lag_records{group="stream",topic="pin",partition="0"} 0$'; }
ok "lag per partition exported" 'wait_for 5 lag0'
files=$(find "$d/lake" -name '*.jsonl' | wc -l)
bytes=$(find "$d/lake" -name '*.jsonl' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
check "lake files = files on disk" "$(delta "$tmp/l0" "$tmp/l1" pinpipe_lake_files_total)" "$files"
check "lake bytes = bytes on disk" "$(delta "$tmp/l0" "$tmp/l1" pinpipe_lake_bytes_total)" "$bytes"
ok "lake flushes timed" '[ "$(delta "$tmp/l0" "$tmp/l1" pinpipe_lake_flush_seconds_count)" -ge 1 ]'

# `pinpipe status`: the three stages, up and ready, no lag
"$PINPIPE" status --data-dir "$d" --interval 200ms >"$tmp/status.txt" 2>&1
ok "status: stream stage ready" 'grep -Eq "^  stream +$tpid +[0-9.:]+ +ok +ready" "$tmp/status.txt"'
ok "status: lake stage ready" 'grep -Eq "^  lake +$lpid +[0-9.:]+ +ok +ready" "$tmp/status.txt"'
ok "status: serve stage ready" 'grep -Eq "^  serve +- +[0-9.:]+ +ok +ready" "$tmp/status.txt"'
ok "status: stream total lag 0" 'grep -q "^  stream     total lag 0" "$tmp/status.txt"'
"$PINPIPE" status --data-dir "$d" --json --interval 0 >"$tmp/status.json"
ok "status --json" 'python3 - "$tmp/status.json" $N <<"PY"
import json, sys
s = json.load(open(sys.argv[1])); n = int(sys.argv[2])
st = {x["stage"]: x for x in s["stages"]}
assert set(st) == {"serve", "stream", "lake"}, st
assert all(x["healthy"] and x["ready"] for x in st.values()), st
assert st["stream"]["records"] == 3 * n and st["lake"]["records"] == 3 * n, st
assert {g["group"]: g["total_lag"] for g in s["groups"]}.get("stream") == 0, s["groups"]
assert 0 < s["warehouse"]["rows"]["pin"] <= n, s["warehouse"]
PY'

# failure: the warehouse refuses pin rows -> the stream rolls back and retries, /readyz 503
sqlite3 -cmd ".timeout 5000" "$d/warehouse.db" \
  "CREATE TRIGGER pp_test_fail BEFORE INSERT ON pin BEGIN SELECT RAISE(ABORT, 'injected'); END;"
"$PINPIPE" emulate --url "$url" --source "$tmp/src" --events 5 --seed 9 >/dev/null 2>&1
ok "stream /readyz 503 while transactions fail" 'wait_for 10 is_code 503 "$su/readyz"'
curl -s "$su/readyz" >"$tmp/ready.json"
curl -sf "$su/metrics" >"$tmp/s2"
"$PINPIPE" status --data-dir "$d" --interval 0 >"$tmp/status2.txt" 2>&1
sqlite3 -cmd ".timeout 5000" "$d/warehouse.db" "DROP TRIGGER pp_test_fail;"
ok "readyz names the warehouse" 'grep -q "warehouse: .*failed transactions in a row" "$tmp/ready.json"'
ok "status shows the stream not ready" 'grep -Eq "^  stream +$tpid .* no +.*warehouse" "$tmp/status2.txt"'
ok "retries counted" '[ "$(delta "$tmp/s1" "$tmp/s2" pinpipe_stream_retries_total)" -ge 1 ]'
ok "failing gauge > 0 during the failure" '[ "$(metric "$tmp/s2" pinpipe_stream_failing_transactions)" -ge 1 ]'
ok "stream ready again after the warehouse recovers" 'wait_for 20 is_code 200 "$su/readyz"'
recovered() { curl -sf "$su/metrics" >"$tmp/s3" &&
  [ "$(delta "$tmp/s1" "$tmp/s3" pinpipe_stream_records_total)" = 15 ]; }
ok "the failed records were loaded after recovery" 'wait_for 20 recovered'
check "failing gauge back to 0" "$(metric "$tmp/s3" pinpipe_stream_failing_transactions)" 0
ok "retries never go back to 0" '[ "$(delta "$tmp/s1" "$tmp/s3" pinpipe_stream_retries_total)" -ge 1 ]'
check "pin rows after recovery" "$(sqlite3 -cmd ".timeout 5000" "$d/warehouse.db" "select count(*) from pin")" \
  "$(sqlite3 -cmd ".timeout 5000" "$d/warehouse.db" "select count(*) from geo")"

# graceful stop: exit 0, summary, the address files removed
kill -TERM $tpid $lpid; wait $tpid; rs=$?; wait $lpid; rl=$?
check "stream exits 0" "$rs" 0
check "lake exits 0" "$rl" 0
ok "lake summary has files and bytes" 'grep -Eq "^lake: records=[0-9]+ files=[1-9][0-9]* bytes=[1-9]" "$tmp/lake.out"'
ok "address files removed" '[ ! -e "$sf" ] && [ ! -e "$lf" ]'
kill -TERM $spid; wait $spid

# failure: a lake folder that cannot be created -> the lake worker retries from its committed
# offsets (retries counter, /readyz 503), and once the path is fixed writes every record once
d2=$tmp/d2; mkdir -p "$d2/lake/topic=user"
for day in "$(date -u +%F)" "$(date -u -d tomorrow +%F)"; do
  : >"$d2/lake/topic=user/dt=$day" # a file where the day's folder must go
done
"$PINPIPE" serve --listen 127.0.0.1:0 --data-dir "$d2" 2>"$tmp/serve2.err" & spid=$!; pids+=($spid)
wait_for 10 test -s "$d2/listen"
"$PINPIPE" lake --data-dir "$d2" --metrics-listen 127.0.0.1:0 --roll-age 100ms >"$tmp/lake2.out" \
  2>"$tmp/lake2.err" & lpid=$!; pids+=($lpid)
wait_for 10 test -s "$d2/workers/lake-$lpid/listen"
lu=http://$(cat "$d2/workers/lake-$lpid/listen")
ok "lake ready before the failure" 'wait_for 10 is_code 200 "$lu/readyz"'
"$PINPIPE" emulate --url "http://$(cat "$d2/listen")" --source "$tmp/src" --events 5 >/dev/null 2>&1
ok "lake /readyz 503 while writes fail" 'wait_for 10 is_code 503 "$lu/readyz"'
curl -sf "$lu/metrics" >"$tmp/f1"
rm -f "$d2/lake/topic=user/dt="*
ok "lake write errors counted" '[ "$(metric "$tmp/f1" "pinpipe_lake_errors_total{op=\"write\"}")" -ge 1 ]'
ok "lake retries counted" '[ "$(metric "$tmp/f1" pinpipe_lake_retries_total)" -ge 1 ]'
ok "lake failing gauge > 0 during the failure" '[ "$(metric "$tmp/f1" pinpipe_lake_failing)" -ge 1 ]'
ok "lake ready again once the path is fixed" 'wait_for 30 is_code 200 "$lu/readyz"'
lake2_done() { [ "$(cat "$d2"/lake/topic=user/dt=*/*.jsonl 2>/dev/null | wc -l)" = 5 ]; }
ok "every user record in the lake once" 'wait_for 10 lake2_done'
curl -sf "$lu/metrics" >"$tmp/f2"
check "lake failing gauge back to 0" "$(metric "$tmp/f2" pinpipe_lake_failing)" 0
ok "lake retries never go back to 0" '[ "$(metric "$tmp/f2" pinpipe_lake_retries_total)" -ge 1 ]'
kill -TERM $lpid; wait $lpid; rl=$?
check "lake exits 0 after recovering" "$rl" 0
kill -TERM $spid; wait $spid

# the scheduler: a due run that fails is counted by state
d3=$tmp/d3; mkdir -p "$d3"
"$PINPIPE" schedule --data-dir "$d3" --retries 0 --metrics-listen 127.0.0.1:0 >"$tmp/sched.out" \
  2>"$tmp/sched.err" & cpid=$!; pids+=($cpid)
ok "schedule announces its endpoint" 'wait_for 10 test -s "$d3/workers/schedule-$cpid/listen"'
cu=http://$(cat "$d3/workers/schedule-$cpid/listen")
run_failed() { curl -sf "$cu/metrics" >"$tmp/c1" &&
  [ "$(metric "$tmp/c1" 'pinpipe_scheduler_runs_total{state="failed"}')" = 1 ]; }
ok "schedule: the failed run counted" 'wait_for 30 run_failed'
ok "schedule: failed task states counted" '[ "$(metric "$tmp/c1" "pinpipe_scheduler_task_states_total{state=\"failed\"}")" -ge 1 ]'
check "schedule: no successful run" "$(metric "$tmp/c1" 'pinpipe_scheduler_runs_total{state="success"}')" 0
check "schedule /readyz (history reachable)" "$(code "$cu/readyz")" 200
kill -TERM $cpid; wait $cpid
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
