"""The dbt on-run-start macro creates the same state tables as the activation engine.

macros/plays/state_tables_ddl.sql replicates activation/ledger.py `ddl()` (dbt cannot
import it); these tests create the tables both ways on a real engine and compare the
catalog: columns in order, types, nullability and primary keys.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from activation.ledger import TABLES, ddl
from tests.support.dbt import DbtProject

CATALOG_SQL = """
    select table_name, ordinal_position, column_name, data_type, is_nullable
    from information_schema.columns
    where table_schema = '{schema}'
    order by table_name, ordinal_position
"""
DUCKDB_KEYS_SQL = """
    select table_name, constraint_type, constraint_column_names
    from duckdb_constraints()
    where schema_name = '{schema}' and constraint_type in ('PRIMARY KEY', 'UNIQUE')
    order by table_name
"""


def duckdb_catalog(path: Path, schema: str) -> tuple[list, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(CATALOG_SQL.format(schema=schema)).fetchall()
        keys = [(t, c, list(cols)) for t, c, cols in con.execute(DUCKDB_KEYS_SQL.format(schema=schema)).fetchall()]
    return columns, keys


@pytest.mark.dbt
def test_on_run_start_creates_the_engines_state_tables_on_duckdb(tmp_path: Path) -> None:
    project = DbtProject.isolated(tmp_path / "dbt", target="duckdb", data_dir=tmp_path / "no-sources")
    result = project.run("run", select=["int_play_contact_history"],
                         vars={"omniplay__register_source_files": False}, raise_on_failure=False)
    assert result.success, result.failures
    engine_db = tmp_path / "engine.duckdb"
    with duckdb.connect(str(engine_db)) as con:
        for statement in ddl("omniplay_state", "duckdb"):
            con.execute(statement)
    from_dbt = duckdb_catalog(project.duckdb_path, "omniplay_state")
    from_engine = duckdb_catalog(engine_db, "omniplay_state")
    assert {row[0] for row in from_dbt[0]} == set(TABLES)
    assert from_dbt == from_engine
    assert "sends" not in {table for table, _, _ in from_dbt[1]}  # no ART over every message id


def test_state_ddl_on_postgres_matches(postgres_build) -> None:
    """The full PostgreSQL build's on-run-start tables against ddl() in a second schema."""
    project = postgres_build.project
    project.query("select 1")
    import psycopg2

    env = project.env
    conn = psycopg2.connect(host=env["OMNIPLAY_PG_HOST"], port=int(env["OMNIPLAY_PG_PORT"]),
                            user=env["OMNIPLAY_PG_USER"], password=env["DBT_ENV_SECRET_OMNIPLAY_PG_PASSWORD"],
                            dbname=env["OMNIPLAY_PG_DATABASE"])
    try:
        with conn, conn.cursor() as cur:
            for statement in ddl("omniplay_state_ddl_check"):
                cur.execute(statement)
    finally:
        conn.close()

    def catalog(schema: str) -> list[tuple]:
        columns = project.query(CATALOG_SQL.format(schema=schema))
        keys = project.query(
            "select tc.table_name, tc.constraint_type, kcu.column_name "
            "from information_schema.table_constraints tc "
            "join information_schema.key_column_usage kcu on tc.constraint_name = kcu.constraint_name "
            "and tc.table_schema = kcu.table_schema "
            f"where tc.table_schema = '{schema}' and tc.constraint_type = 'PRIMARY KEY' order by 1, 3")
        return [*columns, *keys]

    assert catalog("omniplay_state") == catalog("omniplay_state_ddl_check")
    assert {row[0] for row in catalog("omniplay_state")} == set(TABLES)
