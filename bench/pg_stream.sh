#!/usr/bin/env bash
# pg_stream.sh: `pinpipe stream` into PostgreSQL (rows/s) vs `psql \copy` of the same cleaned
# rows into the same server, side by side in one run, repeated; medians and their ratio.
#
# ROWS rows of `pinpipe gen` (each a pin, a geo and a user record, ids once) go through
# `pinpipe serve` into the log (not timed). Then, RUNS times, alternating which goes first:
#   stream: the three tables and pp_offsets emptied, a CHECKPOINT, then `pinpipe stream
#     --warehouse postgresql://... --until-caught-up` timed from its start to its exit, as
#     psql is (it exits once everything the log holds is committed; pp_offsets are then
#     checked to hold the log's high watermarks);
#   \copy:  the three tables emptied, a CHECKPOINT, then one `psql` running `\copy` of the same
#     rows -- cleaned by `pinpipe clean` and converted to COPY text beforehand, not timed --
#     into pin, geo and "user".
# Both sides: the same server (a fresh cluster started here: fsync on, defaults but
# autovacuum off -- else the analyze/vacuum that one run's inserts trigger lands in the next
# run's window, whichever side that is; PG_OPTS="autovacuum=on" to see it), the same tables
# with their primary keys; after each run the tables are counted and checksummed (md5 of
# their rows as text): every run of both sides must have loaded the same rows. Besides the
# wall time, the CPU seconds of the client (pinpipe / psql) and of the server (this cluster's
# processes) are shown: on a busy machine a run's wall time also holds time spent waiting for
# a core, which the CPU figures do not. `pinpipe stream` sends binary COPY; `\copy` text.
# Env: PINPIPE (binary), ROWS (default 100000), BATCH (stream --batch, default 20000 as the stream), RUNS
# (default 5), KEEP=1 keeps the work directory. Needs Debian's postgresql and psql.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PINPIPE=${PINPIPE:-$here/../build/pinpipe}
ROWS=${ROWS:-100000}
BATCH=${BATCH:-20000}
RUNS=${RUNS:-5}
[ -x "$PINPIPE" ] || { echo "pg_stream.sh: no pinpipe binary at $PINPIPE (set PINPIPE)" >&2; exit 2; }
export PINPIPE PP_SRC=${PP_SRC:-$here/..} PP_KEEP=${KEEP:-0}
source "$here/../tests/integration/lib.bash"
source "$here/../tests/integration/pg.bash"
pg_start autovacuum=off ${PG_OPTS:-}
work=$PP_TMP
now() { date +%s.%N; }
tick=$(getconf CLK_TCK)

# CPU seconds (user + system) of this cluster's processes: the postmaster, its children, and
# the children it reaped (exited backends).
pg_cpu() {
  local pm p
  pm=$(head -1 "$PG_DIR/data/postmaster.pid")
  for p in "$pm" $(pgrep -P "$pm"); do cat "/proc/$p/stat" 2>/dev/null || true; done |
    awk -v pm="$pm" -v tick="$tick" '
      { pid = $1; sub(/^.*\) /, ""); t += $12 + $13; if (pid == pm) t += $14 + $15 }
      END { printf "%.2f\n", t / tick }'
}
# CPU seconds of the children process $1 has reaped (a side's client, once it exited).
reaped_cpu() { awk -v tick="$tick" '{ sub(/^.*\) /, ""); print ($14 + $15) / tick }' "/proc/$1/stat"; }

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

# the \copy side's input: the same rows, cleaned by pinpipe, as COPY text (not timed)
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

# schema first (pinpipe creates it on open), so only the load is timed
"$PINPIPE" insights --warehouse "$PG_URL" >/dev/null 2>&1 || true
count_rows() { pg_sql 'select (select count(*) from pin) + (select count(*) from geo) + (select count(*) from "user")'; }
# the loaded rows' content: the same cleaned rows must give the same tables on both sides
content() {
  pg_sql "select md5(string_agg(x, ',' order by x)) from (select md5(string_agg(t::text, ',' order by ind)) x from pin t
          union all select md5(string_agg(t::text, ',' order by ind)) from geo t
          union all select md5(string_agg(t::text, ',' order by ind)) from \"user\" t) s"
}

