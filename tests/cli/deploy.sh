#!/usr/bin/env bash
# deploy.sh: the deployment files are valid: the Airflow DAG compiles (python3 -m py_compile;
# Airflow itself is not installed here), the systemd units pass `systemd-analyze verify`
# (with ExecStart pointed at the built binary) where systemd-analyze exists, the sample
# configuration is accepted by `pinpipe config`, and the DAG's lake check parses the real
# `pinpipe status` output.
set -uo pipefail
: "${PINPIPE:?}" "${PP_SRC:?}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1" >&2; fail=$((fail+1)); fi; }
ok "Airflow DAG compiles" 'python3 -c "import py_compile,sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)" "$PP_SRC/deploy/airflow/pinpipe_dag.py" "$tmp/dag.pyc"'
ok "DAG is @daily with one retry after 2 minutes" \
   'grep -q "schedule_interval=\"@daily\"" "$PP_SRC/deploy/airflow/pinpipe_dag.py" && grep -q "\"retries\": 1" "$PP_SRC/deploy/airflow/pinpipe_dag.py" && grep -q "timedelta(minutes=2)" "$PP_SRC/deploy/airflow/pinpipe_dag.py"'
if command -v systemd-analyze >/dev/null; then
  for f in "$PP_SRC"/deploy/systemd/*; do
    sed "s#/usr/local/bin/pinpipe#$(readlink -f "$PINPIPE")#" "$f" >"$tmp/$(basename "$f")"
  done
  ok "systemd units verify" '(cd "$tmp" && systemd-analyze verify ./*.service ./*.timer)'
else
  echo "note: systemd-analyze not available, units not verified" >&2
fi
ok "sample config accepted" '"$PINPIPE" config --config "$PP_SRC/deploy/pinpipe.conf.example" >/dev/null'
# the DAG's lake_caught_up check, run against a real data dir: lag 0 passes, lag > 0 fails
dir=$tmp/d
"$PINPIPE" run --listen 127.0.0.1:0 --data-dir "$dir" --roll-age 100ms 2>/dev/null & pid=$!
for _ in $(seq 100); do [ -s "$dir/listen" ] && break; sleep 0.05; done
"$PINPIPE" gen --rows 5 --out "$tmp/src" >/dev/null 2>&1
head -1 "$tmp/src/pin.jsonl" | curl -sf -o /dev/null -H 'Content-Type: application/json' \
  --data-binary @- "http://$(cat "$dir/listen")/pin/"
sleep 1
kill -TERM $pid; wait $pid
check=$(python3 - "$PP_SRC/deploy/airflow/pinpipe_dag.py" <<'PY'
import ast, sys
for node in ast.parse(open(sys.argv[1]).read()).body:
    if isinstance(node, ast.Assign) and node.targets[0].id == "LAKE_CAUGHT_UP_AWK":
        print(ast.literal_eval(node.value))
PY
)
ok "lake_caught_up passes with lag 0" '"$PINPIPE" status --data-dir "$dir" | awk "$check"'
printf '  lake       total lag 7\n' >"$tmp/lagging"
ok "lake_caught_up fails with lag > 0" '! awk "$check" <"$tmp/lagging" 2>/dev/null'
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
