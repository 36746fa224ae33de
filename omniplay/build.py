"""The build step: make the sources visible to the target, then `dbt build`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone

from omniplay.dbt import DbtResult, run_dbt
from omniplay.settings import Settings


def _with_dataset_clock(settings: Settings, vars: dict | None) -> dict | None:
    """Pin omniplay__as_of to a generated dataset's simulated "now" unless the caller set it.

    A simulated dataset ends on its manifest's `as_of`; judged by the wall clock, every
    customer in it would look lapsed. Real sources have no manifest and use the build time.
    """
    manifest = settings.data_dir / "truth" / "manifest.json"
    if (vars and "omniplay__as_of" in vars) or not manifest.exists():
        return vars
    as_of = json.loads(manifest.read_text()).get("as_of")
    if not as_of:
        return vars
    stamp = datetime.fromisoformat(as_of.replace("Z", "+00:00")).astimezone(timezone.utc)
    return {**(vars or {}), "omniplay__as_of": stamp.strftime("%Y-%m-%d %H:%M:%S")}


def build_project(
    settings: Settings,
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    vars: dict | None = None,
    full_refresh: bool = False,
) -> DbtResult:
    """Load source files where the engine cannot read them in place, then run dbt build.

    DuckDB reads the Parquet files in place (an on-run-start hook creates views
    `raw_<source>.<entity>` over them); PostgreSQL and Spark get them copied into
    `<prefix>_<source>.<entity>` tables first.
    """
    from omniplay.loader import load_sources

    vars = _with_dataset_clock(settings, vars)

    # On DuckDB this only checks that every source file is there (failing early with a
    # message naming the missing source); other engines get the files copied in.
    load_sources(settings, prefix=(vars or {}).get("omniplay__raw_schema_prefix"))
    if select:
        # A selection may leave out the lookup seeds its models read: load them first.
        # A full build includes the seeds itself, so tests that join them (relationships
        # to a seed) run too; excluding seeds from `dbt build` would silently drop those.
        run_dbt("seed", settings, vars=vars, full_refresh=full_refresh)
    return run_dbt("build", settings, select=select, exclude=exclude, vars=vars, full_refresh=full_refresh)
