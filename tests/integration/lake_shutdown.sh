#!/usr/bin/env bash
# lake_shutdown.sh: a whole lake group stopped at once (a deploy) leaves a complete lake. On
# librdkafka's mock cluster (3 brokers, 6 partitions) and s3rver, N `pinpipe lake --lake
# s3://... --log kafka` workers of one group share the 18 partitions; the sample is produced
# and consumed into open objects (--roll-age 60s: nothing is finished before the stop); then
# one `kill -TERM` reaches every worker at the same instant. Each must exit 0 within STOP_S,
# and afterwards nothing is left under the _pending/ prefix, the lake group's committed offsets
# equal the high watermarks on all 18 partitions, and the published objects hold every log
# record exactly once, tiling the offsets (check_pipeline.py over an `aws s3 cp`). The first
# worker to leave starts a rebalance in which the mock refuses the others' commits
# (REBALANCE_IN_PROGRESS): a worker that leaves before its commits succeeded leaves its objects
# pending. Rounds with N = 2 and N = 3 (LAKE_SHUTDOWN_WORKERS="2 3").
source "$(dirname "$0")/lib.bash"
source "$PP_SRC/tests/s3/s3.bash"
pp_need_data
command -v aws >/dev/null || { echo "SKIP: awscli (aws) not installed" >&2; exit 77; }
command -v curl >/dev/null || { echo "SKIP: curl not installed" >&2; exit 77; }
MOCK=${PP_TOOLS:-$(dirname "$PINPIPE")}/pp_kafka_mock
[ -x "$MOCK" ] || { echo "SKIP: $MOCK not built" >&2; exit 77; }
trap 'pp_s3_stop; pp_cleanup || true' EXIT
pp_s3_start "$PP_TMP/s3"
STOP_S=60 # deploy/systemd/pinpipe-lake.service: TimeoutStopSec=60

# records_of DIR PID: the lake worker's pinpipe_lake_records_total (its metrics endpoint)
records_of() {
  local addr
  addr=$(cat "$1/workers/lake-$2/listen" 2>/dev/null) || { echo 0; return; }
  curl -sf "http://$addr/metrics" 2>/dev/null |
    awk '$1 == "pinpipe_lake_records_total" { n = $2 } END { printf "%d\n", n }'
}
# last_share LOG: the partition count of the worker's latest assignment ("" before any)
last_share() {
  sed -n 's/.*assigned partitions=\([0-9]*\).*/\1/p' "$1" 2>/dev/null | tail -n 1
}

