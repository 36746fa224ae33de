"""Read-only access to the relations a report needs, tolerant of absent ones.

Every relation is checked in `information_schema` before it is read, so a warehouse
built before a model existed gives a clear "missing" line instead of a SQL error.
Rows come back as dicts of JSON-friendly values (dates as ISO strings, decimals as
floats) so they can go straight into a Vega-Lite spec.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache

from omniplay.warehouse import Warehouse, quote_ident

MARTS_SCHEMA = "marts"


class ReportSource:
    """One warehouse connection plus the schemas of the marts, queue and state tables."""

    def __init__(self, warehouse: Warehouse, *, marts_schema: str = MARTS_SCHEMA,
                 state_schema: str | None = None, queue_schema: str | None = None):
        from activation.reader import QueueSource

        queue = QueueSource()
        self.warehouse = warehouse
        self.marts_schema = marts_schema
        self.state_schema = state_schema or queue.state_schema
        self.queue_schema = queue_schema or queue.queue_schema
        self.columns = cache(self._columns)

    def _columns(self, schema: str, table: str) -> frozenset[str]:
        rows = self.warehouse.fetchall(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            (schema, table),
        )
        return frozenset(str(name).lower() for (name,) in rows)

    def has(self, schema: str, table: str) -> bool:
        """Whether the relation exists (a table or a view with at least one column)."""
        return bool(self.columns(schema, table))

    @staticmethod
    def relation(schema: str, table: str) -> str:
        return f"{quote_ident(schema)}.{quote_ident(table)}"

    def readable(self, missing: list[str], schema: str, table: str, how: str, needs: tuple[str, ...] = ()) -> bool:
        """True when the relation exists with the `needs` columns; otherwise append why to `missing`."""
        if not self.has(schema, table):
            missing.append(f"{schema}.{table} is not in this warehouse: {how}")
            return False
        absent = [name for name in needs if name not in self.columns(schema, table)]
        if absent:
            missing.append(f"{schema}.{table} lacks column(s) {', '.join(absent)}: {how}")
            return False
        return True

    def select(self, columns: dict[str, str] | tuple[str, ...], rest: str, params: tuple = ()) -> list[dict]:
        """`select <expr> as <name>, ... <rest>`; rows as dicts of JSON-friendly values.

        `columns` maps output names to SQL expressions (a tuple selects plain columns);
        `rest` is the from/where/group/order part, with `?` placeholders for values.
        """
        pairs = list(columns.items()) if isinstance(columns, dict) else [(name, name) for name in columns]
        select_list = ", ".join(f"{expr} as {quote_ident(name)}" for name, expr in pairs)
        rows = self.warehouse.fetchall(f"select {select_list} {rest}", params)
        names = [name for name, _ in pairs]
        return [{name: _plain(value) for name, value in zip(names, row)} for row in rows]


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
