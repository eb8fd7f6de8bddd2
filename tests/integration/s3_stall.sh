#!/usr/bin/env bash
# s3_stall.sh: a stalled `pinpipe lake --lake s3://... --log kafka` member must not overwrite its
# successor's objects. On librdkafka's mock cluster (3 brokers, 6 partitions) and s3rver, lake
# worker l1 runs with the fault point PINPIPE_TEST_LAKE_STOP (src/stream/lake_run.c) and stops
# itself (SIGSTOP) while its first objects are still open: =finish right after its membership
# check and before it finishes them, =commit after the first one is finished and before its
# commit, =publish right after its first commit (its objects still pending, hidden). The load
# goes on; l2 starts, gets every partition once l1's session (6 s) has
# expired, and writes and commits its own first objects, which start at the committed offsets
# l1 never moved: the same keys as l1's pending ones. Then l1 resumes (SIGCONT), learns it lost
# its partitions, and the groups catch up. The lake must hold every log record exactly once,
# tiling the offsets (check_pipeline.py over an `aws s3 cp` of the bucket): a late PUT of l1's
# shorter object over l2's loses records (or doubles them when longer). One round per point.
# In the publish round l2 must also publish the objects l1 committed but left pending, before
# l1 wakes up (resume reads them from the commit's metadata).
source "$(dirname "$0")/lib.bash"
source "$PP_SRC/tests/s3/s3.bash"
pp_need_data
command -v sqlite3 >/dev/null || pp_fail "sqlite3 CLI missing (apt-get install sqlite3)"
command -v aws >/dev/null || { echo "SKIP: awscli (aws) not installed" >&2; exit 77; }
MOCK=${PP_TOOLS:-$(dirname "$PINPIPE")}/pp_kafka_mock
[ -x "$MOCK" ] || { echo "SKIP: $MOCK not built" >&2; exit 77; }
trap 'pp_s3_stop; pp_cleanup' EXIT
pp_s3_start "$PP_TMP/s3"

# offsets_of R: the committed offsets of every group of round R in R/offsets.tsv
offsets_of() {
  "$PINPIPE" log offsets "${KAFKA[@]}" --data-dir "$PP_TMP/$1/serve" >"$PP_TMP/$1/offsets.tsv" \
    2>/dev/null
}
# lake_committed R: lake partitions with a committed offset > 0
lake_committed() {
  offsets_of "$1" || { echo 0; return; }
  awk -F'\t' '$1=="lake" && $4!="-" && $4>0' "$PP_TMP/$1/offsets.tsv" | wc -l
}
# caught_up R: lake and stream committed every partition up to its high watermark
caught_up() {
  offsets_of "$1" || return 1
  [ "$(awk -F'\t' '($1=="lake"||$1=="stream") && $4!="-" && $4==$5' "$PP_TMP/$1/offsets.tsv" |
    wc -l)" = 36 ]
}

