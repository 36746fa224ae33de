"""`omniplay sync` through the real Typer app, on a DuckDB file in a temporary project."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone

from typer.testing import CliRunner

from cli.main import app
from tests.activation.conftest import REPO
from omniplay.warehouse import DuckDBWarehouse
from tests.activation.queue import create_queue
from tests.activation.queue import row as queue_row


def row(i, **kw):
    """Rows whose window is open whatever the wall clock says (the CLI uses real time)."""
    kw.setdefault("not_before", datetime(2020, 1, 1, tzinfo=timezone.utc))
    kw.setdefault("not_after", datetime(2100, 1, 1, tzinfo=timezone.utc))
    return queue_row(i, **kw)


def _setup(project, monkeypatch, rows):
    db = project / "wh.duckdb"
    monkeypatch.setenv("OMNIPLAY_DUCKDB_PATH", str(db))
    monkeypatch.setenv("OMNIPLAY_TARGET", "duckdb")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("OMNIPLAY_DESTINATIONS_FILE", raising=False)
    with DuckDBWarehouse.open(str(db)) as wh:
        create_queue(wh, rows)
    return db


def test_sync_prints_a_summary_and_a_rerun_sends_nothing(project, monkeypatch):
    _setup(project, monkeypatch, [row(i) for i in range(3)] + [row(7, address="nope")])
    runner = CliRunner()
    result = runner.invoke(app, ["sync", "--project-dir", str(project), "--json"])
    assert result.exit_code == 0, result.output
    totals = json.loads(result.output)["totals"]
    assert totals == {"planned": 4, "sent": 3, "rejected": 1, "failed": 0, "ambiguous": 0, "deferred": 0,
                      "expired": 0}
    again = runner.invoke(app, ["sync", "--project-dir", str(project)])
    assert again.exit_code == 0, again.output
    assert "total" in again.output


def test_dry_run_shows_masked_samples(project, monkeypatch):
    db = _setup(project, monkeypatch, [row(i) for i in range(4)])
    result = CliRunner().invoke(app, ["sync", "--project-dir", str(project), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would send" in result.output and "u***@e***.com" in result.output
    assert "user1@example.com" not in result.output
    assert "Ann1" not in result.output and "A***" in result.output
    with DuckDBWarehouse.open(str(db)) as wh:
        assert not wh.relation_exists("omniplay_state", "sends")


def test_failed_messages_exit_4_and_bad_config_exits_2(project, monkeypatch, tmp_path):
    _setup(project, monkeypatch, [row(i, channel="sms", destination="flaky") for i in range(2)])
    (project / "activation" / "destinations.yml").write_text(
        "destinations:\n  flaky: {type: tests.activation.fakes.FlakyDestination, max_attempts: 1, "
        f"backoff_initial: 0.01, settings: {{log: {tmp_path / 'l'}, raise_retriable_first: 5}}}}\n")
    result = _omniplay("sync", "--project-dir", str(project))
    assert result.returncode == 4 and "2 message(s) failed permanently" in result.stderr

    (project / "activation" / "destinations.yml").write_text(
        "destinations:\n  flaky: {type: tests.activation.fakes.FlakyDestination, max_attempts: lots}\n")
    result = _omniplay("sync", "--project-dir", str(project))
    assert result.returncode == 2 and "destinations.flaky.max_attempts" in result.stderr


def _omniplay(*args):
    """The real console entry point in a subprocess: exit codes as a scheduler sees them."""
    return subprocess.run([sys.executable, "-m", "cli.main", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=120)
