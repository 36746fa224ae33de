"""Make the source files visible to the target warehouse.

DuckDB reads `<data_dir>/<source>/<entity>.parquet` in place, so for it this module only
checks that every source the staging layer expects is there. Spark gets an external
table over each file in place (omniplay.spark_sources). PostgreSQL gets each file
(or folder of part files) copied into the table `<prefix>_<source>.<entity>`:
record batches are streamed through `COPY ... FROM STDIN` (memory stays bounded by one
batch), every table is loaded into a new table first and all of them are swapped in at
the end of one transaction, so a failed load changes nothing.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from omniplay.errors import BuildError, ConfigError
from omniplay.settings import DATA_DIR_ENV, Settings

logger = logging.getLogger(__name__)

# The source tables the staging layer reads (docs/sources.md): source -> entities.
SOURCE_TABLES: dict[str, tuple[str, ...]] = {
    "stores": ("stores",),
    "products": ("products", "inventory"),
    "crm": ("customers",),
    "loyalty": ("members",),
    "web": ("accounts", "events"),
    "pos": ("transactions", "transaction_lines"),
    "email": ("events",),
    "sms": ("events",),
    "events": ("badge_scans",),
    "consent": ("consent_log",),
}
DEFAULT_PREFIX = "raw"
# Folders under the data dir that hold no sources (the generator's ground truth).
NOT_SOURCES = frozenset({"truth"})

# Environment variables shared with profiles.yml (the `postgres` output), same defaults.
PG_ENV_DEFAULTS = {
    "host": ("OMNIPLAY_PG_HOST", "127.0.0.1"),
    "port": ("OMNIPLAY_PG_PORT", "5432"),
    "user": ("OMNIPLAY_PG_USER", "omniplay"),
    "password": ("DBT_ENV_SECRET_OMNIPLAY_PG_PASSWORD", ""),
    "dbname": ("OMNIPLAY_PG_DATABASE", "omniplay"),
}

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_NEW_SUFFIX = "__omniplay_new"
_MAX_IDENTIFIER = 63  # PostgreSQL truncates longer names silently; refuse them instead


@dataclass(frozen=True)
class SourceFile:
    """One source table on disk: a Parquet file or a folder of Parquet part files."""

    source: str
    entity: str
    path: Path

    @property
    def name(self) -> str:
        return f"{self.source}.{self.entity}"


@dataclass(frozen=True)
class LoadedTable:
    """A table that `load_sources` replaced."""

    schema: str
    table: str
    rows: int
    path: Path


def find_source_files(data_dir: Path) -> dict[tuple[str, str], SourceFile]:
    """Every `<source>/<entity>.parquet` file or `<source>/<entity>/` part folder under data_dir."""
    found: dict[tuple[str, str], SourceFile] = {}
    if not data_dir.is_dir():
        return found
    for source_dir in sorted(p for p in data_dir.iterdir() if p.is_dir() and p.name not in NOT_SOURCES):
        for entry in sorted(source_dir.iterdir()):
            if entry.is_file() and entry.suffix == ".parquet":
                entity = entry.stem
            elif entry.is_dir() and any(entry.glob("*.parquet")):
                entity = entry.name
            else:
                continue
            key = (source_dir.name, entity)
            if key in found:
                raise BuildError(f"source {key[0]}.{key[1]} is both a file and a folder of part files under "
                                 f"{source_dir}: keep one of them")
            found[key] = SourceFile(source_dir.name, entity, entry)
    return found


def check_sources(settings: Settings) -> dict[tuple[str, str], SourceFile]:
    """Return the source files under settings.data_dir; raise BuildError naming any missing one."""
    data_dir = settings.data_dir
    fix = f"run `omniplay generate --out {data_dir}` or set {DATA_DIR_ENV} to the folder that holds the sources"
    if not data_dir.is_dir():
        raise BuildError(f"source data folder {data_dir} does not exist, so sources "
                         f"{', '.join(SOURCE_TABLES)} are missing: {fix}")
    found = find_source_files(data_dir)
    missing = [(source, entity) for source, entities in SOURCE_TABLES.items() for entity in entities
               if (source, entity) not in found]
    if missing:
        names = ", ".join(f"{s}.{e} ({data_dir / s / e}.parquet)" for s, e in missing)
        raise BuildError(f"missing source {names}: {fix}")
    return found


def load_sources(settings: Settings, *, prefix: str | None = None, batch_rows: int = 65_536) -> list[LoadedTable]:
    """Copy every source file under settings.data_dir into the target's `<prefix>_<source>` schemas.

    On DuckDB nothing is copied (models read the files in place); the sources are only
    checked. Raises BuildError for missing sources or a failed load, ConfigError for a
    target this loader does not support.
    """
    if settings.target not in ("duckdb", "postgres", "spark"):
        raise ConfigError(f"loading sources into target '{settings.target}' is not supported; "
                          "use --target duckdb, postgres or spark")
    files = check_sources(settings)
    if settings.target == "duckdb":
        return []
    prefix = prefix or DEFAULT_PREFIX
    plan = [(_schema_name(prefix, f.source), _table_name(f), f) for f in files.values()]
    if settings.target == "spark":
        from omniplay.spark_sources import register_spark_sources

        return register_spark_sources(settings, plan)
    return _load_postgres(plan, batch_rows)


def postgres_type(arrow_type: pa.DataType) -> str:
    """The PostgreSQL column type for an Arrow type (timestamptz stays timestamptz)."""
    t = arrow_type
    if pa.types.is_dictionary(t):
        return postgres_type(t.value_type)
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_uint8(t):
        return "smallint"
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return "integer"
    if pa.types.is_int64(t) or pa.types.is_uint32(t):
        return "bigint"
    if pa.types.is_uint64(t):
        return "numeric(20, 0)"
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return "real"
    if pa.types.is_float64(t):
        return "double precision"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision}, {t.scale})"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t) or pa.types.is_null(t):
        return "text"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t) \
            or pa.types.is_binary_view(t):
        return "bytea"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamp with time zone" if t.tz is not None else "timestamp without time zone"
    if pa.types.is_time(t):
        return "time without time zone"
    if pa.types.is_duration(t):
        return "interval"
    if pa.types.is_nested(t):
        return "jsonb"
    raise TypeError(f"no PostgreSQL type for Arrow type {t}")


def _schema_name(prefix: str, source: str) -> str:
    name = f"{prefix}_{source}"
    if not _IDENTIFIER.match(prefix) or not _IDENTIFIER.match(source) or len(name) > _MAX_IDENTIFIER:
        raise ConfigError(f"schema name {name!r} (prefix {prefix!r} + source folder {source!r}) must be lower-case "
                          f"letters, digits and underscores, at most {_MAX_IDENTIFIER} characters")
    return name


def _table_name(source_file: SourceFile) -> str:
    entity = source_file.entity
    if not _IDENTIFIER.match(entity) or len(entity) + len(_NEW_SUFFIX) > _MAX_IDENTIFIER:
        raise BuildError(f"source file {source_file.path} does not name a usable table: entity {entity!r} must be "
                         f"lower-case letters, digits and underscores, at most "
                         f"{_MAX_IDENTIFIER - len(_NEW_SUFFIX)} characters")
    return entity


def _pg_connect_args() -> dict[str, str | int]:
    args: dict[str, str | int] = {key: os.environ.get(env) or default for key, (env, default) in PG_ENV_DEFAULTS.items()}
    try:
        args["port"] = int(args["port"])
    except ValueError:
        raise ConfigError(f"OMNIPLAY_PG_PORT must be a port number (got {args['port']!r})") from None
    return args


def _load_postgres(plan: list[tuple[str, str, SourceFile]], batch_rows: int) -> list[LoadedTable]:
    import psycopg2
    from psycopg2 import sql

    args = _pg_connect_args()
    where = f"{args['user']}@{args['host']}:{args['port']}/{args['dbname']}"
    try:
        conn = psycopg2.connect(**args, connect_timeout=15, application_name="omniplay-loader")
    except psycopg2.OperationalError as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BuildError(f"cannot connect to PostgreSQL as {where}: {reason}. Set OMNIPLAY_PG_HOST, "
                         "OMNIPLAY_PG_PORT, OMNIPLAY_PG_USER, OMNIPLAY_PG_DATABASE and "
                         "DBT_ENV_SECRET_OMNIPLAY_PG_PASSWORD") from None
    loaded: list[LoadedTable] = []
    current = "?"
    try:
        with conn.cursor() as cur:
            # Everything below is one transaction: new tables are invisible until the commit,
            # and the old ones are only dropped in the final, short swap step.
            for schema, table, source_file in plan:
                current = source_file.name
                rows = _copy_into_new_table(cur, sql, schema, table, source_file, batch_rows)
                loaded.append(LoadedTable(schema, table, rows, source_file.path))
            for schema, table, source_file in plan:
                current = source_file.name
                _swap(cur, sql, schema, table)
                cur.execute(sql.SQL("analyze {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
        conn.commit()
    except (psycopg2.Error, pa.ArrowException, OSError, TypeError) as exc:
        conn.rollback()
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BuildError(f"loading source {current} into PostgreSQL ({where}) failed, nothing was changed: "
                         f"{first_line}") from exc
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
    for table in loaded:
        logger.info("loaded %s.%s: %d rows", table.schema, table.table, table.rows)
    return loaded


def _copy_into_new_table(cur, sql, schema: str, table: str, source_file: SourceFile, batch_rows: int) -> int:
    parts = [source_file.path] if source_file.path.is_file() else sorted(source_file.path.glob("*.parquet"))
    arrow_schema = pq.read_schema(parts[0])
    if not arrow_schema.names:
        raise BuildError(f"source {source_file.name} ({parts[0]}) has no columns")
    try:
        columns = [(f.name, postgres_type(f.type)) for f in arrow_schema]
    except TypeError as exc:
        raise BuildError(f"source {source_file.name} ({parts[0]}): {exc}") from None
    new = table + _NEW_SUFFIX
    # Serialise concurrent loads of the same table instead of failing on the new table's name.
    cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"{schema}.{table}",))
    cur.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    cur.execute(sql.SQL("drop table if exists {}.{}").format(sql.Identifier(schema), sql.Identifier(new)))
    cur.execute(sql.SQL("create table {}.{} ({})").format(
        sql.Identifier(schema), sql.Identifier(new),
        sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(pg_type))
                           for name, pg_type in columns),
    ))
    copy = sql.SQL("copy {}.{} ({}) from stdin with (format csv)").format(
        sql.Identifier(schema), sql.Identifier(new), sql.SQL(", ").join(map(sql.Identifier, arrow_schema.names)))
    counter = _RowCounter()
    batches = _read_batches(source_file, parts, arrow_schema, batch_rows)
    cur.copy_expert(copy.as_string(cur), _ChunkStream(_csv_chunks(counter.count(batches))), size=1 << 20)
    return counter.rows


def _read_batches(source_file: SourceFile, parts: list[Path], arrow_schema: pa.Schema,
                  batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Record batches of every part, in the first part's schema.

    ParquetFile.iter_batches without pre-buffering decodes a few pages at a time, so
    memory stays near one batch even when a row group is large.
    """
    for part in parts:
        with pq.ParquetFile(part, pre_buffer=False) as parquet:
            same = parquet.schema_arrow.equals(arrow_schema, check_metadata=False)
            for batch in parquet.iter_batches(batch_size=batch_rows):
                if not same:
                    try:
                        batch = batch.cast(arrow_schema)
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
                        raise BuildError(f"source {source_file.name}: part {part.name} has columns "
                                         f"{parquet.schema_arrow.names} of other types than {parts[0].name} "
                                         f"({arrow_schema.names})") from None
                yield batch


