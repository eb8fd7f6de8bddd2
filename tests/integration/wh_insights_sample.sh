#!/usr/bin/env bash
# wh_insights_sample.sh: the real sample through a lake day -> `pinpipe batch` -> warehouse,
# its insights checked against insights_check.py's independent computation (no SQL).
set -u
: "${PINPIPE:?path to the pinpipe binary}" "${PP_SRC:?repo}" "${PP_SHARED:=$PP_SRC/../shared}"
EVENTS=$PP_SHARED/data/aicore_events.jsonl
[ -r "$EVENTS" ] || { echo "skip: no $EVENTS"; exit 77; }
command -v python3 >/dev/null || { echo "skip: no python3"; exit 77; }
CHECK="python3 $PP_SRC/tests/integration/insights_check.py"
T=$(mktemp -d /tmp/wh_insights.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
DAY=2024-05-01

# The events in arrival order (resends included), split into one lake file per topic, plus
# one line that is not JSON and one pin without its id (dead letters).
python3 - "$EVENTS" "$T/lake" "$DAY" <<'EOF' || fail "building the lake day"
import json, os, sys
events, root, day = sys.argv[1:]
out = {}
for k in ("pin", "geo", "user"):
    os.makedirs(f"{root}/topic={k}/dt={day}")
    out[k] = open(f"{root}/topic={k}/dt={day}/{k}+0+0000000000.jsonl", "w", encoding="utf-8")
for line in open(events, encoding="utf-8"):
    ev = json.loads(line)
    for k in ("pin", "geo", "user"):
        out[k].write(json.dumps(ev[k], ensure_ascii=False) + "\n")
out["pin"].write('{"index": \n')
out["pin"].write('{"title": "no id"}\n')
EOF

"$PINPIPE" batch --date $DAY --lake "$T/lake" --warehouse "$T/wh.db" --format json \
    >"$T/batch.json" 2>"$T/batch.err" || { cat "$T/batch.err"; fail "batch exit $?"; }
cat "$T/batch.err"
grep -q "pin=2264 geo=2262 user=2262 inserted=6057 updated=0 unchanged=729 rejected=2" \
    "$T/batch.err" || fail "batch summary"

# 1. pinpipe's batch output vs the independent computation from the raw events
$CHECK --quiet --events "$EVENTS" --compare "$T/batch.json" || fail "batch vs --events"
# 2. ... and from the deduplicated source tables
$CHECK --quiet --tables "$PP_SHARED"/data/aicore_sample_{pin,geo,user}.jsonl \
    --compare "$T/batch.json" || fail "batch vs --tables"
# 3. live insights over the warehouse's rows equal the snapshot, and the checker agrees
"$PINPIPE" insights --warehouse "$T/wh.db" --format json >"$T/live.json" || fail "insights"
cmp -s "$T/live.json" "$T/batch.json" || fail "live insights differ from the batch snapshot"
$CHECK --quiet --warehouse "$T/wh.db" --compare "$T/live.json" || fail "live vs --warehouse"
"$PINPIPE" insights --warehouse "$T/wh.db" --format json --run-date $DAY >"$T/snap.json" ||
    fail "insights --run-date"
cmp -s "$T/snap.json" "$T/batch.json" || fail "stored snapshot differs"

# 4. a rerun of the day changes nothing (reconcile is idempotent)
"$PINPIPE" batch --date $DAY --lake "$T/lake" --warehouse "$T/wh.db" --quiet 2>"$T/rerun.err" ||
    fail "rerun"
grep -q "inserted=0 updated=0 unchanged=6786 rejected=2" "$T/rerun.err" ||
    { cat "$T/rerun.err"; fail "rerun summary"; }
[ "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
    "select count(*) from pp_rejects").fetchone()[0])' "$T/wh.db")" = 2 ] || fail "rejects twice"
"$PINPIPE" insights --warehouse "$T/wh.db" --format json >"$T/live2.json"
cmp -s "$T/live2.json" "$T/batch.json" || fail "insights changed after a rerun"

# 5. the other formats carry the same sections
"$PINPIPE" insights --warehouse "$T/wh.db" --format csv >"$T/out.csv" || fail "csv"
[ "$(grep -c '^# ' "$T/out.csv")" = 9 ] || fail "csv sections"
"$PINPIPE" insights --warehouse "$T/wh.db" >"$T/out.txt" || fail "table"
grep -q '^top_country_by_followers (' "$T/out.txt" || fail "table titles"

# 6. failures and usage errors
"$PINPIPE" batch --date 2024-05-02 --lake "$T/lake" --warehouse "$T/wh.db" 2>"$T/e1"
[ $? = 1 ] && grep -q "no lake data for topic=pin dt=2024-05-02 under $T/lake" "$T/e1" ||
    fail "missing day"
"$PINPIPE" batch --lake "$T/lake" 2>/dev/null; [ $? = 2 ] || fail "batch without --date"
"$PINPIPE" batch --date 2024-13-01 2>/dev/null; [ $? = 2 ] || fail "batch bad date"
"$PINPIPE" insights --warehouse "$T/nope.db" 2>/dev/null; [ $? = 1 ] || fail "no warehouse"
[ ! -e "$T/nope.db" ] || fail "insights created a warehouse"
"$PINPIPE" insights --warehouse "$T/wh.db" --format xml 2>/dev/null; [ $? = 2 ] ||
    fail "bad format"
