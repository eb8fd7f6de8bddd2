#!/usr/bin/env bash
# pg_stream.sh: `pinpipe stream` into PostgreSQL (rows/s) vs `psql \copy` of the same cleaned
# rows into the same server, side by side in one run.
#
# ROWS rows of `pinpipe gen` (each a pin, a geo and a user record, ids once) go through
# `pinpipe serve` into the log; then `pinpipe stream --warehouse postgresql://...` loads them
# (timed from its start until pp_offsets reach the log's high watermarks), the three tables
# are emptied, and `psql \copy` loads the same rows, cleaned by `pinpipe clean` and converted
# to COPY text beforehand (not timed), into the same tables. Both sides: the same server, a
# fresh cluster started here (fsync on, defaults), tables with their primary keys.
# Env: PINPIPE (binary), ROWS (default 100000), BATCH (stream --batch, default 5000),
# KEEP=1 keeps the work directory. Needs Debian's postgresql and psql.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PINPIPE=${PINPIPE:-$here/../build/pinpipe}
ROWS=${ROWS:-100000}
BATCH=${BATCH:-5000}
[ -x "$PINPIPE" ] || { echo "pg_stream.sh: no pinpipe binary at $PINPIPE (set PINPIPE)" >&2; exit 2; }
export PINPIPE PP_SRC=${PP_SRC:-$here/..} PP_KEEP=${KEEP:-0}
source "$here/../tests/integration/lib.bash"
source "$here/../tests/integration/pg.bash"
pg_start ${PG_OPTS:-}
work=$PP_TMP
now() { date +%s.%N; }

"$PINPIPE" gen --rows "$ROWS" --out "$work/src" >/dev/null 2>&1
python3 - "$work/src" >"$work/events.jsonl" <<'PY'
import sys
d = sys.argv[1]
with open(f"{d}/pin.jsonl") as p, open(f"{d}/geo.jsonl") as g, open(f"{d}/user.jsonl") as u:
    for a, b, c in zip(p, g, u):
        print('{"pin": %s, "geo": %s, "user": %s}' % (a.strip(), b.strip(), c.strip()))
PY
pp_start "$work/d" serve --listen 127.0.0.1:0
serve=$PP_PID
"$PINPIPE" emulate --url "$PP_URL" --replay "$work/events.jsonl" --concurrency 16 --quiet \
  --json >"$work/emulate.json"
pp_stop "$serve"
total=$("$PINPIPE" log topics --data-dir "$work/d" | awk 'NR > 1 { s += $4 } END { print s }')

# stream: schema first (pinpipe creates it on open), so only the load is timed
"$PINPIPE" insights --warehouse "$PG_URL" >/dev/null 2>&1 || true
pg_sql "select 1" >/dev/null
t0=$(now)
pp_start "$work/d" stream --warehouse "$PG_URL" --batch "$BATCH"
stream=$PP_PID
while :; do
  done_=$(pg_sql "select coalesce(sum(next_offset), 0) from pp_offsets where consumer_group = 'stream'" 2>/dev/null || echo 0)
  [ "$done_" = "$total" ] && break
  kill -0 "$stream" 2>/dev/null || { cat "$work/d/stderr.log" >&2; exit 1; }
  sleep 0.02
done
t1=$(now)
pp_stop "$stream"
rows=$(pg_sql 'select (select count(*) from pin) + (select count(*) from geo) + (select count(*) from "user")')

# psql \copy of the same cleaned rows (converted to COPY text beforehand)
for k in pin geo user; do
  "$PINPIPE" clean --kind $k --in "$work/src/$k.jsonl" --out "$work/$k.clean.jsonl" 2>/dev/null || true
done
python3 - "$work" <<'PY'
import json, sys
d = sys.argv[1]
cols = {"pin": ["ind", "unique_id", "title", "description", "follower_count", "poster_name",
                "tag_list", "is_image_or_video", "image_src", "downloaded", "save_location",
                "category"],
        "geo": ["ind", "country", "coordinates", "timestamp"],
        "user": ["ind", "user_name", "age", "date_joined"]}
def field(c, v):
    if v is None:
        return "\\N"
    if c == "coordinates":
        return "{" + v.strip("[]").replace(" ", "") + "}"
    if c in ("timestamp", "date_joined"):
        return v + "+00"
    s = str(v).replace("\0", "")
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
for k, cs in cols.items():
    with open(f"{d}/{k}.clean.jsonl") as f, open(f"{d}/{k}.copy", "w") as out:
        for line in f:
            r = json.loads(line)
            out.write("\t".join(field(c, r.get(c)) for c in cs) + "\n")
PY
pg_sql 'truncate pin, geo, "user"'
pg_sql 'checkpoint' >/dev/null
t2=$(now)
psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" \
  -c "\\copy pin FROM '$work/pin.copy'" -c "\\copy geo FROM '$work/geo.copy'" \
  -c "\\copy \"user\" FROM '$work/user.copy'"
t3=$(now)
rows2=$(pg_sql 'select (select count(*) from pin) + (select count(*) from geo) + (select count(*) from "user")')
python3 - "$total" "$rows" "$t0" "$t1" "$rows2" "$t2" "$t3" "$BATCH" <<'PY'
import sys
total, rows, t0, t1, rows2, t2, t3, batch = sys.argv[1:]
s = float(t1) - float(t0); c = float(t3) - float(t2)
r1 = int(rows) / s; r2 = int(rows2) / c
print(f"pinpipe stream -> PostgreSQL: {rows} rows ({total} log records, --batch {batch}) "
      f"in {s:.2f} s = {r1:,.0f} rows/s")
print(f"psql \\copy of the same cleaned rows: {rows2} rows in {c:.2f} s = {r2:,.0f} rows/s")
print(f"ratio stream / \\copy: {r1 / r2:.2f}x (target >= 0.8x)")
PY
