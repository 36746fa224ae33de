"""omniplay on Apache Airflow: the nightly pipeline and the deferred-send dispatcher.

Copy this file into your DAGs folder. Airflow calls the omniplay CLI installed in its
own virtualenv, so omniplay's dependencies never mix with Airflow's. Configure with
environment variables on the workers (never put secrets in a DAG file):

    OMNIPLAY_BIN          the omniplay executable (default /opt/omniplay/.venv/bin/omniplay)
    OMNIPLAY_PROJECT_DIR  the omniplay project checkout (default /opt/omniplay)
    OMNIPLAY_TARGET       profiles.yml output: duckdb, postgres, spark (default duckdb)
    plus the secrets your destinations and warehouse need (see docs/operations.md).

Exit codes (docs/operations.md) map to Airflow states:

    0  success
    1  unexpected error        -> failed; retried once (a rerun never resends a message)
    2  usage or configuration  -> failed; retrying will not help, fix the config
    3  quality gate blocked    -> failed; the other plays were sent, inspect the gate
    4  messages failed         -> failed; the run finished, see `omniplay status`/`retry`
    5  lock held               -> skipped; another omniplay run is working on the target

BashOperator cannot retry on some exit codes only; the single retry is harmless for
2-4 (the run is idempotent) and catches transient failures (1).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2.6+
    from airflow import DAG
    from airflow.operators.bash import BashOperator

OMNIPLAY = os.environ.get("OMNIPLAY_BIN", "/opt/omniplay/.venv/bin/omniplay")
PROJECT_DIR = os.environ.get("OMNIPLAY_PROJECT_DIR", "/opt/omniplay")
TARGET = os.environ.get("OMNIPLAY_TARGET", "duckdb")
# When the nightly build runs. Plays have their own schedules (cron + timezone in their
# YAML): `run` sends the ones already due, the dispatcher sends the rest when they fire.
NIGHTLY_CRON = "0 2 * * *"
TIMEZONE = "Europe/Berlin"
LOCK_HELD = 5

COMMON_ENV = {
    "OMNIPLAY_LOG_FORMAT": "json",  # one JSON object per log line in the task log
    "OMNIPLAY_PROJECT_DIR": PROJECT_DIR,
    "OMNIPLAY_TARGET": TARGET,
}

with DAG(
    dag_id="omniplay_nightly",
    description="omniplay run: build -> gate -> sync due plays -> summary",
    schedule=NIGHTLY_CRON,
    start_date=pendulum.datetime(2026, 1, 1, tz=TIMEZONE),
    catchup=False,  # omniplay catches missed play schedules up once by itself
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=4),
    tags=["omniplay"],
) as nightly:
    BashOperator(
        task_id="omniplay_run",
        bash_command=f"{OMNIPLAY} run",
        cwd=PROJECT_DIR,
        # Wait up to 30 minutes for an in-flight dispatcher instead of skipping the night.
        env={**COMMON_ENV, "OMNIPLAY_LOCK_TIMEOUT": "1800"},
        append_env=True,  # keep the worker's environment (secrets, PATH)
        skip_on_exit_code=LOCK_HELD,
        retries=1,
        retry_delay=timedelta(minutes=10),
        execution_timeout=timedelta(hours=3),
    )

with DAG(
    dag_id="omniplay_dispatcher",
    description="omniplay sync --due: plays whose schedule fired, deferred sends",
    schedule="*/15 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=60),
    tags=["omniplay"],
) as dispatcher:
    BashOperator(
        task_id="omniplay_sync_due",
        bash_command=f"{OMNIPLAY} sync --due",
        cwd=PROJECT_DIR,
        env=COMMON_ENV,
        append_env=True,
        skip_on_exit_code=LOCK_HELD,  # the nightly run is busy; the next tick catches up
        retries=0,  # the next tick, 15 minutes later, is the retry
        execution_timeout=timedelta(minutes=45),
    )