"$PINPIPE" insights --warehouse "$T/wh.db" --run-date 2001-01-01 2>/dev/null; [ $? = 1 ] ||
    fail "missing snapshot"
grep -q -- --run-date <<<"$("$PINPIPE" insights --help)" || fail "insights --help"
grep -q -- --date <<<"$("$PINPIPE" batch --help)" || fail "batch --help"
# 7. another client's records (Kafka REST Proxy consumer dumps: some rows lack fields, ids
#    only partly shared across pin/geo/user); the checker reads the very lake files
D2=2024-05-02
python3 - "$PP_SHARED/data" "$T/lake" "$D2" <<'PY' || fail "building the second lake day"
import json, os, sys
data, root, day = sys.argv[1:]
for k in ("pin", "geo", "user"):
    os.makedirs(f"{root}/topic={k}/dt={day}")
    with open(f"{root}/topic={k}/dt={day}/{k}+3+0000000100.jsonl", "w", encoding="utf-8") as f:
        for m in json.load(open(f"{data}/regnixs_{k}_consumer.json", encoding="utf-8")):
            f.write(json.dumps(m["value"], ensure_ascii=False) + "\n")
PY
"$PINPIPE" batch --date $D2 --lake "$T/lake" --warehouse "$T/wh2.db" --format json \
    >"$T/b2.json" 2>"$T/b2.err" || { cat "$T/b2.err"; fail "batch day 2"; }
cat "$T/b2.err"
grep -q "rejected=2 " "$T/b2.err" || fail "day 2 rejects"
$CHECK --quiet --tables "$T"/lake/topic={pin,geo,user}/dt=$D2/*.jsonl --compare "$T/b2.json" ||
    fail "day 2 vs --tables"
$CHECK --quiet --warehouse "$T/wh2.db" --compare "$T/b2.json" || fail "day 2 vs --warehouse"
# 8. synthetic dirty records: every datetime shape (offsets that move the year), follower
#    counts with decimals, placeholders, blanks, nulls, age boundaries, resends that change
#    a row (latest wins), unicode
D3=2024-05-03
python3 - "$T/lake" "$D3" "$T/dirty.jsonl" <<'PY' || fail "building the dirty day"
import json, os, random, sys
root, day, events = sys.argv[1:]
rnd = random.Random(7)
pick = rnd.choice
ts = ["2018-01-01 02:00:00", "2018-01-01T02:00:00", "2018-01-01T02:00:00.123456Z",
      "2018-01-01T02:00:00+05:00", "2022-12-31T23:30:00-02:00", "2020-02-29 12:00:00.5",
      "2019-06-01", "2021-07-04T10:00:00+0530", "2017-12-31T23:59:59Z", None]
joined = ["2015-01-01T01:00:00+02:00", "2015-03-03 10:00:00", "2016-05-05T05:05:05Z",
          "2020-12-31T23:00:00-03:00", "2014-06-06 00:00:00", "2019-09-09", None]
fc = ["437", "124k", "1.2k", "2M", "3.75M", "12.5k", "0", "User Info Error", "", "  ", None,
      "abc", "1.2", "999"]
out = {k: open(f"{root}/topic={k}/dt={day}/{k}+0+0000000000.jsonl", "w", encoding="utf-8")
       for k in ("pin", "geo", "user") if not os.makedirs(f"{root}/topic={k}/dt={day}")}
with open(events, "w", encoding="utf-8") as ev:
    for n in range(600):
        i = rnd.randrange(250)
        e = {"pin": {"index": i, "unique_id": "u%d" % i, "title": pick(["t", "No Title Data Available", ""]),
                     "description": "d", "poster_name": pick(["Ann", "Bo", "Zoë", "User Info Error", " ", None]),
                     "follower_count": pick(fc), "tag_list": "a,b", "is_image_or_video": "image",
                     "image_src": "x", "downloaded": pick([0, 1]),
                     "save_location": "Local save in /data/art",
                     "category": pick(["art", "travel", "quotes", "finance", None, ""])},
             "geo": {"ind": i, "timestamp": pick(ts), "latitude": 1.5, "longitude": pick([2, -3.25]),
                     "country": pick(["Albania", "Côte d'Ivoire", "日本", "Chile", "", None, "Peru"])},
             "user": {"ind": i, "first_name": pick(["Al", "Bea", None]), "last_name": pick(["X", "Y"]),
                      "age": pick([17, 18, 24, 25, 35, 36, 50, 51, 80, None]), "date_joined": pick(joined)}}
        ev.write(json.dumps(e, ensure_ascii=False) + "\n")
        for k in out:
            out[k].write(json.dumps(e[k], ensure_ascii=False) + "\n")
PY
"$PINPIPE" batch --date $D3 --lake "$T/lake" --warehouse "$T/wh3.db" --format json \
    >"$T/b3.json" 2>"$T/b3.err" || { cat "$T/b3.err"; fail "batch day 3"; }
cat "$T/b3.err"
$CHECK --quiet --events "$T/dirty.jsonl" --compare "$T/b3.json" || fail "dirty day vs --events"
$CHECK --quiet --warehouse "$T/wh3.db" --compare "$T/b3.json" || fail "dirty day vs --warehouse"
echo "ok: batch, insights and the independent check agree on the real sample"
