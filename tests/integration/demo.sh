#!/usr/bin/env bash
# demo.sh: `pinpipe demo` end to end. On the real sample: exit 0, every section printed, the
# warehouse holds the 2019 distinct ids, and the insights equal the independent computation.
# With generated rows: exit 0 and the insights of its warehouse equal the independent
# computation over the same warehouse rows.
source "$(dirname "$0")/lib.bash"
run_demo() { # DIR ARGS...
  local dir=$1; shift
  "$PINPIPE" demo --data-dir "$dir" "$@" >"$PP_TMP/demo.out" 2>"$PP_TMP/demo.err" \
    || { cat "$PP_TMP/demo.err" >&2; pp_fail "demo $* exited non-zero"; }
  for s in "== 1. ingest" "== 2. stream" "== 3. batch" "== where everything lives" \
           "popular_category_by_country" "median_followers_by_age_group_and_join_year"; do
    grep -q -- "$s" "$PP_TMP/demo.out" || pp_fail "demo output lacks '$s'"
  done
  "$PINPIPE" insights --warehouse "$dir/warehouse.db" --format json >"$PP_TMP/insights.json"
}

run_demo "$PP_TMP/gen" --generate --events 1500
python3 "$PP_SRC/tests/integration/insights_check.py" --warehouse "$PP_TMP/gen/warehouse.db" \
  --compare "$PP_TMP/insights.json" || pp_fail "generated demo: insights differ"
echo "ok: demo on generated rows"

if [ -f "$EVENTS" ]; then
  run_demo "$PP_TMP/sample" --sample "$EVENTS"
  grep -q "rows       pin 2019, geo 2019, user 2019" "$PP_TMP/demo.out" \
    || pp_fail "demo on the sample did not load 2019 rows per table"
  python3 "$PP_SRC/tests/integration/insights_check.py" --events "$EVENTS" \
    --compare "$PP_TMP/insights.json" || pp_fail "sample demo: insights differ"
  "$PINPIPE" status --data-dir "$PP_TMP/sample" >"$PP_TMP/status.out" || pp_fail "status failed"
  grep -q "stream     total lag 0" "$PP_TMP/status.out" || pp_fail "status: stream lag not 0"
  grep -q "pin         2019 rows" "$PP_TMP/status.out" || pp_fail "status: warehouse rows"
  # data quality of today's lake, against counts computed here from the events file
  today=$(date -u +%F)
  "$PINPIPE" quality --date "$today" --data-dir "$PP_TMP/sample" >"$PP_TMP/q.out" \
    || pp_fail "quality failed on a complete day"
  python3 - "$EVENTS" "$PP_TMP/q.out" <<'PY' || pp_fail "quality numbers differ from the events file"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
blank = lambda v: v is None or not str(v).strip()
want = {("pin", "records"): len(ev),
        ("pin", "duplicates"): len(ev) - len({e["pin"]["index"] for e in ev}),
        ("pin", "missing_in_warehouse"): 0,
        ("pin", "null_title"): sum(e["pin"]["title"] == "No Title Data Available"
                                   or blank(e["pin"]["title"]) for e in ev),
        ("pin", "null_description"): sum(e["pin"]["description"] in (
            "No description available Story format", "No description available", "Untitled")
            or blank(e["pin"]["description"]) for e in ev),
        ("pin", "null_image_src"): sum(e["pin"]["image_src"] == "Image src error." for e in ev)}
got = {}
for line in open(sys.argv[2]).read().splitlines()[1:]:
    t, m, v = line.split()
    got[(t, m)] = int(v)
bad = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
print("quality mismatches:", bad) if bad else None
sys.exit(1 if bad else 0)
PY
  sqlite3 "$PP_TMP/sample/warehouse.db" "delete from geo where ind in (select ind from geo limit 3)"
  "$PINPIPE" quality --date "$today" --data-dir "$PP_TMP/sample" >/dev/null 2>"$PP_TMP/q.err" \
    && pp_fail "quality passed with rows missing from the warehouse"
  grep -q "geo: 3 ids of $today are missing from the warehouse" "$PP_TMP/q.err" \
    || pp_fail "quality's reason: $(cat "$PP_TMP/q.err")"
  [ "$(sqlite3 "$PP_TMP/sample/warehouse.db" "select value from pp_quality where topic='geo' and metric='missing_in_warehouse'")" = 3 ] \
    || pp_fail "quality results not stored in the warehouse"
  # a second demo on the same dir starts afresh (the dir is the demo's own)
  run_demo "$PP_TMP/sample" --sample "$EVENTS"
  grep -q "rows       pin 2019, geo 2019, user 2019" "$PP_TMP/demo.out" \
    || pp_fail "second demo did not start afresh"
  echo "ok: demo on the real sample equals the independent computation"
else
  echo "SKIP: real sample absent; generated-rows demo passed" >&2
fi
