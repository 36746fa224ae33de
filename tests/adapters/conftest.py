"""One real dbt build with every event source adapter enabled, shared by tests/adapters.

The suite's generated dataset provides omniplay's own sources; the DuckDB file gets, before
the build, Snowplow's atomic events from the Snowplow web package's integration-test data
(`../shared/data/external/snowplow_web_it`) and Segment- and RudderStack-shaped tables
written here (tests/adapters/segment_spec.py).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.adapters import segment_spec
from tests.support.dbt import BuildRun, DbtProject
from tests.support.external import candidate_paths, external_path

SNOWPLOW_IT = Path("snowplow_web_it")
ADAPTERS = ["snowplow", "segment", "rudderstack"]
SELECT = ["+fct_customer_events", "+int_profile_touchpoints"]
# Relationship tests whose other end (dim_profiles, stg_products__inventory) is outside SELECT.
EXCLUDE = ["test_name:relationships"]

# atomic.events column types the staging model relies on (the CSV leaves some to inference).
SNOWPLOW_TYPES = {
    "event_id": "VARCHAR", "user_id": "VARCHAR", "domain_userid": "VARCHAR", "network_userid": "VARCHAR",
    "collector_tstamp": "TIMESTAMP", "derived_tstamp": "TIMESTAMP", "dvce_created_tstamp": "TIMESTAMP",
    "load_tstamp": "TIMESTAMP", "tr_orderid": "VARCHAR", "tr_total": "DOUBLE",
}


@pytest.fixture(scope="session")
def snowplow_it() -> Path:
    """The Snowplow web package's integration-test folder (source/ and expected_default/)."""
    return external_path(SNOWPLOW_IT, unchecked="Snowplow adapter agreement with upstream stitched_user_id")


def load_snowplow_events(con: duckdb.DuckDBPyConnection, events_csv: Path) -> None:
    """atomic.events as a Snowplow loader leaves it, from the integration-test seed."""
    types = ", ".join(f"'{name}': '{kind}'" for name, kind in SNOWPLOW_TYPES.items())
    con.execute("create schema atomic")
    con.execute(f"create table atomic.events as select * from read_csv(?, header = true, types = {{{types}}})",
                [str(events_csv)])


@pytest.fixture(scope="session")
def enabled_adapters() -> list[str]:
    """Every adapter; Snowplow only where its upstream data is found (its own tests then skip or fail loudly),
    so the Segment and RudderStack checks run on any checkout."""
    if any(path.exists() for path in candidate_paths(SNOWPLOW_IT)):
        return ADAPTERS
    return [adapter for adapter in ADAPTERS if adapter != "snowplow"]


@pytest.fixture(scope="session")
def adapters_build(source_data: Path, enabled_adapters: list[str],
                   tmp_path_factory: pytest.TempPathFactory) -> BuildRun:
    """Identity, events and touchpoints built with the event source adapters enabled."""
    project = DbtProject.isolated(tmp_path_factory.mktemp("dbt-adapters"), target="duckdb", data_dir=source_data)
    with duckdb.connect(str(project.duckdb_path)) as con:
        if "snowplow" in enabled_adapters:
            snowplow_it = next(path for path in candidate_paths(SNOWPLOW_IT) if path.exists())
            load_snowplow_events(con, snowplow_it / "source" / "snowplow_web_events.csv")
        segment_spec.load(con)
    return project.build(select=SELECT, exclude=EXCLUDE, vars={"omniplay__event_sources": enabled_adapters})


@pytest.fixture(scope="session")
def upstream(snowplow_it: Path) -> dict[str, object]:
    """The integration-test events and the (domain_userid, stitched_user_id) pairs upstream expects."""
    events = pd.read_csv(snowplow_it / "source" / "snowplow_web_events.csv", dtype=str,
                         parse_dates=["collector_tstamp", "dvce_created_tstamp"])
    sessions = pd.read_csv(snowplow_it / "expected_default" / "snowplow_web_sessions_expected.csv", dtype=str)
    page_views = pd.read_csv(snowplow_it / "expected_default" / "snowplow_web_page_views_expected.csv", dtype=str)
    expected = pd.concat([sessions[["domain_userid", "stitched_user_id"]],
                          page_views[["domain_userid", "stitched_user_id"]]]).dropna(subset=["domain_userid"])
    return {"events": events, "expected": expected.drop_duplicates()}
