#!/usr/bin/env bash
# http.sh: single-record POST /pin/ with wrk (keep-alive), pinpipe serve (fsync interval:5 and
# always) side by side with nginx answering a static 200 on the same route (the HTTP ceiling).
# Usage: bench/http.sh [BUILD_DIR]   (needs wrk, nginx-light: scripts/deps.sh --bench)
set -euo pipefail
cd "$(dirname "$0")/.."
PINPIPE=${PINPIPE:-${1:-build}/pinpipe}
DUR=${DUR:-10}; RUNS=${RUNS:-3}; CONNS=${CONNS:-64}; THREADS=${THREADS:-1}
tmp=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
rps() { wrk -t"$THREADS" -c"$1" -d"${DUR}s" -s bench/wrk_pin.lua "$2" 2>&1 | tee -a "$tmp/wrk.txt" |
        awk '/Requests\/sec/ {print $2} /Non-2xx|Socket errors/ {print "ERR " $0 > "/dev/stderr"}'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
nginx -c "$PWD/bench/nginx.conf" -p "$tmp" & sleep 0.5
for c in $CONNS 256; do
  n=$(for _ in $(seq $RUNS); do rps $c http://127.0.0.1:18081/pin/; done | median)
  echo "nginx static 200     c=$c  req/s median of $RUNS: $n"
  for policy in interval:5 always; do
    rm -rf "$tmp/data"
    "$PINPIPE" serve --max-conns-per-ip 0 --listen 127.0.0.1:18080 --data-dir "$tmp/data" --fsync "$policy" 2>"$tmp/serve.log" &
    spid=$!; sleep 0.5
    p=$(for _ in $(seq $RUNS); do rps $c http://127.0.0.1:18080/pin/; done | median)
    kill -TERM $spid; wait $spid || true
    echo "pinpipe fsync=$policy c=$c  req/s median of $RUNS: $p  ratio to nginx: $(echo "scale=2; $p/$n" | bc)"
  done
done
