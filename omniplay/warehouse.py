"""A small connection layer over the warehouse dbt builds into (DuckDB, PostgreSQL or Spark).

Connections are opened from `omniplay.settings.Settings` and the same environment
variables `profiles.yml` reads, so Python code always talks to the warehouse dbt built.
SQL is written with `?` placeholders; the PostgreSQL connection translates them. The
Spark connection lives in omniplay.spark_warehouse.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from omniplay.errors import ConfigError
from omniplay.settings import Settings

log = logging.getLogger("omniplay.warehouse")

# Memory DuckDB may use for activation work; bounded so a sync's footprint does not grow
# with queue size (DuckDB spills to its temp directory beyond it).
DUCKDB_MEMORY_LIMIT_ENV = "OMNIPLAY_SYNC_MEMORY_LIMIT"
DEFAULT_DUCKDB_MEMORY_LIMIT = "256MB"
# `omniplay sync`'s own default. The sync reads a long play in segments and checkpoints
# the ledger between them (activation.reader), so DuckDB's share is bounded by a segment,
# not by the play: 1M- and 5M-message plays complete at 128MB (benchmarks/RESULTS.md);
# above it, DuckDB caches more of a large queue and ledger, which costs RSS, not speed.
DEFAULT_SYNC_MEMORY_LIMIT = "128MB"

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_ident(name: str) -> str:
    """Validate and quote a schema/table/column name (names come from config, never users' data)."""
    if not _IDENTIFIER.match(name):
        raise ConfigError(f"invalid SQL identifier {name!r}: use letters, digits and underscores")
    return f'"{name}"'


class Warehouse:
    """One connection to the warehouse. Not thread-safe: use it from one thread."""

    dialect: str = ""
    # The type to cast to for text, e.g. in `cast(payload as <text_type>)`.
    text_type: str = "varchar"

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run a statement and discard any result."""
        raise NotImplementedError

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Run a query and return every row."""
        raise NotImplementedError

    def stream(self, sql: str, params: Sequence[Any] = (), batch_size: int = 10_000) -> Iterator[pa.RecordBatch]:
        """Yield the query's rows as Arrow record batches without materializing the result."""
        raise NotImplementedError

    def upsert(self, table: str, rows: dict[str, tuple[str, list]], conflict: str, updates: str) -> None:
        """Insert rows into `table`; on a `conflict` key collision apply the `updates` SET clause.

        `rows` maps each column to (SQL type, values), all lists the same length.
        `updates` may reference the existing row by the table's bare name and the incoming
        row as `excluded` (both engines accept the PostgreSQL syntax).
        """
        raise NotImplementedError

    def upsert_arrow(self, table: str, rows: pa.Table, constants: dict[str, tuple[str, Any]], conflict: str,
                     updates: str) -> None:
        """`upsert` of rows whose varying columns come as an Arrow table and whose other
        columns hold one value each (`constants`: column -> (SQL type, value))."""
        if not rows.num_rows:
            return
        columns = {name: ("varchar", rows.column(name).to_pylist()) for name in rows.column_names}
        n = rows.num_rows
        columns.update({name: (type_, [value] * n) for name, (type_, value) in constants.items()})
        self.upsert(table, columns, conflict, updates)

    def insert_arrow(self, table: str, rows: pa.Table, constants: dict[str, tuple[str, Any]], conflict: str,
                     updates: str) -> None:
        """Insert rows expected to be new, given as for `upsert_arrow`. On DuckDB a key already
        in the table is an error (nothing is written); elsewhere the row is upserted with
        `updates`."""
        self.upsert_arrow(table, rows, constants, conflict, updates)

    def update(self, table: str, sets: str, where: str, params: Sequence[Any] = ()) -> None:
        """`update <table> set <sets> where <where>`; `params` fill the `?` of sets, then of where."""
        self.execute(f"update {table} set {sets} where {where}", params)

    def insert_row(self, table: str, values: dict[str, Any]) -> None:
        """Insert one row given as column -> value."""
        marks = ", ".join("?" * len(values))
        self.execute(f"insert into {table} ({', '.join(values)}) values ({marks})", list(values.values()))

    def checkpoint(self) -> None:
        """Fold committed writes into the database file, where the engine leaves that to
        the client (DuckDB); elsewhere nothing to do."""

    def relation_exists(self, schema: str, table: str) -> bool:
        rows = self.fetchall(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            (schema, table),
        )
        return bool(rows and rows[0][0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("begin")
        try:
            yield
        except BaseException:
            self.execute("rollback")
            raise
        self.execute("commit")

    def cursor(self) -> "Warehouse":
        """A second, independent connection to the same database (for reading while writing)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> "Warehouse":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class DuckDBWarehouse(Warehouse):
    """The embedded DuckDB file named by OMNIPLAY_DUCKDB_PATH."""

    dialect = "duckdb"

    def __init__(self, con, owner: bool = True):
        self._con = con
        self._owner = owner

    @classmethod
    def open(cls, path: str, read_only: bool = False, memory_limit: str | None = None) -> "DuckDBWarehouse":
        import duckdb

        config = {
            "memory_limit": memory_limit or os.environ.get(DUCKDB_MEMORY_LIMIT_ENV) or DEFAULT_DUCKDB_MEMORY_LIMIT,
            "preserve_insertion_order": "false",
        }
        try:
            con = duckdb.connect(path, read_only=read_only, config=config)
        except duckdb.Error as exc:
            raise ConfigError(f"cannot open DuckDB file {path}: {exc}") from None
        return cls(con)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._con.execute(sql, list(params))

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        return self._con.execute(sql, list(params)).fetchall()

    def stream(self, sql: str, params: Sequence[Any] = (), batch_size: int = 10_000) -> Iterator[pa.RecordBatch]:
        # A dedicated cursor, so statements run meanwhile on this connection do not
        # invalidate the pending streaming result.
        cursor = self._con.cursor()
        try:
            reader = cursor.sql(sql, params=list(params)).to_arrow_reader(batch_size)
            for batch in reader:
                if batch.num_rows:
                    yield batch
        finally:
            cursor.close()

    def upsert(self, table: str, rows: dict[str, tuple[str, list]], conflict: str, updates: str) -> None:
        if not rows or not next(iter(rows.values()))[1]:
            return
        # Lists bound as parameters and unnested side by side: registering an Arrow
        # table would make the duckdb module import pandas (seconds and ~50 MB). A column
        # holding one value for every row is bound once: converting values is the cost.
        selects, params = [], []
        for i, (name, (type_, values)) in enumerate(rows.items(), 1):
            if values.count(values[0]) == len(values):
                selects.append(f"cast(${i} as {type_}) as {quote_ident(name)}")
                params.append(values[0])
            else:
                selects.append(f"unnest(cast(${i} as {type_}[])) as {quote_ident(name)}")
                params.append(values)
        name, (type_, values) = next(iter(rows.items()))
        if len(values) > 1 and not any(s.startswith("unnest(") for s in selects):  # n identical rows
            selects[0], params[0] = f"unnest(cast($1 as {type_}[])) as {quote_ident(name)}", values
        self._merge(table, f"select {', '.join(selects)}", params, conflict, f"update set {updates}")

    def _merge(self, table: str, source: str, params: list, conflict: str, when_matched: str) -> None:
        # MERGE rather than `insert ... on conflict`: it needs no unique index, so it
        # works on the DuckDB `sends` table, which has none (activation.ledger.ddl).
        target = table.rsplit(".", 1)[-1].strip('"')
        on = " and ".join(f"{quote_ident(target)}.{quote_ident(k.strip())} = excluded.{quote_ident(k.strip())}"
                          for k in conflict.split(","))
        self._con.execute(
            f"merge into {table} using ({source}) as excluded on {on} "
            f"when matched then {when_matched} when not matched then insert by name",
            params,
        )

    def upsert_arrow(self, table: str, rows: pa.Table, constants: dict[str, tuple[str, Any]], conflict: str,
                     updates: str) -> None:
        self._merge_arrow(table, rows, constants, conflict, f"update set {updates}")

    def insert_arrow(self, table: str, rows: pa.Table, constants: dict[str, tuple[str, Any]], conflict: str,
                     updates: str) -> None:
        self._merge_arrow(table, rows, constants, conflict,
                          f"error concat('already in {table.replace(chr(39), '')}: ', excluded.{quote_ident(conflict)})")

    def _merge_arrow(self, table: str, rows: pa.Table, constants: dict[str, tuple[str, Any]], conflict: str,
                     when_matched: str) -> None:
        # Scanned in place: no value passes through Python. (Arrow tables made by DuckDB
        # register without the duckdb module importing pandas.)
        if not rows.num_rows:
            return
        self._con.register("omniplay_arrow_rows", rows)
        try:
            selects = [f"r.{quote_ident(name)}" for name in rows.column_names]
            selects += [f"cast(? as {type_}) as {quote_ident(name)}" for name, (type_, _) in constants.items()]
            self._merge(table, f"select {', '.join(selects)} from omniplay_arrow_rows r",
                        [value for _, value in constants.values()], conflict, when_matched)
        except BaseException:
            # In an aborted transaction unregistering fails too: the first error is the one to see.
            with contextlib.suppress(Exception):
                self._con.unregister("omniplay_arrow_rows")
            raise
        self._con.unregister("omniplay_arrow_rows")

    def checkpoint(self) -> None:
        import duckdb

        try:
            self._con.execute("checkpoint")
        except duckdb.TransactionException as exc:  # another transaction is open: a later one will do
            log.warning("DuckDB checkpoint skipped: %s", exc)

    def cursor(self) -> "DuckDBWarehouse":
        return DuckDBWarehouse(self._con.cursor(), owner=True)

    def close(self) -> None:
        if self._owner:
            self._con.close()


class PostgresWarehouse(Warehouse):
    """A PostgreSQL database reached with the OMNIPLAY_PG_* variables of profiles.yml."""

    dialect = "postgres"

    def __init__(self, dsn: dict[str, Any]):
        import psycopg2

        self._dsn = dsn
        try:
            self._con = psycopg2.connect(**dsn)
        except psycopg2.Error as exc:
            # The message may echo connection parameters but never the password.
            raise ConfigError(
                f"cannot connect to PostgreSQL at {dsn['host']}:{dsn['port']}/{dsn['dbname']} "
                f"as {dsn['user']}: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}"
            ) from None
        self._con.autocommit = True
        self._named = 0

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._con.cursor() as cur:
            cur.execute(self._sql(sql), tuple(params))

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self._con.cursor() as cur:
            cur.execute(self._sql(sql), tuple(params))
            return cur.fetchall()

    def stream(self, sql: str, params: Sequence[Any] = (), batch_size: int = 10_000) -> Iterator[pa.RecordBatch]:
        # A named (server-side) cursor needs its own transaction: use a separate
        # connection so the caller's autocommit writes are not held inside it.
        import psycopg2

        con = psycopg2.connect(**self._dsn)
        try:
            self._named += 1
            with con.cursor(name=f"omniplay_stream_{self._named}") as cur:
                cur.itersize = batch_size
                cur.execute(self._sql(sql), tuple(params))
                names: list[str] | None = None
                while True:
                    rows = cur.fetchmany(batch_size)
                    if names is None and cur.description is not None:
                        names = [d.name for d in cur.description]
                    if not rows:
                        break
                    assert names is not None
                    yield pa.RecordBatch.from_pydict({n: [r[i] for r in rows] for i, n in enumerate(names)})
            con.rollback()
        finally:
            con.close()

    def upsert(self, table: str, rows: dict[str, tuple[str, list]], conflict: str, updates: str) -> None:
        if not rows or not next(iter(rows.values()))[1]:
            return
        from psycopg2.extras import execute_values

        cols = ", ".join(rows)
        template = "(" + ", ".join(f"cast(%s as {type_})" for type_, _ in rows.values()) + ")"
        data = list(zip(*(values for _, values in rows.values())))
        with self._con.cursor() as cur:
            execute_values(
                cur,
                f"insert into {table} ({cols}) values %s on conflict ({conflict}) do update set {updates}",
                data,
                template=template,
                page_size=1000,
            )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._con.autocommit = False
        try:
            yield
            self._con.commit()
        except BaseException:
            self._con.rollback()
            raise
        finally:
            self._con.autocommit = True

    def cursor(self) -> "PostgresWarehouse":
        return PostgresWarehouse(self._dsn)

    def close(self) -> None:
        self._con.close()


def postgres_dsn() -> dict[str, Any]:
    """Connection parameters from the same variables (and defaults) as profiles.yml."""
    return {
        "host": os.environ.get("OMNIPLAY_PG_HOST", "127.0.0.1"),
        "port": int(os.environ.get("OMNIPLAY_PG_PORT", "5432")),
        "user": os.environ.get("OMNIPLAY_PG_USER", "omniplay"),
        "password": os.environ.get("DBT_ENV_SECRET_OMNIPLAY_PG_PASSWORD", ""),
        "dbname": os.environ.get("OMNIPLAY_PG_DATABASE", "omniplay"),
    }


def connect(settings: Settings, read_only: bool = False, memory_limit: str | None = None) -> Warehouse:
    """Open the warehouse of `settings.target` (duckdb, postgres or spark); `memory_limit`
    caps DuckDB (else OMNIPLAY_SYNC_MEMORY_LIMIT, else 256MB)."""
    if settings.target == "duckdb":
        if read_only and not settings.duckdb_path.exists():
            raise ConfigError(
                f"DuckDB file {settings.duckdb_path} does not exist: run `omniplay build` first "
                f"or set OMNIPLAY_DUCKDB_PATH"
            )
        settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        return DuckDBWarehouse.open(str(settings.duckdb_path), read_only=read_only, memory_limit=memory_limit)
    if settings.target == "postgres":
        return PostgresWarehouse(postgres_dsn())
    if settings.target == "spark":
        from omniplay.spark import spark_session
        from omniplay.spark_warehouse import SparkWarehouse

        return SparkWarehouse(spark_session(settings.project_dir))
    raise ConfigError(
        f"target {settings.target!r} has no Python connection: use duckdb, postgres or spark "
        f"(set OMNIPLAY_TARGET or --target)"
    )
