"""A real `omniplay build` (seeds + dbt build) of the whole project on embedded DuckDB."""

from __future__ import annotations

from pathlib import Path

from tests.support.build_checks import (
    assert_build_passed,
    assert_seeds_loaded,
    assert_staging_complete,
    assert_staging_row_counts,
)
from tests.support.dbt import BuildRun


def test_build_passes(duckdb_build: BuildRun) -> None:
    assert_build_passed(duckdb_build)


def test_every_source_has_a_tested_staging_model(duckdb_build: BuildRun) -> None:
    assert_staging_complete(duckdb_build)


def test_staging_row_counts(duckdb_build: BuildRun, source_data: Path) -> None:
    assert_staging_row_counts(duckdb_build, source_data)


def test_seeds_loaded(duckdb_build: BuildRun) -> None:
    assert_seeds_loaded(duckdb_build)


def test_build_stays_in_its_own_files(duckdb_build: BuildRun) -> None:
    project = duckdb_build.project
    assert project.duckdb_path.is_file() and project.duckdb_path.is_relative_to(project.root)
    assert (project.target_path / "manifest.json").is_file() and project.target_path.is_relative_to(project.root)
    assert any((project.root / "logs").glob("dbt.log*")), "dbt did not log to DBT_LOG_PATH"


def test_build_releases_the_duckdb_file(duckdb_build: BuildRun) -> None:
    """After a build, this process (the activation engine, say) can open the file with other settings."""
    import duckdb

    with duckdb.connect(str(duckdb_build.project.duckdb_path), read_only=True) as con:
        schemas = con.execute("select schema_name from information_schema.schemata").fetchall()
    assert ("staging",) in schemas
