#!/usr/bin/env bash
# day_close.sh: a day closes by position while traffic keeps flowing across midnight, on the
# embedded default and on Kafka (librdkafka's mock cluster) + S3 (s3rver behind
# tests/s3/s3.bash). The pipeline starts 6 s before midnight of D on the test clock
# (PINPIPE_TEST_CLOCK_OFFSET_MS, pp_util.h) with --close-grace 2s; a client posts for ~20 s.
# While it still posts:
#   embedded: `pinpipe run`'s own scheduler runs the DAG of D (day_closed -> load -> insights
#             -> quality) and it succeeds;
#   kafka+s3: `pinpipe lake --close-day D --wait` (the DAG's first task) exits 0, then
#             `pinpipe batch --date D` loads the day.
# Then: every acknowledged record is in the log; the lake's dt=D holds exactly the log records
# whose ingest time is in D (as multisets of raw lines) and none of D+1 (which has records);
# the batch of D read exactly that many records per topic; topic=<t>/dt=D/_SUCCESS exists
# for each topic and names the committed offsets; D+1 is not closed (exit 3). Finally a record
# from a node whose clock is behind (a D timestamp after D closed) is kept in dt=D and counted
# as late by `pinpipe quality`.
source "$(dirname "$0")/lib.bash"
source "$PP_SRC/tests/s3/s3.bash"
command -v sqlite3 >/dev/null || pp_fail "sqlite3 CLI missing (apt-get install sqlite3)"
D=2030-06-15 D1=2030-06-16
# shift_to DATETIME [MS]: the test clock offset that makes now DATETIME (+ MS)
shift_to() { echo $(( $(date -u -d "$1" +%s%3N) + ${2:-0} - $(date +%s%3N) )); }
"$PINPIPE" gen --rows 300 --out "$PP_TMP/src" 2>/dev/null >/dev/null

# log_day DIR TOPIC DAY ARGS...: the raw values of TOPIC's log records ingested on DAY, sorted
log_day() {
  local dir=$1 t=$2 day=$3; shift 3
  local lo hi
  lo=$(date -u -d "$day" +%s000); hi=$((lo + 86400000))
  "$PINPIPE" log tail --data-dir "$dir" --topic "$t" --from-beginning -n 100000000 "$@" |
    awk -F'\t' -v lo="$lo" -v hi="$hi" '$4 >= lo && $4 < hi' | cut -f5- | LC_ALL=C sort
}

# check_day R LOGDIR LAKEDIR BATCHCOUNTS ARGS...: the lake's dt=D equals the log's day D
check_day() {
  local r=$1 logdir=$2 lake=$3 counts=$4; shift 4
  local t n n1 acked total=0
  for t in pin geo user; do
    log_day "$logdir" $t $D "$@" >"$PP_TMP/$r.log.$t"
    n=$(wc -l <"$PP_TMP/$r.log.$t")
    n1=$(log_day "$logdir" $t $D1 "$@" | wc -l)
    total=$((total + n + n1))
    [ "$n" -gt 0 ] && [ "$n1" -gt 0 ] || pp_fail "$r: traffic did not cross midnight ($t: $n on $D, $n1 on $D1)"
    cat "$lake/topic=$t/dt=$D/"*.jsonl | LC_ALL=C sort >"$PP_TMP/$r.lake.$t"
    cmp -s "$PP_TMP/$r.log.$t" "$PP_TMP/$r.lake.$t" \
      || pp_fail "$r: $t: dt=$D holds $(wc -l <"$PP_TMP/$r.lake.$t") lines, the log's $D $n: $(diff "$PP_TMP/$r.log.$t" "$PP_TMP/$r.lake.$t" | head -3)"
    [ "$(grep -o "$t=[0-9]*" <<<"$counts")" = "$t=$n" ] \
      || pp_fail "$r: the batch of $D read [$counts], the log has $t=$n"
    [ -s "$lake/topic=$t/dt=$D/_SUCCESS" ] || pp_fail "$r: no _SUCCESS marker for $t $D"
    grep -q "\"date\":\"$D\",\"closed_ms\":[0-9]*,\"offsets\":\[[0-9]" "$lake/topic=$t/dt=$D/_SUCCESS" \
      || pp_fail "$r: marker: $(cat "$lake/topic=$t/dt=$D/_SUCCESS")"
    echo "$r: $t: $n records of $D in the lake = the log's, $n1 of $D1 elsewhere"
  done
  acked=$(sed -n 's/.*"acked":\([0-9]*\).*/\1/p' "$PP_TMP/$r.emulate.json")
  [ "$acked" = "$total" ] || pp_fail "$r: $acked records acknowledged, the log has $total"
}

# traffic R URL: ~20 s of posts in the background (EM = its pid)
traffic() {
  "$PINPIPE" emulate --url "$2" --source "$PP_TMP/src" --rate 40 --events 800 --quiet --json \
    >"$PP_TMP/$1.emulate.json" 2>"$PP_TMP/$1.emulate.err" &
  EM=$!
  PP_PIDS+=("$EM")
}

# ---- embedded: run + its scheduler ----
export PINPIPE_TEST_CLOCK_OFFSET_MS
PINPIPE_TEST_CLOCK_OFFSET_MS=$(shift_to "$D1 00:00:00" -6000)
dir=$PP_TMP/emb
pp_start "$dir" run --listen 127.0.0.1:0 --roll-age 1s --close-grace 2s
run=$PP_PID
traffic emb "$PP_URL"
ok=""
for _ in $(seq 1 400); do
  st=$("$PINPIPE" dag history --data-dir "$dir" 2>/dev/null | awk -v d=$D '$2 == d && $3 == "quality" {print $4; exit}')
  [ "$st" = success ] && { ok=1; break; }
  sleep 0.1
