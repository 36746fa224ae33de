"""The whole pipeline on PostgreSQL: the suite's PostgreSQL build (every data and unit test),
then `omniplay run`'s gate (Great Expectations' SQL datasource on PostgreSQL; a planted
holdout leak blocks its play as on DuckDB) and sync through the PostgreSQL ledger, and a
re-run sends nothing (tests/support/pipeline_checks.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.dbt import BuildRun
from tests.support.pipeline_checks import check_pipeline_gates_then_syncs

pytestmark = pytest.mark.postgres


def test_pipeline_gates_then_syncs_and_a_rerun_sends_nothing(postgres_build: BuildRun, duckdb_build: BuildRun,
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check_pipeline_gates_then_syncs(postgres_build, duckdb_build, tmp_path, monkeypatch, "postgres")
