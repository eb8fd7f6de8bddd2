#!/usr/bin/env bash
# run_schedule.sh: `pinpipe run` runs the daily DAG's scheduler as a child process: on a fresh
# data dir yesterday's run (day_closed -> load -> insights -> quality) succeeds and is in
# the run history; SIGTERM stops the child with run; kill -9 of run takes the child down too
# (PR_SET_PDEATHSIG); --no-schedule starts none.
set -uo pipefail
: "${PINPIPE:?}"
tmp=$(mktemp -d); pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; pkill -f "schedule --data-dir $tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if [ "$2" = "$3" ]; then pass=$((pass+1)); else
  echo "FAIL: $1: got '$2', expected '$3'" >&2; fail=$((fail+1)); fi; }
yesterday=$(date -u -d yesterday +%F)
# children DIR: scheduler processes of run $pid (direct children only: a task being forked
# has the scheduler's command line for a moment)
children() { pgrep -P "$pid" -f "schedule --data-dir $tmp/$1" | wc -l; }
start() { # $1: data dir name, rest: flags
  local d=$tmp/$1; shift
  "$PINPIPE" run --listen 127.0.0.1:0 --data-dir "$d" "$@" 2>"$d.log" &
  pid=$!
  for _ in $(seq 100); do [ -s "$d/listen" ] && break; sleep 0.05; done
}
# history DIR TASK: the state of TASK for yesterday
state() {
  "$PINPIPE" dag history --data-dir "$tmp/$1" 2>/dev/null |
    awk -v d="$yesterday" -v t="$2" '$2 == d && $3 == t {print $4; exit}'
}

start a
for _ in $(seq 200); do [ "$(state a quality)" = success ] && break; sleep 0.1; done
for t in day_closed load insights quality; do
  check "yesterday's $t in the history" "$(state a $t)" success
done
check "one scheduler child" "$(children a)" 1
spid=$(pgrep -P "$pid" -f "schedule --data-dir $tmp/a")
kill -TERM $pid; wait $pid; rc=$?; pid=
check "run stops cleanly" "$rc" 0
check "scheduler stopped with run" "$(kill -0 "$spid" 2>/dev/null && echo alive || echo gone)" gone

start b
for _ in $(seq 100); do [ "$(children b)" = 1 ] && break; sleep 0.05; done
check "scheduler child of b" "$(children b)" 1
spid=$(pgrep -P "$pid" -f "schedule --data-dir $tmp/b")
kill -9 $pid; wait $pid 2>/dev/null; pid=
for _ in $(seq 200); do kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
check "kill -9 of run takes the scheduler down" "$(kill -0 "$spid" 2>/dev/null && echo alive || echo gone)" gone

start c --no-schedule
# run decides about the scheduler once it serves: wait (bounded) for its word on it
for _ in $(seq 200); do grep -q "scheduler not started (--no-schedule)" "$tmp/c.log" && break; sleep 0.05; done
check "--no-schedule: said so" "$(grep -c "scheduler not started (--no-schedule)" "$tmp/c.log")" 1
check "--no-schedule: no child" "$(pgrep -f "schedule --data-dir $tmp/c" | wc -l)" 0
check "--no-schedule: no runs" "$("$PINPIPE" dag history --data-dir "$tmp/c" | wc -l)" 1
kill -TERM $pid; wait $pid; pid=
echo "run_schedule: $pass passed, $fail failed"
[ "$fail" = 0 ]
