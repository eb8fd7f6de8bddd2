#!/usr/bin/env bash
# e2e_events.sh: the real sample (aicore_events.jsonl) through each API shape into `pinpipe run`:
# every acked record is in the log, the warehouse holds each of the 2019 ids exactly once per
# table, the lake holds every log record exactly once, and the insights equal an independent
# computation (tests/integration/insights_check.py, pure Python).
source "$(dirname "$0")/lib.bash"
pp_need_data
command -v sqlite3 >/dev/null || pp_fail "sqlite3 CLI missing (apt-get install sqlite3)"
today=$(date -u +%F)
for api in fastapi rest-proxy kinesis; do
  dir=$PP_TMP/$api
  pp_start "$dir" run --listen 127.0.0.1:0 --fsync always --roll-bytes 64K
  "$PINPIPE" emulate --url "$PP_URL" --api "$api" --replay "$EVENTS" --concurrency 8 --quiet \
    --json >"$dir/emulate.json" || pp_fail "$api: emulate failed: $(cat "$dir/emulate.json")"
  pp_wait_rows "$dir/warehouse.db" 2019
  pp_stop "$PP_PID"
  "$PINPIPE" batch --date "$today" --data-dir "$dir" --format json >"$dir/batch.json" \
    || pp_fail "$api: batch failed"
  "$PINPIPE" insights --warehouse "$dir/warehouse.db" --format json >"$dir/insights.json" \
    || pp_fail "$api: insights failed"
  python3 "$PP_SRC/tests/integration/insights_check.py" --events "$EVENTS" \
    --compare "$dir/insights.json" || pp_fail "$api: insights differ from the independent computation"
  python3 "$PP_SRC/tests/integration/check_pipeline.py" --pinpipe "$PINPIPE" --data-dir "$dir" \
    --events "$EVENTS" --emulate-summary "$dir/emulate.json" --expect-distinct 2019 \
    || pp_fail "$api: pipeline check failed"
  echo "ok: $api"
done
echo "e2e: all three API shapes passed"
