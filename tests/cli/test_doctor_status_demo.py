"""`omniplay doctor`, `status` and `demo` in real subprocesses."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import OMNIPLAY, Workspace
from tests.support.dbt import PROJECT_DIR


def test_doctor_checks_config_warehouse_and_each_routed_destination(workspace: Workspace):
    done = workspace.omniplay("doctor")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for line in ("✓ plays", "✓ destinations file", "✓ warehouse: duckdb answers", "✓ destination email: outbox reachable",
                 "✓ destination sms: outbox reachable", "✓ destination store_tasks: store_tasks reachable"):
        assert line in out, line
    assert "destination twilio: no play routes to it" in out


def test_doctor_exits_2_naming_an_unreachable_destination(workspace: Workspace):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    text = (PROJECT_DIR / "activation" / "destinations.yml").read_text(encoding="utf-8")
    head, tail = text.split("  email:\n", 1)
    workspace.write_destinations(head + f"  email:\n    type: smtp\n    settings:\n      host: 127.0.0.1\n"
                                        f"      port: {port}\n" + tail[tail.index("  sms:\n"):])
    done = workspace.omniplay("doctor")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "✗ destination email" in done.stdout and f"127.0.0.1:{port}" in done.stdout
    assert done.stderr.strip().splitlines()[-1].startswith("omniplay: doctor found 1 problem(s): destination email")


def test_status_before_and_after_a_sync(workspace: Workspace):
    done = workspace.omniplay("status")
    assert done.returncode == 0, done.stderr
    assert "send ledger: empty" in done.stdout
    sync = workspace.omniplay("sync", "--due", now="2026-06-01T04:10:00Z")
    assert sync.returncode == 0, sync.stderr
    done = workspace.omniplay("status", "--json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["ledger"] == workspace.ledger() and status["ledger"]["sent"] > 0
    assert {row[1] for row in status["sync_runs"]} == {
        p for (p,) in workspace.query("select distinct play_id from omniplay_state.runs")}
    text = " ".join(workspace.omniplay("status").stdout.split())
    assert "sync runs per play" in text and f"sent {status['ledger']['sent']}" in text


@pytest.mark.slow
@pytest.mark.dbt
def test_make_demo_path_runs_twice_and_shows_decisions_gate_and_delivery(tmp_path: Path):
    """What `make demo` runs, on a fresh data folder and DuckDB file (2,000 generated customers)."""
    env = {**os.environ, "OMNIPLAY_PROJECT_DIR": str(PROJECT_DIR), "OMNIPLAY_DATA_DIR": str(tmp_path / "data"),
           "OMNIPLAY_DUCKDB_PATH": str(tmp_path / "demo.duckdb"), "OMNIPLAY_OUTBOX_DIR": str(tmp_path / "outbox"),
           "OMNIPLAY_STORE_TASKS_DIR": str(tmp_path / "store_tasks"),
           "OMNIPLAY_GATE_DOCS_DIR": str(tmp_path / "gate_docs"), "DBT_TARGET_PATH": str(tmp_path / "target"),
           "DBT_LOG_PATH": str(tmp_path / "logs"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "COLUMNS": "200"}
    for name in ("OMNIPLAY_NOW", "OMNIPLAY_DESTINATIONS_FILE", "OMNIPLAY_TARGET"):
        env.pop(name, None)
    runs = [subprocess.run([str(OMNIPLAY), "demo"], capture_output=True, text=True, env=env, cwd=tmp_path,
                           timeout=900) for _ in range(2)]
    for done in runs:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    first = " ".join(runs[0].stdout.split())
    logs = runs[0].stderr
    assert "generated:" in first and "dbt build:" in first
    assert "decided: every candidate's outcome, per play" in first and "selected" in first  # decided
    assert "gate: play" in logs and "passed" in logs  # what was gated
    assert "sent" in first and any((tmp_path / "outbox").rglob("*.eml"))  # what was delivered
    assert f"report: {tmp_path / 'report.html'}" in first and "data-chart" in (tmp_path / "report.html").read_text()
    # The simulated days after the night are measured: lift with intervals, in the terminal and as a chart.
    assert "simulated: how customers answer" in first and "planted +30% conversion uplift" in first
    assert "Incremental lift per play" in first and 'data-chart="lift_conversion"' in (tmp_path / "report.html").read_text()
    second = " ".join(runs[1].stdout.split())
    assert "demo data already at" in second and "simulated days already in" in second and "no play was due" not in first
    delivered = sorted(p.name for p in (tmp_path / "outbox").rglob("*.eml"))
    assert len(delivered) == len(set(delivered))
