#!/usr/bin/env bash
# s3_lake.sh: the lake on S3 (npm s3rver on loopback). `pinpipe run --lake s3://lake/raw` takes
# the real sample; then (a) the independent client (awscli) lists and copies the objects: names
# follow the layout, multipart and single PUTs were both used, and check_pipeline.py finds every
# log record in exactly one object line with the objects tiling the offsets; (b) `pinpipe batch`
# reads the day back from S3 and its insights equal insights_check.py's computation, (c) also
# through a proxy injecting 503 SlowDown and dropped connections (retries).
source "$(dirname "$0")/lib.bash"
source "$PP_SRC/tests/s3/s3.bash"
pp_need_data
command -v aws >/dev/null || { echo "SKIP: awscli (aws) not installed" >&2; exit 77; }
trap 'pp_s3_stop; pp_cleanup' EXIT
pp_s3_start "$PP_TMP/s3"
# small parts (multipart for the pin objects) and small list pages (paging), test knobs only
export PINPIPE_S3_PART_BYTES=64K PINPIPE_S3_MAX_KEYS=3
S3ARGS=(--lake s3://lake/raw --s3-endpoint "$S3_URL" --s3-path-style)

dir=$PP_TMP/run
pp_start "$dir" run --listen 127.0.0.1:0 --partitions 3 --roll-age 1s "${S3ARGS[@]}"
run=$PP_PID
"$PINPIPE" emulate --url "$PP_URL" --replay "$EVENTS" --concurrency 4 --quiet --json \
  >"$PP_TMP/emulate.json" || pp_fail "emulate"
sleep 2 # the lake consumer catches up with the log (it is not latency-critical)
# the embedded log's lake group has one member (nothing else would keep two S3 lake writers
# apart): a second lake worker on the same log waits until run's has stopped
pp_start "$dir" lake "${S3ARGS[@]}"
second=$PP_PID
pp_wait_log "$dir/stderr.log" "waiting for the other lake worker on this log to stop" \
  || pp_fail "a second lake worker on the embedded log did not wait: $(tail -3 "$dir/stderr.log")"
pp_stop "$run"
pp_wait_log "$dir/stderr.log" "the lake group's member now" \
  || pp_fail "the second lake worker did not take over: $(tail -3 "$dir/stderr.log")"
pp_stop "$second"
echo "ok: one lake member per embedded log: the second worker waited, then took over"
grep -q "lake_records=6786" "$dir/stderr.log" || { tail "$dir/stderr.log"; pp_fail "run lake_records"; }

# (a) names, multipart use, exactly once (awscli: an independent S3 client)
pp_aws s3 ls --recursive s3://lake/ >"$PP_TMP/ls.txt" || pp_fail "aws s3 ls"
n=$(wc -l <"$PP_TMP/ls.txt")
[ "$n" -ge 9 ] || pp_fail "expected >= 9 objects (3 topics x 3 partitions), got $n"
bad=$(awk '{print $4}' "$PP_TMP/ls.txt" |
  grep -Evc '^raw/topic=(pin|geo|user)/dt=[0-9]{4}-[0-9]{2}-[0-9]{2}/((pin|geo|user)\+[0-9]+\+[0-9]{10}\.jsonl|_SUCCESS)$' || true)
# a day's _SUCCESS marker only once it is closed: never today's (its end has not come)
[ "$(grep -c "/dt=$(date -u +%F)/_SUCCESS" "$PP_TMP/ls.txt")" = 0 ] || pp_fail "today has a _SUCCESS marker"
# (objects are finished under _pending/ and copied to their names after the commit: after a
# clean stop every one is published and no pending key is left)
[ "$bad" = 0 ] || { cat "$PP_TMP/ls.txt"; pp_fail "$bad object names off the layout (or left pending)"; }
grep -q "Copied object" "$PP_TMP/s3/s3rver.log" || pp_fail "no object was published by CopyObject"
awk '{print $4}' "$PP_TMP/ls.txt" | awk -F/ '$4 != "_SUCCESS" {split($2,a,"="); split($4,b,"+"); if (a[2] != b[1]) exit 1}' ||
  pp_fail "topic folder and file name disagree"
# s3rver's request log: "<path>?uploads= 200" per CreateMultipartUpload, "Stored object" per
# visible object (PUT or CompleteMultipartUpload)
mp=$(grep -c '?uploads= 200' "$PP_TMP/s3/s3rver.log" || true)
stored=$(grep -c 'Stored object' "$PP_TMP/s3/s3rver.log" || true)
grep -q "partNumber=2&" "$PP_TMP/s3/s3rver.log" || pp_fail "no multipart upload of 2+ parts"
[ "$mp" -gt 0 ] && [ "$stored" -gt "$mp" ] || pp_fail "want multipart and single PUTs: $mp of $stored"
echo "objects stored: $stored, of which multipart: $mp"
mkdir -p "$PP_TMP/copy"
pp_aws s3 cp --recursive --only-show-errors s3://lake/raw/ "$PP_TMP/copy/" || pp_fail "aws s3 cp"
python3 "$PP_SRC/tests/integration/check_pipeline.py" --pinpipe "$PINPIPE" --data-dir "$dir" \
  --events "$EVENTS" --lake "$PP_TMP/copy" || pp_fail "check_pipeline over the S3 objects"
echo "ok: (a) $n objects under s3://lake/raw follow the layout and hold the log exactly once"

# (b) batch reads the day from S3: same insights as the independent computation
day=$(awk '$4 !~ /_SUCCESS$/ {print $4; exit}' "$PP_TMP/ls.txt" | sed 's|.*/dt=\([^/]*\)/.*|\1|')
"$PINPIPE" batch --date "$day" "${S3ARGS[@]}" --warehouse "$PP_TMP/batch.db" --format json \
  >"$PP_TMP/batch.json" 2>"$PP_TMP/batch.err" || { cat "$PP_TMP/batch.err"; pp_fail "batch"; }
grep -q "pin=2262 geo=2262 user=2262" "$PP_TMP/batch.err" || { cat "$PP_TMP/batch.err"; pp_fail "batch counts"; }
python3 "$PP_SRC/tests/integration/insights_check.py" --quiet --events "$EVENTS" \
  --compare "$PP_TMP/batch.json" || pp_fail "batch insights from S3 vs insights_check.py"
echo "ok: (b) batch --lake s3://lake/raw dt=$day: insights equal the independent computation"

# (c) the same read through a proxy that answers 503 SlowDown to every 4th request and drops
# every 6th connection: bounded retries with backoff hide the faults, the insights are the same
pp_s3_faulty "$PP_TMP/s3" 4 6
"$PINPIPE" batch --date "$day" --lake s3://lake/raw --s3-endpoint "$S3_FAULTY_URL" --s3-path-style \
  --warehouse "$PP_TMP/faulty.db" --format json >"$PP_TMP/faulty.json" 2>"$PP_TMP/faulty.err" ||
  { cat "$PP_TMP/faulty.err"; pp_fail "batch through the faulty proxy"; }
pp_s3_faulty_stop
tail -1 "$PP_TMP/s3/proxy.log"
grep -q "'slowdown': [1-9]" "$PP_TMP/s3/proxy.log" || pp_fail "the proxy injected no fault"
python3 "$PP_SRC/tests/integration/insights_check.py" --quiet --events "$EVENTS" \
  --compare "$PP_TMP/faulty.json" || pp_fail "batch through faults vs insights_check.py"
echo "ok: (c) batch through injected 503 SlowDown and dropped connections: same insights"

# a missing bucket is a clear, fatal error at startup
if "$PINPIPE" batch --date "$day" --lake s3://nosuchbucket/raw --s3-endpoint "$S3_URL" \
  --s3-path-style --warehouse "$PP_TMP/b2.db" 2>"$PP_TMP/nob.err"; then
  pp_fail "batch on a missing bucket succeeded"
fi
grep -q "NoSuchBucket" "$PP_TMP/nob.err" || { cat "$PP_TMP/nob.err"; pp_fail "missing bucket error"; }
! grep -q "$AWS_SECRET_ACCESS_KEY" "$PP_TMP/nob.err" "$PP_TMP/batch.err" "$PP_TMP/faulty.err" \
  "$dir/stderr.log" || pp_fail "credentials in pinpipe's output"
echo "ok: missing bucket -> $(head -c 160 "$PP_TMP/nob.err")"
# a roll size S3 cannot publish (CopyObject takes up to 5 GiB) is refused before any request
if "$PINPIPE" lake --lake s3://lake/raw --s3-endpoint "$S3_URL" --s3-path-style --roll-bytes 5G \
  --data-dir "$dir" 2>"$PP_TMP/roll.err"; then
  pp_fail "lake with --roll-bytes 5G on S3 started"
fi
grep -q "lower --roll-bytes" "$PP_TMP/roll.err" || { cat "$PP_TMP/roll.err"; pp_fail "roll error"; }
echo "ok: --roll-bytes 5G on S3 -> $(head -c 160 "$PP_TMP/roll.err")"
