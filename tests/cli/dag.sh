#!/usr/bin/env bash
# dag.sh: `pinpipe dag` on a real data dir: a run succeeds and is in the warehouse's history;
# a failing task is retried as configured, then failed with its error; a backfill runs later
# days after a failed one and exits 1. The graph is day_closed -> load -> insights ->
# quality, and every task's state is in the history.
set -uo pipefail
: "${PINPIPE:?}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1" >&2; fail=$((fail+1)); fi; }
d=$tmp/d
"$PINPIPE" demo --generate --events 300 --data-dir "$d" >/dev/null 2>&1
ok "demo data dir ready" '[ -f "$d/warehouse.db" ]'
today=$(date -u +%F); yesterday=$(date -u -d yesterday +%F)
# today's records close no earlier than midnight + grace: runs of today use the test clock
# shifted to 00:10 tomorrow (PINPIPE_TEST_CLOCK_OFFSET_MS, pp_util.h)
tomorrow_0010=$(( $(date -u -d "$(date -u -d tomorrow +%F) 00:10:00" +%s%3N) - $(date +%s%3N) ))
ok "dag list" '"$PINPIPE" dag list | grep -q "pinpipe_daily *@daily"'
ok "dag list shows the graph" '"$PINPIPE" dag list | grep -q "day_closed -> load -> insights -> quality"'
ok "dag show names the four tasks" '[ "$("$PINPIPE" dag show | grep "^task " | tr "\n" " ")" = "task day_closed task load task insights task quality " ]'
ok "dag show: each task after the one before" '[ "$("$PINPIPE" dag show | sed -n "s/^  after *//p" | tr "\n" " ")" = "- day_closed load insights " ]'
ok "dag show: load and insights are batch steps" '"$PINPIPE" dag show | grep -q "command .* batch --step load " && "$PINPIPE" dag show | grep -q "command .* batch --step insights "'
PINPIPE_TEST_CLOCK_OFFSET_MS=$tomorrow_0010 \
  "$PINPIPE" dag run --date "$today" --data-dir "$d" >"$tmp/run.out" 2>"$tmp/run.err"; rc=$?
ok "run of today succeeds" '[ $rc = 0 ] && grep -q "pinpipe_daily $today success" "$tmp/run.out"'
for t in day_closed load insights quality; do
  ok "run of today: $t succeeded" 'grep -q "^  $t *success *attempts=1" "$tmp/run.out"'
done
"$PINPIPE" insights --data-dir "$d" --run-date "$today" --format json >"$tmp/snap.json" 2>&1
ok "the insights task stored the snapshot of today" 'grep -q popular_category_by_country "$tmp/snap.json"'
ok "the quality task stored today's checks" \
   '[ "$(sqlite3 "$d/warehouse.db" "select count(*) from pp_quality where run_date = '"'"'$today'"'"' and metric = '"'"'missing_in_lake'"'"'")" = 3 ]'
"$PINPIPE" dag run --date 2001-01-01 --data-dir "$d" --retries 2 --retry-delay 10ms \
  >"$tmp/fail.out" 2>"$tmp/fail.err"; rc=$?
ok "run of a day without data fails (exit 1)" '[ $rc = 1 ]'
ok "failed task tried 1 + 2 retries" 'grep -q "load *failed *attempts=3 error=exit status 1: pinpipe batch: no lake data" "$tmp/fail.out"'
ok "tasks after the failed one are upstream_failed" \
   'grep -q "insights *upstream_failed" "$tmp/fail.out" && grep -q "quality *upstream_failed" "$tmp/fail.out"'
ok "retries were logged" '[ "$(grep -c "task failed, retrying" "$tmp/fail.err")" = 2 ]'
"$PINPIPE" dag history --data-dir "$d" >"$tmp/hist.out"
for t in day_closed load insights quality; do
  ok "history: today's $t succeeded" 'grep -q "pinpipe_daily *$today *$t *success *1 " "$tmp/hist.out"'
done
ok "history: today's four tasks, nothing else" '[ "$(grep -c "pinpipe_daily *$today " "$tmp/hist.out")" = 4 ]'
ok "history: day_closed succeeded on the failed day" 'grep -q "pinpipe_daily *2001-01-01 *day_closed *success *1 " "$tmp/hist.out"'
ok "history: the failure with attempts and error" 'grep -q "pinpipe_daily *2001-01-01 *load *failed *3 .*no lake data" "$tmp/hist.out"'
for t in insights quality; do
  ok "history: $t blocked after the failed load" 'grep -q "pinpipe_daily *2001-01-01 *$t *upstream_failed" "$tmp/hist.out"'
done
PINPIPE_TEST_CLOCK_OFFSET_MS=$tomorrow_0010 \
  "$PINPIPE" dag backfill --from "$yesterday" --to "$today" --data-dir "$d" --retries 0 \
  >"$tmp/bf.out" 2>/dev/null; rc=$?
ok "backfill exits 1 when a day failed" '[ $rc = 1 ]'
ok "backfill: the failed day, then the later day succeeded" \
   'grep -q "pinpipe_daily $yesterday failed" "$tmp/bf.out" && grep -q "pinpipe_daily $today success" "$tmp/bf.out"'
ok "bad date is a usage error" '"$PINPIPE" dag run --date 2001-13-01 >/dev/null 2>&1; [ $? = 2 ]'
# the scheduler: nothing run yet in a fresh dir -> yesterday is due; it runs, is recorded, and
# SIGTERM stops the daemon promptly
d2=$tmp/d2
"$PINPIPE" demo --generate --events 50 --data-dir "$d2" >/dev/null 2>&1
"$PINPIPE" dag schedule --data-dir "$d2" --retries 0 >"$tmp/sched.out" 2>"$tmp/sched.err" &
spid=$!
for _ in $(seq 100); do grep -q "pinpipe_daily $yesterday" "$tmp/sched.out" && break; sleep 0.1; done
kill -TERM $spid
for _ in $(seq 30); do kill -0 $spid 2>/dev/null || break; sleep 0.1; done
ok "scheduler stops on SIGTERM" '! kill -0 $spid 2>/dev/null'
wait $spid 2>/dev/null
ok "scheduler ran yesterday's due run" 'grep -q "pinpipe_daily $yesterday failed" "$tmp/sched.out"'
ok "scheduler recorded it" '"$PINPIPE" dag history --data-dir "$d2" | grep -q "pinpipe_daily *$yesterday *load *failed"'
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
