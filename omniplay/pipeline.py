"""The nightly pipeline a scheduler runs: build -> gate -> sync the due plays -> summary.

`omniplay run` calls :func:`run_pipeline`; `omniplay sync --due` calls :func:`due_plays`
to pick the plays whose schedule fired since their last sync or whose deferred messages
(quiet hours, store hours) can now go. Both hold the target's lock for their whole run.
Every pipeline run is recorded in `<state schema>.pipeline_runs`.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from omniplay.clock import pipeline_now
from omniplay.errors import BuildError, DeliveryFailed, GateBlocked, OmniplayError
from omniplay.settings import Settings

log = logging.getLogger(__name__)

PIPELINE_RUNS_TABLE = "pipeline_runs"
_PIPELINE_RUNS_COLUMNS = (
    ("run_id", "varchar(64) not null"),
    ("started_at", "timestamp not null"),
    ("finished_at", "timestamp"),
    ("stage", "varchar(16) not null"),
    ("outcome", "varchar(16) not null"),
    ("exit_code", "integer not null"),
    ("due_plays", "varchar(4096)"),
    ("blocked_plays", "varchar(4096)"),
    ("counts", "varchar(4096)"),
    ("message", "varchar(1024)"),
)


@dataclass(frozen=True)
class DuePlay:
    """A play to sync now, and why."""

    play_id: str
    reason: str


@dataclass
class PipelineResult:
    """What one `omniplay run` did, stage by stage."""

    run_id: str
    now: datetime
    stage: str = "build"
    build_counts: dict[str, int] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    due: list[DuePlay] = field(default_factory=list)
    sync_summary: object | None = None
    error: OmniplayError | None = None

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return self.error.exit_code
        return 0

    def counts(self) -> dict[str, int]:
        return dict(self.sync_summary.as_dict()["totals"]) if self.sync_summary is not None else {}


def _state_schema() -> str:
    from activation.reader import QueueSource

    return QueueSource().state_schema


def _utc_naive(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def due_plays(settings: Settings, warehouse, now: datetime) -> list[DuePlay]:
    """Enabled plays whose schedule fired since their last sync, plus plays with queued
    messages that were deferred and whose window is open now.

    A schedule missed while the machine was down is caught up once (omniplay.schedule).
    """
    from activation.reader import QueueSource
    from omniplay.plays import load_plays
    from omniplay.warehouse import quote_ident

    source = QueueSource()
    plays = [p for p in load_plays(settings.project_dir, check_templates=False) if p.play.enabled]
    last_runs: dict[str, datetime] = {}
    if warehouse.relation_exists(source.state_schema, "runs"):
        for play_id, started_at in warehouse.fetchall(
            f"select play_id, max(started_at) from {quote_ident(source.state_schema)}.runs where outcome <> 'interrupted' group by play_id"
        ):
            last_runs[play_id] = started_at.replace(tzinfo=timezone.utc)

    releasable: set[str] = set()
    if warehouse.relation_exists(source.queue_schema, source.queue_table):
        ledger_join = ""
        unsettled = ""
        if warehouse.relation_exists(source.state_schema, "sends"):
            ledger_join = f" left join {source.sends} as sends on sends.message_id = queue.message_id"
            unsettled = " and sends.message_id is null"
        naive_now = _utc_naive(now)
        releasable = {
            row[0]
            for row in warehouse.fetchall(
                f"select distinct queue.play_id from {source.queue} as queue{ledger_join}"
                f" where queue.not_before <= ? and queue.not_after > ?{unsettled}",
                (naive_now, naive_now),
            )
        }

    due: list[DuePlay] = []
    for loaded in plays:
        verdict = loaded.play.schedule.due(last_runs.get(loaded.id), now)
        if verdict.is_due:
            due.append(DuePlay(loaded.id, verdict.reason))
        elif loaded.id in releasable and loaded.id in last_runs:
            due.append(DuePlay(loaded.id, "deferred messages whose window is now open"))
    return due


def _record(settings: Settings, result: PipelineResult, started_at: datetime) -> None:
    """Append the run to pipeline_runs (best effort: a failed record never hides the run's own error)."""
    from omniplay.warehouse import connect

    from omniplay.warehouse import quote_ident

    schema = quote_ident(_state_schema())
    columns = ", ".join(f"{name} {kind}" for name, kind in _PIPELINE_RUNS_COLUMNS)
    try:
        with connect(settings) as warehouse:
            warehouse.execute(f"create schema if not exists {schema}")
            warehouse.execute(f"create table if not exists {schema}.{PIPELINE_RUNS_TABLE} ({columns})")
            warehouse.execute(
                f"insert into {schema}.{PIPELINE_RUNS_TABLE} "
                "(run_id, started_at, finished_at, stage, outcome, exit_code, due_plays, blocked_plays, counts, message) "
                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.run_id,
                    _utc_naive(started_at),
                    _utc_naive(datetime.now(timezone.utc)),
                    result.stage,
                    "ok" if result.error is None else type(result.error).__name__,
                    result.exit_code,
                    ",".join(p.play_id for p in result.due)[:4096],
                    ",".join(sorted(result.blocked))[:4096],
                    json.dumps(result.counts())[:4096],
                    (str(result.error) if result.error else "")[:1024],
                ),
            )
    except Exception as exc:  # noqa: BLE001 - recording is secondary to the run's outcome
        log.warning("could not record pipeline run %s: %s", result.run_id, exc)


