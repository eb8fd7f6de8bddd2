#!/usr/bin/env bash
# scaleout.sh: the whole pipeline on the scale-out stack at once (issue 3, item 6). The real
# sample, split in two halves, goes through 2 `pinpipe serve --log kafka` (one emulator each)
# into librdkafka's mock cluster (3 brokers, 6 partitions); 2 `stream` workers load it into a
# real PostgreSQL and 2 `lake` workers write it to S3 (npm s3rver); one worker of each kind is
# killed -9 mid-load and restarted; once both groups have caught up, `pinpipe batch` reads the
# lake day(s) back from S3 into PostgreSQL. Asserts: the log, the warehouse and the S3 objects
# (copied out with awscli) hold every acknowledged record exactly once (scaleout_check.py),
# batch reads as many records as the log holds and finds the stream's rows unchanged, and the
# insights on PostgreSQL equal byte for byte the embedded default's (`pinpipe run` on SQLite and
# local files, same events, computed here) and insights_check.py's independent computation.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
source "$PP_SRC/tests/s3/s3.bash"
pp_need_data
command -v psql >/dev/null || pp_fail "psql missing (apt-get install postgresql-client)"
command -v sqlite3 >/dev/null || pp_fail "sqlite3 CLI missing (apt-get install sqlite3)"
command -v aws >/dev/null || { echo "SKIP: awscli (aws) not installed" >&2; exit 77; }
MOCK=${PP_TOOLS:-$(dirname "$PINPIPE")}/pp_kafka_mock
[ -x "$MOCK" ] || { echo "SKIP: $MOCK not built" >&2; exit 77; }
CHECK=$PP_SRC/tests/integration
# events per second per emulator (two of them): the load lasts ~9 s, long enough to kill
# workers in the middle of it
RATE=${PP_SCALEOUT_RATE:-125}

# lake_days LISTING: the dt=YYYY-MM-DD days named in a list of object keys / paths
lake_days() { grep -o 'dt=[0-9-]*' "$1" | cut -d= -f2 | sort -u; }

# batch_days OUT_JSON DAYS_FILE ARGS...: `pinpipe batch` for each day (ARGS: lake/warehouse);
# the last day's insights in OUT_JSON, every day's summary line appended to OUT_JSON.err
batch_days() {
  local out=$1 days=$2 d; shift 2
  : >"$out.err"
  while read -r d; do
    "$PINPIPE" batch --date "$d" "$@" --format json >"$out" 2>>"$out.err" </dev/null ||
      { cat "$out.err" >&2; pp_fail "batch --date $d $*"; }
  done <"$days"
}

# alive DIR=PID...: fail at once (with the log's tail) if one of these processes has died; a
# load client would otherwise retry a dead server for a long time
alive() {
  local a
  for a in "$@"; do
    kill -0 "${a#*=}" 2>/dev/null ||
      pp_fail "$(basename "${a%=*}") (pid ${a#*=}) died: $(tail -5 "${a%=*}/stderr.log")"
  done
}
# wait_load EMULATOR_PID DIR=PID...: wait for an emulator while the processes it needs live
wait_load() {
  local em=$1; shift
  while kill -0 "$em" 2>/dev/null; do
    alive "$@"
    sleep 0.2
  done
  wait "$em"
}

# (1) the embedded default on the same events: run (SQLite warehouse, local lake), batch, insights
ref=$PP_TMP/embedded
pp_start "$ref" run --listen 127.0.0.1:0
"$PINPIPE" emulate --url "$PP_URL" --replay "$EVENTS" --concurrency 4 --quiet --json \
  >"$ref/emulate.json" &
em=$!
PP_PIDS+=("$em")
wait_load "$em" "$ref=$PP_PID" || pp_fail "embedded: emulate failed: $(cat "$ref/emulate.json")"
pp_wait_rows "$ref/warehouse.db" 2019 90
pp_stop "$PP_PID"
find "$ref/lake" -name '*.jsonl' >"$ref/lake.txt"
lake_days "$ref/lake.txt" >"$ref/days.txt"
[ -s "$ref/days.txt" ] || pp_fail "embedded: no lake files"
batch_days "$ref/batch.json" "$ref/days.txt" --data-dir "$ref"
"$PINPIPE" insights --warehouse "$ref/warehouse.db" --format json >"$ref/insights.json" ||
  pp_fail "embedded: insights failed"
