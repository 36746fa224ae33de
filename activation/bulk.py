"""The set-based path for destinations that send a batch as one body (`store_webhook`).

For each batch of queue rows the reader streams, DuckDB (an in-memory connection over
the Arrow batch, whatever the warehouse) picks the rows that need no per-row decision:
never attempted, play running, window open, a plain store id, a JSON object payload, a
template whose channel variant reads only variables it can extract. Their variants are
rendered once per distinct combination of those variables (in Python, the same
TemplateStore as the per-row path) and joined back; then DuckDB writes each item's JSON,
cuts the rows into batches, names each (sync, read batch, destination, number: the
Idempotency-Key a re-send after a crash reuses, read back from the ledger) and
assembles the bodies. What reaches Python is one body and one Arrow table of ledger
identities per batch; the ledger takes those tables in single set-based statements.

Every other row (an earlier outcome, a window not open or closed, anything to reject, a
template falling back) goes back to the engine's per-row path, which records the reason.
The outcomes are the same either way; only the cost differs.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from activation.destinations import Destination
from activation.templates import RenderFailed, TemplateStore, UnknownTemplate

# Message fields a template may read, taken from the row rather than the payload (as the
# per-row path puts them over the payload's keys).
_ROW_VARIABLES = ("message_id", "play_id", "profile_id", "channel")
_KEYABLE = (str, int, type(None))  # as TemplateStore's memo: values that render alike when equal
_STORE_ID = "[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
MEMO_SIZE = 50_000
# The planner's own in-memory DuckDB holds one read batch at a time (copies of its rows,
# items and bodies: tens of MB for 25,000 rows), whatever the queue's size. At 64MB it hit
# its limit on every read batch, and DuckDB then evicts and hands all its allocators' free
# memory back to the system (jemalloc purge, malloc_trim), which the next statement faults
# in again: 100,000 webhook rows took 155,000 page faults at 64MB, 100,000 at 256MB, and
# 0.15-0.2 CPU-s less system time (benchmarks/RESULTS.md, activation session 6).
PLANNER_MEMORY_LIMIT = "256MB"
IDENTITY_COLUMNS = ("message_id", "play_id", "profile_id", "channel", "destination", "batch_id")


@dataclass
class PlannedBatch:
    """One batch ready to leave: its body, and its messages' ledger identities."""

    destination: str
    batch_id: str
    body: bytes
    identities: pa.Table  # IDENTITY_COLUMNS
    counts: list[tuple[tuple[str, str, str], int]]  # ((play, channel, destination), messages)

    @property
    def size(self) -> int:
        return self.identities.num_rows