done
[ -n "$ok" ] || pp_fail "emb: the DAG of $D did not succeed: $("$PINPIPE" dag history --data-dir "$dir")"
kill -0 "$EM" 2>/dev/null || pp_fail "emb: the traffic ended before the DAG of $D succeeded (not a live test)"
echo "emb: the DAG of $D succeeded while records kept coming"
rc=0; "$PINPIPE" lake --close-day $D1 --data-dir "$dir" --close-grace 2s 2>"$PP_TMP/emb.d1.err" || rc=$?
[ "$rc" = 3 ] && grep -q "$D1 closes at 2030-06-17 00:00:02" "$PP_TMP/emb.d1.err" \
  || pp_fail "emb: $D1 should not be closed (rc=$rc): $(cat "$PP_TMP/emb.d1.err")"
wait "$EM" || pp_fail "emb: emulate failed: $(cat "$PP_TMP/emb.emulate.err")"
pp_stop "$run"
counts=$(sqlite3 "$dir/warehouse.db" "select topic || '=' || value from pp_quality where run_date = '$D' and metric = 'records'" | tr '\n' ' ')
check_day emb "$dir" "$dir/lake" "$counts"

# a node whose clock is behind appends a D record after D closed: kept in dt=D, counted late
echo '{"late":1}' | PINPIPE_TEST_CLOCK_OFFSET_MS=$(shift_to "$D 23:59:59") \
  "$PINPIPE" log append --data-dir "$dir" --topic pin >/dev/null
pp_start "$dir" lake --close-grace 2s
for _ in $(seq 1 100); do grep -q '{"late":1}' "$dir/lake/topic=pin/dt=$D/"*.jsonl 2>/dev/null && break; sleep 0.1; done
pp_stop "$PP_PID"
"$PINPIPE" quality --date $D --data-dir "$dir" >"$PP_TMP/q.txt" 2>&1 || true
grep -Eq '^pin +late_records +1$' "$PP_TMP/q.txt" || pp_fail "emb: the late record is not counted: $(grep late "$PP_TMP/q.txt")"
grep -q "late record topic=pin" "$dir/stderr.log" || pp_fail "emb: the lake worker did not report the late record"
echo "emb: a record of $D arriving after $D closed is in dt=$D and counted late"

# ---- kafka + s3: serve, stream and lake workers ----
MOCK=${PP_TOOLS:-$(dirname "$PINPIPE")}/pp_kafka_mock
if [ ! -x "$MOCK" ] || ! command -v aws >/dev/null; then
  echo "SKIP part: kafka+s3 (pp_kafka_mock or awscli missing)" >&2; exit 77
fi
trap 'pp_s3_stop; pp_cleanup' EXIT
pp_s3_start "$PP_TMP/s3"
k=$PP_TMP/kafka
mkdir -p "$k/mock"
"$MOCK" --brokers 1 --partitions 2 >"$k/mock/out" 2>"$k/mock/err" &
PP_PIDS+=($!)
for _ in $(seq 1 100); do [ -s "$k/mock/out" ] && break; sleep 0.05; done
KAFKA=(--log kafka --brokers "$(head -1 "$k/mock/out")" -X retry.backoff.ms=20)
LAKE=(--lake s3://lake/dc --s3-endpoint "$S3_URL" --s3-path-style)
PINPIPE_TEST_CLOCK_OFFSET_MS=$(shift_to "$D1 00:00:00" -6000)
pp_start "$k/serve" serve --listen 127.0.0.1:0 --partitions 2 "${KAFKA[@]}"
serve=$PP_PID url=$PP_URL
pp_start "$k/stream" stream --warehouse "$k/warehouse.db" "${KAFKA[@]}"
stream=$PP_PID
pp_start "$k/lake" lake --roll-age 1s --close-grace 2s "${LAKE[@]}" "${KAFKA[@]}"
lake=$PP_PID
traffic kafka "$url"
"$PINPIPE" lake --close-day $D --wait 60s --close-grace 2s --data-dir "$k/serve" "${LAKE[@]}" "${KAFKA[@]}" \
  >"$PP_TMP/kafka.close.out" 2>"$PP_TMP/kafka.close.err" \
  || pp_fail "kafka: $D did not close: $(cat "$PP_TMP/kafka.close.err")"
"$PINPIPE" batch --date $D --quiet --data-dir "$k/serve" --warehouse "$k/batch.db" "${LAKE[@]}" \
  >/dev/null 2>"$PP_TMP/kafka.batch.err" || pp_fail "kafka: batch of $D: $(cat "$PP_TMP/kafka.batch.err")"
kill -0 "$EM" 2>/dev/null || pp_fail "kafka: the traffic ended before the day closed and loaded"
echo "kafka: $D closed and loaded while records kept coming: $(cat "$PP_TMP/kafka.close.out")"
wait "$EM" || pp_fail "kafka: emulate failed: $(cat "$PP_TMP/kafka.emulate.err")"
pp_stop "$lake"
pp_stop "$stream"
pp_stop "$serve"
pending=$(pp_aws s3 ls --recursive s3://lake/dc/_pending/ | wc -l || true)
[ "$pending" = 0 ] || pp_fail "kafka: $pending objects left pending"
pp_aws s3 cp --recursive --quiet s3://lake/dc/ "$k/lakecopy/"
check_day kafka "$k/serve" "$k/lakecopy" "$(grep -o 'pin=[0-9]* geo=[0-9]* user=[0-9]*' "$PP_TMP/kafka.batch.err")" "${KAFKA[@]}"
echo "day_close: passed on the embedded default and on Kafka + S3"
