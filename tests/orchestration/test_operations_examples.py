"""The scheduler examples in docs/examples and the operations guide stay correct.

Airflow and Dagster are never installed in the project venv (their pins clash with
dbt's); their examples are always compiled, and loaded by the real scheduler when it
is importable (e.g. run this file with a venv that has apache-airflow or dagster).
"""

from __future__ import annotations

import importlib.util
import inspect
import py_compile
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from omniplay import errors
from omniplay.schedule import Schedule

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
AIRFLOW_DAG = EXAMPLES / "airflow_omniplay_dag.py"
DAGSTER_JOB = EXAMPLES / "dagster_omniplay_job.py"
SYSTEMD = EXAMPLES / "systemd"


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", [AIRFLOW_DAG, DAGSTER_JOB], ids=lambda p: p.name)
def test_examples_compile(path, tmp_path):
    py_compile.compile(str(path), cfile=str(tmp_path / "out.pyc"), doraise=True)


# --- the operations guide ----------------------------------------------------------------

def test_exit_code_table_matches_the_error_classes():
    text = (DOCS / "operations.md").read_text()
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (\d) \| ([^|]+) \|", section, flags=re.M))
    assert sorted(rows) == ["0", "1", "2", "3", "4", "5"]
    codes = {
        cls.exit_code: cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, errors.OmniplayError)
    }
    assert set(codes) <= {int(c) for c in rows}
    assert "config" in rows["2"] and "gate" in rows["3"] and "failed permanently" in rows["4"]
    assert "lock" in rows["5"]
    assert (codes[2], codes[3], codes[4], codes[5]) == (
        errors.ConfigError, errors.GateBlocked, errors.DeliveryFailed, errors.LockHeld)


def test_relative_links_in_the_guide_exist():
    text = (DOCS / "operations.md").read_text()
    links = re.findall(r"\]\(([^)#:]+)\)", text)
    assert links, "no links found"
    for link in links:
        assert (DOCS / link).exists(), link


# --- cron ------------------------------------------------------------------------------

def test_crontab_lines_are_valid_and_call_omniplay():
    jobs = []
    for line in (EXAMPLES / "crontab").read_text().splitlines():
        if not line.strip() or line.startswith("#") or re.match(r"^[A-Z_]+=", line):
            continue
        fields = line.split(None, 5)
        Schedule.parse(" ".join(fields[:5]), "Europe/Berlin", where="crontab")  # raises if invalid
        jobs.append((" ".join(fields[:5]), fields[5]))
    assert [cron for cron, _ in jobs] == ["0 2 * * *", "*/15 * * * *"]
    run, sync = (command for _, command in jobs)
    assert re.search(r"\.venv/bin/omniplay run\b", run) and "OMNIPLAY_LOCK_TIMEOUT=" in run
    assert re.search(r"\.venv/bin/omniplay sync --due\b", sync)
    assert "OMNIPLAY_LOG_FORMAT=json" in (EXAMPLES / "crontab").read_text()


# --- systemd -----------------------------------------------------------------------------

