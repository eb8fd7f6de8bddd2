#!/usr/bin/env bash
# dashboard.sh: the dashboard at / in a real browser. HTTP level first (serve): the page and
# its assets with content types, ETag -> 304, the JSON endpoints, 404s and the ingestion API
# untouched, --no-dashboard. Then `pinpipe run` with load from `pinpipe emulate`: headless
# Chromium (tests/browser/dashboard.mjs, playwright-core) keeps one page open, sees the
# throughput grow without a reload while load flows, then -- after the load, a successful and a
# failing `pinpipe dag run` -- shows exactly the numbers of `pinpipe insights --format json`
# (tables and chart data), the DAG runs of pp_dag_runs and the log's record count. Saves a
# screenshot to ${PP_TEST_OUT:-$PWD/test-output}/dashboard.png. Skips (77) without node or
# /usr/bin/chromium (scripts/deps.sh installs both).
source "$(dirname "$0")/lib.bash"
CHROMIUM=${PP_CHROMIUM:-/usr/bin/chromium}
command -v node >/dev/null && command -v npm >/dev/null \
  || { echo "SKIP: node/npm not installed" >&2; exit 77; }
[ -x "$CHROMIUM" ] || { echo "SKIP: $CHROMIUM not installed (apt-get install chromium)" >&2; exit 77; }
[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] \
  || { echo "SKIP: node $(node --version) is older than 20 (playwright-core needs 20)" >&2; exit 77; }
BROWSER=$PP_SRC/tests/browser
if [ ! -f "$BROWSER/node_modules/playwright-core/package.json" ]; then
  (cd "$BROWSER" && flock .npm-install.lock sh -c \
    '[ -f node_modules/playwright-core/package.json ] || npm ci --no-audit --no-fund --loglevel=error' >&2) \
    || pp_fail "npm ci in $BROWSER"
fi
OUT=${PP_TEST_OUT:-$PWD/test-output}
mkdir -p "$OUT"

"$PINPIPE" gen --rows 500 --out "$PP_TMP/src" >/dev/null 2>&1 || pp_fail "gen"
head -1 "$PP_TMP/src/pin.jsonl" >"$PP_TMP/pin1.json"

