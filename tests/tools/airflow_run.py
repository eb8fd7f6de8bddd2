#!/usr/bin/env python3
"""airflow_run.py: load an Airflow DAG file (against tests/tools/airflow_shim, or a real
Airflow if importable first) and run one date's tasks the way Airflow's BashOperator does:
the bash_command rendered with Jinja2 (StrictUndefined, as Airflow's default) with the run's
`ds`/`ds_nodash`, executed as `bash -c <command>` with env (plus the worker's environment when
append_env), killed past execution_timeout; a non-zero exit fails the task and its downstream
tasks become upstream_failed. One attempt per task (retries are Airflow's business).

usage: airflow_run.py DAG_FILE --ds YYYY-MM-DD [--env NAME=VALUE ...] [--show]
Prints "<task> <state> <exit>" per task; --show prints each task's rendered command and
timeout instead of running. Exit 0 when every task succeeded, 1 otherwise, 2 on a DAG file
that does not load.
"""
import argparse
import importlib.util
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "airflow_shim"))
import jinja2  # noqa: E402  (Debian: python3-jinja2; Airflow renders with it too)


def load(path):
    spec = importlib.util.spec_from_file_location("dagfile", path)
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except Exception as e:  # the DAG does not load: Airflow would show an import error
        print(f"DAG file {path} does not load: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(2)
    return mod.dag


def order(tasks):
    done, out = set(), []
    while len(out) < len(tasks):
        progressed = False
        for t in tasks:
            if t.task_id not in done and all(u.task_id in done for u in t.upstream):
                out.append(t)
                done.add(t.task_id)
                progressed = True
        if not progressed:
            sys.exit("cycle in the DAG")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dag_file")
    ap.add_argument("--ds", required=True)
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--show", action="store_true")
    a = ap.parse_args()
    dag = load(a.dag_file)
    override = dict(e.split("=", 1) for e in a.env)
    jenv = jinja2.Environment(undefined=jinja2.StrictUndefined)
    ctx = {"ds": a.ds, "ds_nodash": a.ds.replace("-", "")}
    failed, states = False, {}
    for t in order(dag.tasks):
        cmd = jenv.from_string(t.bash_command).render(**ctx)
        timeout = t.execution_timeout.total_seconds() if t.execution_timeout else None
        if a.show:
            print(f"{t.task_id}\t{int(timeout) if timeout else '-'}\t"
                  f"{','.join(u.task_id for u in t.upstream) or '-'}\t{cmd}")
            continue
        if any(states.get(u.task_id) != "success" for u in t.upstream):
            states[t.task_id] = "upstream_failed"
            print(f"{t.task_id} upstream_failed -", flush=True)
            continue
        env = dict(os.environ) if t.append_env else {}
        env.update(t.env or {})
        env.update({k: v for k, v in override.items()})
        try:
            rc = subprocess.run(["bash", "-c", cmd], env=env, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        states[t.task_id] = "success" if rc == 0 else "failed"
        failed |= rc != 0
        print(f"{t.task_id} {states[t.task_id]} {rc}", flush=True)
    sys.exit(1 if failed else 0)


main()
