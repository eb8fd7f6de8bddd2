"""pinpipe_dag.py: the daily batch as an Airflow DAG calling the pinpipe CLI.

Needs Airflow 2.4 or later (``schedule=``, which Airflow 3 requires; ``append_env`` of
BashOperator came in 2.3); runs unchanged on Airflow 3. Mirrors the seeds' MWAA DAG: @daily,
one retry after 2 minutes. Each task is a pinpipe command that exits non-zero with a one-line
reason on failure, so Airflow's retries and alerts work unchanged; every command runs under
``set -euo pipefail``. Settings come from PINPIPE_CONFIG (see `pinpipe config --help`).

Tasks, the same graph, commands and timeouts as pinpipe's own scheduler (`pinpipe dag show`):
  day_closed  the day is closed in the lake: in every partition of pin, geo and user the lake
              group has committed every record of the day, what the commits cover is
              published (S3), and topic=<t>/dt=<ds>/_SUCCESS is written
              (`pinpipe lake --close-day ds --wait 9m`; exit 3 = not closed yet, retried)
  load        the day's lake files -> clean -> reconcile pin/geo/user into the warehouse
              (`pinpipe batch --step load`)
  insights    the insights snapshot of the run date (`pinpipe batch --step insights`)
  quality     data-quality checks of the day, stored in the warehouse; fails past the
              thresholds (`pinpipe quality`)
day_closed >> load >> insights >> quality.

A day with no lake records fails `load`, as `pinpipe dag run` does; `pinpipe run`'s own
scheduler passes --allow-empty instead. Set ALLOW_EMPTY = True below for that behaviour.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

PINPIPE = "pinpipe"
ENV = {"PINPIPE_CONFIG": "/etc/pinpipe/pinpipe.conf"}
ALLOW_EMPTY = False
# the shell options every task runs with: a failing command anywhere fails the task
SH = "set -euo pipefail; "

default_args = {
    "owner": "pinpipe",
    "retries": 1,
    "retry_delay": timedelta(minutes=2),
}


def pinpipe_task(task_id, command, timeout):
    """One pinpipe command as a BashOperator task: strict shell, PINPIPE_CONFIG added to
    the worker's environment, the same timeout as `pinpipe dag show` gives it."""
    return BashOperator(
        task_id=task_id,
        bash_command=SH + command,
        env=ENV,
        append_env=True,
        execution_timeout=timeout,
    )


with DAG(
    dag_id="pinpipe_daily",
    description="pinpipe: lake day -> warehouse -> insights",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args=default_args,
    tags=["pinpipe"],
) as dag:
    day_closed = pinpipe_task(
        "day_closed",
        f"{PINPIPE} lake --close-day {{{{ ds }}}} --wait 9m",
        timedelta(minutes=10),
    )
    load = pinpipe_task(
        "load",
        f"{PINPIPE} batch --step load --quiet --date {{{{ ds }}}}"
        + (" --allow-empty" if ALLOW_EMPTY else ""),
        timedelta(hours=1),
    )
    insights = pinpipe_task(
        "insights",
        f"{PINPIPE} batch --step insights --quiet --date {{{{ ds }}}}",
        timedelta(hours=1),
    )
    quality = pinpipe_task(
        "quality",
        f"{PINPIPE} quality --date {{{{ ds }}}}",
        timedelta(hours=1),
    )
    day_closed >> load >> insights >> quality
