#!/usr/bin/env bash
# airflow_dag.sh: deploy/airflow/pinpipe_dag.py loads with Airflow >= 2.4's API (no
# schedule_interval, which Airflow 3 removed), has the tasks, order and timeouts of
# `pinpipe dag show`, every command runs under `set -euo pipefail`; run for a real day the way
# BashOperator runs tasks (tests/tools/airflow_run.py: Jinja-rendered, `bash -c`, env appended)
# every task succeeds and the day's markers exist; a failing command fails its task and the
# tasks after it do not run. Airflow itself is not installable here (not in Debian, PyPI
# unreachable): tests/tools/airflow_shim stands in for its DAG/BashOperator names only.
source "$(dirname "$0")/lib.bash"
dagfile=$PP_SRC/deploy/airflow/pinpipe_dag.py
runner=$PP_SRC/tests/tools/airflow_run.py
py=
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import jinja2' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || { echo "SKIP: no python3 with jinja2 (apt-get install python3-jinja2)" >&2; exit 77; }
D=2030-06-15

# 1. the DAG's shape equals pinpipe's own DAG
"$py" "$runner" "$dagfile" --ds $D --show >"$PP_TMP/show.tsv" || pp_fail "the DAG file does not load"
"$PINPIPE" dag show --data-dir "$PP_TMP/x" >"$PP_TMP/dagshow.txt"
ours=$(awk '/^task /{t=$2} /^  after/{a=$2} /^  timeout/{print t, ($2/1000), a}' "$PP_TMP/dagshow.txt")
theirs=$(awk -F'\t' '{print $1, $2, $3}' "$PP_TMP/show.tsv")
[ "$ours" = "$theirs" ] || pp_fail "Airflow DAG differs from pinpipe dag show: ours=[$ours] airflow=[$theirs]"
# the same pinpipe subcommand and flags per task (dates, data dir and redirections aside)
cmds() { sed -E 's/^set -euo pipefail; //; s/ --data-dir [^ ]+//; s/ --(date|close-day) [^ ]+/ --\1 D/;
                 s/ >\/dev\/null//; s/^pinpipe //'; }
ours=$(sed -n "s/^  command  '[^']*' //p" "$PP_TMP/dagshow.txt" | cmds)
theirs=$(cut -f4 "$PP_TMP/show.tsv" | cmds)
[ "$ours" = "$theirs" ] || pp_fail "Airflow DAG commands differ: ours=[$ours] airflow=[$theirs]"
n=$(awk -F'\t' '$4 !~ /^set -euo pipefail; pinpipe /' "$PP_TMP/show.tsv" | wc -l)
[ "$n" = 0 ] || pp_fail "tasks without set -euo pipefail: $(cat "$PP_TMP/show.tsv")"
[ "$(cut -f4 "$PP_TMP/show.tsv" | grep -c -- "--date $D\|--close-day $D")" = 4 ] \
  || pp_fail "ds not rendered into every command: $(cat "$PP_TMP/show.tsv")"
echo "ok: the DAG loads, same tasks/order/timeouts as pinpipe dag show, strict shell"

# 2. the API names Airflow 3 refuses are refused here too (the test would catch a regression)
sed 's/schedule="@daily"/schedule_interval="@daily"/' "$dagfile" >"$PP_TMP/old_dag.py"
rc=0; "$py" "$runner" "$PP_TMP/old_dag.py" --ds $D --show >/dev/null 2>"$PP_TMP/old.err" || rc=$?
[ "$rc" = 2 ] || pp_fail "a DAG with schedule_interval loaded (rc=$rc)"
echo "ok: schedule_interval refused: $(cat "$PP_TMP/old.err")"

# 3. a real day: ingest at noon of D (test clock), then run the DAG at 00:10 of D+1
shift_to() { echo $(( $(date -u -d "$1" +%s%3N) - $(date +%s%3N) )); }
dir=$PP_TMP/data
"$PINPIPE" gen --rows 50 --out "$PP_TMP/src" >/dev/null
PINPIPE_TEST_CLOCK_OFFSET_MS=$(shift_to "$D 12:00:00") pp_start "$dir" run --listen 127.0.0.1:0 \
  --no-schedule --roll-age 1s
"$PINPIPE" emulate --url "$PP_URL" --source "$PP_TMP/src" --events 40 --quiet --json \
  >"$PP_TMP/emulate.json" || pp_fail "emulate failed"
pp_stop "$PP_PID" # run finishes and commits the lake files, the stream its rows
printf '[pinpipe]\ndata_dir = %s\n' "$dir" >"$PP_TMP/pinpipe.conf"
export PATH=$(dirname "$PINPIPE"):$PATH
rc=0
PINPIPE_TEST_CLOCK_OFFSET_MS=$(shift_to "$(date -u -d "$D + 1 day" +%F) 00:10:00") \
  "$py" "$runner" "$dagfile" --ds $D --env PINPIPE_CONFIG="$PP_TMP/pinpipe.conf" \
  >"$PP_TMP/run.txt" 2>"$PP_TMP/run.err" || rc=$?
[ "$rc" = 0 ] || pp_fail "the DAG failed for a closed day: $(cat "$PP_TMP/run.txt" "$PP_TMP/run.err")"
[ "$(grep -c ' success 0$' "$PP_TMP/run.txt")" = 4 ] || pp_fail "not 4 successes: $(cat "$PP_TMP/run.txt")"
for t in pin geo user; do
  [ -s "$dir/lake/topic=$t/dt=$D/_SUCCESS" ] || pp_fail "no marker for $t $D"
done
echo "ok: a closed day runs through all four tasks: $(grep -E " (success|failed) " "$PP_TMP/run.txt" | tr "\n" " ")"

# 4. a failing command fails its task; the tasks after it are upstream_failed
printf '[pinpipe]\ndata_dir = %s\n' "$PP_TMP/nowhere" >"$PP_TMP/bad.conf"
rc=0
"$py" "$runner" "$dagfile" --ds $D --env PINPIPE_CONFIG="$PP_TMP/bad.conf" \
  >"$PP_TMP/bad.txt" 2>"$PP_TMP/bad.err" || rc=$?
[ "$rc" = 1 ] || pp_fail "the DAG did not fail (rc=$rc): $(cat "$PP_TMP/bad.txt")"
grep -q '^day_closed failed 1$' "$PP_TMP/bad.txt" || pp_fail "day_closed did not fail: $(cat "$PP_TMP/bad.txt")"
[ "$(grep -c ' upstream_failed ' "$PP_TMP/bad.txt")" = 3 ] || pp_fail "downstream ran: $(cat "$PP_TMP/bad.txt")"
grep -q "no log at" "$PP_TMP/bad.err" || pp_fail "no clear error: $(cat "$PP_TMP/bad.err")"
echo "ok: a failing command fails its task: $(head -1 "$PP_TMP/bad.err")"
