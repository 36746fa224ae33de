"""The gate on PostgreSQL, validating in the database through GX's SQL datasource.

The queue and the source tables the gate reads are copied from the session's real DuckDB
build into a throwaway PostgreSQL database, then the same bad plays are planted.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from psycopg2.extras import execute_values

from activation.gate import GateOptions, QualityGate, blocked_plays
from omniplay.settings import Settings
from omniplay.warehouse import PostgresWarehouse, connect
from tests.gate import planting as P

# relation -> columns the gate reads (all of the queue).
TABLES = {
    "activation.activation_queue": list(P.COLUMNS),
    "marts.dim_holdout_assignments": ["profile_id", "scope", "arm"],
    "marts.dim_profile_consent": ["profile_id", "channel", "is_allowed", "reason"],
    "marts.dim_identity_map": ["identifier_type", "identifier_value", "profile_id"],
    "marts.dim_profiles": ["profile_id", "do_not_contact"],
    "staging.stg_consent__consent_log": ["identifier_type", "identifier_value", "channel", "action"],
    "staging.stg_crm__customers": ["crm_id", "do_not_contact"],
    "staging.stg_stores__stores": ["store_id", "is_online"],
}
_TYPES = {"VARCHAR": "text", "DATE": "date", "TIMESTAMP": "timestamp", "BOOLEAN": "boolean",
          "BIGINT": "bigint", "INTEGER": "integer", "DOUBLE": "double precision", "JSON": "text"}


def copy_build(duck_path: Path, pg_conn) -> None:
    with duckdb.connect(str(duck_path), read_only=True) as duck, pg_conn.cursor() as cur:
        for relation, columns in TABLES.items():
            schema, table = relation.split(".")
            types = dict(duck.execute(
                "select column_name, data_type from information_schema.columns where table_schema = ? "
                "and table_name = ?", [schema, table]).fetchall())
            cur.execute(f"create schema if not exists {schema}")
            cur.execute(f"create table {relation} ({', '.join(f'{c} {_TYPES[types[c]]}' for c in columns)})")
            rows = duck.execute(f"select {', '.join(columns)} from {relation}").fetchall()
            execute_values(cur, f"insert into {relation} ({', '.join(columns)}) values %s", rows)
    pg_conn.commit()


@pytest.fixture
def pg_gate(duckdb_build, postgres_server, monkeypatch, tmp_path):
    database = postgres_server.create_database("omniplay_gate")
    conn = postgres_server.connect(database)
    try:
        copy_build(duckdb_build.project.duckdb_path, conn)
    finally:
        conn.close()
    for key, value in postgres_server.env(database).items():
        monkeypatch.setenv(key, value)
    wh = connect(Settings.from_env(tmp_path, target="postgres"))
    assert isinstance(wh, PostgresWarehouse)
    yield wh
    wh.close()


def test_gate_blocks_planted_plays_on_postgres(pg_gate, postgres_server, tmp_path):
    wh = pg_gate
    options = GateOptions(size_min_rows=1)
    P.plant_previous_run(wh)
    yesterday = QualityGate(wh, options, docs_dir=tmp_path / "docs").run()
    assert yesterday.verdicts and not yesterday.blocked
    P.plant_bad_plays(wh)
    today = QualityGate(wh, options, docs_dir=tmp_path / "docs").run()

    failed = {v.play_id: set(v.failed) for v in today.blocked}
    assert set(failed) == set(P.EXPECTED_FAILURES)
    for play, checks in failed.items():
        assert checks in P.EXPECTED_FAILURES[play], (play, checks)
    reasons = {v.play_id: v.reasons() for v in today.verdicts}
    assert reasons[P.DUPLICATE] == ["unique_message_id: 2 row(s) share their message_id with another queue row"]
    assert reasons[P.SIZE_JUMP][0].startswith("size: 12 rows vs 4 on ")
    assert set(blocked_plays(wh)) == set(P.EXPECTED_FAILURES)
    assert all(v.docs_url and v.docs_url.startswith("file://") for v in today.blocked)
    # The work table is gone and GX never saw the password in a file.
    assert wh.fetchall("select count(*) from information_schema.tables where table_name like 'gate_rows_%'") == [(0,)]
    assert not any(postgres_server.password in p.read_text(errors="ignore")
                   for p in (tmp_path / "docs").rglob("*.html"))
