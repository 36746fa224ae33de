"""The send ledger (`sends`), run log (`runs`) and provider opt-outs, in the state schema.

dbt reads these tables as sources (frequency caps, outcomes, consent). Their DDL lives
only here: `ddl()` returns portable statements that the dbt project can also run to
create the same empty tables before the first sync.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from omniplay.warehouse import Warehouse, quote_ident

DEFAULT_STATE_SCHEMA = "omniplay_state"

# Final statuses: a message with one of these is never sent again.
FINAL_STATUSES = ("sent", "rejected", "expired")
LEDGER_STATUSES = ("pending", "sent", "failed", "rejected", "ambiguous", "expired")

# (column, type). Timestamps are UTC, stored without a zone so every engine reads them alike.
SENDS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("message_id", "varchar(128) not null primary key"),
    ("status", "varchar(16) not null"),
    ("attempts", "integer not null"),
    ("provider_message_id", "varchar(256)"),
    ("error_code", "varchar(64)"),
    ("error_message", "varchar(1024)"),
    ("first_attempt_at", "timestamp"),
    ("finished_at", "timestamp"),
    ("run_id", "varchar(64) not null"),
    ("play_id", "varchar(128)"),
    ("profile_id", "varchar(128)"),
    ("channel", "varchar(16)"),
    ("destination", "varchar(128)"),
    ("batch_id", "varchar(64)"),
    ("updated_at", "timestamp not null"),
)
RUNS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "varchar(64) not null"),
    ("play_id", "varchar(128) not null"),
    ("started_at", "timestamp not null"),
    ("finished_at", "timestamp"),
    ("outcome", "varchar(16) not null"),
    ("planned", "integer not null"),
    ("sent", "integer not null"),
    ("rejected", "integer not null"),
    ("failed", "integer not null"),
    ("ambiguous", "integer not null"),
    ("deferred", "integer not null"),
    ("expired", "integer not null"),
    ("error_message", "varchar(1024)"),
)
# Shaped like the consent source (consent_log) so the consent model can union it in.
OPT_OUTS_COLUMNS: tuple[tuple[str, str], ...] = (
    ("opt_out_id", "varchar(128) not null primary key"),
    ("identifier_type", "varchar(16) not null"),
    ("identifier_value", "varchar(256) not null"),
    ("channel", "varchar(16) not null"),
    ("action", "varchar(32) not null"),
    ("source", "varchar(32) not null"),
    ("profile_id", "varchar(128)"),
    ("message_id", "varchar(128)"),
    ("occurred_at", "timestamp not null"),
)
# `omniplay plays resume`: a play paused by a guardrail counts again from resumed_at (docs/measurement.md).
PLAY_RESUMES_COLUMNS: tuple[tuple[str, str], ...] = (
    ("resume_id", "varchar(64) not null primary key"),
    ("play_id", "varchar(128) not null"),
    ("resumed_at", "timestamp not null"),
    ("resumed_by", "varchar(128)"),
    ("note", "varchar(1024)"),
)
TABLES = {"sends": SENDS_COLUMNS, "runs": RUNS_COLUMNS, "opt_outs": OPT_OUTS_COLUMNS,
          "play_resumes": PLAY_RESUMES_COLUMNS}
# The key of each table: what an upsert or update finds a row by (the append-only Spark
# tables keep the latest row version per key).
TABLE_KEYS = {"sends": ("message_id",), "runs": ("run_id", "play_id"), "opt_outs": ("opt_out_id",),
              "play_resumes": ("resume_id",)}
_SPARK_TYPES = {"varchar": "string", "integer": "int", "timestamp": "timestamp"}
RUN_COUNT_COLUMNS = ("planned", "sent", "rejected", "failed", "ambiguous", "deferred", "expired")


def ddl(schema: str = DEFAULT_STATE_SCHEMA, dialect: str = "") -> list[str]:
    """Portable `create ... if not exists` statements for the state schema and its tables.

    On DuckDB (`dialect='duckdb'`) `sends` has no primary-key index: DuckDB keeps an ART
    index in memory (about 90 MB per million keys) and a sync's commit fails once it
    outgrows the memory limit (at about 3M messages under 256 MB). message_id stays the
    key: the engine is the ledger's only writer, writes it with MERGE on message_id, and
    a pending insert of a message already in the ledger is an error.

    On Spark (`dialect='spark'`), where Parquet tables cannot be updated, each table is an
    append-only `<table>__log` (plus `_seq`, the row version) under a view `<table>` that
    shows the latest version per key (TABLE_KEYS); omniplay.spark_warehouse writes them.
    """
    if dialect == "spark":
        return _spark_ddl(schema)
    statements = [f"create schema if not exists {quote_ident(schema)}"]
    for table, columns in TABLES.items():
        if dialect == "duckdb" and table == "sends":
            columns = tuple((name, type_.replace(" primary key", "")) for name, type_ in columns)
        body = ",\n    ".join(f"{name} {type_}" for name, type_ in columns)
        statements.append(f"create table if not exists {quote_ident(schema)}.{table} (\n    {body}\n)")
    return statements


def _spark_ddl(schema: str) -> list[str]:
    quoted = quote_ident(schema)
    statements = [f"create schema if not exists {quoted}"]
    for table, columns in TABLES.items():
        log = f'{quoted}."{table}__log"'
        body = ",\n    ".join(f"{name} {_SPARK_TYPES[type_.split()[0].split('(')[0]]}" for name, type_ in columns)
        statements.append(f"create table if not exists {log} (\n    {body},\n    _seq bigint\n) using parquet")
        statements.append(
            f'create or replace view {quoted}."{table}" as select {", ".join(name for name, _ in columns)} '
            f"from (select *, row_number() over (partition by {', '.join(TABLE_KEYS[table])} "
            f"order by _seq desc) as _rank from {log}) where _rank = 1"
        )
    return statements


@dataclass(frozen=True)
class Resolution:
    """What happened to one message in this run, as written to the ledger."""

    message_id: str
    status: str
    attempts: int = 0
    provider_message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class PendingRow:
    """The identity of a message about to leave, written before it is handed over."""

    message_id: str
    play_id: str
    profile_id: str
    channel: str
    destination: str
    batch_id: str | None


class Ledger:
    """Reads and writes the state tables through one warehouse connection."""

    def __init__(self, warehouse: Warehouse, schema: str = DEFAULT_STATE_SCHEMA):
        self.wh = warehouse
        self.schema = schema
        self.sends = f"{quote_ident(schema)}.sends"
        self.runs = f"{quote_ident(schema)}.runs"
        self.opt_outs = f"{quote_ident(schema)}.opt_outs"

    def ensure(self) -> None:
        """Create the state schema and tables if they are missing."""
        for statement in ddl(self.schema, self.wh.dialect):
            self.wh.execute(statement)

    def exists(self) -> bool:
        return self.wh.relation_exists(self.schema, "sends")

    def checkpoint(self) -> None:
        """Fold committed writes into the warehouse's files (DuckDB `CHECKPOINT`; a no-op
        where the server does it), outside any transaction."""
        self.wh.checkpoint()

    # -- sends ------------------------------------------------------------------------

    def mark_pending(self, rows: Sequence[PendingRow], run_id: str, now: datetime) -> None:
        """Record that these messages are about to leave (committed before they do)."""
        self.write_sends([("mark_pending", (rows, run_id, now))])

    def resolve(
        self,
        resolutions: Sequence[Resolution],
        run_id: str,
        now: datetime,
        identities: dict[str, PendingRow] | None = None,
    ) -> None:
        """Write final (or failed/ambiguous) outcomes; `identities` fills new rows' columns."""
        self.write_sends([("resolve", (resolutions, run_id, now, identities))])

    def write_sends(self, calls: Sequence[tuple[str, tuple]]) -> None:
        """Several mark_pending / resolve calls, given as (name, args), in one statement.

        A statement costs milliseconds whatever its size, so a sync writes each round's
        marks and resolutions together. No message may appear twice among the calls.
        """
        columns: dict[str, list] = {name: [] for name in _SENDS_WRITE_TYPES}
        for name, args in calls:
            rows = _pending_rows(*args) if name == "mark_pending" else _resolved_rows(*args)
            for column, values in columns.items():
                values.extend(rows[column])
        if not columns["message_id"]:
            return
        self.wh.upsert(self.sends, {name: (type_, columns[name]) for name, type_ in _SENDS_WRITE_TYPES.items()},
                       "message_id", _SENDS_UPDATES)

    def mark_pending_table(self, identities: pa.Table, run_id: str, now: datetime) -> None:
        """`mark_pending` for messages never attempted before, whose identity columns
        (message_id, play_id, profile_id, channel, destination, batch_id) come as an Arrow
        table (activation.bulk): one set-based insert, no value passing through Python."""
        values = {"status": "pending", "attempts": 0, "first_attempt_at": now, "run_id": run_id, "updated_at": now}
        self.wh.insert_arrow(self.sends, identities, {c: (_SENDS_WRITE_TYPES[c], v) for c, v in values.items()},
                             "message_id", _SENDS_UPDATES)

    def resolve_batches(self, batch_ids: Sequence[str], status: str, run_id: str, now: datetime, attempts: int,
                        provider_is_batch: bool = False, error_code: str | None = None,
                        error_message: str | None = None) -> None:
        """Resolve every message of these batches still `pending` alike, in one statement
        (messages with an outcome of their own are resolved first, by `resolve`); with
        `provider_is_batch` the provider's id of each message is its batch's id."""
        marks = ", ".join("?" * len(batch_ids))
        self.wh.update(
            self.sends,
            "status = ?, attempts = attempts + ?, "
            "provider_message_id = case when ? then batch_id else provider_message_id end, "
            "error_code = ?, error_message = ?, finished_at = ?, run_id = ?, updated_at = ?",
            f"batch_id in ({marks}) and status = 'pending'",
            (status, attempts, provider_is_batch, _clip(error_code, 64), _clip(error_message, 1024), now, run_id,
             now, *batch_ids),
        )

    def pending(self) -> list[tuple[str, str | None, str | None]]:
        """(message_id, destination, batch_id) of messages a previous run left in flight."""
        return [
            (r[0], r[1], r[2])
            for r in self.wh.fetchall(
                f"select message_id, destination, batch_id from {self.sends} where status = 'pending'"
            )
        ]

    def mark_ambiguous(self, message_ids: Iterable[str], reason: str, now: datetime) -> int:
        """Pending rows that cannot be safely re-sent become `ambiguous`."""
        ids = list(message_ids)
        if not ids:
            return 0
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            self.wh.update(
                self.sends,
                "status = 'ambiguous', error_code = 'interrupted', error_message = ?, finished_at = ?, updated_at = ?",
                f"status = 'pending' and message_id in ({', '.join('?' * len(chunk))})",
                (reason, now, now, *chunk),
            )
        return len(ids)

    def status_counts(self) -> dict[str, int]:
        if not self.exists():
            return {}
        return {s: n for s, n in self.wh.fetchall(f"select status, count(*) from {self.sends} group by status")}

    def statuses(self, message_ids: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for start in range(0, len(message_ids), 1000):
            chunk = list(message_ids[start : start + 1000])
            rows = self.wh.fetchall(
                f"select message_id, status from {self.sends} where message_id in ({', '.join('?' * len(chunk))})",
                chunk,
            )
            out.update(dict(rows))
        return out

    # -- runs ---------------------------------------------------------------------------

    def start_play(self, run_id: str, play_id: str, started_at: datetime) -> None:
        self.wh.insert_row(
            self.runs,
            {"run_id": run_id, "play_id": play_id, "started_at": started_at, "outcome": "running",
             **{c: 0 for c in RUN_COUNT_COLUMNS}},
        )

    def finish_play(
        self, run_id: str, play_id: str, counts: dict[str, int], outcome: str, finished_at: datetime,
        error_message: str | None = None,
    ) -> None:
        sets = ", ".join(f"{c} = ?" for c in RUN_COUNT_COLUMNS)
        self.wh.update(
            self.runs,
            f"{sets}, outcome = ?, finished_at = ?, error_message = ?",
            "run_id = ? and play_id = ?",
            (*(int(counts.get(c, 0)) for c in RUN_COUNT_COLUMNS), outcome, finished_at,
             _clip(error_message, 1024), run_id, play_id),
        )

    def close_interrupted_runs(self, now: datetime) -> int:
        """Runs a crash left `running` are closed as `interrupted`."""
        rows = self.wh.fetchall(f"select count(*) from {self.runs} where outcome = 'running'")
        if rows[0][0]:
            self.wh.update(self.runs, "outcome = 'interrupted', finished_at = ?", "outcome = 'running'", (now,))
        return int(rows[0][0])

    def recent_runs(self, limit: int = 20) -> list[tuple]:
        return self.wh.fetchall(
            f"select run_id, play_id, started_at, finished_at, outcome, {', '.join(RUN_COUNT_COLUMNS)} "
            f"from {self.runs} order by started_at desc, play_id limit {int(limit)}"
        )

    # -- opt-outs -----------------------------------------------------------------------

    def record_opt_outs(self, rows: Sequence[dict], now: datetime) -> None:
        """Provider-reported opt-outs (e.g. Twilio 21610), for the consent model to read."""
        if not rows:
            return
        n = len(rows)
        table = {
            "opt_out_id": ("varchar", [r["message_id"] for r in rows]),
            "identifier_type": ("varchar", [r["identifier_type"] for r in rows]),
            "identifier_value": ("varchar", [r["identifier_value"] for r in rows]),
            "channel": ("varchar", [r["channel"] for r in rows]),
            "action": ("varchar", ["opt_out"] * n),
            "source": ("varchar", [r["source"] for r in rows]),
            "profile_id": ("varchar", [r.get("profile_id") for r in rows]),
            "message_id": ("varchar", [r["message_id"] for r in rows]),
            "occurred_at": ("timestamp", [now] * n),
        }
        self.wh.upsert(self.opt_outs, table, "opt_out_id", "occurred_at = opt_outs.occurred_at")


# One SET clause for both kinds of sends write: a pending mark keeps the previous
# outcome's error and finish time, a resolution replaces them.
_SENDS_UPDATES = (
    "status = excluded.status, attempts = sends.attempts + excluded.attempts, "
    "provider_message_id = coalesce(excluded.provider_message_id, sends.provider_message_id), "
    "error_code = case when excluded.status = 'pending' then sends.error_code else excluded.error_code end, "
    "error_message = case when excluded.status = 'pending' then sends.error_message "
    "else excluded.error_message end, "
    "first_attempt_at = coalesce(sends.first_attempt_at, excluded.first_attempt_at), "
    "finished_at = case when excluded.status = 'pending' then sends.finished_at else excluded.finished_at end, "
    "run_id = excluded.run_id, batch_id = coalesce(excluded.batch_id, sends.batch_id), "
    "destination = coalesce(excluded.destination, sends.destination), updated_at = excluded.updated_at"
)
# The columns a sends write carries, with their SQL types.
_SENDS_WRITE_TYPES = {
    "message_id": "varchar", "status": "varchar", "attempts": "integer", "provider_message_id": "varchar",
    "error_code": "varchar", "error_message": "varchar", "first_attempt_at": "timestamp",
    "finished_at": "timestamp", "run_id": "varchar", "play_id": "varchar", "profile_id": "varchar",
    "channel": "varchar", "destination": "varchar", "batch_id": "varchar", "updated_at": "timestamp",
}


def _pending_rows(rows: Sequence[PendingRow], run_id: str, now: datetime) -> dict[str, list]:
    n = len(rows)
    return {
        "message_id": [r.message_id for r in rows], "status": ["pending"] * n, "attempts": [0] * n,
        "provider_message_id": [None] * n, "error_code": [None] * n, "error_message": [None] * n,
        "first_attempt_at": [now] * n, "finished_at": [None] * n, "run_id": [run_id] * n,
        "play_id": [r.play_id for r in rows], "profile_id": [r.profile_id for r in rows],
        "channel": [r.channel for r in rows], "destination": [r.destination for r in rows],
        "batch_id": [r.batch_id for r in rows], "updated_at": [now] * n,
    }


def _resolved_rows(resolutions: Sequence[Resolution], run_id: str, now: datetime,
                   identities: dict[str, PendingRow] | None = None) -> dict[str, list]:
    n = len(resolutions)
    ids = identities or {}
    known = [ids.get(r.message_id) for r in resolutions]
    return {
        "message_id": [r.message_id for r in resolutions], "status": [r.status for r in resolutions],
        "attempts": [r.attempts for r in resolutions],
        "provider_message_id": [_clip(r.provider_message_id, 256) for r in resolutions],
        "error_code": [_clip(r.error_code, 64) for r in resolutions],
        "error_message": [_clip(r.error_message, 1024) for r in resolutions],
        "first_attempt_at": [now if r.attempts else None for r in resolutions], "finished_at": [now] * n,
        "run_id": [run_id] * n,
        "play_id": [k.play_id if k else None for k in known],
        "profile_id": [k.profile_id if k else None for k in known],
        "channel": [k.channel if k else None for k in known],
        "destination": [k.destination if k else None for k in known],
        "batch_id": [None] * n, "updated_at": [now] * n,
    }


def _clip(value: str | None, size: int) -> str | None:
    if value is None:
        return None
    value = str(value)
    return value if len(value) <= size else value[: size - 1] + "…"


if __name__ == "__main__":
    # `python -m activation.ledger [schema]` prints the state DDL, e.g. for a dbt macro or a DBA.
    import sys

    print(";\n\n".join(ddl(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_STATE_SCHEMA)) + ";")
