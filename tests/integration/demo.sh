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
  # a summary, not the whole tables: the first rows of each insight and how many more
  [ "$(wc -l <"$PP_TMP/demo.out")" -lt 150 ] || pp_fail "demo printed $(wc -l <"$PP_TMP/demo.out") lines"
  grep -Eq '^  \.\.\. [0-9]+ more$' "$PP_TMP/demo.out" || pp_fail "demo does not say how many rows it left out"
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
        # every record came through the log today and the lake has consumed it all
        ("pin", "log_records"): len(ev), ("geo", "log_records"): len(ev),
        ("pin", "missing_in_lake"): 0, ("geo", "missing_in_lake"): 0,
        ("user", "missing_in_lake"): 0,
        ("pin", "rejected_at_ingest"): 0, ("geo", "rejected_at_ingest"): 0,
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
  # the reverse: a geo lake file of today lost -> the warehouse ids that came through the log
  # today and are in no remaining lake file of the day (counted here from the files)
  lost=$(find "$PP_TMP/sample/lake/topic=geo/dt=$today" -name '*.jsonl' | sort | sed -n 1p)
  mv "$lost" "$PP_TMP/lost.jsonl"
  want=$(python3 - "$PP_TMP/lost.jsonl" "$PP_TMP/sample/lake/topic=geo/dt=$today" \
    "$PP_TMP/sample/warehouse.db" <<'PY'
import glob, json, sqlite3, sys
ids = lambda f: {json.loads(l)["ind"] for l in open(f)}
kept = set().union(*[ids(f) for f in glob.glob(sys.argv[2] + "/*.jsonl")])
wh = {r[0] for r in sqlite3.connect(sys.argv[3]).execute("select ind from geo")}
print(len((ids(sys.argv[1]) - kept) & wh))
PY
)
  [ "$want" -gt 0 ] || pp_fail "the lost lake file had no ids of its own"
  "$PINPIPE" quality --date "$today" --data-dir "$PP_TMP/sample" --max-missing 1000 \
    >"$PP_TMP/q.out" 2>"$PP_TMP/q.err" && pp_fail "quality passed with a lake file lost"
  grep -q "^geo: $want warehouse ids that came through the log on $today are missing from the day's lake (max 0)" \
    <(sed 's/^pinpipe quality: //' "$PP_TMP/q.err") || pp_fail "reverse: want $want, got: $(cat "$PP_TMP/q.err")"
  grep -q "^geo *missing_in_lake *$want$" "$PP_TMP/q.out" || pp_fail "reverse count not printed"
  [ "$(sqlite3 "$PP_TMP/sample/warehouse.db" "select value from pp_quality where topic='geo' and metric='missing_in_lake'")" = "$want" ] \
    || pp_fail "missing_in_lake not stored"
  "$PINPIPE" quality --date "$today" --data-dir "$PP_TMP/sample" --max-missing 1000 \
    --max-reverse-missing "$want" >/dev/null 2>&1 || pp_fail "--max-reverse-missing $want did not pass"
  mv "$PP_TMP/lost.jsonl" "$lost"
  # records serve rejects at ingest, counted per kind and status from the dead-letter topic
  # (needs serve's dead letters, --rejects-topic): the statuses as curl saw them
  pp_start "$PP_TMP/sample" serve --listen 127.0.0.1:0
  : >"$PP_TMP/sent"
  post() { # KIND CONTENT-TYPE BODY
    printf '%s %s\n' "$1" "$(curl -s -o /dev/null -w '%{http_code}' -H "Content-Type: $2" \
      --data-binary "$3" "$PP_URL/$1/")" >>"$PP_TMP/sent"
  }
  for i in 1 2 3; do post pin application/json "{\"index\": \"x$i\"}"; done
  post pin application/json 'not json'
  post geo application/json '{"ind": 1, "country": "X"}'
  post geo application/json '['
  post user text/plain 'x'
  printf 'none %s\n' "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/vnd.kafka.json.v2+json' \
    --data-binary '{"records":[{"value":{}}]}' "$PP_URL/topics/nope")" >>"$PP_TMP/sent"
  pp_stop "$PP_PID"
  # a dead letter of another day is not today's
  printf '%s\n' '{"ts":"2001-01-01T00:00:00.000Z","api":"fastapi","path":"/pin/","kind":"pin","status":422,"error":"x"}' \
    | "$PINPIPE" log append --data-dir "$PP_TMP/sample" --topic pinpipe.rejected >/dev/null \
    || pp_fail "log append"
  "$PINPIPE" quality --date "$today" --data-dir "$PP_TMP/sample" --max-missing 1000 \
    >"$PP_TMP/q.out" 2>"$PP_TMP/q.err" && pp_fail "quality passed with ingest rejects"
  python3 - "$PP_TMP/sent" "$PP_TMP/q.out" <<'PY' || pp_fail "ingest rejects differ from what serve answered"
import collections, sys
want = collections.Counter()
for line in open(sys.argv[1]):
    kind, status = line.split()
    assert 400 <= int(status) <= 499, line
    want[(kind, "rejected_at_ingest")] += 1
    want[(kind, "rejected_at_ingest_" + status)] += 1
got = {}
for line in open(sys.argv[2]).read().splitlines()[1:]:
    t, m, v = line.split()
    if m.startswith("rejected_at_ingest"):
        got[(t, m)] = int(v)
want = {k: v for k, v in want.items()}
for t in ("pin", "geo", "user"):
    want.setdefault((t, "rejected_at_ingest"), 0)
print("ingest rejects: want", sorted(want.items()), "got", sorted(got.items())) if got != want else None
sys.exit(0 if got == want else 1)
PY
  n=$(wc -l <"$PP_TMP/sent")
  grep -q "all: $n records or requests of $today rejected at ingest" "$PP_TMP/q.err" \
    || pp_fail "ingest rejects threshold: $(cat "$PP_TMP/q.err")"
  "$PINPIPE" quality --date "$today" --data-dir "$PP_TMP/sample" --max-missing 1000 \
    --max-ingest-rejected "$n" >/dev/null 2>&1 || pp_fail "--max-ingest-rejected $n did not pass"
  [ "$(sqlite3 "$PP_TMP/sample/warehouse.db" "select sum(value) from pp_quality where metric='rejected_at_ingest'")" = "$n" ] \
    || pp_fail "ingest rejects not stored"
  "$PINPIPE" quality --date "$today" --data-dir "$PP_TMP/sample" --max-missing 1000 \
    --rejects-topic '' >"$PP_TMP/q.out" 2>&1 || pp_fail "--rejects-topic '' still counted"
  ! grep -q rejected_at_ingest "$PP_TMP/q.out" || pp_fail "--rejects-topic '' printed ingest rejects"
  # a second demo on the same dir starts afresh (the dir is the demo's own)
  run_demo "$PP_TMP/sample" --sample "$EVENTS"
  grep -q "rows       pin 2019, geo 2019, user 2019" "$PP_TMP/demo.out" \
    || pp_fail "second demo did not start afresh"
  echo "ok: demo on the real sample equals the independent computation"
else
  echo "SKIP: real sample absent; generated-rows demo passed" >&2
fi