echo "ok: (1) embedded default: run + batch ($(tr '\n' ' ' <"$ref/days.txt")) + insights"

# (2) the scale-out stack: Kafka mock, PostgreSQL, s3rver
mkdir -p "$PP_TMP/mock"
"$MOCK" --brokers 3 --partitions 6 >"$PP_TMP/mock/out" 2>"$PP_TMP/mock/stderr.log" &
MOCK_PID=$!
PP_PIDS+=("$MOCK_PID")
pg_start fsync=off
trap 'pp_s3_stop; pg_cleanup' EXIT
pp_s3_start "$PP_TMP/s3"
for _ in $(seq 1 200); do [ -s "$PP_TMP/mock/out" ] && break; sleep 0.05; done
B=$(head -1 "$PP_TMP/mock/out")
[ -n "$B" ] || pp_fail "mock cluster did not start: $(cat "$PP_TMP/mock/stderr.log")"
KAFKA=(--log kafka --brokers "$B" -X retry.backoff.ms=20)
S3=(--lake s3://lake/raw --s3-endpoint "$S3_URL" --s3-path-style)
echo "stack: kafka mock $B, $PG_URL, s3rver $S3_URL"

declare -A W
# worker NAME: start (or restart) a stream (s*) or lake (l*) worker; its logs in $PP_TMP/NAME
worker() {
  case "$1" in
    s*) pp_start "$PP_TMP/$1" stream --warehouse "$PG_URL" "${KAFKA[@]}";;
    l*) pp_start "$PP_TMP/$1" lake "${S3[@]}" --roll-age 1s "${KAFKA[@]}";;
  esac
  W[$1]=$PP_PID
}
# stack: the serves and workers, as alive's DIR=PID arguments
stack() {
  local w
  printf '%s\n' "$PP_TMP/mock=$MOCK_PID" "$PP_TMP/serve1=$SERVE1" "$PP_TMP/serve2=$SERVE2"
  for w in s1 s2 l1 l2; do printf '%s\n' "$PP_TMP/$w=${W[$w]}"; done
}
# assigned NAME: has NAME been assigned at least one partition (in its log, since start)?
assigned() { grep -Eq "assigned partitions=[1-9]" "$PP_TMP/$1/stderr.log"; }
# pins: rows in PostgreSQL's pin table so far
pins() { pg_sql "select count(*) from pin" 2>/dev/null || echo 0; }
# objects: lake objects stored in S3 so far (s3rver's request log: cheaper than awscli)
objects() { grep -c 'Stored object' "$PP_TMP/s3/s3rver.log" || true; }

pp_start "$PP_TMP/serve1" serve --listen 127.0.0.1:0 --partitions 6 "${KAFKA[@]}"
SERVE1=$PP_PID URL1=$PP_URL
pp_start "$PP_TMP/serve2" serve --listen 127.0.0.1:0 --partitions 6 "${KAFKA[@]}"
SERVE2=$PP_PID URL2=$PP_URL
for w in s1 s2 l1 l2; do worker "$w"; done
mapfile -t STACK < <(stack)
# every worker joins its group and gets a share of the 18 partitions before the load starts
for _ in $(seq 1 600); do
  assigned s1 && assigned s2 && assigned l1 && assigned l2 && break
  alive "${STACK[@]}"
  sleep 0.1
done
for w in s1 s2 l1 l2; do
  assigned "$w" || pp_fail "$w was never assigned partitions: $(tail -5 "$PP_TMP/$w/stderr.log")"
done
echo "ok: the four workers joined their groups and got partitions"

