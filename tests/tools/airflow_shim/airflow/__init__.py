"""A stand-in for the part of Apache Airflow's API that deploy/airflow/pinpipe_dag.py uses,
for tests/integration/airflow_dag.sh on machines without Airflow (it is not packaged for Debian
and PyPI is not reachable in CI). It accepts exactly the names and keyword arguments of
Airflow >= 2.4 (and 3.x) for these classes and refuses the ones Airflow 3 removed
(`schedule_interval`), so a DAG file that loads here loads there; running the tasks is
tests/tools/airflow_run.py's job, done the way BashOperator does it.
"""
from datetime import datetime, timedelta

_current = []  # the DAG of the enclosing `with DAG(...)` block


class DAG:
    # DAG(...) keywords of Airflow 2.4+ that the file may use; schedule_interval and
    # timetable were removed in Airflow 3 and are refused
    ALLOWED = {"dag_id", "description", "schedule", "start_date", "end_date", "catchup",
               "default_args", "tags", "max_active_runs", "dagrun_timeout", "params"}

    def __init__(self, dag_id=None, **kw):
        bad = set(kw) - self.ALLOWED
        if bad:
            raise TypeError(f"DAG() got unexpected keyword arguments {sorted(bad)} "
                            "(Airflow 3 removed schedule_interval: use schedule=)")
        if not dag_id:
            raise TypeError("DAG() needs dag_id")
        if not isinstance(kw.get("start_date"), datetime):
            raise TypeError("DAG() needs a datetime start_date")
        self.dag_id = dag_id
        self.kw = kw
        self.default_args = kw.get("default_args") or {}
        self.tasks = []

    def __enter__(self):
        _current.append(self)
        return self

    def __exit__(self, *exc):
        _current.pop()
        return False
