#!/usr/bin/env bash
# latency.sh: end-to-end latency from ingest (HTTP ack) to the row visible in the warehouse,
# with `pinpipe emulate --rate 5000` (events/s; 3 requests each) against `pinpipe run`, for
# fsync interval:5 and always. The stream consumer measures each record's latency as the
# wall clock at its warehouse commit minus its ingest timestamp (taken at append, before the
# ack, so each figure is an upper bound) and `run` prints p50/p99 when it stops.
# Usage: bench/latency.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PINPIPE=${PINPIPE:-${1:-build}/pinpipe}
RATE=${RATE:-5000}; EVENTS=${EVENTS:-50000}
tmp=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
for policy in interval:5 always; do
  rm -rf "$tmp/data"
  "$PINPIPE" run --max-conns-per-ip 0 --listen 127.0.0.1:0 --data-dir "$tmp/data" --fsync "$policy" 2>"$tmp/run.log" &
  rpid=$!
  for _ in $(seq 100); do [ -s "$tmp/data/listen" ] && break; sleep 0.05; done
  "$PINPIPE" emulate --url "http://$(cat "$tmp/data/listen")" --events "$EVENTS" --rate "$RATE" \
    --concurrency 64 --quiet >"$tmp/emu.txt"
  sleep 1
  kill -TERM $rpid; wait $rpid
  echo "fsync=$policy, $RATE events/s ($((RATE * 3)) requests/s), $EVENTS events:"
  grep -E "^(rate|latency)" "$tmp/emu.txt" | sed 's/^/  client /'
  grep -o "stopped.*" "$tmp/run.log" | sed 's/^/  run /'
done