def _swap(cur, sql, schema: str, table: str) -> None:
    old = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    cur.execute(sql.SQL("select to_regclass(%s)"), (old.as_string(cur),))
    if cur.fetchone()[0] is not None:
        # Views over the raw table (the staging layer) go with it; the dbt build that
        # follows a load recreates them. Name any we drop so nothing vanishes unnoticed.
        cur.execute(
            """
            select distinct v.relnamespace::regnamespace::text || '.' || v.relname
            from pg_depend d
            join pg_rewrite r on r.oid = d.objid
            join pg_class v on v.oid = r.ev_class
            where d.classid = 'pg_rewrite'::regclass and d.refobjid = to_regclass(%s) and v.oid <> d.refobjid
            order by 1
            """,
            (old.as_string(cur),),
        )
        dependents = [row[0] for row in cur.fetchall()]
        if dependents:
            logger.info("replacing %s.%s drops %d dependent view(s), rebuilt by dbt: %s",
                        schema, table, len(dependents), ", ".join(dependents))
        cur.execute(sql.SQL("drop table {} cascade").format(old))
    cur.execute(sql.SQL("alter table {}.{} rename to {}").format(
        sql.Identifier(schema), sql.Identifier(table + _NEW_SUFFIX), sql.Identifier(table)))


class _RowCounter:
    def __init__(self) -> None:
        self.rows = 0

    def count(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            self.rows += batch.num_rows
            yield batch


def _csv_chunks(batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """CSV for COPY: NULL is an empty unquoted field, strings are always quoted."""
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    for batch in batches:
        if batch.num_rows == 0:
            continue
        out = io.BytesIO()
        pa_csv.write_csv(_copy_ready(batch), out, options)
        yield out.getvalue()


def _copy_ready(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Turn the columns CSV cannot carry as PostgreSQL reads them into text it can."""
    arrays = []
    for array in batch.columns:
        t = array.type
        if pa.types.is_dictionary(t):
            array = array.dictionary_decode()
            t = array.type
        if pa.types.is_timestamp(t) and t.unit == "ns":  # PostgreSQL keeps microseconds
            array = pc.cast(array, pa.timestamp("us", t.tz), safe=False)
        elif pa.types.is_float16(t):
            array = pc.cast(array, pa.float32())
        elif pa.types.is_string_view(t):
            array = pc.cast(array, pa.string())
        elif pa.types.is_null(t):
            array = pa.nulls(len(array), pa.string())
        elif pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t) \
                or pa.types.is_binary_view(t):
            array = pa.array([None if v is None else "\\x" + v.hex() for v in array.to_pylist()], pa.string())
        elif pa.types.is_duration(t):
            micros = pc.cast(pc.cast(array, pa.duration("us"), safe=False), pa.int64())
            array = pc.binary_join_element_wise(pc.cast(micros, pa.string()), "microseconds", " ")
        elif pa.types.is_nested(t):
            array = pa.array([None if v is None else json.dumps(v, default=str) for v in array.to_pylist()],
                             pa.string())
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


class _ChunkStream(io.RawIOBase):
    """A read-only file over an iterator of byte chunks, for `copy_expert`."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n
