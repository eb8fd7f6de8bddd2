#!/usr/bin/env bash
# mariadb_source.sh: the seeds' MySQL source tables on a real MariaDB server: `pinpipe gen
# --mysql` fills them, `pinpipe emulate --source mysql://...` (random offsets, by index, and
# streamed) posts their rows into `pinpipe run`; checked with the mariadb client, the lake's raw
# records, the warehouse and insights_check.py on the real sample rows; plus the error cases.
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
source "$(dirname "${BASH_SOURCE[0]}")/mariadb.bash"
set +e
command -v python3 >/dev/null || { echo "SKIP: python3 missing" >&2; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 missing" >&2; exit 77; }
pp_mariadb_start
URL=$PP_MY_URL
T=$PP_TMP
ok() { echo "ok   $*"; }

# run_pipeline DIR: a fresh `pinpipe run` (lake files roll every second) -> PP_URL, RUN_PID
run_pipeline() {
  pp_start "$1" run --listen 127.0.0.1:0 --roll-age 1s --quiet
  RUN_PID=$PP_PID
}
# wait_lake DIR: until DIR's lake holds, per kind, exactly the ids of the warehouse, the same
# for 2 s (the lake and stream consumers run independently; lake files roll every second)
wait_lake() {
  local i got last= same=0
  for i in $(seq 1 120); do
    if got=$(python3 - "$1" <<'PY'
import glob, json, sqlite3, sys
d = sys.argv[1]
db = sqlite3.connect(f"file:{d}/warehouse.db?mode=ro", uri=True, timeout=5)
sizes = []
for kind, idk in (("pin", "index"), ("geo", "ind"), ("user", "ind")):
    lake = set()
    for f in glob.glob(f"{d}/lake/topic={kind}/**/*.jsonl", recursive=True):
        lake |= {json.loads(l)[idk] for l in open(f, encoding="utf-8") if l.strip()}
    wh = {r[0] for r in db.execute(f"select ind from {kind}")}
    if not lake or lake != wh:
        sys.exit(1)
    sizes.append(len(lake))
print(*sizes)
PY
    ); then
      if [ "$got" = "$last" ]; then same=$((same + 1)); else same=0; last=$got; fi
      [ $same -ge 4 ] && return 0
    fi
    sleep 0.5
  done
  pp_fail "the lake of $1 did not reach the warehouse's ids"
}
# lake_records DIR KIND: the raw records of a kind in DIR's lake, one per line, by id
lake_records() {
  python3 - "$1/lake" "$2" <<'PY'
import glob, json, sys
root, kind = sys.argv[1:]
idk = "index" if kind == "pin" else "ind"
recs = {}
for f in glob.glob(f"{root}/topic={kind}/**/*.jsonl", recursive=True):
    for line in open(f, encoding="utf-8"):
        line = line.rstrip("\n")
        if line:
            recs[json.loads(line)[idk]] = line
for i in sorted(recs):
    print(recs[i])
PY
}

# ---- errors before there are tables ----
"$PINPIPE" emulate --url http://127.0.0.1:9 --source "$URL" --events 1 --quiet 2>"$T/e.err"
rc=$?
[ $rc = 1 ] && grep -q "pinterest_data.*doesn't exist" "$T/e.err" ||
  { cat "$T/e.err"; pp_fail "unknown table: exit $rc"; }
[ "$(grep -c '^pinpipe emulate: ' "$T/e.err")" = 1 ] || pp_fail "unknown table: not one line"
ok "unknown table -> exit 1: $(head -1 "$T/e.err")"
"$PINPIPE" emulate --url http://127.0.0.1:9 --source "mysql://u@h:99999/db" 2>"$T/e.err"
[ $? = 2 ] || pp_fail "bad port in URL: not exit 2"
"$PINPIPE" emulate --url http://127.0.0.1:9 --source "mysql://u@h" 2>>"$T/e.err"
[ $? = 2 ] || pp_fail "URL without db: not exit 2"
"$PINPIPE" gen --mysql "mysql://u@[::1/db" 2>>"$T/e.err"
[ $? = 2 ] || pp_fail "gen bad URL: not exit 2"
"$PINPIPE" emulate --url http://127.0.0.1:9 --source-mode stream 2>>"$T/e.err"
[ $? = 2 ] || pp_fail "--source-mode without a MySQL source: not exit 2"
ok "bad URLs and flags -> exit 2"
FREE=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PINPIPE" emulate --url http://127.0.0.1:9 --source "mysql://x:hunter2@127.0.0.1:$FREE/db" \
  --events 1 --quiet 2>"$T/e.err"
rc=$?
[ $rc = 1 ] && [ "$(grep -c '^pinpipe emulate: ' "$T/e.err")" = 1 ] && grep -q "cannot connect to mysql://x@127.0.0.1:$FREE/db" "$T/e.err" ||
  { cat "$T/e.err"; pp_fail "refused connection: exit $rc"; }
! grep -q hunter2 "$T/e.err" || pp_fail "the password was printed"
grep -q "Connection refused" "$T/e.err" || pp_fail "refused connection: no reason"
ok "refused connection -> exit 1: $(head -1 "$T/e.err")"
"$PINPIPE" gen --mysql "mysql://$PP_MY_USER:wrong@127.0.0.1:$PP_MY_PORT/$PP_MY_DB" --rows 1 2>"$T/e.err"
rc=$?
[ $rc = 1 ] && grep -q "Access denied" "$T/e.err" && ! grep -q wrong "$T/e.err" ||
  { cat "$T/e.err"; pp_fail "wrong password: exit $rc"; }
ok "wrong password -> exit 1"

# ---- gen --mysql: 2000 rows, the same as gen's files ----
t0=$(date +%s.%N)
"$PINPIPE" gen --mysql "$URL" --rows 2000 --seed 7 2>"$T/gen.err" || { cat "$T/gen.err"; pp_fail "gen --mysql"; }
cat "$T/gen.err"
for t in pinterest_data geolocation_data user_data; do
  n=$(pp_mariadb_client -e "SELECT COUNT(*) FROM $t") || pp_fail "count $t"
  [ "$n" = 2000 ] || pp_fail "$t has $n rows, want 2000"
done
ok "gen --mysql --rows 2000: 2000 rows per table"
"$PINPIPE" gen --mysql "$URL" --rows 10 2>"$T/e.err"
[ $? = 1 ] && grep -q -- "--truncate" "$T/e.err" || { cat "$T/e.err"; pp_fail "duplicate ids"; }
ok "gen --mysql again without --truncate -> exit 1 with a hint"
"$PINPIPE" gen --rows 2000 --seed 7 --out "$T/files" 2>/dev/null || pp_fail "gen files"
# the tables hold the very values of the files (the mariadb client's batch output, unescaped)
same_as_files() {
  pp_mariadb_client -e "SELECT * FROM geolocation_data ORDER BY ind" >"$T/geo.tsv" &&
    pp_mariadb_client -e "SELECT * FROM user_data ORDER BY ind" >"$T/user.tsv" &&
    pp_mariadb_client -e "SELECT * FROM pinterest_data ORDER BY \`index\`" >"$T/pin.tsv" ||
    pp_fail "dumping the tables"
  python3 - "$T" <<'PY'
import json, sys
d = sys.argv[1]
def unesc(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"t": "\t", "n": "\n", "\\": "\\", "0": "\0"}.get(s[i + 1], s[i + 1])); i += 2
        else:
            out.append(s[i]); i += 1
    return "".join(out)
quotes = 0
for k in ("pin", "geo", "user"):
    want = [json.loads(l) for l in open(f"{d}/files/{k}.jsonl", encoding="utf-8")]
    got = [l.rstrip("\n").split("\t") for l in open(f"{d}/{k}.tsv", encoding="utf-8")]
    assert len(want) == len(got) == 2000, (k, len(want), len(got))
    for w, g in zip(want, got):
        assert len(g) == len(w), (k, g)
        for (key, v), s in zip(w.items(), g):
            s = unesc(s)
            if isinstance(v, float):
                assert float(s) == v, (k, key, v, s)
            else:
                assert str(v) == s, (k, key, v, s)
            quotes += isinstance(v, str) and ("'" in v or '"' in v)
assert quotes > 100, quotes  # the escaping was exercised
PY
}
same_as_files || pp_fail "table values differ from gen's files"
# again with the server in NO_BACKSLASH_ESCAPES mode (string literals quote differently)
MODE=$(pp_mariadb_sql "SELECT @@GLOBAL.sql_mode") || pp_fail "reading sql_mode"
pp_mariadb_sql "SET GLOBAL sql_mode = 'NO_BACKSLASH_ESCAPES,$MODE'" ||
  pp_fail "setting NO_BACKSLASH_ESCAPES"
