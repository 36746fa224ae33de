"""Fixtures for the quality gate: private copies of the session build to plant bad plays in."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from omniplay.settings import Settings
from tests.support.dbt import PROJECT_DIR


def duckdb_settings(path: Path) -> Settings:
    """Settings pointing the gate at one DuckDB file (and this checkout's plays)."""
    return Settings(project_dir=PROJECT_DIR, data_dir=PROJECT_DIR / "data" / "demo", duckdb_path=path,
                    target="duckdb")


@pytest.fixture
def gate_db(duckdb_build, tmp_path: Path) -> Path:
    """A private copy of the session build's DuckDB file (the gate writes its verdicts into it)."""
    copy = tmp_path / "gate.duckdb"
    shutil.copyfile(duckdb_build.project.duckdb_path, copy)
    return copy