# the events in two interleaved halves, one emulator per serve
awk 'NR % 2 == 1' "$EVENTS" >"$PP_TMP/half1.jsonl"
awk 'NR % 2 == 0' "$EVENTS" >"$PP_TMP/half2.jsonl"
"$PINPIPE" emulate --url "$URL1" --replay "$PP_TMP/half1.jsonl" --concurrency 4 --rate "$RATE" \
  --quiet --json >"$PP_TMP/emulate1.json" 2>"$PP_TMP/emulate1.err" &
EM1=$!
"$PINPIPE" emulate --url "$URL2" --replay "$PP_TMP/half2.jsonl" --concurrency 4 --rate "$RATE" \
  --quiet --json >"$PP_TMP/emulate2.json" 2>"$PP_TMP/emulate2.err" &
EM2=$!
PP_PIDS+=("$EM1" "$EM2")

# mid-load: once both the warehouse and the lake have some of the load, kill -9 one stream and
# one lake worker, and restart them
for _ in $(seq 1 600); do
  [ "$(pins)" -ge 200 ] && [ "$(objects)" -ge 6 ] && break
  alive "${STACK[@]}"
  sleep 0.1
done
n_pins=$(pins) n_obj=$(objects)
[ "$n_pins" -ge 200 ] && [ "$n_obj" -ge 6 ] ||
  pp_fail "no progress before the kill: $n_pins pins in PostgreSQL, $n_obj objects in S3"
kill -0 "$EM1" 2>/dev/null && kill -0 "$EM2" 2>/dev/null ||
  pp_fail "the load ended before the kill (lower PP_SCALEOUT_RATE)"
kill -9 "${W[s2]}" "${W[l2]}"
wait "${W[s2]}" "${W[l2]}" 2>/dev/null || true
echo "ok: killed -9 stream s2 and lake l2 mid-load ($n_pins pins in PostgreSQL," \
  "$n_obj objects in S3)"
for w in s2 l2; do mv "$PP_TMP/$w/stderr.log" "$PP_TMP/$w/stderr.killed.log"; worker "$w"; done

mapfile -t STACK < <(stack)
for i in 1 2; do
  em=EM$i
  wait_load "${!em}" "${STACK[@]}" ||
    pp_fail "emulate $i failed: $(cat "$PP_TMP/emulate$i.json" "$PP_TMP/emulate$i.err")"
done
python3 - "$EVENTS" "$PP_TMP/emulate1.json" "$PP_TMP/emulate2.json" <<'PY' ||
import json, sys
n = sum(1 for line in open(sys.argv[1]) if line.strip())
s = [json.load(open(f)) for f in sys.argv[2:]]
ev, acked = sum(x["events"] for x in s), sum(x["acked"] for x in s)
print(f"emulators: {ev} events, {acked} requests acknowledged, "
      f"{sum(x['retried'] for x in s)} retried")
sys.exit(0 if ev == n and acked == 3 * n else 1)
PY
  pp_fail "the emulators did not get every event of $EVENTS acknowledged"
for _ in $(seq 1 300); do assigned s2 && assigned l2 && break; alive "${STACK[@]}"; sleep 0.1; done
assigned s2 || pp_fail "restarted s2 was never assigned partitions"
assigned l2 || pp_fail "restarted l2 was never assigned partitions"
echo "ok: the restarted workers rejoined their groups and got partitions"

# both groups catch up: committed offsets of lake and stream == high watermarks on all 18
# partitions (a rebalance after the kill waits out the dead member's session)
caught_up() {
  "$PINPIPE" log offsets "${KAFKA[@]}" --data-dir "$PP_TMP/serve1" >"$PP_TMP/offsets.tsv" \
    2>/dev/null || return 1
  [ "$(awk -F'\t' '($1=="lake"||$1=="stream") && $4!="-" && $4==$5' "$PP_TMP/offsets.tsv" |
    wc -l)" = 36 ]
}
for _ in $(seq 1 120); do caught_up && break; alive "${STACK[@]}"; sleep 1; done
caught_up || pp_fail "groups did not catch up: $(cat "$PP_TMP/offsets.tsv")"
echo "ok: the lake and stream groups committed every partition up to its high watermark"
for w in s1 s2 l1 l2; do pp_stop "${W[$w]}"; done
pp_stop "$SERVE1"
pp_stop "$SERVE2"