def _unit(path: Path) -> dict[str, list[str]]:
    """Key -> values (systemd allows repeated keys) over all sections."""
    values: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_systemd_units_pair_up_and_run_the_right_commands():
    run, sync = _unit(SYSTEMD / "omniplay-run.service"), _unit(SYSTEMD / "omniplay-sync.service")
    assert run["ExecStart"] == ["/opt/omniplay/.venv/bin/omniplay run"]
    assert sync["ExecStart"] == ["/opt/omniplay/.venv/bin/omniplay sync --due"]
    assert run["Type"] == sync["Type"] == ["oneshot"]
    assert sync["SuccessExitStatus"] == ["5"] and "SuccessExitStatus" not in run
    assert "OMNIPLAY_LOG_FORMAT=json" in run["Environment"] and "OMNIPLAY_LOCK_TIMEOUT=1800" in run["Environment"]
    assert _unit(SYSTEMD / "omniplay-run.timer")["Persistent"] == ["true"]
    assert sorted(p.name for p in SYSTEMD.iterdir()) == [
        "omniplay-run.service", "omniplay-run.timer", "omniplay-sync.service", "omniplay-sync.timer"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_units_verify(tmp_path):
    """`systemd-analyze verify` on the units, with ExecStart pointing at a real executable."""
    for unit in SYSTEMD.iterdir():
        text = unit.read_text().replace("/opt/omniplay/.venv/bin/omniplay", sys.executable)
        (tmp_path / unit.name).write_text(text)
    for timer in SYSTEMD.glob("*.timer"):
        (calendar,) = _unit(timer)["OnCalendar"]
        checked = subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
    units = sorted(str(p) for p in tmp_path.iterdir())
    verified = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert verified.stderr.strip() == ""


# --- Airflow -----------------------------------------------------------------------------

def test_airflow_dag_loads(tmp_path, monkeypatch):
    pytest.importorskip("airflow", reason="apache-airflow is not installed (kept out of the project venv); "
                                          "the DAG file is still compiled by test_examples_compile")
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    module = _load(AIRFLOW_DAG, "airflow_omniplay_dag")
    nightly, dispatcher = module.nightly, module.dispatcher
    assert (nightly.dag_id, dispatcher.dag_id) == ("omniplay_nightly", "omniplay_dispatcher")
    assert nightly.catchup is False and dispatcher.catchup is False
    assert nightly.max_active_runs == dispatcher.max_active_runs == 1
    (run,) = nightly.tasks
    (sync,) = dispatcher.tasks
    assert run.bash_command.endswith("omniplay run")
    assert sync.bash_command.endswith("omniplay sync --due")
    for task in (run, sync):
        assert list(task.skip_on_exit_code) == [5]
        assert task.append_env is True and task.env["OMNIPLAY_LOG_FORMAT"] == "json"
    assert run.env["OMNIPLAY_LOCK_TIMEOUT"] == "1800" and run.retries == 1 and sync.retries == 0


# --- Dagster -----------------------------------------------------------------------------

STAND_IN = """#!{python}
# Stands in for the omniplay CLI: the test is about how Dagster maps exit codes.
import json, os, sys
with open(os.environ["CALLS_FILE"], "a") as calls:
    calls.write(" ".join(sys.argv[1:]) + "\\n")
print(json.dumps({{"level": "INFO", "logger": "omniplay.run", "message": "run started"}}), file=sys.stderr)
code = int(os.environ["STAND_IN_EXIT"])
if code:
    print("omniplay: stand-in reason for exit", code, file=sys.stderr)
sys.exit(code)
"""


@pytest.fixture
def dagster_example(tmp_path, monkeypatch):
    dg = pytest.importorskip("dagster", reason="dagster is not installed (kept out of the project venv); "
                                               "the job file is still compiled by test_examples_compile")
    stand_in = tmp_path / "omniplay"
    stand_in.write_text(STAND_IN.format(python=sys.executable))
    stand_in.chmod(stand_in.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls"
    monkeypatch.setenv("CALLS_FILE", str(calls))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    module = _load(DAGSTER_JOB, "dagster_omniplay_job")
    monkeypatch.setattr(module, "OMNIPLAY", str(stand_in))
    monkeypatch.setattr(module, "PROJECT_DIR", str(tmp_path))
    return dg, module, calls


def test_dagster_definitions_load(dagster_example):
    _, module, _ = dagster_example
    defs = module.defs
    assert {job.name for job in (module.omniplay_nightly, module.omniplay_dispatcher)} == {
        "omniplay_nightly", "omniplay_dispatcher"}
    assert module.nightly_schedule.cron_schedule == "0 2 * * *"
    assert module.nightly_schedule.execution_timezone == "Europe/Berlin"
    assert defs.get_job_def("omniplay_dispatcher").name == "omniplay_dispatcher"


@pytest.mark.parametrize(
    ("code", "success", "attempts"),
    [(0, True, 1), (5, True, 1), (2, False, 1), (3, False, 1), (4, False, 1), (1, False, 2)],
)
def test_dagster_maps_exit_codes(dagster_example, monkeypatch, code, success, attempts):
    dg, module, calls = dagster_example
    monkeypatch.setenv("STAND_IN_EXIT", str(code))
    # No retry delay in the test: the policy's count is what matters.
    op = module.omniplay_run.with_retry_policy(dg.RetryPolicy(max_retries=1, delay=0))

    @dg.job
    def nightly():
        op()

    instance = dg.DagsterInstance.ephemeral()
    result = nightly.execute_in_process(raise_on_error=False, instance=instance)
    assert result.success is success
    assert calls.read_text().splitlines() == ["run"] * attempts
    if not success:
        failure = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"][-1]
        assert f"exited {code}" in str(failure.event_specific_data.error)
        assert "stand-in reason" in str(failure.event_specific_data.error)
    messages = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert "omniplay.run: run started" in messages  # JSON log lines are relayed
    assert any("skipped `omniplay run`" in m for m in messages) is (code == 5)