class BulkPlanner:
    """Plans the set-based part of each read batch; used from one thread."""

    def __init__(self, templates: TemplateStore, destinations: dict[str, tuple[Destination, int]],
                 batch_prefix: str, memory_limit: str = PLANNER_MEMORY_LIMIT):
        """`batch_prefix` starts every batch id: unique per sync (e.g. from its run id)."""
        import duckdb

        self.templates = templates
        self.batch_prefix = batch_prefix
        self._planned = 0
        self.destinations = destinations  # name -> (destination, batch size)
        self.con = duckdb.connect(config={"memory_limit": memory_limit, "threads": 1})
        self.con.execute("create table omniplay_rendered (template varchar, channel varchar, key varchar, "
                         "content varchar)")
        self._rendered: set[tuple[str, str, str]] = set()

    @staticmethod
    def eligible(destination: Destination) -> bool:
        """Whether a destination's batches can be built in SQL."""
        return (destination.item_sql() is not None and not destination.collects
                and type(destination).template_context is Destination.template_context)

    def close(self) -> None:
        self.con.close()

    # -- planning ---------------------------------------------------------------------------

    def plan(self, rows: pa.RecordBatch, now: datetime,
             stopped: Collection[str]) -> tuple[pa.Table, list[PlannedBatch], pa.Table | None]:
        """(rows left for the per-row path, batches planned, the identities of all their
        messages: IDENTITY_COLUMNS, batch after batch). `now` is naive UTC."""
        table = pa.Table.from_batches([rows])
        if any(getattr(table.schema.field(c).type, "tz", None) for c in ("not_before", "not_after")):
            return table, [], None
        con = self.con
        con.register("omniplay_rows", table)
        try:
            kinds = self._kinds()
            if not kinds:
                return table, [], None
            self._select_eligible(kinds, now, stopped)
            self._render_new(kinds)
            planned, identities = self._batches()
            if identities is not None and identities.num_rows == table.num_rows:
                return table.slice(0, 0), planned, identities
            rest = con.sql("select r.* from omniplay_rows r anti join omniplay_fast f "
                           "on r.message_id = f.message_id").to_arrow_table()
            return rest, planned, identities
        finally:
            con.unregister("omniplay_rows")

    def _kinds(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """(template, channel, destination, variables read) of the rows this path can take."""
        kinds = []
        for template, channel, destination in self.con.execute(
                "select distinct template, channel, destination from omniplay_rows where ledger_status is null "
                "and template is not null and channel = 'store' and destination is not null").fetchall():
            found = self.destinations.get(destination)
            if found is None or channel not in found[0].channels:
                continue
            variables = self.templates.variables_read(template, channel)
            if variables is not None:
                kinds.append((template, channel, destination, variables))
        return kinds

    def _select_eligible(self, kinds, now: datetime, stopped: Collection[str]) -> None:
        params: list = []
        values = []
        cases = []
        for i, (template, channel, destination, variables) in enumerate(kinds):
            values.append("(?, ?, ?, ?)")
            params += [template, channel, destination, i]
        key_params: list = []
        for i, (_, _, _, variables) in enumerate(kinds):
            parts = []
            for name in variables:
                if name in _ROW_VARIABLES:
                    parts.append(f"cast(to_json(r.{name}) as varchar)")
                else:
                    parts.append("cast(json_extract(r.payload, ?) as varchar)")
                    key_params.append('$."' + name + '"')
            key = f"cast(to_json(list_value({', '.join(parts)})) as varchar)" if parts else "'[]'"
            cases.append(f"when {i} then {key}")
        # The same checks as the per-row path, stricter where cheaper: a row failing any of
        # them is not rejected here but left to the per-row path, which says why.
        self.con.execute(
            f"create or replace temp table omniplay_eligible as "
            f"select r.*, case k.kind {' '.join(cases)} end as omniplay_key "
            f"from omniplay_rows r join (values {', '.join(values)}) k(template, channel, destination, kind) "
            f"on r.template = k.template and r.channel = k.channel and r.destination = k.destination "
            f"where r.ledger_status is null and r.message_id is not null and r.play_id is not null "
            f"and not list_contains(cast(? as varchar[]), r.play_id) "
            f"and (r.not_after is null or r.not_after >= cast(? as timestamp)) "
            f"and (r.not_before is null or r.not_before <= cast(? as timestamp)) "
            f"and r.address is not null and regexp_full_match(r.address, '{_STORE_ID}') "
            f"and r.payload is not null "
            f"and case when json_valid(r.payload) then json_type(r.payload) = 'OBJECT' else false end",
            [*key_params, *params, list(stopped), now, now],
        )

    def _render_new(self, kinds) -> None:
        """Render each new (template, channel, variable values) once; None marks a variant
        that failed or fell back (those rows take the per-row path, which records it)."""
        variables = {(t, c): v for t, c, _, v in kinds}
        new = [(t, c, key) for t, c, key in self.con.execute(
            "select distinct template, channel, omniplay_key from omniplay_eligible").fetchall()
            if (t, c, key) not in self._rendered]
        if not new:
            return
        if len(self._rendered) + len(new) > MEMO_SIZE:
            self.con.execute("delete from omniplay_rendered")
            self._rendered.clear()
        contents = [self._render(t, c, variables[(t, c)], key) for t, c, key in new]
        self.con.execute("insert into omniplay_rendered select unnest(?), unnest(?), unnest(?), unnest(?)",
                         [[t for t, _, _ in new], [c for _, c, _ in new], [k for _, _, k in new], contents])
        self._rendered.update(new)

    def _render(self, template: str, channel: str, variables: tuple[str, ...], key: str) -> str | None:
        context = {}
        for name, text in zip(variables, json.loads(key)):
            if text is None:  # absent: the template may test `is defined`
                continue
            value = json.loads(text)
            if type(value) not in _KEYABLE:
                return None
            context[name] = value
        try:
            rendered = self.templates.render(template, channel, context)
        except (UnknownTemplate, RenderFailed):
            return None
        if rendered.fallback_reason:
            return None
        return json.dumps(rendered.parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def _batches(self) -> tuple[list[PlannedBatch], pa.Table | None]:
        con = self.con
        names = list(self.destinations)
        items = " ".join(f"when ? then {self.destinations[n][0].item_sql()}" for n in names)
        sizes = ", ".join("(?, ?, ?)" for _ in names)
        # A batch's id: the planner's prefix (unique per run and read batch), the
        # destination's number and the batch's number within the read batch.
        self._planned += 1
        con.execute(
            f"create or replace temp table omniplay_fast as "
            f"select message_id, play_id, profile_id, channel, destination, "
            f"? || omniplay_destination || '-' || omniplay_chunk as batch_id, "
            f"case destination {items} end as omniplay_item "
            f"from (select e.*, m.content, b.number as omniplay_destination, "
            f"(row_number() over (partition by e.destination) - 1) // b.size as omniplay_chunk "
            f"from omniplay_eligible e join omniplay_rendered m "
            f"on m.template = e.template and m.channel = e.channel and m.key = e.omniplay_key "
            f"join (values {sizes}) b(destination, size, number) on b.destination = e.destination "
            f"where m.content is not null) e",
            [f"{self.batch_prefix}-{self._planned}-", *names,
             *[x for i, n in enumerate(names) for x in (n, self.destinations[n][1], i)]],
        )
        # Bodies leave DuckDB as UTF-8 bytes (a BLOB), ready to sign and send: no str in between.
        bodies = con.execute(
            "select destination, batch_id, count(*), encode('{\"batch_id\":' || to_json(batch_id) || ',\"items\":[' "
            "|| string_agg(omniplay_item, ',') || ']}') "
            "from omniplay_fast group by destination, batch_id order by batch_id").fetchall()
        if not bodies:
            return [], None
        identities = con.sql(
            f"select {', '.join(IDENTITY_COLUMNS)} from omniplay_fast order by batch_id").to_arrow_table()
        counts: dict[str, list] = {}
        for batch_id, play, channel, destination, n in con.execute(
                "select batch_id, play_id, channel, destination, count(*) from omniplay_fast "
                "group by all order by all").fetchall():
            counts.setdefault(batch_id, []).append(((play, channel, destination), int(n)))
        planned, offset = [], 0
        for destination, batch_id, size, body in bodies:
            planned.append(PlannedBatch(destination, batch_id, body,
                                        identities.slice(offset, size), counts[batch_id]))
            offset += size
        return planned, identities

    # -- after delivery ---------------------------------------------------------------------

    def keys_of(self, identities: pa.Table, message_ids: list[str]) -> dict[str, tuple[str, str, str]]:
        """{message_id: (play, channel, destination)} of these messages of a batch."""
        self.con.register("omniplay_batch", identities)
        try:
            return {m: (p, c, d) for m, p, c, d in self.con.execute(
                "select message_id, play_id, channel, destination from omniplay_batch "
                "where list_contains(cast(? as varchar[]), message_id)", [message_ids]).fetchall()}
        finally:
            self.con.unregister("omniplay_batch")