"$PINPIPE" gen --mysql "$URL" --rows 2000 --seed 7 --truncate 2>/dev/null || pp_fail "gen, NO_BACKSLASH_ESCAPES"
pp_mariadb_sql "SET GLOBAL sql_mode = '$MODE'" || pp_fail "restoring sql_mode"
same_as_files || pp_fail "table values differ from gen's files (NO_BACKSLASH_ESCAPES)"
ok "table values equal gen --out's files"

# ---- emulate: random offsets (as the seeds), into pinpipe run ----
run_pipeline "$T/run1"
"$PINPIPE" emulate --url "$PP_URL" --source "$URL" --events 300 --seed 3 --quiet --json \
  >"$T/emu1.json" 2>"$T/emu1.err" || { cat "$T/emu1.err"; pp_fail "emulate random: exit $?"; }
grep -q '"events":300,"sent":900,"acked":900,"rejected":0' "$T/emu1.json" ||
  { cat "$T/emu1.json"; pp_fail "emulate random: not all acked"; }
"$PINPIPE" emulate --url "$PP_URL" --source "$URL" --source-mode index --events 100 --seed 4 \
  --quiet --json >"$T/emu2.json" 2>"$T/emu2.err" || { cat "$T/emu2.err"; pp_fail "emulate index"; }
