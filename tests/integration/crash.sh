#!/usr/bin/env bash
# crash.sh: kill -9 under load. (A) `pinpipe run` killed mid-load, twice, then restarted: no
# acknowledged record is missing from the log, the warehouse and the lake hold every log record
# exactly once. (B) separate serve, stream and lake processes: stream and lake are killed -9
# mid-batch repeatedly while serve takes load; after restarts, still exactly once.
source "$(dirname "$0")/lib.bash"
pp_need_data
# wait_loaded DIR SECONDS: until the warehouse holds every log record (the check without the
# lake, which rolls its files later) or the time is up; the full check follows anyway.
wait_loaded() {
  for _ in $(seq 1 $(($2 * 10))); do
    python3 "$PP_SRC/tests/integration/check_pipeline.py" --pinpipe "$PINPIPE" --data-dir "$1" \
      --no-lake >/dev/null 2>&1 && return 0
    sleep 0.1
  done
}
check() {
  python3 "$PP_SRC/tests/integration/check_pipeline.py" --pinpipe "$PINPIPE" --data-dir "$1" \
    --acked-ids "$1/acked.txt" || pp_fail "exactly-once check failed for $1"
}

# (A) the embedded default killed under load.
dir=$PP_TMP/a
for round in 1 2; do
  pp_start "$dir" run --listen 127.0.0.1:0 --fsync always --roll-bytes 32K --roll-age 200ms
  python3 "$PP_SRC/tests/integration/load_acked.py" --url "$PP_URL" --events "$EVENTS" \
    --out "$dir/acked.txt" --threads 8 --duration 20 --loops 3 >"$dir/load$round.json" &
  load=$!
  sleep $((1 + round))
  kill -9 "$PP_PID"
  wait "$PP_PID" 2>/dev/null || true
  wait "$load" || true
  echo "round $round: killed run under load; client saw $(cat "$dir/load$round.json")"
done
n=$(cut -d' ' -f2 "$dir/acked.txt" | sort -u | wc -l)
pp_start "$dir" run --listen 127.0.0.1:0 --fsync always
wait_loaded "$dir" 20
pp_stop "$PP_PID"
check "$dir"
echo "ok: (A) $n distinct acked ids survived two kill -9s of run"

# (B) separate processes; kill -9 the consumers mid-batch.
dir=$PP_TMP/b
pp_start "$dir" serve --listen 127.0.0.1:0 --fsync interval:5
serve=$PP_PID
url=$PP_URL
python3 "$PP_SRC/tests/integration/load_acked.py" --url "$url" --events "$EVENTS" \
  --out "$dir/acked.txt" --threads 8 --duration 8 --loops 2 >"$dir/load.json" &
load=$!
for round in 1 2 3; do
  pp_start "$dir" stream --batch 200
  stream=$PP_PID
  pp_start "$dir" lake --roll-bytes 16K --roll-age 100ms
  lakep=$PP_PID
  sleep 1
  kill -9 "$stream" "$lakep"
  wait "$stream" 2>/dev/null || true
  wait "$lakep" 2>/dev/null || true
done
wait "$load" || true
pp_start "$dir" stream
stream=$PP_PID
pp_start "$dir" lake --roll-age 100ms
lakep=$PP_PID
wait_loaded "$dir" 30
pp_stop "$lakep"
pp_stop "$stream"
pp_stop "$serve"
check "$dir"
echo "ok: (B) stream and lake killed -9 three times each mid-load: exactly once"

# (C) `serve` alone killed -9 under load while separate stream and lake keep consuming; then
# serve restarts (recovering the log's tail) and takes more load.
dir=$PP_TMP/c
pp_start "$dir" stream
stream=$PP_PID
pp_start "$dir" lake --roll-age 100ms
lakep=$PP_PID
for round in 1 2; do
  pp_start "$dir" serve --listen 127.0.0.1:0 --fsync always
  serve=$PP_PID
  python3 "$PP_SRC/tests/integration/load_acked.py" --url "$PP_URL" --events "$EVENTS" \
    --out "$dir/acked.txt" --threads 8 --duration 20 --loops 2 >"$dir/load$round.json" &
  load=$!
  sleep 2
  kill -9 "$serve"
  wait "$serve" 2>/dev/null || true
  wait "$load" || true
done
pp_start "$dir" serve --listen 127.0.0.1:0 --fsync always
serve=$PP_PID
wait_loaded "$dir" 30
pp_stop "$lakep"
pp_stop "$stream"
pp_stop "$serve"
check "$dir"
echo "ok: (C) serve killed -9 twice under load: no acknowledged record lost, exactly once downstream"
