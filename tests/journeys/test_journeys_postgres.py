"""The same events, journeys, triggers and holdouts on PostgreSQL as on DuckDB.

Both engines build our models and everything they read (tests included) from the
suite's dataset on a fresh warehouse; every table of ours must hold the same rows on
both, holdout arms included: the assignment hash is engine-independent by design.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pathlib import Path

import pytest

from tests.journeys.conftest import build
from tests.journeys.datasets import as_of
from tests.support import postgres as pg
from tests.support.dbt import DbtProject

# table -> columns left out (audit stamps of the build that wrote the row)
TABLES = {
    "marts.fct_customer_events": {"processed_at"},
    "intermediate.int_journey_stage_timeline": {"events_processed_at"},
    "marts.fct_journey_stage_history": set(),
    "intermediate.int_profile_current_stage": set(),
    "marts.fct_customer_journeys": {"events_processed_at"},
    "marts.rpt_journey_kpis": set(),
    "marts.fct_trigger_fires": set(),
    "marts.dim_holdout_assignments": set(),
    "marts.rpt_holdout_srm": set(),
}


def _normal(value):
    if isinstance(value, Decimal | float):
        return round(float(value), 6)
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value


def _fresh_build(project: DbtProject, source_data: Path) -> DbtProject:
    """Sources loaded (PostgreSQL), seeds, then our selection built and tested."""
    from omniplay.loader import load_sources

    with project.environ():
        load_sources(project.settings())
    project.run("seed")
    build(project, as_of(source_data))
    return project


@pytest.fixture(scope="module")
def journeys_on_duckdb(source_data: Path, tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    project = DbtProject.isolated(tmp_path_factory.mktemp("journeys-duckdb"), target="duckdb", data_dir=source_data)
    return _fresh_build(project, source_data)


@pytest.fixture(scope="module")
def journeys_on_postgres(source_data: Path, postgres_server: pg.PostgresServer,
                         tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    database = postgres_server.create_database("omniplay_journeys")
    project = DbtProject.isolated(tmp_path_factory.mktemp("journeys-postgres"), target="postgres",
                                  data_dir=source_data, extra_env=postgres_server.env(database))
    return _fresh_build(project, source_data)


def _rows(project: DbtProject, table: str, columns: list[str]) -> list[tuple]:
    quoted = ", ".join(f'"{c}"' for c in columns)
    return sorted((tuple(_normal(v) for v in row) for row in project.query(f"select {quoted} from {table}")),
                  key=repr)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_postgres_matches_duckdb(journeys_on_duckdb: DbtProject, journeys_on_postgres: DbtProject,
                                 table: str) -> None:
    schema, name = table.split(".")
    columns = [r[0] for r in journeys_on_duckdb.query(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, name]) if r[0] not in TABLES[table]]
    assert columns, f"{table} was not built on DuckDB"
    on_duckdb = _rows(journeys_on_duckdb, table, columns)
    on_postgres = _rows(journeys_on_postgres, table, columns)
    assert on_duckdb, f"{table} is empty: nothing was compared"
    only_duckdb = sorted(set(on_duckdb) - set(on_postgres), key=repr)[:3]
    only_postgres = sorted(set(on_postgres) - set(on_duckdb), key=repr)[:3]
    assert on_duckdb == on_postgres, f"{table}: only DuckDB {only_duckdb}; only PostgreSQL {only_postgres}"