grep -q '"events":100,"sent":300,"acked":300,"rejected":0' "$T/emu2.json" ||
  { cat "$T/emu2.json"; pp_fail "emulate index: not all acked"; }
pp_stop "$RUN_PID"
# a restart lets the consumers finish what SIGTERM left in the log; then the lake and the
# warehouse hold the same ids (the rows of one event share the id: the same offset)
run_pipeline "$T/run1"
wait_lake "$T/run1"
pp_stop "$RUN_PID"
for k in pin geo user; do lake_records "$T/run1" $k >"$T/run1.$k"; done
n=$(wc -l <"$T/run1.pin")
[ "$n" -gt 250 ] && [ "$n" -le 400 ] || pp_fail "distinct ids sent: $n"
[ "$(wc -l <"$T/run1.geo")" = "$n" ] && [ "$(wc -l <"$T/run1.user")" = "$n" ] ||
  pp_fail "pin, geo and user ids differ"
# every record sent is the generated row of its id, byte for byte (same JSON as the files)
for k in pin geo user; do
  python3 - "$T/run1.$k" "$T/files/$k.jsonl" "$k" <<'PY' || pp_fail "sent $k records differ from gen's rows"
import json, sys
sent, rows, kind = sys.argv[1:]
idk = "index" if kind == "pin" else "ind"
byid = {json.loads(l)[idk]: l.rstrip("\n") for l in open(rows, encoding="utf-8")}
for line in open(sent, encoding="utf-8"):
    line = line.rstrip("\n")
    assert byid[json.loads(line)[idk]] == line, line
PY
done
ok "emulate random + index: 1200 requests acked; lake and warehouse hold the ids sent, rows exact"

# ---- stream mode: every row once, in id order; early stop ----
run_pipeline "$T/run2"
"$PINPIPE" emulate --url "$PP_URL" --source "$URL" --source-mode stream --quiet --json \
  >"$T/emu3.json" 2>"$T/emu3.err" || { cat "$T/emu3.err"; pp_fail "emulate stream"; }
grep -q '"events":2000,"sent":6000,"acked":6000,"rejected":0' "$T/emu3.json" ||
  { cat "$T/emu3.json"; pp_fail "emulate stream: not all rows"; }
pp_wait_rows "$T/run2/warehouse.db" 2000 60
wait_lake "$T/run2"
timeout 20 "$PINPIPE" emulate --url "$PP_URL" --source "$URL" --source-mode stream --events 5 \
  --quiet --json >"$T/emu4.json" 2>&1 || { cat "$T/emu4.json"; pp_fail "stream --events 5"; }
grep -q '"events":5,"sent":15,"acked":15' "$T/emu4.json" || pp_fail "stream --events 5 count"
pp_stop "$RUN_PID"
for k in pin geo user; do
  lake_records "$T/run2" $k >"$T/run2.$k"
  cmp -s "$T/run2.$k" "$T/files/$k.jsonl" || pp_fail "streamed $k records differ from gen's file"
done
ok "emulate stream: 2000 events, records byte-identical to gen's files; --events 5 stops early"

# ---- MYSQL_PWD instead of a password in the URL ----
run_pipeline "$T/run3"
MYSQL_PWD=$PP_MY_PASS "$PINPIPE" emulate --url "$PP_URL" --events 10 --quiet --json \
  --source "mysql://$PP_MY_USER@127.0.0.1:$PP_MY_PORT/$PP_MY_DB" >"$T/emu5.json" 2>"$T/emu5.err" ||
  { cat "$T/emu5.err"; pp_fail "MYSQL_PWD"; }
