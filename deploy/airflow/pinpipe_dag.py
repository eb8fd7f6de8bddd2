"""pinpipe_dag.py: the daily batch as an Airflow DAG calling the pinpipe CLI.

Mirrors the seeds' MWAA DAG: @daily, one retry after 2 minutes. Each task is a pinpipe
command that exits non-zero with a one-line reason on failure, so Airflow's retries and
alerts work unchanged. Settings come from PINPIPE_CONFIG (see `pinpipe config --help`).

Tasks, the same graph as pinpipe's own scheduler (`pinpipe dag show`):
  lake_caught_up  the day is closed in the lake: the lake consumer has no lag, so every
                  record up to now is in finished lake files (after `pinpipe lake --publish`
                  published any an S3 lake worker killed mid-commit left pending)
  load            the day's lake files -> clean -> reconcile pin/geo/user into the warehouse
                  (`pinpipe batch --step load`)
  insights        the insights snapshot of the run date (`pinpipe batch --step insights`)
  quality         data-quality checks of the day, stored in the warehouse; fails past the
                  thresholds (`pinpipe quality`)
lake_caught_up >> load >> insights >> quality.
"""
from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator

PINPIPE = "pinpipe"
ENV = {"PINPIPE_CONFIG": "/etc/pinpipe/pinpipe.conf"}
# awk over `pinpipe status`: succeed only when the lake consumer group's total lag is 0, or
# when it has committed nothing and pin/geo/user hold no records (a fresh install)
LAKE_CAUGHT_UP_AWK = (
    '$1 ~ /^(pin|geo|user)$/ && NF == 4 && $2 ~ /^[0-9]+$/ { high += $4 } '
    '$1 == "lake" && $2 == "total" { lag = $4 } '
    'END { if (lag == "" && high == 0) exit 0; if (lag == "" || lag > 0) { '
    'print "lake consumer lags: " (lag == "" ? "no commits yet" : lag) > "/dev/stderr"; '
    'exit 1 } }'
)

default_args = {
    "owner": "pinpipe",
    "retries": 1,
    "retry_delay": timedelta(minutes=2),
}

with DAG(
    dag_id="pinpipe_daily",
    description="pinpipe: lake day -> warehouse -> insights",
    schedule_interval="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args=default_args,
    tags=["pinpipe"],
) as dag:
    lake_caught_up = BashOperator(
        task_id="lake_caught_up",
        # first publish what the lake committed but a killed worker left pending (S3)
        bash_command=f"{PINPIPE} lake --publish --quiet >/dev/null && "
        f"{PINPIPE} status | awk '{LAKE_CAUGHT_UP_AWK}'",
        env=ENV,
        append_env=True,
    )
    load = BashOperator(
        task_id="load",
        bash_command=f"{PINPIPE} batch --step load --quiet --date {{{{ ds }}}}",
        env=ENV,
        append_env=True,
    )
    insights = BashOperator(
        task_id="insights",
        bash_command=f"{PINPIPE} batch --step insights --quiet --date {{{{ ds }}}}",
        env=ENV,
        append_env=True,
    )
    quality = BashOperator(
        task_id="quality",
        bash_command=f"{PINPIPE} quality --date {{{{ ds }}}}",
        env=ENV,
        append_env=True,
    )
    lake_caught_up >> load >> insights >> quality
