"""Guardrail pauses: read a play's status and re-enable a paused play.

The dbt side decides pauses (models/marts/measurement: int_play_guardrail_rates ->
fct_play_pauses -> dim_play_status, read by the decisions as `paused_guardrail`). The
only thing a person does is resume a play, which this module records in the state
table ``omniplay_state.play_resumes``; the next build stops pausing it and counts its
guardrail rates only from then on (docs/measurement.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from activation.ledger import DEFAULT_STATE_SCHEMA, Ledger
from omniplay.errors import ConfigError
from omniplay.warehouse import Warehouse, quote_ident


@dataclass(frozen=True)
class PlayStatus:
    """A play's guardrail status as of the last build (marts.dim_play_status)."""

    play_id: str
    is_paused: bool
    last_paused_at: datetime | None
    last_breached_metrics: str | None
    last_resumed_at: datetime | None


def play_statuses(warehouse: Warehouse) -> dict[str, PlayStatus]:
    """Every play's status from the last build; {} before the first build."""
    if not warehouse.relation_exists("marts", "dim_play_status"):
        return {}
    rows = warehouse.fetchall(
        "select play_id, is_paused, last_paused_at, last_breached_metrics, last_resumed_at "
        "from marts.dim_play_status order by play_id")
    return {row[0]: PlayStatus(row[0], bool(row[1]), row[2], row[3], row[4]) for row in rows}


def resume_play(warehouse: Warehouse, play_id: str, *, now: datetime | None = None, resumed_by: str | None = None,
                note: str | None = None, schema: str = DEFAULT_STATE_SCHEMA) -> datetime:
    """Record that ``play_id`` is re-enabled at ``now``; returns the (naive UTC) time written.

    Raises ConfigError when the last build knows the play and it is not paused (nothing
    to resume), so a typo or a stale command does not silently write a row.
    """
    statuses = play_statuses(warehouse)
    if statuses and play_id not in statuses:
        raise ConfigError(f"no play '{play_id}' in the last build (known: {', '.join(statuses)})")
    if play_id in statuses and not statuses[play_id].is_paused:
        raise ConfigError(f"play '{play_id}' is not paused by a guardrail; nothing to resume")
    at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None, microsecond=0)
    Ledger(warehouse, schema).ensure()
    resume_id = hashlib.md5(f"{play_id}|{at.isoformat()}".encode()).hexdigest()
    warehouse.upsert(
        f"{quote_ident(schema)}.play_resumes",
        {
            "resume_id": ("varchar", [resume_id]),
            "play_id": ("varchar", [play_id]),
            "resumed_at": ("timestamp", [at]),
            "resumed_by": ("varchar", [resumed_by]),
            "note": ("varchar", [note]),
        },
        conflict="resume_id",
        updates="note = excluded.note",
    )
    return at
