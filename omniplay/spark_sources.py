"""Spark: make the source files readable as `<prefix>_<source>.<entity>` tables, in place.

Spark reads Parquet itself, so nothing is copied: each source becomes an external table
over its file or folder of part files (`using parquet`, schemas of part files merged by
name like DuckDB's `union_by_name`). Every table is created under a new name first, so
a file Spark cannot read fails the load before any existing table is replaced.
"""

from __future__ import annotations

import logging

import pyarrow.parquet as pq

from omniplay.errors import BuildError
from omniplay.settings import Settings

logger = logging.getLogger(__name__)

_NEW_SUFFIX = "__omniplay_new"


def spark_string(value: str) -> str:
    """A Spark SQL string literal (Spark treats backslash as an escape character)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def register_spark_sources(settings: Settings, plan) -> list:
    """Create or replace one external table per (schema, table, SourceFile) in `plan`."""
    from omniplay.loader import LoadedTable
    from omniplay.spark import spark_session

    spark = spark_session(settings.project_dir)
    loaded: list[LoadedTable] = []
    current = "?"
    try:
        for schema, table, source_file in plan:
            current = source_file.name
            spark.sql(f"create schema if not exists `{schema}`")
            spark.sql(f"drop table if exists `{schema}`.`{table}{_NEW_SUFFIX}`")
            spark.sql(
                f"create table `{schema}`.`{table}{_NEW_SUFFIX}` using parquet "
                f"options (path {spark_string(str(source_file.path))}, mergeSchema 'true')"
            )
        for schema, table, source_file in plan:
            current = source_file.name
            spark.sql(f"drop table if exists `{schema}`.`{table}`")
            spark.sql(f"alter table `{schema}`.`{table}{_NEW_SUFFIX}` rename to `{schema}`.`{table}`")
            loaded.append(LoadedTable(schema, table, _parquet_rows(source_file.path), source_file.path))
    except Exception as exc:  # pyspark raises its own AnalysisException family
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BuildError(f"registering source {current} on Spark failed: {first_line}") from exc
    for table in loaded:
        logger.info("registered %s.%s over %s: %d rows", table.schema, table.table, table.path, table.rows)
    return loaded


def _parquet_rows(path) -> int:
    parts = [path] if path.is_file() else sorted(path.glob("*.parquet"))
    return sum(pq.ParquetFile(part).metadata.num_rows for part in parts)