def run_pipeline(settings: Settings, *, resend_ambiguous: bool = False, build: bool = True) -> PipelineResult:
    """Build, gate, then sync the due plays that passed the gate, under the target's lock.

    Never raises an OmniplayError: the result carries it (and its exit code), so the
    summary and the run record are written whatever happened. If the build fails,
    nothing is gated or sent. Exit code: 4 when messages failed permanently, else 3
    when the gate blocked a play, else 0 (the most urgent problem wins).
    """
    from activation.config import load_config
    from activation.engine import SyncEngine, SyncOptions
    from activation.gate import run_gate
    from omniplay.build import build_project
    from omniplay.lock import target_lock
    from omniplay.plays import load_plays, play_destinations
    from omniplay.warehouse import connect

    started_at = datetime.now(timezone.utc)
    now = pipeline_now(settings)
    result = PipelineResult(run_id=uuid.uuid4().hex, now=now)
    with target_lock(settings, command="omniplay run"):
        try:
            # Configuration first: a broken destinations file or play must not cost a build.
            config = load_config(settings.project_dir, None)
            plays = [p for p in load_plays(settings.project_dir, check_templates=False) if p.play.enabled]
            for name in sorted({d for p in plays for d in play_destinations(p.play).values()}):
                config.build(name)[0].close()  # validates flow control, settings and ${ENV} references
            if build:
                result.build_counts = build_project(settings).counts
            result.stage = "gate"
            report = run_gate(settings)
            result.blocked = {v.play_id: "; ".join(v.reasons()) for v in report.blocked}
            result.stage = "sync"
            with connect(settings) as warehouse:
                result.due = [p for p in due_plays(settings, warehouse, now) if p.play_id not in result.blocked]
                if result.due:
                    options = SyncOptions(plays=[p.play_id for p in result.due], resend_ambiguous=resend_ambiguous)
                    result.sync_summary = SyncEngine(warehouse, config, options, clock=lambda: now).run()
            result.stage = "done"
            failed = result.counts().get("failed", 0)
            if failed:
                result.error = DeliveryFailed(f"{failed} message(s) failed permanently")
            elif result.blocked:
                blocked = "; ".join(f"{play}: {why}" for play, why in sorted(result.blocked.items()))
                result.error = GateBlocked(f"the quality gate blocked {len(result.blocked)} play(s): {blocked}")
        except BuildError as exc:
            result.error = BuildError(f"build failed, nothing was sent: {exc}")
        except OmniplayError as exc:
            result.error = exc
        _record(settings, result, started_at)
    return result