# shutdown_round N: a fresh cluster, log and lake prefix (s3://lake/wN); files under $PP_TMP/wN
shutdown_round() {
  local n=$1 r=w$1 d=$PP_TMP/w$1 t0=$SECONDS i
  pp_mock_start "$d/mock"
  local mock=$MOCK_PID b=$MOCK_BROKERS
  local kafka=(--log kafka --brokers "$b" -X retry.backoff.ms=20)
  pp_start "$d/serve" serve --listen 127.0.0.1:0 --partitions 6 "${kafka[@]}"
  local serve=$PP_PID url=$PP_URL

  local pids=() dirs=()
  for i in $(seq 1 "$n"); do
    pp_start "$d/l$i" lake --lake "s3://lake/$r" --s3-endpoint "$S3_URL" --s3-path-style \
      --roll-age 60s --metrics-listen 127.0.0.1:0 "${kafka[@]}"
    pids+=("$PP_PID")
    dirs+=("$d/l$i")
  done
  # the group is stable: every worker's latest assignment is a share, the shares sum to 18
  local ok=0 sum share
  for _ in $(seq 1 300); do
    sum=0 ok=1
    for i in $(seq 0 $((n - 1))); do
      share=$(last_share "${dirs[$i]}/stderr.log")
      [ -n "$share" ] && [ "$share" -gt 0 ] || { ok=0; break; }
      sum=$((sum + share))
    done
    [ "$ok" = 1 ] && [ "$sum" = 18 ] && break
    ok=0
    sleep 0.1
  done
  [ "$ok" = 1 ] || pp_fail "$r: the $n workers never shared the 18 partitions: $(grep -h assigned "$d"/l*/stderr.log)"
  echo "$r: $n lake workers share the 18 partitions ($(for x in "${dirs[@]}"; do last_share "$x/stderr.log"; done | paste -sd+))"

  "$PINPIPE" emulate --url "$url" --replay "$EVENTS" --concurrency 4 --quiet --json \
    >"$d/emulate.json" || pp_fail "$r: emulate failed: $(cat "$d/emulate.json")"
  # consumed: the workers' records add up to the log's records (high - low watermarks)
  "$PINPIPE" log topics "${kafka[@]}" --data-dir "$d/serve" >"$d/topics.tsv" \
    || pp_fail "$r: pinpipe log topics"
  local total got=0
  total=$(awk -F'\t' '$1 == "pin" || $1 == "geo" || $1 == "user" { s += $4 - $3 }
    END { print s + 0 }' "$d/topics.tsv")
  [ "$total" -gt 6000 ] || pp_fail "$r: only $total records in the log: $(cat "$d/topics.tsv")"
  for _ in $(seq 1 300); do
    got=0
    for i in $(seq 0 $((n - 1))); do
      got=$((got + $(records_of "${dirs[$i]}" "${pids[$i]}")))
    done
    [ "$got" = "$total" ] && break
    sleep 0.1
  done
  if [ "$got" != "$total" ]; then
    for i in $(seq 0 $((n - 1))); do
      echo "l$((i + 1)): records=$(records_of "${dirs[$i]}" "${pids[$i]}")" \
        "listen=$(cat "${dirs[$i]}/workers/lake-${pids[$i]}/listen" 2>&1)" >&2
      tail -3 "${dirs[$i]}/stderr.log" >&2
    done
    pp_fail "$r: the workers consumed $got of $total records"
  fi
  echo "$r: the workers consumed all $total records into open objects"

  # a deploy: SIGTERM to every worker in the same instant; each exits 0 within STOP_S
  local ts=$SECONDS
  kill -TERM "${pids[@]}"
  for _ in $(seq 1 $((STOP_S * 10))); do
    ok=1
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && ok=0; done
    [ "$ok" = 1 ] && break
    sleep 0.1
  done
  [ "$ok" = 1 ] || pp_fail "$r: lake workers still running ${STOP_S} s after SIGTERM"
  local rc
  for i in $(seq 0 $((n - 1))); do
    rc=0
    wait "${pids[$i]}" || rc=$?
    [ "$rc" = 0 ] || pp_fail "$r: l$((i + 1)) exited $rc: $(tail -5 "${dirs[$i]}/stderr.log")"
  done
  echo "$r: all $n workers exited 0 within $((SECONDS - ts)) s of SIGTERM; refused commits" \
    "logged: $(cat "$d"/l*/stderr.log | grep -c "commit failed" || true), workers that stayed" \
    "for a next generation: $(cat "$d"/l*/stderr.log | grep -c "stopping: a commit was refused" || true)"

  # nothing pending (awscli's own listing of the prefix)
  local pending
  pending=$(pp_aws s3api list-objects-v2 --bucket lake --prefix "$r/_pending/" \
    --query 'length(Contents || `[]`)' --output text) || pp_fail "$r: list-objects-v2"
  if [ "$pending" != 0 ]; then
    pp_aws s3api list-objects-v2 --bucket lake --prefix "$r/_pending/" --query 'Contents[].Key' \
      --output text | tr '\t' '\n' | head -20 >&2
    pp_fail "$r: $pending objects left under s3://lake/$r/_pending/ after the group stopped"
  fi
  # committed offsets == high watermarks on all 18 partitions
  "$PINPIPE" log offsets "${kafka[@]}" --data-dir "$d/serve" --group lake >"$d/after.tsv" \
    || pp_fail "$r: pinpipe log offsets"
  local caught
  caught=$(awk -F'\t' 'NR > 1 && $4 != "-" && $4 == $5' "$d/after.tsv" | wc -l)
  [ "$caught" = 18 ] || pp_fail "$r: lake committed the high watermark on $caught of 18 partitions: $(cat "$d/after.tsv")"
  # every record exactly once in the published objects
  mkdir -p "$d/copy"
  pp_aws s3 cp --recursive --only-show-errors "s3://lake/$r/" "$d/copy/" || pp_fail "$r: aws s3 cp"
  python3 "$PP_SRC/tests/integration/check_pipeline.py" --pinpipe "$PINPIPE" --data-dir "$d/serve" \
    --no-warehouse --lake "$d/copy" --events "$EVENTS" --log-arg=--log --log-arg=kafka --log-arg=--brokers \
    --log-arg="$b" >"$d/check.out" 2>&1 || { cat "$d/check.out" >&2; pp_fail "$r: lake not exactly once"; }
  grep "lake:" "$d/check.out" || true
  echo "ok: $r: nothing pending, 18/18 partitions committed to the high watermark, every record" \
    "exactly once"
  pp_stop "$serve"
  kill -TERM "$mock"
  wait "$mock" || true
  echo "$r: round took $((SECONDS - t0)) s"
}

for n in ${LAKE_SHUTDOWN_WORKERS:-2 3}; do shutdown_round "$n"; done
echo "lake shutdown: passed"
