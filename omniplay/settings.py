"""Where things are: project directory, source data, the DuckDB file.

Every location comes from an environment variable with a default inside the project,
so one command line can point the whole pipeline at any dataset.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR_ENV = "OMNIPLAY_PROJECT_DIR"
DATA_DIR_ENV = "OMNIPLAY_DATA_DIR"
DUCKDB_PATH_ENV = "OMNIPLAY_DUCKDB_PATH"
TARGET_ENV = "OMNIPLAY_TARGET"

DEFAULT_DATA_DIR = Path("data") / "demo"
DEFAULT_DUCKDB_PATH = Path("target") / "omniplay.duckdb"


def _default_project_dir() -> Path:
    env = os.environ.get(PROJECT_DIR_ENV)
    if env:
        return Path(env)
    # The package lives inside the project checkout (editable install).
    return Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Resolved, absolute locations for one invocation."""

    project_dir: Path
    data_dir: Path
    duckdb_path: Path
    target: str

    @classmethod
    def from_env(cls, project_dir: Path | None = None, target: str | None = None) -> "Settings":
        project = (project_dir or _default_project_dir()).resolve()

        def resolve(env: str, default: Path) -> Path:
            value = Path(os.environ.get(env) or default)
            return value if value.is_absolute() else (project / value).resolve()

        return cls(
            project_dir=project,
            data_dir=resolve(DATA_DIR_ENV, DEFAULT_DATA_DIR),
            duckdb_path=resolve(DUCKDB_PATH_ENV, DEFAULT_DUCKDB_PATH),
            target=target or os.environ.get(TARGET_ENV) or "duckdb",
        )

    def export(self) -> None:
        """Publish the resolved locations to the environment dbt reads them from."""
        os.environ[PROJECT_DIR_ENV] = str(self.project_dir)
        os.environ[DATA_DIR_ENV] = str(self.data_dir)
        os.environ[DUCKDB_PATH_ENV] = str(self.duckdb_path)
        os.environ[TARGET_ENV] = self.target
        if self.target == "spark":
            from omniplay.spark import export_paths

            export_paths(self.project_dir)
