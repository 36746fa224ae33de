"""The build step: make the sources visible to the target, then `dbt build`."""

from __future__ import annotations

from collections.abc import Sequence

from omniplay.dbt import DbtResult, run_dbt
from omniplay.settings import Settings


def build_project(
    settings: Settings,
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    vars: dict | None = None,
    full_refresh: bool = False,
) -> DbtResult:
    """Load source files where the engine cannot read them in place, then run dbt build.

    DuckDB reads the Parquet files in place (dbt-duckdb `external_location`); PostgreSQL
    and Spark get them copied into `<prefix>_<source>.<entity>` tables first.
    """
    from omniplay.loader import load_sources

    # On DuckDB this only checks that every source file is there (failing early with a
    # message naming the missing source); other engines get the files copied in.
    load_sources(settings, prefix=(vars or {}).get("omniplay__raw_schema_prefix"))
    if select:
        # A selection may leave out the lookup seeds its models read: load them first.
        # A full build includes the seeds itself, so tests that join them (relationships
        # to a seed) run too; excluding seeds from `dbt build` would silently drop those.
        run_dbt("seed", settings, vars=vars, full_refresh=full_refresh)
    return run_dbt("build", settings, select=select, exclude=exclude, vars=vars, full_refresh=full_refresh)
