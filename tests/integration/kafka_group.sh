#!/usr/bin/env bash
# kafka_group.sh: consumer-group membership on Kafka (librdkafka's mock cluster, 3 brokers,
# 6 partitions): 2 `pinpipe stream --log kafka` and 2 `pinpipe lake --log kafka` workers share
# the partitions of pin/geo/user; one worker of each kind is killed (-9) mid-load and
# restarted, and the other lake worker is stopped (SIGSTOP) past its session timeout while
# holding every lake partition and resumed (its successor must wait for it to let go:
# pp_lake_own); afterwards the warehouse and the lake hold every record exactly once.
source "$(dirname "$0")/lib.bash"
pp_need_data
command -v sqlite3 >/dev/null || pp_fail "sqlite3 CLI missing (apt-get install sqlite3)"
MOCK=${PP_TOOLS:-$(dirname "$PINPIPE")}/pp_kafka_mock
[ -x "$MOCK" ] || { echo "SKIP: $MOCK not built" >&2; exit 77; }

pp_mock_start "$PP_TMP/mock"
B=$MOCK_BROKERS
KAFKA=(--log kafka --brokers "$B" -X retry.backoff.ms=20)
WH=$PP_TMP/warehouse.db
LAKE=$PP_TMP/lake

pp_start "$PP_TMP/serve" serve --listen 127.0.0.1:0 --partitions 6 "${KAFKA[@]}"
SERVE=$PP_PID
URL=$PP_URL
declare -A W
# worker NAME: start (or restart) a stream (s*) or lake (l*) worker; its logs in $PP_TMP/NAME
worker() {
  case "$1" in
    s*) pp_start "$PP_TMP/$1" stream --warehouse "$WH" "${KAFKA[@]}";;
    l*) pp_start "$PP_TMP/$1" lake --lake "$LAKE" --roll-age 1s "${KAFKA[@]}";;
  esac
  W[$1]=$PP_PID
}
# assigned NAME: has NAME been assigned at least one partition (in its log, since start)?
assigned() { grep -Eq "assigned partitions=[1-9]" "$PP_TMP/$1/stderr.log"; }
for w in s1 s2 l1 l2; do worker "$w"; done

"$PINPIPE" emulate --url "$URL" --replay "$EVENTS" --concurrency 4 --rate 250 --quiet \
  --json >"$PP_TMP/emulate.json" &
em=$!
# membership: every worker gets a share while the load runs
for _ in $(seq 1 300); do
  assigned s1 && assigned s2 && assigned l1 && assigned l2 && break
  sleep 0.1
done
for w in s1 s2 l1 l2; do
  assigned "$w" || pp_fail "$w was never assigned partitions: $(tail -5 "$PP_TMP/$w/stderr.log")"
done
echo "ok: all four workers were assigned partitions"
# mid-load: kill -9 one worker of each kind, restart it
kill -9 "${W[s2]}" "${W[l2]}"
wait "${W[s2]}" "${W[l2]}" 2>/dev/null || true
mv "$PP_TMP/s2/stderr.log" "$PP_TMP/s2/stderr.killed.log"
mv "$PP_TMP/l2/stderr.log" "$PP_TMP/l2/stderr.killed.log"
sleep 0.5
worker s2
# l1 alone gets all 18 lake partitions once the killed l2's session (6 s) has expired
pp_wait_log "$PP_TMP/l1/stderr.log" "assigned partitions=18" \
  || pp_fail "l1 never took over l2's partitions: $(tail -5 "$PP_TMP/l1/stderr.log")"
# a stalled member: l1 stopped (SIGSTOP) holding every lake partition while l2 restarts and the
# load goes on; once l1's session times out the group gives l2 everything, but l2 must not
# write them before l1 has let go (pp_lake_own: l1 may wake up between its last membership
# check and a finish); when l1 runs again it learns it lost them and drops its open files (the
# tiling check at the end catches an overlap)
kill -STOP "${W[l1]}"
worker l2
pp_wait_log "$PP_TMP/l2/stderr.log" "waiting for the previous writer" \
  || pp_fail "l2 did not wait for the stalled l1's partitions: $(tail -5 "$PP_TMP/l2/stderr.log")"
echo "ok: the next owner waits while the stalled worker still holds its partitions"
kill -CONT "${W[l1]}"
wait "$em" || pp_fail "emulate failed: $(cat "$PP_TMP/emulate.json")"
pp_wait_rows "$WH" 2019 90
for _ in $(seq 1 300); do
  assigned s2 && assigned l2 && break
  sleep 0.1
done
assigned s2 || pp_fail "restarted s2 was never assigned partitions"
assigned l2 || pp_fail "restarted l2 was never assigned partitions"
echo "ok: restarted workers rejoined and got partitions"
# both groups catch up: committed offsets of lake and stream == high watermarks on all 18
# partitions (a rebalance after the kill waits out the dead member's session, ~6 s)
caught_up() {
  "$PINPIPE" log offsets "${KAFKA[@]}" --data-dir "$PP_TMP/serve" >"$PP_TMP/offsets.tsv" 2>/dev/null \
    || return 1
  [ "$(awk -F'\t' '($1=="lake"||$1=="stream") && $4!="-" && $4==$5' "$PP_TMP/offsets.tsv" \
    | wc -l)" = 36 ]
}
for _ in $(seq 1 90); do caught_up && break; sleep 1; done
caught_up || pp_fail "groups did not catch up: $(cat "$PP_TMP/offsets.tsv")"
echo "ok: lake and stream groups committed every partition up to its high watermark"
for w in s1 s2 l1 l2; do pp_stop "${W[$w]}"; done
pp_stop "$SERVE"
python3 "$PP_SRC/tests/integration/check_pipeline.py" --pinpipe "$PINPIPE" --data-dir "$PP_TMP" \
  --warehouse "$WH" --lake "$LAKE" --events "$EVENTS" --log-arg=--log --log-arg=kafka \
  --log-arg=--brokers --log-arg="$B" || pp_fail "exactly once does not hold: $(cat "$PP_TMP/offsets.tsv")"
grep -q "partitions lost" "$PP_TMP/l1/stderr.log" \
  || pp_fail "the stalled lake worker was not told it lost its partitions"
grep -q "after its previous writer let go" "$PP_TMP/l2/stderr.log" \
  || pp_fail "l2 never owned the stalled worker's partitions"
echo "ok: the stalled worker dropped its open files and let go; then l2 owned its partitions"
kill -TERM "$MOCK_PID"; wait "$MOCK_PID" || true
echo "kafka group: passed"
