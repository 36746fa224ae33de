"""The project's dbt docs site: every model and column described, plays as exposures.

`dbt docs generate` writes index.html, manifest.json and catalog.json (the columns the
warehouse really has) into dbt's target folder; `dbt docs serve` serves that folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from omniplay.dbt import run_dbt
from omniplay.errors import BuildError
from omniplay.settings import Settings

TARGET_PATH_ENV = "DBT_TARGET_PATH"


def docs_dir(settings: Settings) -> Path:
    """dbt's target folder: $DBT_TARGET_PATH (relative to the project) or <project>/target."""
    path = Path(os.environ.get(TARGET_PATH_ENV) or "target")
    return path if path.is_absolute() else settings.project_dir / path


def generate_docs(settings: Settings, *, vars: dict | None = None) -> Path:
    """Run `dbt docs generate`; return the path of the site's index.html.

    The catalog describes what the warehouse holds now, so build first for a complete site.
    """
    run_dbt("docs generate", settings, vars=vars)
    index = docs_dir(settings) / "index.html"
    if not index.is_file():
        raise BuildError(f"dbt docs generate succeeded but wrote no {index}")
    return index


def serve_docs(settings: Settings, *, port: int, host: str = "127.0.0.1") -> None:
    """Serve the generated site until interrupted (`dbt docs serve`, no browser opened)."""
    run_dbt("docs serve", settings, extra_args=["--port", str(port), "--host", host, "--no-browser"])
