"""`omniplay build`: load the sources where needed and run `dbt build`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli.options import DbtVars, ProjectDir, Target, parse_vars
from omniplay.settings import Settings


def build(
    project_dir: ProjectDir = None,
    target: Target = None,
    select: Annotated[list[str] | None, typer.Option("--select", "-s", help="dbt node selection.")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="dbt nodes to leave out.")] = None,
    vars: DbtVars = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental models.")] = False,
) -> None:
    """Build the warehouse: sources -> staging -> identity -> marts -> activation queue."""
    from omniplay.build import build_project

    settings = Settings.from_env(project_dir, target)
    result = build_project(
        settings, select=select or (), exclude=exclude or (), vars=parse_vars(vars), full_refresh=full_refresh
    )
    typer.echo(f"build ok: {json.dumps(result.counts, sort_keys=True)}")
