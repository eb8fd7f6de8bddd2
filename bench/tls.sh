#!/usr/bin/env bash
# tls.sh: single-record POST /pin/ over TLS (wrk, keep-alive) against `pinpipe serve --fsync
# never --tls-cert/--tls-key` and nginx over TLS answering `return 200` (same cert, same request),
# plus both over plain HTTP for reference; runs interleaved, medians and ratios.
# Usage: bench/tls.sh [BUILD_DIR]   (needs wrk, nginx-light, openssl: scripts/deps.sh --bench)
# wrk opens every connection from 127.0.0.1: pinpipe runs with --max-conns-per-ip 0.
# Env: DUR (s per run, 10), RUNS (3), CONNS (64), THREADS (wrk threads, 1), FSYNC (never).
set -euo pipefail
cd "$(dirname "$0")/.."
PINPIPE=${PINPIPE:-${1:-build}/pinpipe}
DUR=${DUR:-10}; RUNS=${RUNS:-3}; CONNS=${CONNS:-64}; THREADS=${THREADS:-1}; FSYNC=${FSYNC:-never}
tmp=$(mktemp -d); pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT

# one self-signed certificate (RSA 2048, TLS 1.2/1.3) for every server
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 2 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
chmod 600 "$tmp/key.pem"
cat >"$tmp/nginx.conf" <<EOF
# as bench/nginx.conf (one worker, return 200), plus the same route over TLS
worker_processes 1;
daemon off;
pid $tmp/nginx.pid;
error_log /dev/null crit;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_buffer_size 64k;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:18081 backlog=4096;
    listen 127.0.0.1:18444 ssl backlog=4096;
    ssl_certificate $tmp/cert.pem;
    ssl_certificate_key $tmp/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 '{"status":"ok"}'; }
  }
}
EOF

# wait_port PORT: until something listens (bounded: 10 s)
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.05; done; return 1; }
nginx -c "$tmp/nginx.conf" -p "$tmp" & pids+=($!)
"$PINPIPE" serve --listen 127.0.0.1:18443 --data-dir "$tmp/tls" --fsync "$FSYNC" --no-dashboard \
  --max-conns-per-ip 0 --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" 2>"$tmp/serve-tls.log" & pids+=($!)
"$PINPIPE" serve --listen 127.0.0.1:18080 --data-dir "$tmp/plain" --fsync "$FSYNC" --no-dashboard \
  --max-conns-per-ip 0 2>"$tmp/serve-plain.log" & pids+=($!)
for p in 18081 18444 18443 18080; do wait_port $p || { echo "nothing on port $p" >&2; exit 1; }; done

declare -A URL=([nginx_tls]=https://127.0.0.1:18444/pin/ [pinpipe_tls]=https://127.0.0.1:18443/pin/
                [nginx_http]=http://127.0.0.1:18081/pin/ [pinpipe_http]=http://127.0.0.1:18080/pin/)
order=(nginx_tls pinpipe_tls nginx_http pinpipe_http)
rps() { # one wrk run: requests/s on stdout; errors (non-2xx, socket errors) to stderr and $tmp/errors
  wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" -s bench/wrk_pin.lua "$1" >"$tmp/wrk.txt" 2>&1
  grep -E 'Non-2xx|Socket errors' "$tmp/wrk.txt" | sed "s#^#$1: #" | tee -a "$tmp/errors" >&2 || true
  awk '/Requests\/sec/ {print $2}' "$tmp/wrk.txt"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for r in $(seq "$RUNS"); do # interleaved: each run measures every server once, in turn
  for t in "${order[@]}"; do
    v=$(rps "${URL[$t]}"); echo "$v" >>"$tmp/$t"
    echo "run $r $t req/s $v"
  done
done
declare -A MED
for t in "${order[@]}"; do MED[$t]=$(median <"$tmp/$t"); done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "medians of $RUNS runs (wrk -t$THREADS -c$CONNS -d${DUR}s, POST /pin/ one record, keep-alive; pinpipe --fsync $FSYNC):"
for t in "${order[@]}"; do echo "  $t ${MED[$t]} req/s"; done
echo "  pinpipe_tls / nginx_tls   = $(ratio "${MED[pinpipe_tls]}" "${MED[nginx_tls]}")"
echo "  pinpipe_http / nginx_http = $(ratio "${MED[pinpipe_http]}" "${MED[nginx_http]}")"
echo "  pinpipe_tls / pinpipe_http = $(ratio "${MED[pinpipe_tls]}" "${MED[pinpipe_http]}")  (cost of TLS to pinpipe)"
echo "  nginx_tls / nginx_http     = $(ratio "${MED[nginx_tls]}" "${MED[nginx_http]}")  (cost of TLS to nginx)"
[ -s "$tmp/errors" ] && echo "errors: $(wc -l <"$tmp/errors") wrk runs reported non-2xx or socket errors" || echo "errors: none"
