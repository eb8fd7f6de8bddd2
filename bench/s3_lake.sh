#!/usr/bin/env bash
# s3_lake.sh: `pinpipe lake` to S3 (MB/s) vs `aws s3 cp --recursive` of the same bytes to the
# same server (npm s3rver on loopback, tests/s3), side by side in one run.
# usage: bench/s3_lake.sh [PINPIPE] [EVENTS]   (defaults: build/pinpipe, 100000 generated events)
# The log is filled first (serve + emulate, not timed); a local-folder lake run of the same log
# gives the files that aws s3 cp uploads, so both sides move identical bytes. pinpipe's time
# runs from process start until every partition's committed offset reached the high watermark
# and the process, then sent SIGTERM, exited: on S3 objects are published (CopyObject from
# their pending keys) right after the commit, so the exit waits for that; it includes startup,
# shutdown and up to one --roll-age (200 ms) wait.
set -eu
PINPIPE=$(realpath "${1:-${PINPIPE:-build/pinpipe}}")
EVENTS=${2:-100000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/s3bench.XXXXXX)
source "$SRC/tests/s3/s3.bash"
cleanup() { pp_s3_stop; [ -n "${SERVE:-}" ] && kill "$SERVE" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pp_s3_start "$T/s3"
now() { date +%s.%N; }

# 1. the log: EVENTS generated events (3 records each) in 1 partition per topic
"$PINPIPE" serve --listen 127.0.0.1:0 --partitions 1 --data-dir "$T/d" 2>"$T/serve.err" &
SERVE=$!
for _ in $(seq 1 200); do [ -s "$T/d/listen" ] && break; sleep 0.05; done
"$PINPIPE" emulate --url "http://$(cat "$T/d/listen")" --events "$EVENTS" --concurrency 8 \
  --quiet >/dev/null
kill "$SERVE"; wait "$SERVE" || true; SERVE=

cp -r "$T/d" "$T/d_s3" # the same log, with no lake position yet, for the S3 run

lake_until_caught_up() { # DATADIR ARGS...: run lake until its group has no lag; prints seconds
  local dd=$1 t0 t1 pid
  shift
  t0=$(now)
  "$PINPIPE" lake --data-dir "$dd" --roll-bytes 64M --roll-age 200ms "$@" 2>>"$T/lake.err" >/dev/null &
  pid=$!
  while :; do
    if "$PINPIPE" log offsets --data-dir "$dd" --group lake 2>/dev/null |
      awk 'NR > 1 { n++; if ($6 != "0") bad = 1 } END { exit !(n == 3 && !bad) }'; then
      break
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$T/lake.err" >&2; echo "lake exited" >&2; exit 1; }
    sleep 0.02
  done
  kill -TERM "$pid"; wait "$pid"
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}

# 2. local-folder lake: the reference bytes (and a local figure)
local_s=$(lake_until_caught_up "$T/d" --lake "$T/local")
bytes=$(find "$T/local" -name '*.jsonl' -printf '%s\n' | awk '{s+=$1} END {print s}')
files=$(find "$T/local" -name '*.jsonl' | wc -l)

# 3. pinpipe lake -> S3 (default 8 MiB parts: multipart for the large objects)
s3_s=$(lake_until_caught_up "$T/d_s3" --lake s3://lake/pinpipe --s3-endpoint "$S3_URL" --s3-path-style)
s3_bytes=$(pp_aws s3 ls --recursive s3://lake/pinpipe/ | awk '{s+=$3} END {print s}')
[ "$s3_bytes" = "$bytes" ] || { echo "S3 holds $s3_bytes bytes, local lake $bytes" >&2; exit 1; }

# 4. aws s3 cp of the same files to the same server
t0=$(now)
pp_aws s3 cp --recursive --only-show-errors "$T/local/" s3://lake/awscli/
t1=$(now)
aws_s=$(echo "$t1 - $t0" | bc -l)

mb=$(echo "$bytes / 1000000" | bc -l)
printf 'data: %.1f MB in %d objects (%s events x 3 records)\n' "$mb" "$files" "$EVENTS"
printf '%-34s %8.2f s %8.1f MB/s\n' "pinpipe lake -> S3 (s3rver)" "$s3_s" "$(echo "$mb / $s3_s" | bc -l)"
printf '%-34s %8.2f s %8.1f MB/s\n' "aws s3 cp --recursive (same bytes)" "$aws_s" "$(echo "$mb / $aws_s" | bc -l)"
printf '%-34s %8.2f s %8.1f MB/s\n' "pinpipe lake -> local folder" "$local_s" "$(echo "$mb / $local_s" | bc -l)"
