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
   'grep -q "schedule=\"@daily\"" "$PP_SRC/deploy/airflow/pinpipe_dag.py" && grep -q "\"retries\": 1" "$PP_SRC/deploy/airflow/pinpipe_dag.py" && grep -q "timedelta(minutes=2)" "$PP_SRC/deploy/airflow/pinpipe_dag.py"'
if command -v systemd-analyze >/dev/null; then
  for f in "$PP_SRC"/deploy/systemd/*; do
    sed "s#/usr/local/bin/pinpipe#$(readlink -f "$PINPIPE")#" "$f" >"$tmp/$(basename "$f")"
  done
  ok "systemd units verify" '(cd "$tmp" && systemd-analyze verify ./*.service ./*.timer)'
else
  echo "note: systemd-analyze not available, units not verified" >&2
fi
ok "sample config accepted" '"$PINPIPE" config --config "$PP_SRC/deploy/pinpipe.conf.example" >/dev/null'
# the Airflow DAG (deploy/airflow/pinpipe_dag.py): tests/integration/airflow_dag.sh
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
