"""The same events, journeys, triggers and holdouts on PostgreSQL as on DuckDB.

Both engines build the whole project on the suite's dataset (session fixtures); every
table of ours must hold the same rows on both, holdout arms included: the assignment
hash is engine-independent by design.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.support.dbt import BuildRun

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


def _rows(run: BuildRun, table: str, columns: list[str]) -> list[tuple]:
    quoted = ", ".join(f'"{c}"' for c in columns)
    return sorted((tuple(_normal(v) for v in row) for row in run.project.query(f"select {quoted} from {table}")),
                  key=repr)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_postgres_matches_duckdb(duckdb_build: BuildRun, postgres_build: BuildRun, table: str) -> None:
    schema, name = table.split(".")
    columns = [r[0] for r in duckdb_build.project.query(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, name]) if r[0] not in TABLES[table]]
    assert columns, f"{table} was not built on DuckDB"
    on_duckdb = _rows(duckdb_build, table, columns)
    on_postgres = _rows(postgres_build, table, columns)
    assert on_duckdb, f"{table} is empty: nothing was compared"
    only_duckdb = sorted(set(on_duckdb) - set(on_postgres), key=repr)[:3]
    only_postgres = sorted(set(on_postgres) - set(on_duckdb), key=repr)[:3]
    assert on_duckdb == on_postgres, f"{table}: only DuckDB {only_duckdb}; only PostgreSQL {only_postgres}"
