"""Options shared by every command, so they read the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
