"""The warehouse connection on Spark: the in-process SparkSession dbt-spark builds with.

Differences from DuckDB and PostgreSQL, all kept inside this class:

* SQL arrives in the shared dialect: `"name"` identifiers become Spark's backticks and
  `?` placeholders are bound as Spark parameters (never pasted into the SQL).
* Timestamps are UTC. Spark hands Python `timestamp` values in the Python process's
  local zone, so results read them as `timestamp_ntz` (the UTC wall clock); naive
  datetimes sent as parameters are taken as UTC.
* Results stream partition by partition (`toLocalIterator`), so memory stays bounded
  by one partition and one batch however long the queue is.
* Parquet tables cannot be updated. The state tables (send ledger, run log, opt-outs)
  are append-only on Spark: `<table>` is a view of the latest row version per key in
  `<table>__log` (activation.ledger.ddl). `upsert`, `update` and `insert_row` append
  whole new row versions computed exactly as the other engines' statements would
  leave the row; the larger `_seq` wins. Spark has no transactions: `transaction()`
  only groups statements, each append is atomic on its own.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from omniplay.errors import ConfigError
from omniplay.warehouse import Warehouse

LOG_SUFFIX = "__log"
SEQUENCE_COLUMN = "_seq"

_seq_lock = threading.Lock()
_last_seq = 0
_view_names = itertools.count()


def next_sequence() -> int:
    """A strictly increasing version number for appended rows (nanoseconds since the epoch)."""
    global _last_seq
    with _seq_lock:
        _last_seq = max(time.time_ns(), _last_seq + 1)
        return _last_seq


def to_spark_sql(sql: str) -> str:
    """Turn `"identifier"` quoting into Spark's backticks, leaving string literals alone."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "'":
            j = i + 1
            while j < n and sql[j] != "'":
                j += 2 if sql[j] == "\\" else 1
            out.append(sql[i : j + 1])
            i = j + 1
        elif c == '"':
            j = sql.index('"', i + 1)
            out.append("`" + sql[i + 1 : j] + "`")
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def number_placeholders(sql: str, start: int = 0) -> tuple[str, int]:
    """Replace each `?` outside string literals by `:p<k>` (k from `start`); return the next k."""
    out: list[str] = []
    k = start
    in_string = False
    for c in sql:
        if c == "'":
            in_string = not in_string
        if c == "?" and not in_string:
            out.append(f":p{k}")
            k += 1
        else:
            out.append(c)
    return "".join(out), k


def split_assignments(sets: str) -> dict[str, str]:
    """`a = x, b = coalesce(y, z)` -> {a: x, b: coalesce(y, z)} (commas inside parentheses kept)."""
    parts, depth, current, in_string = [], 0, [], False
    for c in sets:
        if c == "'":
            in_string = not in_string
        elif not in_string and c == "(":
            depth += 1
        elif not in_string and c == ")":
            depth -= 1
        if c == "," and depth == 0 and not in_string:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
    parts.append("".join(current))
    assignments = {}
    for part in parts:
        column, _, expression = part.partition("=")
        assignments[column.strip()] = expression.strip()
    return assignments


