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
# the Airflow DAG has pinpipe's own task graph (`pinpipe dag show`): the same tasks, each
# after the same upstream, each calling the same pinpipe subcommand and flags
"$PINPIPE" dag show --data-dir "$tmp/d" >"$tmp/show" 2>/dev/null
python3 - "$PP_SRC/deploy/airflow/pinpipe_dag.py" "$tmp/show" >"$tmp/graphs" 2>&1 <<'PY'
import ast, re, shlex, sys

def words(cmd):  # per command of an && chain: the pinpipe subcommand and its flags, before
    segs = []     # --date / --data-dir / a pipe / a redirection
    for seg in cmd.split(" | ", 1)[0].split("&&"):
        out = []
        for w in seg.split()[1:]:
            if w.startswith("--date") or w.startswith("--data-dir") or w == "|" or w[0] == ">":
                break
            out.append(w)
        segs.append(" ".join(out))
    return " && ".join(segs)

air, after = {}, {}
tree = ast.parse(open(sys.argv[1]).read())
for node in ast.walk(tree):
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "BashOperator":
        kw = {k.arg: k.value for k in node.keywords}
        cmd = "".join(v.value if isinstance(v, ast.Constant) else "{x}" for v in kw["bash_command"].values)
        air[kw["task_id"].value] = words(cmd)
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.BinOp):
        chain, e = [], node.value
        while isinstance(e, ast.BinOp) and isinstance(e.op, ast.RShift):
            chain.insert(0, e.right.id)
            e = e.left
        chain.insert(0, e.id)
        for a, b in zip(chain, chain[1:]):
            after[b] = a
graph_air = [(t, after.get(t, "-"), air[t]) for t in air]
graph_own, t = [], None
for line in open(sys.argv[2]):
    m = re.match(r"task (\S+)", line)
    if m:
        t = [m.group(1), None, None]
        graph_own.append(t)
    m = re.match(r"  after +(\S+)", line)
    if m:
        t[1] = m.group(1)
    m = re.match(r"  command +'[^']*' (.*)", line)
    if m:
        t[2] = words("x " + m.group(1))
graph_own = [tuple(t) for t in graph_own]
print("airflow:", graph_air)
print("pinpipe:", graph_own)
sys.exit(0 if graph_air == graph_own and len(graph_own) == 4 else 1)
PY
graph_rc=$?
ok "Airflow DAG has pinpipe's task graph" '[ $graph_rc = 0 ] || { cat "$tmp/graphs" >&2; false; }'
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
