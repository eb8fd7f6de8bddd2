#!/usr/bin/env bash
# pg_warehouse.sh: the PostgreSQL warehouse on a real server started here. (0) the positions'
# compare-and-set (test_wh against this server). (1) `pinpipe run
# --warehouse postgresql://...` under the real sample through the API: 2019 rows per table,
# then batch + insights equal the independent computation and, byte for byte, the SQLite
# warehouse's insights of the same lake day. (2) a separate `pinpipe stream` into PostgreSQL
# while load flows: killed -9, its backend terminated, the server restarted (as a crash):
# afterwards every log id is in pin/geo/user exactly once and pp_offsets == high watermarks.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
pp_need_data
command -v psql >/dev/null || pp_fail "psql missing (apt-get install postgresql-client)"
pg_start fsync=off
today=$(date -u +%F)

# (0) the positions' compare-and-set on this server: the warehouse unit test's CAS cases
# (two connections, a stale consumer's transaction refused) in a database of their own
if [ -x "${PP_TOOLS:-}/test_wh" ]; then
  pg_sql "CREATE DATABASE pp_cas" >/dev/null
  PP_TEST_PG_URL="${PG_URL%/*}/pp_cas" "$PP_TOOLS/test_wh" >"$PP_TMP/test_wh.log" 2>&1 \
    || pp_fail "compare-and-set on PostgreSQL: $(grep -v '^ok' "$PP_TMP/test_wh.log" | tail -5)"
  echo "ok: positions compare-and-set on PostgreSQL ($(tail -1 "$PP_TMP/test_wh.log"))"
fi

