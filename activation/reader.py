"""Streams the activation queue in batches, skipping what the ledger already settled.

Rows come out of the warehouse as Arrow record batches (DuckDB), through a
server-side cursor (PostgreSQL) or partition by partition (Spark), so memory stays flat
however long the queue is. A long play is read in segments of message_ids (each one
query, in message_id order between segments), so no read transaction stays open for the
whole sync: between segments the ledger can checkpoint (DuckDB) or be vacuumed
(PostgreSQL).
Messages already `sent`, `rejected` or `expired` are filtered in SQL: a re-run over a
finished sync reads nothing. Duplicate message_ids keep their latest decision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pyarrow as pa

from activation.ledger import DEFAULT_STATE_SCHEMA, FINAL_STATUSES
from omniplay.warehouse import Warehouse, quote_ident

QUEUE_SCHEMA = "activation"
QUEUE_TABLE = "activation_queue"
QUEUE_COLUMNS = (
    "message_id", "run_date", "decided_at", "play_id", "play_version", "profile_id", "channel",
    "destination", "address", "recipient_timezone", "not_before", "not_after", "template", "payload",
)


def _id_range(after: str | None, upto: str | None, *, with_null_ids: bool = False) -> tuple[list[str], list[str]]:
    """Where clauses and parameters for message_ids in (after, upto] (either end open when
    None); `with_null_ids` also takes rows without a message_id when there is a lower bound."""
    clauses, params = [], []
    if after is not None:
        clauses.append("(message_id > ? or message_id is null)" if with_null_ids else "message_id > ?")
        params.append(after)
    if upto is not None:
        clauses.append("message_id <= ?")
        params.append(upto)
    return clauses, params


@dataclass(frozen=True)
class QueueSource:
    """Where the queue and the ledger are."""

    queue_schema: str = QUEUE_SCHEMA
    queue_table: str = QUEUE_TABLE
    state_schema: str = DEFAULT_STATE_SCHEMA

    @property
    def queue(self) -> str:
        return f"{quote_ident(self.queue_schema)}.{quote_ident(self.queue_table)}"

    @property
    def sends(self) -> str:
        return f"{quote_ident(self.state_schema)}.sends"


class QueueReader:
    """Reads the queue rows of the selected plays that still need work."""

    def __init__(self, warehouse: Warehouse, source: QueueSource = QueueSource(),
                 plays: Sequence[str] | None = None, ledger_exists: bool = True,
                 exclude_plays: Sequence[str] = ()):
        self.wh = warehouse
        self.source = source
        self.plays = list(plays) if plays else None
        self.exclude_plays = list(exclude_plays)
        self.ledger_exists = ledger_exists
        self._duplicates: bool | None = None

    def queue_exists(self) -> bool:
        return self.wh.relation_exists(self.source.queue_schema, self.source.queue_table)

    def _play_filter(self, after: str | None = None, upto: str | None = None) -> tuple[str, list[str]]:
        """The where clause of the selected plays, optionally message_ids in (after, upto];
        the last segment (after, no upper bound) also takes rows without a message_id, so
        that segments read every row one query would."""
        clauses, params = _id_range(after, upto, with_null_ids=upto is None)
        if self.plays:
            clauses.append(f"play_id in ({', '.join('?' * len(self.plays))})")
            params += self.plays
        if self.exclude_plays:
            clauses.append(f"play_id not in ({', '.join('?' * len(self.exclude_plays))})")
            params += self.exclude_plays
        return ("where " + " and ".join(clauses) if clauses else ""), params

    def latest_run_date(self):
        """The run_date of the newest decisions in the queue (what the gate judged)."""
        return self.wh.fetchall(f"select max(run_date) from {self.source.queue}")[0][0]

    def has_duplicates(self) -> bool:
        """Whether some message_id appears twice (the quality gate should prevent it)."""
        if self._duplicates is None:
            where, params = self._play_filter()
            total, distinct = self.wh.fetchall(
                f"select count(*), count(distinct message_id) from {self.source.queue} {where}", params
            )[0]
            self._duplicates = total != distinct
        return self._duplicates

    def _open_rows_sql(self, columns: str, after: str | None = None, upto: str | None = None) -> tuple[str, list]:
        where, params = self._play_filter(after, upto)
        if self.has_duplicates():
            latest = _latest_per_message(f"select * from {self.source.queue} {where}")
        else:  # the usual case: no sort, the rows stream straight through
            latest = f"select * from {self.source.queue} {where}"
        if not self.ledger_exists:
            return f"select {columns}, cast(null as {self.wh.text_type}) as ledger_status from ({latest}) q", params
        final = ", ".join(f"'{s}'" for s in FINAL_STATUSES)
        sends = self.source.sends
        if after is not None or upto is not None:  # the ledger rows of the segment only
            clauses, bounds = _id_range(after, upto)
            sends = f"(select message_id, status from {sends} where {' and '.join(clauses)})"
            params = params + bounds
        # `pending` rows are handled by reconciliation before the main pass.
        return (
            f"select {columns}, s.status as ledger_status from ({latest}) q "
            f"left join {sends} s on s.message_id = q.message_id "
            f"where s.message_id is null or s.status not in ({final}, 'pending')",
            params,
        )

    def count(self) -> int:
        """How many rows the main pass will read."""
        sql, params = self._open_rows_sql("q.message_id")
        return int(self.wh.fetchall(f"select count(*) from ({sql}) c", params)[0][0])

    def destinations(self) -> list[tuple[str, str, int]]:
        """(destination, channel, rows) among the rows to read: what must be configured."""
        sql, params = self._open_rows_sql("q.destination, q.channel")
        return [
            (d, c, int(n))
            for d, c, n in self.wh.fetchall(
                f"select destination, channel, count(*) from ({sql}) r group by destination, channel "
                f"order by destination, channel",
                params,
            )
        ]

    def batches(self, batch_size: int = 10_000) -> Iterator[list[dict]]:
        """Yield lists of row dicts (queue columns plus `ledger_status`)."""
        for batch in self.record_batches(batch_size):
            yield rows_of(batch)

    def record_batches(self, batch_size: int = 10_000, segment_rows: int | None = None,
                       between_segments: Callable[[], None] | None = None) -> Iterator[pa.RecordBatch]:
        """The same rows as Arrow record batches.

        With `segment_rows`, in segments of at most that many rows, each its own query over
        a range of message_ids (bounds taken once, at the start, in the warehouse's order, so
        every row falls in exactly one); `between_segments` runs after each segment's query
        is closed, before the next one opens. A message handled meanwhile is in an earlier
        segment, so what a segment reads is what one query at the start would have read.
        """
        columns = ", ".join(f"q.{c}" for c in QUEUE_COLUMNS if c != "payload")
        columns = f"{columns}, cast(q.payload as {self.wh.text_type}) as payload"
        if not segment_rows:
            sql, params = self._open_rows_sql(columns)
            yield from self.wh.stream(sql, params, batch_size)
            return
        bounds = self._segment_bounds(segment_rows)
        for after, upto in zip([None, *bounds], [*bounds, None]):
            if after is not None and between_segments is not None:
                between_segments()
            sql, params = self._open_rows_sql(columns, after, upto)
            yield from self.wh.stream(sql, params, batch_size)

    def _segment_bounds(self, segment_rows: int) -> list[str]:
        """Every `segment_rows`-th message_id of the rows to read, in order: the last of each
        full segment (one sort of the message_ids alone, whatever the width of the rows).
        The ledger is read with `not exists` (the same rows as the join of `_open_rows_sql`):
        DuckDB 2.0 drops the LIMIT of an ordered left join whose right side is empty, and
        this query keeps clear of that shape too."""
        where, params = self._play_filter()
        distinct = "distinct " if self.has_duplicates() else ""
        ids = f"select {distinct}message_id from {self.source.queue} {where}"
        settled = "where q.message_id is not null"
        if self.ledger_exists:
            final = ", ".join(f"'{s}'" for s in (*FINAL_STATUSES, "pending"))
            settled += (f" and not exists (select 1 from {self.source.sends} s "
                        f"where s.message_id = q.message_id and s.status in ({final}))")
        rows = self.wh.fetchall(
            f"select message_id from (select q.message_id, row_number() over (order by q.message_id) as omniplay_n "
            f"from ({ids}) q {settled}) r where omniplay_n % {int(segment_rows)} = 0 order by message_id",
            params,
        )
        return [r[0] for r in rows]

    def rows_for(self, message_ids: Sequence[str]) -> list[dict]:
        """Queue rows (latest decision) for specific messages, e.g. interrupted ones."""
        if not message_ids:
            return []
        columns = ", ".join(f"q.{c}" for c in QUEUE_COLUMNS if c != "payload")
        out: list[dict] = []
        for start in range(0, len(message_ids), 1000):
            chunk = list(message_ids[start : start + 1000])
            latest = _latest_per_message(
                f"select * from {self.source.queue} where message_id in ({', '.join('?' * len(chunk))})")
            sql = f"select {columns}, cast(q.payload as {self.wh.text_type}) as payload from ({latest}) q"
            for batch in self.wh.stream(sql, chunk, 1000):
                out.extend(rows_of(batch))
        return out


def rows_of(batch: pa.RecordBatch) -> list[dict]:
    """The batch as row dicts, like `to_pylist()` but about three times cheaper: timestamps
    and dates (a few distinct windows per queue) are converted once per distinct value."""
    columns = []
    for column in batch.columns:
        if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
            encoded = column.dictionary_encode()
            values = encoded.dictionary.to_pylist()
            columns.append([None if i is None else values[i] for i in encoded.indices.to_pylist()])
        else:
            columns.append(column.to_pylist())
    names = batch.schema.names
    return [dict(zip(names, row)) for row in zip(*columns)]


def _latest_per_message(rows_sql: str) -> str:
    """The newest decision per message_id among `rows_sql` (a window: every engine has one)."""
    return (
        f"select * from (select r.*, row_number() over (partition by message_id order by decided_at desc) "
        f"as omniplay_rank from ({rows_sql}) r) ranked where omniplay_rank = 1"
    )