# ---- 1. HTTP level, on serve ----------------------------------------------------------------
S=$PP_TMP/serve
pp_start "$S" serve --listen 127.0.0.1:0 --threads 2
SERVE_PID=$PP_PID SURL=$PP_URL
hdr() { rm -f "$PP_TMP/body"; curl -s -o "$PP_TMP/body" -D "$PP_TMP/hdr" "$@"; }
header() { tr -d '\r' <"$PP_TMP/hdr" | sed -n "s/^$1: //Ip" | sed -n 1p; }
code() { sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' "$PP_TMP/hdr"; }
hdr "$SURL/"
[ "$(code)" = 200 ] || pp_fail "GET / answered $(code)"
[ "$(header content-type)" = "text/html; charset=utf-8" ] || pp_fail "GET /: content type $(header content-type)"
grep -q '<script src="/app.js"' "$PP_TMP/body" || pp_fail "GET / is not the dashboard page"
grep -Eqi 'src="https?:|href="https?:' "$PP_TMP/body" && pp_fail "the page loads something from the network"
etag=$(header etag)
[ -n "$etag" ] || pp_fail "GET / has no ETag"
hdr -H "If-None-Match: $etag" "$SURL/"
[ "$(code)" = 304 ] && [ ! -s "$PP_TMP/body" ] || pp_fail "If-None-Match with the ETag: $(code), not 304"
for f in "app.js text/javascript" "style.css text/css" "vendor/chart.umd.min.js text/javascript"; do
  set -- $f
  hdr "$SURL/$1"
  [ "$(code)" = 200 ] && [ "$(header content-type)" = "$2; charset=utf-8" ] \
    || pp_fail "GET /$1: $(code) $(header content-type)"
done
grep -q "Chart" "$PP_TMP/body" || pp_fail "chart.umd.min.js is not Chart.js"
hdr "$SURL/api/insights"   # no warehouse yet: a JSON error, not a crash, and nothing created
[ "$(code)" = 503 ] && grep -q '"error"' "$PP_TMP/body" || pp_fail "/api/insights without a warehouse: $(code)"
[ ! -e "$S/warehouse.db" ] || pp_fail "the dashboard created the warehouse"
hdr "$SURL/api/stats"
[ "$(code)" = 200 ] && [ "$(header content-type)" = application/json ] || pp_fail "/api/stats: $(code)"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [s["stage"] for s in d["stages"]][:2] == ["ingest","log"], d' \
  "$PP_TMP/body" || pp_fail "/api/stats stages"
for p in /nope /api/nope /index.htm; do
  hdr "$SURL$p"; [ "$(code)" = 404 ] || pp_fail "GET $p answered $(code)"
done
hdr -X POST -H 'Content-Type: application/json' -d '{}' "$SURL/"
[ "$(code)" = 404 ] || pp_fail "POST / answered $(code)"
hdr "$SURL/healthz"; [ "$(code)" = 200 ] || pp_fail "/healthz with the dashboard: $(code)"
hdr "$SURL/metrics"; grep -q 'route="dashboard",code="200"' "$PP_TMP/body" \
  || pp_fail "/metrics does not count the dashboard's requests"
hdr -X POST -H 'Content-Type: application/json' --data-binary "@$PP_TMP/pin1.json" "$SURL/pin/"
[ "$(code)" = 200 ] || pp_fail "POST /pin/ with the dashboard on: $(code)"
pp_stop "$SERVE_PID"
pp_start "$PP_TMP/nodash" serve --listen 127.0.0.1:0 --no-dashboard
hdr "$PP_URL/"; [ "$(code)" = 404 ] || pp_fail "--no-dashboard: GET / answered $(code)"
hdr "$PP_URL/api/stats"; [ "$(code)" = 404 ] || pp_fail "--no-dashboard: /api/stats answered $(code)"
pp_stop "$PP_PID"
echo "ok: HTTP level (assets, ETag/304, JSON, 404s, ingestion, --no-dashboard)"

# ---- 1b. serve --warehouse postgresql://: the same JSON from PostgreSQL (when installed) ----
source "$PP_SRC/tests/integration/pg.bash"
if [ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ]; then
  pg_start
  "$PINPIPE" stream --data-dir "$PP_TMP/pg" --warehouse "$PG_URL" >/dev/null 2>&1 &
  STREAM_PID=$!
  PP_PIDS+=("$STREAM_PID")
  pp_start "$PP_TMP/pg" serve --listen 127.0.0.1:0 --warehouse "$PG_URL"
  "$PINPIPE" emulate --url "$PP_URL" --source "$PP_TMP/src" --events 200 >/dev/null 2>&1 \
    || pp_fail "emulate into serve (PostgreSQL)"
  for i in $(seq 1 200); do
    "$PINPIPE" insights --warehouse "$PG_URL" --format json >"$PP_TMP/pg.json" 2>/dev/null
    sleep 0.1   # past the dashboard's 1 s cache on the last rounds
    hdr "$PP_URL/api/insights"
    python3 - "$PP_TMP/body" "$PP_TMP/pg.json" <<'PY' && break
import json, sys
page, cli = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
sys.exit(0 if page.get("insights") == cli and cli["popular_category_by_country"] else 1)
PY
  done
  [ "$i" -lt 200 ] || pp_fail "serve --warehouse postgresql://: /api/insights differs from pinpipe insights"
  pp_stop "$PP_PID"
  pp_stop "$STREAM_PID"
  pg_stop
  echo "ok: /api/insights from PostgreSQL equals pinpipe insights --warehouse postgresql://"
else
  echo "note: PostgreSQL not installed: its dashboard check skipped"
fi

# ---- 2. in the browser, on run with load flowing --------------------------------------------
D=$PP_TMP/run X=$PP_TMP/x
mkdir -p "$X"
pp_start "$D" run --listen 127.0.0.1:0 --roll-age 1s --threads 2
RUN_PID=$PP_PID URL=$PP_URL
node "$BROWSER/dashboard.mjs" "$URL" "$X" "$OUT/dashboard.png" >"$PP_TMP/node.log" 2>&1 &
NODE_PID=$!
PP_PIDS+=("$NODE_PID")
node_failed() { cat "$PP_TMP/node.log" >&2; pp_fail "$1"; }
wait_file() { # FILE SECONDS
  local i
  for i in $(seq 1 $(($2 * 10))); do
    [ -f "$1" ] && return 0
    kill -0 "$NODE_PID" 2>/dev/null || node_failed "the browser script ended early"
    sleep 0.1
  done
  node_failed "no $1 after $2 s"
}
wait_file "$X/page-ready" 60
# about 20 s of load at 200 events/s (3 records each), while the page is open
"$PINPIPE" emulate --url "$URL" --source "$PP_TMP/src" --events 4000 --rate 200 --quiet \
  >"$PP_TMP/emulate.out" 2>&1 &
EMU_PID=$!
PP_PIDS+=("$EMU_PID")
wait_file "$X/live-ok" 120
wait "$EMU_PID" || { cat "$PP_TMP/emulate.out" >&2; pp_fail "emulate failed"; }

# the pipeline settles: stream and lake caught up
for i in $(seq 1 600); do
  "$PINPIPE" status --data-dir "$D" >"$PP_TMP/status.out" 2>/dev/null || true
  grep -q "stream     total lag 0" "$PP_TMP/status.out" && grep -q "lake       total lag 0" "$PP_TMP/status.out" && break
  sleep 0.1
done
grep -q "lake       total lag 0" "$PP_TMP/status.out" || { cat "$PP_TMP/status.out" >&2; pp_fail "consumers did not catch up"; }
today=$(date -u +%F)
# today closes at midnight + grace: the run uses the test clock at 00:10 tomorrow
PINPIPE_TEST_CLOCK_OFFSET_MS=$(( $(date -u -d "$(date -u -d tomorrow +%F) 00:10" +%s%3N) - $(date +%s%3N) )) \
  "$PINPIPE" dag run --data-dir "$D" --date "$today" --retries 0 >"$PP_TMP/dag.out" 2>&1 \
  || { cat "$PP_TMP/dag.out" >&2; pp_fail "dag run $today failed"; }
"$PINPIPE" dag run --data-dir "$D" --date 2001-02-03 --retries 0 >"$PP_TMP/dag2.out" 2>&1 \
  && pp_fail "dag run of a day without lake data succeeded"
"$PINPIPE" insights --data-dir "$D" --format json >"$PP_TMP/insights.json" || pp_fail "insights"
sqlite3 -json -cmd ".timeout 5000" "$D/warehouse.db" \
  "select dag, run_date, task, state, attempts, error from pp_dag_runs" >"$PP_TMP/runs.json" \
  || pp_fail "reading pp_dag_runs"
python3 - "$PP_TMP/insights.json" "$PP_TMP/runs.json" "$PP_TMP/status.out" "$X/expect.json" <<'PY' \
  || pp_fail "building the expectation"
import json, os, sys
ins = json.load(open(sys.argv[1]))
runs = json.load(open(sys.argv[2]))
assert len(ins) == 9 and all(ins[k] for k in ("popular_category_by_country",
    "popular_category_by_year", "median_followers_by_age_group",
    "median_followers_by_join_year")), "insights are empty"
assert {r["state"] for r in runs} >= {"success", "failed"}, runs
# the log's records: the high watermarks of `pinpipe status`' log section
log, high = False, 0
for line in open(sys.argv[3]):
    if line.startswith("log"): log = True; continue
    if log and not line.strip(): break
    f = line.split()
    if log and len(f) >= 4 and f[1].isdigit() and f[3].isdigit(): high += int(f[3])
assert high >= 12000, high
tmp = sys.argv[4] + ".tmp"
json.dump({"insights": ins, "runs": runs, "log_records": high}, open(tmp, "w"))
os.rename(tmp, sys.argv[4])
PY
rc=0
wait "$NODE_PID" || rc=$?
cat "$PP_TMP/node.log"
[ "$rc" = 0 ] || pp_fail "the browser check failed (exit $rc)"
[ -s "$OUT/dashboard.png" ] || pp_fail "no screenshot at $OUT/dashboard.png"
pp_stop "$RUN_PID"
echo "ok: dashboard in Chromium equals pinpipe insights; screenshot $OUT/dashboard.png"
