"""`omniplay run` on a finished build of another engine, checked end to end: the gate
judges every play (a planted holdout leak blocks its play exactly as DuckDB's gate does),
the other due plays sync through that engine's ledger, and a re-run sends nothing.

The build step is the session's shared build (`run_pipeline(build=False)`); the queue is
snapshotted before the plant and restored afterwards so other tests see the build as it was.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from activation.config import load_config
from activation.engine import SyncOptions, sync
from activation.gate import GateOptions, QualityGate, gate_verdicts
from omniplay.clock import pipeline_now
from omniplay.pipeline import due_plays, run_pipeline
from omniplay.settings import Settings
from omniplay.warehouse import DuckDBWarehouse, Warehouse, connect
from tests.gate import planting as P
from tests.support.dbt import PROJECT_DIR, BuildRun

QUEUE = "activation.activation_queue"
SNAPSHOT = "omniplay_test.queue_before_planting"
RESTORE_QUEUE = {
    "spark": [f"insert overwrite table {QUEUE} select * from {SNAPSHOT}"],
    "postgres": [f"delete from {QUEUE}", f"insert into {QUEUE} select * from {SNAPSHOT}"],
}


def plant_holdout_leak(warehouse: Warehouse, plays: list[str], now: datetime) -> tuple[str, str]:
    """A copy of a due play's sendable row under a fresh message id, for a global-holdout
    member: valid in every other way, so only the gate's holdout check can stop it.
    Returns (play_id, message_id); the same SQL on every engine picks the same row."""
    marks = ", ".join("?" * len(plays))
    naive = now.astimezone(timezone.utc).replace(tzinfo=None)
    base = warehouse.fetchall(
        f"select play_id, message_id from {QUEUE} where play_id in ({marks}) "
        f"and not_before <= ? and not_after > ? order by message_id limit 1", (*plays, naive, naive))
    assert base, "no due play has a message whose window is open: nothing to plant"
    play, base_id = base[0]
    planted = f"{base_id}-planted"
    values = [c if c not in ("message_id", "profile_id") else "?" for c in P.COLUMNS]
    warehouse.execute(f"insert into {QUEUE} ({', '.join(P.COLUMNS)}) select {', '.join(values)} from {QUEUE} "
                      f"where message_id = ?",
                      (planted, P.holdout_member(warehouse), base_id))
    return play, planted


def duckdb_verdicts(duckdb_build: BuildRun, tmp_path: Path, plays: list[str], now: datetime) -> dict:
    """The DuckDB gate's verdicts on a copy of the DuckDB build with the same plant."""
    db = tmp_path / "gate.duckdb"
    shutil.copyfile(duckdb_build.project.duckdb_path, db)
    with DuckDBWarehouse.open(str(db)) as duck:
        plant_holdout_leak(duck, plays, now)
        QualityGate(duck, GateOptions(), docs_dir=tmp_path / "duckdb-gx").run()
        return gate_verdicts(duck)


def check_pipeline_gates_then_syncs(build: BuildRun, duckdb_build: BuildRun, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch, dialect: str) -> None:
    """`omniplay run` without its build step on `build`'s warehouse, checked as the module says."""
    outbox, tasks = tmp_path / "outbox", tmp_path / "store_tasks"
    for name, value in {"OMNIPLAY_OUTBOX_DIR": outbox, "OMNIPLAY_STORE_TASKS_DIR": tasks,
                        "OMNIPLAY_LOCK_DIR": tmp_path / "locks"}.items():
        monkeypatch.setenv(name, str(value))
    with build.project.environ():
        settings = Settings.from_env()
        warehouse = connect(settings)
        assert warehouse.dialect == dialect
        now = pipeline_now(settings)  # the dataset's clock, at which the build decided
        due = sorted(p.play_id for p in due_plays(settings, warehouse, now))
        warehouse.execute("create schema if not exists omniplay_test")
        warehouse.execute(f"create table {SNAPSHOT} as select * from {QUEUE}")
        try:
            blocked, planted = plant_holdout_leak(warehouse, due, now)
            run = run_pipeline(settings, build=False)

            # The gate: every play judged on this engine, the planted one blocked, as on DuckDB.
            verdicts = gate_verdicts(warehouse)
            assert set(verdicts) == {p for (p,) in warehouse.fetchall(f"select distinct play_id from {QUEUE}")}
            assert {p for p, (outcome, _) in verdicts.items() if outcome == "blocked"} == {blocked}
            assert verdicts[blocked][1] == "holdout: 1 row(s) are for holdout members (global)"
            assert verdicts == duckdb_verdicts(duckdb_build, tmp_path, due, now)
            assert run.exit_code == 3 and set(run.blocked) == {blocked}, run.error
            assert list((tmp_path / "locks").iterdir()), "the run did not hold the target's lock"

            # The sync: the due plays but the blocked one went out, none of its rows did.
            assert blocked in due and blocked not in {p.play_id for p in run.due}
            summary = run.sync_summary
            assert summary is not None and summary.adds_up() and summary.total("sent") > 0
            ledger = dict(warehouse.fetchall("select status, count(*) from omniplay_state.sends group by status"))
            assert ledger.get("sent") == summary.total("sent") and "pending" not in ledger
            synced = {p for (p,) in warehouse.fetchall("select distinct play_id from omniplay_state.sends")}
            assert synced and blocked not in synced and synced <= set(due)
            files = [p for p in outbox.rglob("*") if p.is_file()] + [p for p in tasks.rglob("*") if p.is_file()]
            assert files, "nothing reached the outbox"
            assert warehouse.fetchall("select exit_code, blocked_plays from omniplay_state.pipeline_runs") == [
                (3, blocked)]

            # A re-run of the sync of the due plays: nothing sent twice, the blocked play still held back.
            config = load_config(PROJECT_DIR)
            again = sync(warehouse, config, SyncOptions(plays=due), clock=lambda: now, sleep=lambda s: None)
            assert set(again.blocked) == {blocked}
            assert again.total("sent") == 0
            assert dict(warehouse.fetchall(
                "select status, count(*) from omniplay_state.sends group by status")) == ledger
            assert warehouse.fetchall("select count(*) from omniplay_state.sends where message_id = ?",
                                      (planted,)) == [(0,)]
            assert [p for p in outbox.rglob("*") if p.is_file()] + [
                p for p in tasks.rglob("*") if p.is_file()] == files
            outcomes = warehouse.fetchall("select outcome from omniplay_state.runs")
            assert outcomes and {o for (o,) in outcomes} <= {"success", "partial"}
        finally:
            for statement in RESTORE_QUEUE[dialect]:
                warehouse.execute(statement)
            warehouse.execute(f"drop table {SNAPSHOT}")
