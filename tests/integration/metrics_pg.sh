#!/usr/bin/env bash
# metrics_pg.sh: a `pinpipe stream --metrics-listen` worker on a real PostgreSQL warehouse:
# while the server is down the stream's transactions fail, /readyz answers 503 naming the
# warehouse and the retry counter moves (never stays 0 while failures happen); once the server
# is back the worker is ready again and every record acknowledged meanwhile is loaded once.
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pg.bash"
command -v psql >/dev/null || pp_fail "psql missing (apt-get install postgresql-client)"
pg_start fsync=off
dir=$PP_TMP/d
metric() { awk -v k="$2" '$1 == k {print $2; found=1} END {if (!found) print 0}' "$1"; }
code() { curl -s -o /dev/null -w '%{http_code}' "$1"; }
wait_for() { local i; for i in $(seq $(($1 * 10))); do "${@:2}" && return 0; sleep 0.1; done; return 1; }
is_code() { [ "$(code "$2")" = "$1" ]; }
loaded() { curl -sf "$mu/metrics" >"$PP_TMP/m" && [ "$(metric "$PP_TMP/m" pinpipe_stream_records_total)" = "$1" ]; }

pp_start "$dir" serve --listen 127.0.0.1:0
serve=$PP_PID
pp_start "$dir" stream --warehouse "$PG_URL" --metrics-listen 127.0.0.1:0
stream=$PP_PID
wait_for 20 test -s "$dir/workers/stream-$stream/listen" || pp_fail "no metrics address file"
mu=http://$(cat "$dir/workers/stream-$stream/listen")
wait_for 20 is_code 200 "$mu/readyz" || pp_fail "stream not ready on a running PostgreSQL"
"$PINPIPE" gen --rows 200 --seed 5 --out "$PP_TMP/src" >/dev/null 2>&1
"$PINPIPE" emulate --url "$PP_URL" --source "$PP_TMP/src" --events 20 >/dev/null 2>&1
wait_for 30 loaded 60 || pp_fail "the stream did not load 60 records"
[ "$(metric "$PP_TMP/m" pinpipe_stream_retries_total)" = 0 ] || pp_fail "retries without a failure"

pg_stop # the warehouse goes away; serve keeps acknowledging into the log
"$PINPIPE" emulate --url "$PP_URL" --source "$PP_TMP/src" --events 10 --seed 11 >/dev/null 2>&1 \
  || pp_fail "serve must not depend on the warehouse"
wait_for 30 is_code 503 "$mu/readyz" || pp_fail "/readyz stayed 200 with the warehouse down"
curl -s "$mu/readyz" | grep -q '"reason":"warehouse: ' || pp_fail "/readyz does not name the warehouse"
curl -sf "$mu/metrics" >"$PP_TMP/down"
[ "$(metric "$PP_TMP/down" pinpipe_stream_retries_total)" -ge 1 ] || pp_fail "retries stayed 0"
[ "$(metric "$PP_TMP/down" pinpipe_stream_failing_transactions)" -ge 1 ] || pp_fail "failing gauge 0"
# status still prints the whole screen, and exits 1: the warehouse could not be reached
rc=0
"$PINPIPE" status --data-dir "$dir" --warehouse "$PG_URL" --connect-timeout 2 \
  >"$PP_TMP/status.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$PP_TMP/status.txt" >&2; pp_fail "status exited $rc with the warehouse down"; }
grep -Eq "^  stream +$stream .* no .*warehouse: " "$PP_TMP/status.txt" \
  || { cat "$PP_TMP/status.txt" >&2; pp_fail "status does not show the stream unready"; }
grep -q "unreachable" "$PP_TMP/status.txt" || pp_fail "status does not show the warehouse unreachable"
echo "ok: warehouse down: /readyz 503, retries $(metric "$PP_TMP/down" pinpipe_stream_retries_total)"

pg_restart
wait_for 60 is_code 200 "$mu/readyz" || pp_fail "the stream did not become ready again"
wait_for 60 loaded 90 || pp_fail "records acknowledged during the outage were not loaded"
[ "$(metric "$PP_TMP/m" pinpipe_stream_failing_transactions)" = 0 ] || pp_fail "failing gauge stuck"
[ "$(metric "$PP_TMP/m" pinpipe_stream_retries_total)" -ge 1 ] || pp_fail "retries went back to 0"
rows=$(pg_sql 'select count(*) from pp_offsets where consumer_group = $$stream$$ and next_offset > 0')
[ "$rows" -ge 1 ] || pp_fail "no offsets stored"
pp_stop "$stream"
pp_stop "$serve"
echo "ok: warehouse back: ready again, every record loaded"