# pg_check DIR: exactly once between DIR's log and the PostgreSQL warehouse (psql, not pinpipe).
pg_check() {
  local d=$1 t
  for t in pin geo user; do
    pg_sql "select ind from \"$t\" order by 1" >"$d/wh_$t.txt"
    pg_sql "select partition||' '||next_offset from pp_offsets where consumer_group='stream' and topic='$t'" >"$d/off_$t.txt"
  done
  python3 - "$PINPIPE" "$d" <<'PY'
import json, os, subprocess, sys
pinpipe, d = sys.argv[1:]
errors = []
for topic, key in (("pin", "index"), ("geo", "ind"), ("user", "ind")):
    tdir = os.path.join(d, "log", "topics", topic)
    ids, high = set(), {}
    for p in sorted(int(x) for x in os.listdir(tdir) if x.isdigit()):
        out = subprocess.run([pinpipe, "log", "tail", "--data-dir", d, "--topic", topic,
                              "--partition", str(p), "--from-beginning", "-n", "100000000"],
                             check=True, capture_output=True, text=True).stdout
        last = -1
        for line in out.splitlines():
            _t, _p, off, _ts, value = line.split("\t", 4)
            ids.add(int(json.loads(value)[key]))
            last = int(off)
        high[p] = last + 1
    rows = [int(x) for x in open(os.path.join(d, f"wh_{topic}.txt")).read().split()]
    if len(rows) != len(set(rows)) or set(rows) != ids:
        errors.append(f"{topic}: {len(rows)} rows, {len(set(rows))} distinct, "
                      f"{len(ids - set(rows))} log ids missing, {len(set(rows) - ids)} extra")
    offs = dict(tuple(map(int, l.split())) for l in open(os.path.join(d, f"off_{topic}.txt")) if l.strip())
    for p, h in high.items():
        if offs.get(p, 0) != h:
            errors.append(f"offsets {topic}/{p}: {offs.get(p)} != high watermark {h}")
    print(f"pg_check {topic}: {len(rows)} rows, {len(ids)} distinct log ids, offsets {offs}")
for e in errors:
    print("pg_check:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

# (1) run + batch + insights on PostgreSQL, against the independent computation and SQLite.
dir=$PP_TMP/one
pp_start "$dir" run --listen 127.0.0.1:0 --warehouse "$PG_URL"
"$PINPIPE" emulate --url "$PP_URL" --replay "$EVENTS" --concurrency 8 --quiet --json \
  >"$dir/emulate.json" || pp_fail "emulate failed: $(cat "$dir/emulate.json")"
pg_wait_rows 2019
pp_stop "$PP_PID"
"$PINPIPE" batch --date "$today" --data-dir "$dir" --warehouse "$PG_URL" --format json \
  >"$dir/batch_pg.json" || pp_fail "batch on PostgreSQL failed"
"$PINPIPE" insights --warehouse "$PG_URL" --format json >"$dir/insights_pg.json" \
  2>"$dir/insights.err" || pp_fail "insights on PostgreSQL: $(cat "$dir/insights.err")"
cmp -s "$dir/batch_pg.json" "$dir/insights_pg.json" || pp_fail "live insights differ from the snapshot"
python3 "$PP_SRC/tests/integration/insights_check.py" --events "$EVENTS" --quiet \
  --compare "$dir/insights_pg.json" || pp_fail "PostgreSQL insights differ from the independent computation"
for fmt in json table csv; do
  "$PINPIPE" batch --date "$today" --data-dir "$dir" --warehouse "$dir/sqlite.db" --format $fmt \
    >"$dir/sqlite.$fmt" 2>/dev/null || pp_fail "batch on SQLite failed"
  "$PINPIPE" batch --date "$today" --data-dir "$dir" --warehouse "$PG_URL" --format $fmt \
    >"$dir/pg.$fmt" 2>/dev/null || pp_fail "batch rerun on PostgreSQL failed"
  cmp "$dir/sqlite.$fmt" "$dir/pg.$fmt" || pp_fail "$fmt insights differ between SQLite and PostgreSQL"
done
[ "$(pg_sql "select count(*) from pp_schema_version")" = 4 ] || pp_fail "schema version rows (v1 tables, v2 dag history, v3 quality, v4 positions check)"
[ "$(pg_sql "select count(*) from insight_top_user_by_country where run_date='$today'")" -gt 0 ] \
  || pp_fail "no snapshot rows for $today"
echo "ok: (1) run -> PostgreSQL: 2019 rows per table; insights = independent = SQLite (json, table, csv)"

# (1b) edge cases through the API into the same warehouse: text with "\u0000" (PostgreSQL
# text cannot hold NUL: the NULs are dropped; nothing but NUL is NULL), an id sent again
# (latest wins, whether in the same batch or after), typed coordinates and timestamps.
# (each part has its own database: the stream's positions live in the warehouse)
dir=$PP_TMP/edge
pg_sql "create database edge"
PG_URL=${PG_URL%/*}/edge
pp_start "$dir" run --listen 127.0.0.1:0 --warehouse "$PG_URL" --fsync always
python3 - "$PP_URL" "$EVENTS" <<'PY'
import json, sys, urllib.request
url, events = sys.argv[1:]
ev = json.loads(open(events).readline())
def post(kind, body):
    req = urllib.request.Request(f"{url}/{kind}/", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        urllib.request.urlopen(req).read()
    except urllib.error.HTTPError as e:
        e.read()
pin = dict(ev["pin"], index=990001)  # json.dumps sends a NUL as "\u0000"
post("pin", dict(pin, title="a\u0000b\u0000"))
post("pin", dict(pin, title="first"))
post("pin", dict(pin, title="second"))
post("pin", dict(ev["pin"], index=990002, title="\u0000"))
post("geo", dict(ev["geo"], ind=990001, latitude=1e-05, longitude=-5.0))
post("user", dict(ev["user"], ind=990001, date_joined="2016-02-29T23:30:00+01:00"))
post("user", dict(ev["user"], ind=990001, date_joined="2016-02-29T23:30:00-01:00"))
PY
for _ in $(seq 1 100); do
  [ "$(pg_sql "select count(*) from pin where ind = 990002 or title = 'second'")" = 2 ] &&
    [ "$(pg_sql "select count(*) from \"user\" where ind = 990001 and date_joined = '2016-03-01 00:30:00+00'")" = 1 ] && break
  sleep 0.1
done
pp_stop "$PP_PID"
[ "$(pg_sql "select title from pin where ind = 990001")" = second ] || pp_fail "latest did not win: $(pg_sql "select title from pin where ind = 990001")"
[ "$(pg_sql "select coalesce(title, 'NULL') from pin where ind = 990002")" = NULL ] \
  || pp_fail "a title of one NUL should be NULL"
[ "$(pg_sql "select coordinates[1]::text || ' ' || coordinates[2]::text from geo where ind = 990001")" = "1e-05 -5" ] \
  || pp_fail "coordinates: $(pg_sql "select coordinates from geo where ind = 990001")"
[ "$(pg_sql "select date_joined from \"user\" where ind = 990001")" = "2016-03-01 00:30:00+00" ] \
  || pp_fail "date_joined: $(pg_sql "select date_joined from \"user\" where ind = 990001")"
echo "ok: (1b) NUL dropped, latest wins, typed coordinates and timestamps"

# (2) a separate stream into PostgreSQL: kill -9, backend terminated, server restarted.
dir=$PP_TMP/two
pg_sql "create database two"
PG_URL=${PG_URL%/*}/two
pp_start "$dir" serve --listen 127.0.0.1:0 --fsync interval:5
serve=$PP_PID
python3 "$PP_SRC/tests/integration/load_acked.py" --url "$PP_URL" --events "$EVENTS" \
  --out "$dir/acked.txt" --threads 4 --duration 8 --loops 50 >"$dir/load.json" &
load=$!
for round in 1 2 3; do
  pp_start "$dir" stream --warehouse "$PG_URL" --batch 200
  stream=$PP_PID
  sleep 0.6
  for _ in 1 2 3; do
    pg_sql "select count(pg_terminate_backend(pid)) from pg_stat_activity
            where application_name = 'pinpipe' and pid <> pg_backend_pid()" >/dev/null
    sleep 0.3
  done
  [ "$round" = 2 ] && { pg_restart; sleep 0.5; }
  kill -0 "$stream" 2>/dev/null || { cat "$dir/stderr.log" >&2; pp_fail "stream died on a lost connection"; }
  kill -9 "$stream"
  wait "$stream" 2>/dev/null || true
done
wait "$load" || true
pp_stop "$serve"
# the last run catches up and stops by itself (--until-caught-up): exit 0, everything loaded
timeout 120 "$PINPIPE" stream --data-dir "$dir" --warehouse "$PG_URL" --until-caught-up \
  >"$dir/last.out" 2>>"$dir/stderr.log" || pp_fail "stream --until-caught-up exited with $?"
grep -q "caught up with the log" "$dir/stderr.log" || pp_fail "stream did not say it caught up"
pg_check "$dir" || pp_fail "exactly-once check failed on PostgreSQL"
n=$(grep -c "batch failed, retrying" "$dir/stderr.log" || true)
echo "stream batches retried after a lost connection: $n; client: $(cat "$dir/load.json")"
[ "$n" -ge 3 ] || pp_fail "expected the stream to lose its connection mid-load at least 3 times"
echo "ok: (2) stream killed -9, its backend terminated, the server restarted: exactly once"