# (3) exactly once: log vs acknowledged events, PostgreSQL rows and positions, S3 objects
mkdir -p "$PP_TMP/copy"
pp_aws s3 cp --recursive --only-show-errors s3://lake/raw/ "$PP_TMP/copy/" || pp_fail "aws s3 cp"
python3 "$CHECK/scaleout_check.py" --pinpipe "$PINPIPE" --data-dir "$PP_TMP/serve1" \
  --log-arg=--log --log-arg=kafka --log-arg=--brokers --log-arg="$B" --events "$EVENTS" \
  --pg-url "$PG_URL" --lake "$PP_TMP/copy" >"$PP_TMP/check.out" ||
  { cat "$PP_TMP/check.out"; pp_fail "exactly once does not hold on the scale-out stack"; }
cat "$PP_TMP/check.out"
echo "ok: (3) Kafka log, PostgreSQL and S3 hold every acknowledged record exactly once"

# (4) batch reads the lake day(s) from S3 into PostgreSQL: all the log's records, the stream's
# rows unchanged; then the insights on PostgreSQL
find "$PP_TMP/copy" -name '*.jsonl' >"$PP_TMP/lake.txt"
lake_days "$PP_TMP/lake.txt" >"$PP_TMP/days.txt"
batch_days "$PP_TMP/batch.json" "$PP_TMP/days.txt" "${S3[@]}" --warehouse "$PG_URL"
cat "$PP_TMP/batch.json.err"
read -r want < <(sed -n 's/^lake records: //p' "$PP_TMP/check.out")
# per topic, records read by batch summed over the days == the objects' lines == the log's
got=$(python3 - "$PP_TMP/batch.json.err" <<'PY'
import re, sys
tot = {"pin": 0, "geo": 0, "user": 0}
ins = upd = 0
for line in open(sys.argv[1]):
    m = re.search(r"pin=(\d+) geo=(\d+) user=(\d+) inserted=(\d+) updated=(\d+)", line)
    if m:
        for i, t in enumerate(tot):
            tot[t] += int(m.group(i + 1))
        ins += int(m.group(4)); upd += int(m.group(5))
print(" ".join(f"{t}={n}" for t, n in tot.items()), f"inserted={ins} updated={upd}")
PY
)
[ "$got" = "$want inserted=0 updated=0" ] ||
  pp_fail "batch from S3 read '$got', want '$want inserted=0 updated=0'"
"$PINPIPE" insights --warehouse "$PG_URL" --format json >"$PP_TMP/insights.json" \
  2>"$PP_TMP/insights.err" || pp_fail "insights on PostgreSQL: $(cat "$PP_TMP/insights.err")"
[ "$(wc -l <"$PP_TMP/days.txt")" != 1 ] || cmp -s "$PP_TMP/batch.json" "$PP_TMP/insights.json" ||
  pp_fail "batch's insights differ from the live insights on PostgreSQL"
echo "ok: (4) batch from S3 ($(tr '\n' ' ' <"$PP_TMP/days.txt")): $want, rows unchanged"

# (5) the same insights as the embedded default and as the independent computation
cmp "$ref/insights.json" "$PP_TMP/insights.json" ||
  pp_fail "insights on the scale-out stack differ from the embedded default's"
python3 "$CHECK/insights_check.py" --events "$EVENTS" --quiet --compare "$PP_TMP/insights.json" ||
  pp_fail "scale-out insights differ from the independent computation"
python3 "$CHECK/insights_check.py" --events "$EVENTS" --quiet --compare "$ref/insights.json" ||
  pp_fail "embedded insights differ from the independent computation"
echo "ok: (5) insights: scale-out (PostgreSQL) = embedded default (SQLite) = insights_check.py"
kill -TERM "$MOCK_PID"; wait "$MOCK_PID" || true
# a sanitizer build (PP_SANITIZE) reports to the processes' stderr: none may have reported
! grep -rlE "runtime error:|Sanitizer" "$PP_TMP" --include='*.log' --include='*.err' ||
  pp_fail "sanitizer reports in the logs above"
echo "scaleout: passed"
