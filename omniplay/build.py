"""The build step: make the sources visible to the target, then `dbt build`."""

from __future__ import annotations

import os
from collections.abc import Sequence

from omniplay.clock import NOW_ENV, as_of_var, dataset_as_of, pipeline_now
from omniplay.dbt import DbtResult, run_dbt
from omniplay.settings import Settings


def _with_pipeline_clock(settings: Settings, vars: dict | None) -> dict | None:
    """Pin omniplay__as_of to the pipeline's now (omniplay.clock) unless the caller set it.

    Without OMNIPLAY_NOW or a generated dataset's manifest the var stays unset and dbt
    uses the build's start time, which is the same instant to the second.
    """
    if vars and "omniplay__as_of" in vars:
        return vars
    if not os.environ.get(NOW_ENV) and dataset_as_of(settings) is None:
        return vars
    return {**(vars or {}), "omniplay__as_of": as_of_var(pipeline_now(settings))}


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
    from omniplay.plays import load_plays, template_digests

    # Validate every play first (a bad play exits 2 naming file, play and field, before
    # anything is built) and hand dbt the template digests play_version hashes.
    load_plays(settings.project_dir)
    vars = _with_pipeline_clock(settings, vars)
    if not (vars and "omniplay__play_templates" in vars):
        vars = {**(vars or {}), "omniplay__play_templates": template_digests(settings.project_dir)}

    # On DuckDB this only checks that every source file is there (failing early with a
    # message naming the missing source); other engines get the files copied in.
    load_sources(settings, prefix=(vars or {}).get("omniplay__raw_schema_prefix"))
    if select:
        # A selection may leave out the lookup seeds its models read: load them first.
        # A full build includes the seeds itself, so tests that join them (relationships
        # to a seed) run too; excluding seeds from `dbt build` would silently drop those.
        run_dbt("seed", settings, vars=vars, full_refresh=full_refresh)
    return run_dbt("build", settings, select=select, exclude=exclude, vars=vars, full_refresh=full_refresh)
