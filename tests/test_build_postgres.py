"""A real `omniplay build` on a throwaway PostgreSQL server: load sources, seed, dbt build.

Besides passing on its own, the PostgreSQL build must agree with the DuckDB build on the
same data: the staging SQL is shared, so every staging column has the same number of
non-null and distinct values on both engines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from omniplay.loader import find_source_files
from tests.support.build_checks import (
    assert_build_passed,
    assert_seeds_loaded,
    assert_staging_complete,
    assert_staging_row_counts,
    staging_model_id,
)
from tests.support.dbt import BuildRun, parquet_rows

pytestmark = pytest.mark.postgres


def test_build_passes(postgres_build: BuildRun) -> None:
    assert_build_passed(postgres_build)


def test_sources_loaded_with_every_row(postgres_build: BuildRun, source_data: Path) -> None:
    for (source, entity), source_file in find_source_files(source_data).items():
        rows = postgres_build.project.scalar(f'select count(*) from "raw_{source}"."{entity}"')
        assert rows == parquet_rows(source_file.path), f"raw_{source}.{entity}"


def test_every_source_has_a_tested_staging_model(postgres_build: BuildRun) -> None:
    assert_staging_complete(postgres_build)


def test_staging_row_counts(postgres_build: BuildRun, source_data: Path) -> None:
    assert_staging_row_counts(postgres_build, source_data)


def test_seeds_loaded(postgres_build: BuildRun) -> None:
    assert_seeds_loaded(postgres_build)


def test_staging_agrees_with_duckdb(postgres_build: BuildRun, duckdb_build: BuildRun, source_data: Path) -> None:
    differences = []
    for source, entity in sorted(find_source_files(source_data)):
        uid = staging_model_id(source, entity)
        name = uid.rsplit(".", 1)[1]
        columns = [row[0] for row in duckdb_build.project.query(
            "select column_name from information_schema.columns where table_schema = 'staging' "
            "and table_name = ? order by ordinal_position", [name])]
        assert columns, f"{name} has no columns on DuckDB"
        profile = ", ".join(f'count("{c}"), count(distinct "{c}")' for c in columns)
        results = {}
        for build in (duckdb_build, postgres_build):
            relation = build.manifest["nodes"][uid]["relation_name"]
            results[build.project.target] = build.project.query(f"select count(*), {profile} from {relation}")[0]
        duck, post = results["duckdb"], results["postgres"]
        if duck[0] != post[0]:
            differences.append(f"{name}: {duck[0]} rows on duckdb, {post[0]} on postgres")
        for i, column in enumerate(columns):
            d, p = duck[1 + 2 * i: 3 + 2 * i], post[1 + 2 * i: 3 + 2 * i]
            if tuple(d) != tuple(p):
                differences.append(f"{name}.{column}: (non-null, distinct) {tuple(d)} on duckdb, {tuple(p)} on postgres")
    assert not differences, "\n".join(differences)
