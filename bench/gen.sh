#!/usr/bin/env bash
# gen.sh: throughput of `pinpipe gen` (rows/s; one row = its pin, geo and user records).
# usage: bench/gen.sh [PINPIPE] [ROWS]   (defaults: build/pinpipe, 1000000)
set -eu
PINPIPE=${1:-${PINPIPE:-build/pinpipe}}
ROWS=${2:-1000000}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs 5 --export-json "$OUT/h.json" \
        "$PINPIPE gen --rows $ROWS --out $OUT 2>/dev/null"
    python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; \
print('rows/s (mean of runs): %.0f' % ($ROWS / r['mean']))" "$OUT/h.json"
else
    for i in 1 2 3; do
        /usr/bin/time -f "wall %e s  user %U s  sys %S s  maxrss %M KB" \
            "$PINPIPE" gen --rows "$ROWS" --out "$OUT" 2>&1 | sed 's/^/  /'
    done
fi
ls -l "$OUT"/*.jsonl | awk '{s+=$5} END {printf "output: %.1f MB for %d rows\n", s/1e6, '"$ROWS"'}'
