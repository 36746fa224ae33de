"""The Snowplow adapter on PostgreSQL: atomic.events in a real server, the real build, the
same agreement with upstream's stitched_user_id as on DuckDB (test_snowplow_agreement.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import psycopg2
import pytest
from psycopg2 import sql

from tests.adapters.conftest import EXCLUDE
from tests.adapters.test_snowplow_agreement import cookie_logins, normalize_login, upstream_latest_login
from tests.support import postgres as pg
from tests.support.dbt import BuildRun, DbtProject

pytestmark = [pytest.mark.dbt, pytest.mark.postgres]

# The atomic.events columns the adapter reads, typed as the integration-test seeds type them on PostgreSQL.
ATOMIC_COLUMNS = {
    "event_id": "varchar(128)", "app_id": "varchar(255)", "platform": "varchar(255)", "event_name": "varchar(1000)",
    "domain_userid": "varchar(128)", "network_userid": "varchar(128)", "user_id": "varchar(255)",
    "domain_sessionid": "varchar(128)", "collector_tstamp": "timestamp", "derived_tstamp": "timestamp",
    "dvce_created_tstamp": "timestamp", "load_tstamp": "timestamp", "page_url": "varchar(4096)",
    "page_urlpath": "varchar(3000)", "tr_orderid": "varchar(255)", "tr_total": "decimal(18,2)",
}


def load_atomic_events(env: dict[str, str], events_csv: Path) -> int:
    events = pd.read_csv(events_csv, dtype=str, keep_default_na=False)[list(ATOMIC_COLUMNS)]
    rows = [tuple(value or None for value in row) for row in events.itertuples(index=False)]
    conn = psycopg2.connect(host=env["OMNIPLAY_PG_HOST"], port=int(env["OMNIPLAY_PG_PORT"]),
                            user=env["OMNIPLAY_PG_USER"], password=env["DBT_ENV_SECRET_OMNIPLAY_PG_PASSWORD"],
                            dbname=env["OMNIPLAY_PG_DATABASE"])
    try:
        with conn, conn.cursor() as cur:
            cur.execute("create schema atomic")
            cur.execute(sql.SQL("create table atomic.events ({})").format(sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind)) for name, kind in ATOMIC_COLUMNS.items())))
            cur.executemany(sql.SQL("insert into atomic.events ({}) values ({})").format(
                sql.SQL(", ").join(map(sql.Identifier, ATOMIC_COLUMNS)),
                sql.SQL(", ").join(sql.Placeholder() * len(ATOMIC_COLUMNS))), rows)
    finally:
        conn.close()
    return len(rows)


@pytest.fixture(scope="module")
def snowplow_postgres_build(source_data: Path, snowplow_it: Path, postgres_server: pg.PostgresServer,
                            tmp_path_factory: pytest.TempPathFactory) -> BuildRun:
    env = postgres_server.env(postgres_server.create_database("omniplay_adapters"))
    project = DbtProject.isolated(tmp_path_factory.mktemp("dbt-adapters-postgres"), target="postgres",
                                  data_dir=source_data, extra_env=env)
    assert load_atomic_events(env, snowplow_it / "source" / "snowplow_web_events.csv") == 160
    return project.build(select=["+dim_identity_map"], exclude=EXCLUDE,
                         vars={"omniplay__event_sources": ["snowplow"]})


def test_cookie_to_login_agrees_with_upstream_on_postgres(snowplow_postgres_build: BuildRun,
                                                          upstream: dict[str, object]) -> None:
    ours = cookie_logins(snowplow_postgres_build)
    expected = upstream["expected"]
    compared = {cookie: normalize_login(stitched)
                for cookie, stitched in zip(expected.domain_userid, expected.stitched_user_id, strict=True)}
    latest = {cookie: normalize_login(user) for cookie, user in upstream_latest_login(upstream["events"]).items()}
    assert len(compared) >= 10
    assert {cookie: ours.get(cookie) for cookie in compared} == compared
    assert {cookie: ours.get(cookie) for cookie in latest} == latest