run_stream() {
  pg_sql "truncate pin, geo, \"user\", pp_rejects; delete from pp_offsets where consumer_group = 'stream'; checkpoint" >/dev/null
  local c0 t0 t1 c1 u0 u1 me=$BASHPID done_
  c0=$(pg_cpu)
  u0=$(reaped_cpu "$me")
  t0=$(now)
  "$PINPIPE" stream --warehouse "$PG_URL" --batch "$BATCH" --data-dir "$work/d" --until-caught-up \
    >>"$work/stream.out" 2>>"$work/stream.err" || { cat "$work/stream.err" >&2; pp_fail "stream exited with $?"; }
  t1=$(now)
  c1=$(pg_cpu)
  u1=$(reaped_cpu "$me")
  done_=$(pg_sql "select coalesce(sum(next_offset), 0) from pp_offsets where consumer_group = 'stream'")
  [ "$done_" = "$total" ] || pp_fail "stream stopped at $done_ of $total records"
  echo "$(count_rows) $t0 $t1 $(python3 -c "print(round($u1 - $u0, 2))") $c0 $c1 $(content)"
}

run_copy() {
  pg_sql 'truncate pin, geo, "user"; checkpoint' >/dev/null
  local c0 t0 t1 c1 u0 u1 me=$BASHPID
  c0=$(pg_cpu)
  u0=$(reaped_cpu "$me")
  t0=$(now)
  psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" \
    -c "\\copy pin FROM '$work/pin.copy'" -c "\\copy geo FROM '$work/geo.copy'" \
    -c "\\copy \"user\" FROM '$work/user.copy'"
  t1=$(now)
  c1=$(pg_cpu)
  u1=$(reaped_cpu "$me")
  echo "$(count_rows) $t0 $t1 $(python3 -c "print(round($u1 - $u0, 2))") $c0 $c1 $(content)"
}

: >"$work/runs"
for i in $(seq 1 "$RUNS"); do
  if [ $((i % 2)) = 1 ]; then
    echo "stream $(run_stream)" >>"$work/runs"; echo "copy $(run_copy)" >>"$work/runs"
  else
    echo "copy $(run_copy)" >>"$work/runs"; echo "stream $(run_stream)" >>"$work/runs"
  fi
done

python3 - "$work/runs" "$total" "$BATCH" "$RUNS" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import statistics, sys
path, total, batch, runs, ncpu, load = sys.argv[1:]
res = {"stream": [], "copy": []}
for line in open(path):
    side, rows, t0, t1, ccpu, s0, s1, md5 = line.split()
    wall = float(t1) - float(t0)
    res[side].append((int(rows), wall, float(ccpu), float(s1) - float(s0), md5))
sums = {r[4] for v in res.values() for r in v}
assert len(sums) == 1, f"the loaded tables differ between runs or sides: {sums}"
name = {"stream": f"pinpipe stream (--batch {batch})", "copy": "psql \\copy"}
med = {}
print(f"{total} log records, {runs} runs each, alternating; {ncpu} CPUs, load {load};"
      f" every run's tables identical (md5 {sums.pop()[:12]})")
for side, v in res.items():
    rates = [r[0] / r[1] for r in v]
    med[side] = statistics.median(rates)
    print(f"{name[side]:28s} {v[0][0]} rows  median {statistics.median(r[1] for r in v):.2f} s"
          f" = {med[side]:,.0f} rows/s  (runs: {', '.join(f'{x / 1000:.0f}k' for x in rates)})"
          f"  CPU client {statistics.median(r[2] for r in v):.2f} s,"
          f" server {statistics.median(r[3] for r in v):.2f} s")
ratios = [s[0] / s[1] / (c[0] / c[1]) for s, c in zip(res["stream"], res["copy"])]
print(f"ratio of medians stream / \\copy: {med['stream'] / med['copy']:.2f}x"
      f"  (per pair: {', '.join(f'{r:.2f}' for r in ratios)}; target >= 0.8x)")
PY