# stall_round POINT: one scenario, l1 stopped at PINPIPE_TEST_LAKE_STOP=POINT; a fresh cluster,
# log, warehouse and lake prefix (s3://lake/POINT) per round; files under $PP_TMP/POINT
stall_round() {
  local r=$1 d=$PP_TMP/$1 t0=$SECONDS
  mkdir -p "$d/mock"
  "$MOCK" --brokers 3 --partitions 6 >"$d/mock/out" 2>"$d/mock/err" &
  local mock=$!
  PP_PIDS+=("$mock")
  for _ in $(seq 1 100); do [ -s "$d/mock/out" ] && break; sleep 0.05; done
  local b
  b=$(head -1 "$d/mock/out")
  [ -n "$b" ] || pp_fail "$r: mock cluster did not start: $(cat "$d/mock/err")"
  KAFKA=(--log kafka --brokers "$b" -X retry.backoff.ms=20)
  # the member's session.timeout.ms is 6000 (src/log/kafka_member.c): l1 stopped longer
  # than that loses its partitions to l2
  local lake=(lake --lake "s3://lake/$r" --s3-endpoint "$S3_URL" --s3-path-style --roll-age 1s
    "${KAFKA[@]}")

  pp_start "$d/serve" serve --listen 127.0.0.1:0 --partitions 6 "${KAFKA[@]}"
  local serve=$PP_PID url=$PP_URL
  # check_pipeline.py also checks the warehouse: one stream worker fills it all along
  pp_start "$d/stream" stream --warehouse "$d/warehouse.db" "${KAFKA[@]}"
  local stream=$PP_PID
  PINPIPE_TEST_LAKE_STOP=$r pp_start "$d/l1" "${lake[@]}"
  local l1=$PP_PID
  pp_wait_log "$d/l1/stderr.log" "assigned partitions=18" \
    || pp_fail "$r: l1 was never assigned the 18 lake partitions: $(tail -5 "$d/l1/stderr.log")"

  # ~17 s of load (2019 events at 120/s): records keep arriving while l1 is stopped, so l2's
  # first objects (~10 s of records) reach far past l1's pending ones (the first ~0.1 s for
  # finish, ~1 s for commit): a late PUT of l1's replaces a longer object, records go missing
  "$PINPIPE" emulate --url "$url" --replay "$EVENTS" --concurrency 4 --rate 120 --quiet \
    --json >"$d/emulate.json" &
  local em=$!
  PP_PIDS+=("$em")
  for _ in $(seq 1 200); do [ "$(pp_pstate "$l1")" = T ] && break; sleep 0.05; done
  [ "$(pp_pstate "$l1")" = T ] || pp_fail "$r: l1 did not stop itself: $(tail -5 "$d/l1/stderr.log")"
  grep -q "PINPIPE_TEST_LAKE_STOP=$r: stopping this process (SIGSTOP)" "$d/l1/stderr.log" \
    || pp_fail "$r: l1 is stopped but did not log the fault point"
  echo "$r: l1 stopped itself at +$((SECONDS - t0)) s holding every lake partition"
  local pub=""
  if [ "$r" = publish ]; then # the one partition l1 committed before it stopped
    offsets_of "$r" || pp_fail "$r: pinpipe log offsets failed"
    pub=$(awk -F'\t' '$1=="lake" && $4!="-" && $4>0 { print $2 "+" $3 "+" }' "$d/offsets.tsv")
    [ "$(echo "$pub" | wc -w)" = 1 ] || pp_fail "$r: l1 should have committed one partition: $pub"
    # (the _SUCCESS markers of yesterday, a closed day, are no objects of l1's)
    [ -z "$(pp_aws s3 ls --recursive "s3://lake/$r/topic=" | grep -v '/_SUCCESS$' || true)" ] \
      || pp_fail "$r: an object was published before l1 stopped"
  fi

  # the successor: all 18 partitions once l1's session expired, then its first objects
  # (from the committed offsets l1 never moved) finished and committed on every partition
  pp_start "$d/l2" "${lake[@]}"
  local l2=$PP_PID n=0
  pp_wait_log "$d/l2/stderr.log" "assigned partitions=18" \
    || pp_fail "$r: l2 never got the stalled l1's partitions: $(tail -5 "$d/l2/stderr.log")"
  for _ in $(seq 1 100); do
    n=$(lake_committed "$r")
    [ "$n" = 18 ] && break
    sleep 0.2
  done
  [ "$n" = 18 ] || pp_fail "$r: l2 committed lake offsets on $n of 18 partitions: $(cat "$d/offsets.tsv")"
  [ "$(pp_pstate "$l1")" = T ] || pp_fail "$r: l1 is no longer stopped"
  echo "$r: l2 owns every lake partition and committed its first objects at +$((SECONDS - t0)) s"
  if [ -n "$pub" ]; then # l1's committed object can only have been published by l2's resume
    local listing=""
    for _ in $(seq 1 50); do # (the listing captured first: grep -q must not cut aws's pipe)
      listing=$(pp_aws s3 ls --recursive "s3://lake/$r/" || true)
      grep -q "/${pub}0000000000.jsonl" <<<"$listing" && break
      sleep 0.2
    done
    grep -q "/${pub}0000000000.jsonl" <<<"$listing" \
      || pp_fail "$r: l2 did not publish the object l1 committed (${pub}0000000000) but left pending"
    echo "$r: l2 published the object l1 had committed but left pending (${pub}0000000000)"
  fi

  # the stalled member wakes up in the window: its pending objects have the keys of l2's first
  kill -CONT "$l1"
  local woke=$SECONDS
  for _ in $(seq 1 150); do
    grep -Eq "partitions lost|commit failed" "$d/l1/stderr.log" && break
    sleep 0.1
  done
  # (order: the SIGSTOP line first, then what it learned after SIGCONT)
  awk -v p="PINPIPE_TEST_LAKE_STOP=$r: stopping" 'index($0, p) { s = 1 }
      s && /partitions lost|commit failed/ { ok = 1 } END { exit !ok }' "$d/l1/stderr.log" \
    || pp_fail "$r: l1 resumed but never learned it lost its partitions: $(tail -5 "$d/l1/stderr.log")"
  echo "$r: l1 resumed, learned within $((SECONDS - woke)) s that the group moved on:"
  grep -E "partitions lost|commit failed" "$d/l1/stderr.log" | head -2 | sed 's/^/    /'
  kill -0 "$l1" 2>/dev/null || pp_fail "$r: l1 died after resuming: $(tail -5 "$d/l1/stderr.log")"

  wait "$em" || pp_fail "$r: emulate failed: $(cat "$d/emulate.json")"
  pp_wait_rows "$d/warehouse.db" 2019 60
  for _ in $(seq 1 120); do caught_up "$r" && break; sleep 0.5; done
  caught_up "$r" || pp_fail "$r: groups did not catch up: $(cat "$d/offsets.tsv")"
  echo "$r: lake and stream groups committed every partition up to its high watermark"
  for p in "$l1" "$l2" "$stream" "$serve"; do pp_stop "$p"; done

  mkdir -p "$d/copy"
  pp_aws s3 cp --recursive --only-show-errors "s3://lake/$r/" "$d/copy/" || pp_fail "aws s3 cp"
  if ! python3 "$PP_SRC/tests/integration/check_pipeline.py" --pinpipe "$PINPIPE" \
    --data-dir "$d/serve" --warehouse "$d/warehouse.db" --lake "$d/copy" --events "$EVENTS" \
    --log-arg=--log --log-arg=kafka --log-arg=--brokers --log-arg="$b" >"$d/check.out" 2>&1; then
    cat "$d/check.out" >&2
    echo "FAIL: $r: the lake on S3 is not exactly once after the stalled member (stopped at" \
      "'$r') woke up (a late object of it replaced its successor's under the same key?)" >&2
    FAILED+=("$r")
  else
    grep "lake:" "$d/check.out"
    echo "ok: $r: the stalled lake worker woke up after its successor's first objects; the" \
      "lake holds every record exactly once"
  fi
  kill -TERM "$mock"
  wait "$mock" || true
  echo "$r: round took $((SECONDS - t0)) s"
}

# both rounds run (a failed exactly-once check of the first does not hide the second)
FAILED=()
stall_round finish
stall_round commit
stall_round publish
[ "${#FAILED[@]}" = 0 ] || pp_fail "lake not exactly once after a stalled member woke up," \
  "stopped at: ${FAILED[*]}"
echo "s3 stall: passed"
