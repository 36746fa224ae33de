"""omniplay on Dagster: the nightly pipeline and the deferred-send dispatcher.

Load it with ``dagster dev -f dagster_omniplay_job.py`` or import ``defs`` from your
code location. Dagster calls the omniplay CLI installed in its own virtualenv, so
omniplay's dependencies never mix with Dagster's. Configure with environment variables
(never put secrets in code):

    OMNIPLAY_BIN          the omniplay executable (default /opt/omniplay/.venv/bin/omniplay)
    OMNIPLAY_PROJECT_DIR  the omniplay project checkout (default /opt/omniplay)
    OMNIPLAY_TARGET       profiles.yml output: duckdb, postgres, spark (default duckdb)
    plus the secrets your destinations and warehouse need (see docs/operations.md).

Exit codes (docs/operations.md) map to Dagster outcomes:

    0  success
    1  unexpected error        -> Failure, retried by the op's RetryPolicy
    2  usage or configuration  -> Failure, no retry (fix the config)
    3  quality gate blocked    -> Failure, no retry (inspect the gate)
    4  messages failed         -> Failure, no retry (see `omniplay status` / `retry`)
    5  lock held               -> success, logged as skipped (another run is busy)
"""

# No `from __future__ import annotations`: Dagster reads the `context` annotation.
import json
import os
import subprocess

import dagster as dg

OMNIPLAY = os.environ.get("OMNIPLAY_BIN", "/opt/omniplay/.venv/bin/omniplay")
PROJECT_DIR = os.environ.get("OMNIPLAY_PROJECT_DIR", "/opt/omniplay")
TARGET = os.environ.get("OMNIPLAY_TARGET", "duckdb")
# When the nightly build runs. Plays have their own schedules (cron + timezone in their
# YAML): `run` sends the ones already due, the dispatcher sends the rest when they fire.
NIGHTLY_CRON = "0 2 * * *"
TIMEZONE = "Europe/Berlin"

EXIT_MEANINGS = {
    1: "unexpected error",
    2: "usage or configuration error",
    3: "a quality gate blocked one or more plays",
    4: "some messages failed permanently",
    5: "another omniplay run holds the lock",
}
NOT_RETRYABLE = {2, 3, 4}
LOCK_HELD = 5
_LEVELS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warning", "ERROR": "error", "CRITICAL": "critical"}


def run_omniplay(context: dg.OpExecutionContext, *args: str, lock_timeout: int = 0) -> int:
    """Run one omniplay command, relay its log lines, and map its exit code.

    Returns the exit code (0, or 5 when skipped); raises ``dg.Failure`` otherwise.
    """
    command = [OMNIPLAY, *args]
    env = {
        **os.environ,
        "OMNIPLAY_LOG_FORMAT": "json",
        "OMNIPLAY_PROJECT_DIR": PROJECT_DIR,
        "OMNIPLAY_TARGET": TARGET,
        "OMNIPLAY_LOCK_TIMEOUT": str(lock_timeout),
    }
    reason = ""
    with subprocess.Popen(
        command, cwd=PROJECT_DIR, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,  # one stream: no pipe deadlock
    ) as proc:
        for line in proc.stdout:
            line = line.rstrip("\n")
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if isinstance(entry, dict) and "message" in entry:
                log = getattr(context.log, _LEVELS.get(entry.get("level", ""), "info"))
                log(f"{entry.get('logger', 'omniplay')}: {entry['message']}")
                continue
            context.log.info(line)
            if line.startswith("omniplay: "):  # the CLI's one-line reason on failure
                reason = line.removeprefix("omniplay: ")
    code = proc.returncode
    shown = " ".join(args)
    if code == 0:
        return 0
    if code == LOCK_HELD:
        context.log.warning(f"skipped `omniplay {shown}`: {reason or EXIT_MEANINGS[LOCK_HELD]}")
        return code
    raise dg.Failure(
        description=f"`omniplay {shown}` exited {code} ({EXIT_MEANINGS.get(code, 'unexpected error')})"
        + (f": {reason}" if reason else ""),
        metadata={"exit_code": code, "command": f"omniplay {shown}"},
        allow_retries=code not in NOT_RETRYABLE,
    )


@dg.op(retry_policy=dg.RetryPolicy(max_retries=1, delay=600))
def omniplay_run(context: dg.OpExecutionContext) -> None:
    """Build -> gate -> sync the plays that are due -> summary."""
    # Wait up to 30 minutes for an in-flight dispatcher instead of skipping the night.
    run_omniplay(context, "run", lock_timeout=1800)


@dg.op
def omniplay_sync_due(context: dg.OpExecutionContext) -> None:
    """Send plays whose schedule fired and deferred messages whose window opened."""
    run_omniplay(context, "sync", "--due")


@dg.job(description="Nightly omniplay pipeline (omniplay run).")
def omniplay_nightly() -> None:
    omniplay_run()


@dg.job(description="Deferred-send dispatcher (omniplay sync --due).")
def omniplay_dispatcher() -> None:
    omniplay_sync_due()


nightly_schedule = dg.ScheduleDefinition(
    job=omniplay_nightly, cron_schedule=NIGHTLY_CRON, execution_timezone=TIMEZONE
)
dispatcher_schedule = dg.ScheduleDefinition(
    job=omniplay_dispatcher, cron_schedule="*/15 * * * *", execution_timezone="UTC"
)

defs = dg.Definitions(
    jobs=[omniplay_nightly, omniplay_dispatcher],
    schedules=[nightly_schedule, dispatcher_schedule],
)
