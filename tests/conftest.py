"""Session fixtures shared by the whole suite.

One generated dataset, one throwaway PostgreSQL server and one full build per engine
per test session: later tests add assertions on the same builds instead of rebuilding.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import chromium
from tests.support import postgres as pg
from tests.support.dbt import BuildRun, DbtProject, generate_test_dataset

REQUIRE_POSTGRES_ENV = "OMNIPLAY_REQUIRE_POSTGRES"  # 1: no PostgreSQL is a failure, not a skip
DISABLE_POSTGRES_ENV = "OMNIPLAY_TEST_POSTGRES"  # off: skip the PostgreSQL tests on purpose

_POSTGRES_FIXTURES = {"postgres_server", "postgres_build"}
_DBT_FIXTURES = {"duckdb_build", "postgres_build"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by what they need, so `-m "not postgres"` or `-m "not dbt"` selects on it."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & _POSTGRES_FIXTURES:
            item.add_marker(pytest.mark.postgres)
        if used & _DBT_FIXTURES:
            item.add_marker(pytest.mark.dbt)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """Say loudly when PostgreSQL could not be had, and what the setup did to get it."""
    if pg.unavailable_reason:
        terminalreporter.write_sep("!", "PostgreSQL tests were SKIPPED", red=True, bold=True)
        terminalreporter.write_line(f"reason: {pg.unavailable_reason}", red=True)
        terminalreporter.write_line(f"set {REQUIRE_POSTGRES_ENV}=1 to make this a failure instead of a skip")
    for event in pg.events:
        terminalreporter.write_line(f"postgres setup: {event}")
    for event in chromium.events:
        terminalreporter.write_line(f"chromium setup: {event}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[pg.PostgresServer]:
    """A throwaway PostgreSQL server on 127.0.0.1 for the whole session."""
    if os.environ.get(DISABLE_POSTGRES_ENV, "").lower() in {"0", "off", "no", "false", "skip"}:
        pg.unavailable_reason = f"turned off with {DISABLE_POSTGRES_ENV}={os.environ[DISABLE_POSTGRES_ENV]}"
    else:
        try:
            with pg.start_postgres() as server:
                yield server
                return
        except pg.PostgresUnavailable as exc:
            pg.unavailable_reason = str(exc)
    message = f"PostgreSQL unavailable: {pg.unavailable_reason}"
    if os.environ.get(REQUIRE_POSTGRES_ENV, "").lower() in {"1", "true", "yes"}:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def source_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The suite's generated source dataset (read-only: copy it before changing files)."""
    return generate_test_dataset(tmp_path_factory.mktemp("sources"))


@pytest.fixture(scope="session")
def duckdb_build(source_data: Path, tmp_path_factory: pytest.TempPathFactory) -> BuildRun:
    """The whole project built once on an isolated DuckDB file."""
    project = DbtProject.isolated(tmp_path_factory.mktemp("dbt-duckdb"), target="duckdb", data_dir=source_data)
    return project.build()


@pytest.fixture(scope="session")
def postgres_build(source_data: Path, postgres_server: pg.PostgresServer,
                   tmp_path_factory: pytest.TempPathFactory) -> BuildRun:
    """The whole project built once on the throwaway PostgreSQL (sources loaded first)."""
    database = postgres_server.create_database("omniplay_build")
    project = DbtProject.isolated(tmp_path_factory.mktemp("dbt-postgres"), target="postgres",
                                  data_dir=source_data, extra_env=postgres_server.env(database))
    return project.build()
