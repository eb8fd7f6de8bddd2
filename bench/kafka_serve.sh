#!/usr/bin/env bash
# kafka_serve.sh: single-record POST /pin/ with wrk (keep-alive): `pinpipe serve --log kafka`
# side by side with the seeds' stack (bench/fastapi_kafka.py: FastAPI + uvicorn + kafka-python,
# acks='all'), both producing to the same librdkafka mock cluster (pp_kafka_mock, 3 brokers,
# 6 partitions, loopback). Each answers a request once the broker acknowledged its record; the
# seeds' fire-and-forget variant (--no-wait, answer before any ack) is shown for reference.
# Usage: bench/kafka_serve.sh [BUILD_DIR]   (installs wrk, python3-fastapi, python3-uvicorn,
# python3-kafka with apt-get when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PINPIPE=${PINPIPE:-$BUILD/pinpipe}; MOCK=${MOCK:-$BUILD/pp_kafka_mock}
DUR=${DUR:-10}; RUNS=${RUNS:-3}; THREADS=${THREADS:-1}
PY=/usr/bin/python3 # Debian's, where the apt packages are
if ! command -v wrk >/dev/null || ! $PY -c 'import fastapi, uvicorn, kafka' 2>/dev/null; then
  apt-get install -y wrk python3-fastapi python3-uvicorn python3-kafka >/dev/null
fi
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
rps() { wrk -t"$THREADS" -c"$1" -d"${DUR}s" -s bench/wrk_pin.lua "$2" 2>&1 | tee -a "$tmp/wrk.txt" |
        awk '/Requests\/sec/ {print $2} /Non-2xx|Socket errors/ {print "ERR " $0 > "/dev/stderr"}'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wait_port() { for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done; return 1; }

"$MOCK" --brokers 3 --partitions 6 >"$tmp/mock.out" 2>"$tmp/mock.err" & pids+=($!)
for _ in $(seq 1 100); do [ -s "$tmp/mock.out" ] && break; sleep 0.05; done
B=$(head -1 "$tmp/mock.out")
echo "mock cluster: $B"
for c in 64 256; do
  "$PINPIPE" serve --max-conns-per-ip 0 --log kafka --brokers "$B" --listen 127.0.0.1:18080 --data-dir "$tmp/data" \
    2>"$tmp/serve.log" & spid=$!; pids+=($spid)
  wait_port 18080
  p=$(for _ in $(seq "$RUNS"); do rps "$c" http://127.0.0.1:18080/pin/; done | median)
  kill -TERM "$spid"; wait "$spid" || true
  for mode in wait no-wait; do
    $PY bench/fastapi_kafka.py --brokers "$B" --port 18082 $([ $mode = no-wait ] && echo --no-wait) \
      2>"$tmp/fastapi.log" & fpid=$!; pids+=($fpid)
    wait_port 18082
    f=$(for _ in $(seq "$RUNS"); do rps "$c" http://127.0.0.1:18082/pin/; done | median)
    kill -TERM "$fpid"; wait "$fpid" || true
    if [ $mode = wait ]; then fw=$f; else fn=$f; fi
  done
  echo "c=$c  pinpipe serve --log kafka: $p req/s | FastAPI+kafka-python acks=all: $fw req/s" \
       "($(echo "scale=1; $p/$fw" | bc)x) | fire-and-forget: $fn req/s ($(echo "scale=1; $p/$fn" | bc)x)" \
       "  [median of $RUNS x ${DUR}s]"
done
