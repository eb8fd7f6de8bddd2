"""BashOperator as in Airflow >= 2.4 (airflow.operators.bash): the keywords it and
BaseOperator take that a DAG file may pass; anything else is refused, as Airflow does."""
from datetime import timedelta

from airflow import _current


class BashOperator:
    ALLOWED = {"task_id", "bash_command", "env", "append_env", "execution_timeout", "retries",
               "retry_delay", "owner", "cwd", "skip_on_exit_code", "output_encoding",
               "do_xcom_push", "trigger_rule", "pool", "queue", "priority_weight"}

    def __init__(self, task_id=None, bash_command=None, **kw):
        bad = set(kw) - self.ALLOWED
        if bad:
            raise TypeError(f"BashOperator() got unexpected keyword arguments {sorted(bad)}")
        if not task_id or not isinstance(bash_command, str):
            raise TypeError("BashOperator() needs task_id and a bash_command string")
        t = kw.get("execution_timeout")
        if t is not None and not isinstance(t, timedelta):
            raise TypeError("execution_timeout must be a timedelta")
        if not _current:
            raise RuntimeError("BashOperator outside a `with DAG(...)` block")
        self.dag = _current[-1]
        args = dict(self.dag.default_args)
        args.update(kw)
        self.task_id = task_id
        self.bash_command = bash_command
        self.env = args.get("env")
        self.append_env = bool(args.get("append_env", False))
        self.execution_timeout = args.get("execution_timeout")
        self.retries = args.get("retries", 0)
        self.upstream = []
        self.dag.tasks.append(self)

    def __rshift__(self, other):
        other.upstream.append(self)
        return other