def _utc_param(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


class SparkWarehouse(Warehouse):
    """The process's SparkSession (shared with dbt-spark); every method is thread-safe."""

    dialect = "spark"
    text_type = "string"

    def __init__(self, spark):
        self._spark = spark

    # -- queries ---------------------------------------------------------------------

    def _frame(self, sql: str, params: Sequence[Any] | dict = ()):
        args: Any = None
        if isinstance(params, dict):
            args = {k: _utc_param(v) for k, v in params.items()} or None
        elif params:
            args = [_utc_param(v) for v in params]
        return self._spark.sql(to_spark_sql(sql), args=args)

    def _utc_frame(self, sql: str, params: Sequence[Any] | dict = ()):
        from pyspark.sql import functions as F
        from pyspark.sql.types import TimestampType

        frame = self._frame(sql, params)
        if not any(isinstance(f.dataType, TimestampType) for f in frame.schema.fields):
            return frame
        return frame.select([
            F.col(f"`{f.name}`").cast("timestamp_ntz").alias(f.name) if isinstance(f.dataType, TimestampType)
            else F.col(f"`{f.name}`")
            for f in frame.schema.fields
        ])

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._frame(sql, params)

    def dataframe(self, sql: str, params: Sequence[Any] = ()):
        """The query as a lazy Spark DataFrame (for Spark-native consumers such as GX's Spark datasource)."""
        return self._frame(sql, params)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return [tuple(row) for row in self._utc_frame(sql, params).collect()]

    def stream(self, sql: str, params: Sequence[Any] = (), batch_size: int = 10_000) -> Iterator[pa.RecordBatch]:
        frame = self._utc_frame(sql, params)
        names = frame.columns
        rows: list[tuple] = []
        for row in frame.toLocalIterator(prefetchPartitions=False):
            rows.append(tuple(row))
            if len(rows) >= batch_size:
                yield _batch(names, rows)
                rows = []
        if rows:
            yield _batch(names, rows)

    def relation_exists(self, schema: str, table: str) -> bool:
        return bool(self._spark.catalog.tableExists(f"`{schema}`.`{table}`"))

    # -- writes to the append-only state tables --------------------------------------

    def _log_of(self, table: str) -> tuple[str, str, list[tuple[str, str]]]:
        """(view alias, log table, [(column, Spark type)]) of an append-only state table."""
        schema, _, name = to_spark_sql(table).rpartition(".")
        name = name.strip("`")
        log = f"{schema}.`{name}{LOG_SUFFIX}`"
        if not self._spark.catalog.tableExists(log.replace("`", "")):
            raise ConfigError(f"{table} is not an append-only state table on Spark ({log} is missing): "
                              "create it with activation.ledger.ddl(schema, 'spark')")
        columns = [(f.name, f.dataType.simpleString()) for f in self._spark.table(log).schema.fields
                   if f.name != SEQUENCE_COLUMN]
        return name, log, columns

    def upsert(self, table: str, rows: dict[str, tuple[str, list]], conflict: str, updates: str) -> None:
        if not rows or not next(iter(rows.values()))[1]:
            return
        from pyspark.sql.types import IntegerType, StringType, StructField, StructType, TimestampNTZType

        alias, log, columns = self._log_of(table)
        kinds = {"varchar": StringType(), "integer": IntegerType(), "timestamp": TimestampNTZType()}
        schema = StructType([StructField(c, kinds[t]) for c, (t, _) in rows.items()])
        incoming = self._spark.createDataFrame(list(zip(*(v for _, v in rows.values()))), schema)
        view = f"omniplay_incoming_{next(_view_names)}"
        incoming.createOrReplaceTempView(view)
        keys = [k.strip() for k in conflict.split(",")]
        sets = split_assignments(updates)
        select = []
        for column, spark_type in columns:
            new = f"excluded.{column}" if column in rows else "null"
            kept = sets.get(column, f"{alias}.{column}")
            select.append(f"case when {alias}.{keys[0]} is null then cast({new} as {spark_type}) "
                          f"else cast({kept} as {spark_type}) end")
        on = " and ".join(f"{alias}.{k} = excluded.{k}" for k in keys)
        try:
            self._frame(
                f"insert into {log} select /*+ COALESCE(1) */ {', '.join(select)}, {next_sequence()} "
                f"from {view} as excluded left join {to_spark_sql(table)} as {alias} on {on}"
            )
        finally:
            self._spark.catalog.dropTempView(view)

    def update(self, table: str, sets: str, where: str, params: Sequence[Any] = ()) -> None:
        alias, log, columns = self._log_of(table)
        sets, k = number_placeholders(sets)
        where, _ = number_placeholders(where, k)
        assignments = split_assignments(sets)
        select = ", ".join(f"cast({assignments[c]} as {t})" if c in assignments else c for c, t in columns)
        self._frame(
            f"insert into {log} select /*+ COALESCE(1) */ {select}, {next_sequence()} "
            f"from {to_spark_sql(table)} as {alias} where {where}",
            {f"p{i}": v for i, v in enumerate(params)},
        )

    def insert_row(self, table: str, values: dict[str, Any]) -> None:
        _, log, columns = self._log_of(table)
        known = dict(columns)
        unknown = set(values) - set(known)
        if unknown:
            raise ConfigError(f"{table} has no column(s) {', '.join(sorted(unknown))}")
        params = {f"p{i}": v for i, v in enumerate(values.values())}
        names = {c: f":p{i}" for i, c in enumerate(values)}
        select = ", ".join(f"cast({names.get(c, 'null')} as {t})" for c, t in columns)
        self._frame(f"insert into {log} select {select}, {next_sequence()}", params)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def cursor(self) -> "SparkWarehouse":
        return SparkWarehouse(self._spark)

    def close(self) -> None:
        """Nothing to close: the session belongs to the process (and to dbt-spark)."""


def _batch(names: list[str], rows: list[tuple]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict({name: [r[i] for r in rows] for i, name in enumerate(names)})
