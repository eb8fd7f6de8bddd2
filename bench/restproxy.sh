#!/usr/bin/env bash
# restproxy.sh: Kafka REST Proxy v2 posts of 500 pin records each (wrk, keep-alive) into
# pinpipe serve (fsync interval:5 and always): records/s and MB/s into the log, side by side with
# dd writing the same number of bytes with fdatasync (the disk's limit).
# Usage: bench/restproxy.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PINPIPE=${PINPIPE:-${1:-build}/pinpipe}
DUR=${DUR:-10}; CONNS=${CONNS:-16}
tmp=$(mktemp -d -p "${BENCH_TMP:-/var/tmp}"); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
src=../shared/data/aicore_sample_pin.jsonl
if [ ! -f "$src" ]; then "$PINPIPE" gen --rows 2000 --out "$tmp" >/dev/null; src=$tmp/pin.jsonl; fi
python3 - "$src" "$tmp/body.json" <<'PY'
import json, sys
lines = [l.strip() for l in open(sys.argv[1]) if l.strip()][:500]
while len(lines) < 500: lines += lines[:500 - len(lines)]
open(sys.argv[2], "w").write('{"records":[' + ",".join('{"value":%s}' % l for l in lines) + "]}")
PY
body=$(stat -c %s "$tmp/body.json")
echo "body: 500 records, $body bytes"
for policy in interval:5 always; do
  rm -rf "$tmp/data"
  "$PINPIPE" serve --max-conns-per-ip 0 --listen 127.0.0.1:18082 --data-dir "$tmp/data" --fsync "$policy" 2>"$tmp/serve.log" &
  spid=$!; sleep 0.5
  out=$(BODY_FILE=$tmp/body.json CONTENT_TYPE=application/vnd.kafka.json.v2+json \
        wrk -t1 -c"$CONNS" -d"${DUR}s" -s bench/wrk_body.lua http://127.0.0.1:18082/topics/bench.pin)
  kill -TERM $spid; wait $spid || true
  reqs=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  logbytes=$(du -sb "$tmp/data/log/topics" | cut -f1)
  echo "$out" | grep -E 'Non-2xx|errors' || true
  echo "pinpipe fsync=$policy: $(echo "$reqs*500" | bc) records/s, $(echo "scale=1; $reqs*$body/1048576" | bc) MB/s of bodies; log holds $((logbytes/1048576)) MB"
  total=$logbytes
done
# dd: the same number of bytes as the last run's log, fdatasync'd in 1 MiB writes.
ddout=$(dd if=/dev/zero of="$tmp/dd.bin" bs=1M count=$((total/1048576 + 1)) conv=fdatasync 2>&1 | tail -1)
echo "dd conv=fdatasync bs=1M: $ddout"
ddout=$(dd if=/dev/zero of="$tmp/dd2.bin" bs=$body count=$((total/body + 1)) oflag=dsync 2>&1 | tail -1)
echo "dd oflag=dsync bs=$body (one sync per request-sized write): $ddout"