grep -q '"acked":30' "$T/emu5.json" || pp_fail "MYSQL_PWD: not acked"
pp_stop "$RUN_PID"
ok "password from MYSQL_PWD"

# ---- the real sample rows: loaded with the mariadb client, streamed, insights checked ----
S=$PP_SHARED/data
sample_part() {
"$PINPIPE" gen --mysql "$URL" --rows 0 --truncate 2>/dev/null || pp_fail "emptying the tables"
python3 - "$S" <<'PY' >"$T/load.sql" || pp_fail "building INSERTs"
import json, sys
d = sys.argv[1]
def lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v)
    for a, b in (("\\", "\\\\"), ("'", "\\'"), ("\0", "\\0"), ("\n", "\\n"), ("\r", "\\r"), ("\x1a", "\\Z")):
        s = s.replace(a, b)
    return "'" + s + "'"
print("SET NAMES utf8mb4; START TRANSACTION;")
for k, t in (("pin", "pinterest_data"), ("geo", "geolocation_data"), ("user", "user_data")):
    for line in open(f"{d}/aicore_sample_{k}.jsonl", encoding="utf-8"):
        r = json.loads(line)
        cols = ",".join(f"`{c}`" for c in r)
        print(f"INSERT INTO `{t}` ({cols}) VALUES ({','.join(lit(v) for v in r.values())});")
print("COMMIT;")
PY
pp_mariadb_client <"$T/load.sql" || pp_fail "loading the sample with the mariadb client"
n=$(pp_mariadb_client -e "SELECT COUNT(*) FROM user_data")
[ "$n" = 2019 ] || pp_fail "sample user_data has $n rows"
run_pipeline "$T/run4"
"$PINPIPE" emulate --url "$PP_URL" --source "$URL" --source-mode stream --quiet --json \
  >"$T/emu6.json" 2>"$T/emu6.err" || { cat "$T/emu6.err"; pp_fail "emulate the sample"; }
grep -q '"events":2019,"sent":6057,"acked":6057,"rejected":0' "$T/emu6.json" ||
  { cat "$T/emu6.json"; pp_fail "sample: not all acked"; }
pp_wait_rows "$T/run4/warehouse.db" 2019 60
wait_lake "$T/run4"
"$PINPIPE" insights --warehouse "$T/run4/warehouse.db" --format json >"$T/insights.json" ||
  pp_fail "insights"
python3 "$PP_SRC/tests/integration/insights_check.py" --quiet \
  --tables "$S"/aicore_sample_{pin,geo,user}.jsonl --compare "$T/insights.json" ||
  pp_fail "insights of the sample streamed from MariaDB differ from insights_check.py"
pp_stop "$RUN_PID"
for k in pin geo user; do
  lake_records "$T/run4" $k >"$T/run4.$k"
  cmp -s "$T/run4.$k" "$S/aicore_sample_$k.jsonl" ||
    pp_fail "records of the sample streamed from MariaDB differ from aicore_sample_$k.jsonl"
done
ok "real sample: 2019 events from MariaDB, records byte-identical to the files, insights match"
}
if [ -f "$S/aicore_sample_pin.jsonl" ]; then
  sample_part
else
  echo "SKIP (part): no $S/aicore_sample_*.jsonl"
fi

# ---- the server goes away mid-run: exit 1 with one line, after the events in flight ----
run_pipeline "$T/run5"
"$PINPIPE" emulate --url "$PP_URL" --source "$URL" --events 0 --rate 100 --quiet --json \
  >"$T/emu7.json" 2>"$T/emu7.err" &
EMU=$!
# events are flowing (some records in the log) before the server goes away
for _ in $(seq 200); do
  [ "$("$PINPIPE" log topics --data-dir "$T/run5" 2>/dev/null | awk -F'\t' 'NR > 1 {n += $4} END {print n + 0}')" -ge 30 ] && break
  sleep 0.05
done
pp_mariadb_stop
rc=0
wait $EMU || rc=$?
[ $rc = 1 ] && [ "$(grep -c '^pinpipe emulate: ' "$T/emu7.err")" = 1 ] &&
  grep -q "^pinpipe emulate: reading .* from mysql://$PP_MY_USER@127.0.0.1:$PP_MY_PORT/$PP_MY_DB: " "$T/emu7.err" ||
  { cat "$T/emu7.err"; pp_fail "server gone: exit $rc"; }
pp_stop "$RUN_PID"
ok "server stopped mid-run -> exit 1: $(head -1 "$T/emu7.err")"
echo PASS
