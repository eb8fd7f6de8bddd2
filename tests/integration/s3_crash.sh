#!/usr/bin/env bash
# s3_crash.sh: `pinpipe lake --lake s3://...` killed -9 three times mid-run (while `serve` takes
# the real sample and multipart uploads are in flight), then restarted: the objects under the
# prefix still hold every log record exactly once, tiling the offsets (check_pipeline.py over
# an `aws s3 cp` of the bucket), and no half-written object ever became visible. All along, a
# proxy injects 503 SlowDown and dropped connections between the lake and the server.
source "$(dirname "$0")/lib.bash"
source "$PP_SRC/tests/s3/s3.bash"
pp_need_data
command -v aws >/dev/null || { echo "SKIP: awscli (aws) not installed" >&2; exit 77; }
trap 'pp_s3_stop; pp_cleanup' EXIT
pp_s3_start "$PP_TMP/s3"
export PINPIPE_S3_PART_BYTES=64K # test knob: multipart uploads of 3+ parts at 200K objects
# the lake talks to S3 through a proxy injecting 503 SlowDown (every 5th request) and dropped
# connections (every 7th): retried inside the lake, on top of the kill -9s
pp_s3_faulty "$PP_TMP/s3" 5 7
LAKEARGS=(--lake s3://lake/raw --s3-endpoint "$S3_FAULTY_URL" --s3-path-style --roll-bytes 200K
  --roll-age 300ms)

dir=$PP_TMP/c
pp_start "$dir" serve --listen 127.0.0.1:0 --partitions 3
serve=$PP_PID
"$PINPIPE" emulate --url "$PP_URL" --replay "$EVENTS" --rate 500 --quiet \
  >"$PP_TMP/emulate.out" 2>&1 &
emu=$!
PP_PIDS+=("$emu")
# a worker killed between its commit and the copy (fault point: it stops itself right after
# its first commit, then it is killed): the committed objects stay pending, hidden, until a
# resume or `pinpipe lake --publish` (the DAG's lake_caught_up runs it) publishes them
PINPIPE_TEST_LAKE_STOP=publish pp_start "$dir" lake "${LAKEARGS[@]}"
for _ in $(seq 1 600); do [ "$(pp_pstate "$PP_PID")" = T ] && break; sleep 0.05; done
[ "$(pp_pstate "$PP_PID")" = T ] || pp_fail "the lake did not stop after its first commit"
kill -9 "$PP_PID"
wait "$PP_PID" 2>/dev/null || true
# objects of the layout only: a closed day's _SUCCESS markers (yesterday's) are not data
objects() { (pp_aws s3 ls --recursive "s3://lake/raw/topic=${1:-}" || true) | grep -v '/_SUCCESS$' || true; }
[ -z "$(objects)" ] || pp_fail "an object was published before the commit's copy"
"$PINPIPE" lake --publish --data-dir "$dir" "${LAKEARGS[@]}" >"$PP_TMP/publish.out" \
  || pp_fail "lake --publish: $(cat "$PP_TMP/publish.out")"
published=$(sed -n 's/^lake: published=\([0-9]*\).*/\1/p' "$PP_TMP/publish.out")
visible=$(objects | wc -l)
[ "${published:-0}" -ge 1 ] && [ "$visible" = "$published" ] \
  || pp_fail "lake --publish published ${published:-?} objects, $visible visible"
echo "ok: lake --publish published the $published committed object(s) a killed worker left pending"
for round in 1 2 3; do
  pp_start "$dir" lake "${LAKEARGS[@]}"
  sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 1.5 + (r % 150) / 100 }')" # 1.5-3 s
  kill -9 "$PP_PID"
  wait "$PP_PID" 2>/dev/null || true
  echo "round $round: killed lake -9; objects so far: $(pp_aws s3 ls --recursive s3://lake/ | wc -l)"
done
wait "$emu" || { cat "$PP_TMP/emulate.out"; pp_fail "emulate"; }
pp_stop "$serve"
# check_pipeline.py also checks the warehouse: fill it once with the stream consumer
pp_start "$dir" stream
pp_wait_rows "$dir/warehouse.db" 2019 60
pp_stop "$PP_PID"

# a crash between an object's PUT and the offset commit leaves finished objects past the
# committed offset: plant such objects (stale content) for pin/0; the restart must delete them
committed=$("$PINPIPE" log offsets --data-dir "$dir" --group lake | awk '$2 == "pin" && $3 == 0 { print $4 }')
[ -n "$committed" ] && [ "$committed" != "-" ] || committed=0
# (no `head` in the pipe: under pipefail its early exit can SIGPIPE awk and end the test)
# (`aws s3 ls` exits 1 when a busy machine let the killed runs publish no geo object yet)
day=$(objects geo/ | awk 'NR == 1 { print $4 }' \
  | sed 's|.*/dt=\([^/]*\)/.*|\1|')
[ -n "$day" ] || day=$(date -u +%F)
echo '{"stale": true}' >"$PP_TMP/stale.jsonl"
for off in "$committed" $((committed + 7)); do
  pp_aws s3 cp --only-show-errors "$PP_TMP/stale.jsonl" \
    "s3://lake/raw/topic=pin/dt=$day/pin+0+$(printf %010d "$off").jsonl" || pp_fail "plant"
done
echo "planted stale objects for pin/0 at offsets $committed and $((committed + 7))"

# the restart runs until the lake group has no lag on any of the 9 partitions (every object
# committed, hence published), then stops; the lake must then hold the log exactly once
lake_caught_up() {
  "$PINPIPE" log offsets --data-dir "$dir" --group lake 2>/dev/null |
    awk 'NR > 1 { n++; if ($6 != "0") bad = 1 } END { exit !(n == 9 && !bad) }'
}
pp_start "$dir" lake "${LAKEARGS[@]}"
for _ in $(seq 1 900); do lake_caught_up && break; sleep 0.1; done
lake_caught_up || { "$PINPIPE" log offsets --data-dir "$dir" --group lake >&2;
  tail -5 "$dir/stderr.log" >&2; pp_fail "the restarted lake did not catch up in 90 s"; }
pp_stop "$PP_PID"
mkdir -p "$PP_TMP/copy"
pp_aws s3 cp --recursive --only-show-errors s3://lake/raw/ "$PP_TMP/copy/" || pp_fail "aws s3 cp"
if ! python3 "$PP_SRC/tests/integration/check_pipeline.py" --pinpipe "$PINPIPE" \
  --data-dir "$dir" --events "$EVENTS" --lake "$PP_TMP/copy" >"$PP_TMP/check.out" 2>&1; then
  cat "$PP_TMP/check.out" "$dir/stderr.log" >&2
  pp_fail "lake on S3 not exactly once after kill -9 and restart"
fi
grep -q "rerun topic=pin partition=0" "$dir/stderr.log" || pp_fail "the stale objects were not deleted"
grep "lake:" "$PP_TMP/check.out"
pp_s3_faulty_stop
tail -1 "$PP_TMP/s3/proxy.log"
echo "ok: lake on S3 killed -9 three times mid-run: every record in exactly one object line"
