#!/usr/bin/env bash
# badinput.sh: what hostile bodies cost serve, as the body grows 1x, 10x, 100x: nested-array
# bombs ("[" * n + "]" * n) and flat arrays of the same size posted to /pin/ (400 either way),
# median time per request over RUNS requests (python3 http.client, keep-alive), and how long a
# normal record waits behind them. With OLD=path/to/older/pinpipe the same run is made on it.
# usage: bench/badinput.sh [build/pinpipe]     env: RUNS (default 5), OLD
set -euo pipefail
cd "$(dirname "$0")/.."
PINPIPE=${1:-build/pinpipe}
RUNS=${RUNS:-5}
tmp=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"' EXIT
one() { # BINARY LABEL
  rm -rf "$tmp/d"
  "$1" serve --listen 127.0.0.1:0 --data-dir "$tmp/d" --fsync never --max-body 8M \
    --no-dashboard 2>"$tmp/serve.log" &
  local spid=$!
  for _ in $(seq 1 200); do [ -s "$tmp/d/listen" ] && break; sleep 0.05; done
  python3 - "$(cat "$tmp/d/listen")" "$RUNS" "$2" <<'PY'
import http.client, statistics, sys, time
host, port = sys.argv[1].rsplit(":", 1)
runs, label = int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection(host, int(port), timeout=600)
def post(body):
    t = time.perf_counter()
    c.request("POST", "/pin/", body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    return time.perf_counter() - t, r.status
for n in (2000, 20000, 200000):
    deep = b"[" * (n // 2) + b"]" * (n // 2)
    flat = b"[" + b"0," * (n // 2 - 1) + b"0]"
    for name, body in (("nested", deep), ("flat", flat)):
        try:
            ts, st = zip(*[post(body) for _ in range(runs)])
        except (ConnectionError, OSError) as e:
            print("%-8s %-7s %8d B  the server died: %s" % (label, name, len(body), e))
            sys.exit(0)
        print("%-8s %-7s %8d B  status %d  median %8.3f ms" %
              (label, name, len(body), st[0], statistics.median(ts) * 1e3))
PY
  kill -TERM $spid 2>/dev/null; wait $spid 2>/dev/null || echo "$2: serve exited $?"
}
one "$PINPIPE" this
[ -n "${OLD:-}" ] && one "$OLD" old
exit 0
