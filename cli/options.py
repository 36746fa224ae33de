"""Options shared by every command, so they read the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omniplay.errors import ConfigError

ProjectDir = Annotated[
    Path | None,
    typer.Option(
        "--project-dir",
        envvar="OMNIPLAY_PROJECT_DIR",
        help="The omniplay project (dbt_project.yml); default: this checkout.",
        file_okay=False,
    ),
]
Target = Annotated[
    str | None,
    typer.Option(
        "--target",
        envvar="OMNIPLAY_TARGET",
        help="profiles.yml output to use: duckdb (default), postgres or spark.",
    ),
]
DbtVars = Annotated[str | None, typer.Option("--vars", help="dbt vars as a JSON/YAML mapping.")]


def parse_vars(text: str | None) -> dict | None:
    """The --vars option as a mapping (None when not given); ConfigError when it is not one."""
    if not text:
        return None
    import yaml

    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--vars is not valid YAML/JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise ConfigError("--vars must be a mapping, e.g. '{omniplay__holdout_pct: 5}'")
    return parsed
