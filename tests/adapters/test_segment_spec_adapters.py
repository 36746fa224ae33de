"""Segment and RudderStack tables feed the event stream and the identity graph."""

from __future__ import annotations

import pytest

from tests.adapters import segment_spec
from tests.docs.coverage import undocumented
from tests.support.dbt import BuildRun

pytestmark = pytest.mark.dbt


def test_calls_become_customer_events(adapters_build: BuildRun) -> None:
    rows = adapters_build.project.query("""
        select event_id, channel, event_type from marts.fct_customer_events
        where event_id like 'segment:%' or event_id like 'rudderstack:%'
    """)
    # One event per message id (the redelivered track collapses), identify calls left out.
    assert {row[0]: (row[1], row[2]) for row in rows} == segment_spec.EXPECTED_EVENTS
    assert len(rows) == len(segment_spec.EXPECTED_EVENTS)


def test_identify_calls_link_cookies_to_logins(adapters_build: BuildRun) -> None:
    for (source, cookie), login in segment_spec.EXPECTED_COOKIE_LOGINS.items():
        rows = adapters_build.project.query("""
            select login.identifier_value
            from marts.dim_identity_map as cookie
            left join marts.dim_identity_map as login
                on login.profile_id = cookie.profile_id and login.identifier_type = 'user_id'
            where cookie.identifier_type = 'cookie_id' and cookie.identifier_value = ?
        """, [cookie])
        assert rows == [(login,)], f"{source} cookie {cookie}: {rows}, want {login}"


def test_shared_browser_keeps_its_most_observed_login(adapters_build: BuildRun) -> None:
    """Where omniplay and Snowplow's stitching differ by design: the later, rarer login's edge is cut."""
    rows = adapters_build.project.query("""
        with named_edges as (
            select
                a.identifier_type || ':' || a.identifier_value as node_a,
                b.identifier_type || ':' || b.identifier_value as node_b,
                edges.is_linked, edges.cut_reason, edges.observations
            from intermediate.int_identity_edges as edges
            inner join intermediate.int_identity_nodes as a on edges.node_a = a.node
            inner join intermediate.int_identity_nodes as b on edges.node_b = b.node
        )
        select * from named_edges
        where 'cookie_id:seg-shared' in (node_a, node_b)
        order by observations desc
    """)
    assert rows == [
        ("cookie_id:seg-shared", "user_id:SEG-USER-A", True, None, 3),
        ("cookie_id:seg-shared", "user_id:SEG-USER-B", False, "conflicting_anchors", 1),
    ]


def test_junk_cookie_links_nothing_and_devices_link_logins(adapters_build: BuildRun) -> None:
    project = adapters_build.project
    assert project.scalar("select count(*) from marts.dim_identity_map where identifier_value = 'undefined'") == 0
    assert project.scalar("""
        select profile_id is null from marts.fct_customer_events where event_id = 'segment:s-t3'
    """)
    assert project.scalar("""
        select count(distinct profile_id) from marts.dim_identity_map
        where (identifier_type, identifier_value) in (('device_id', 'rs-device-1'), ('cookie_id', 'rs-anon-1'),
                                                      ('user_id', 'RS-USER-1'))
    """) == 1


def test_adapter_staging_models_were_built_and_tested(adapters_build: BuildRun, enabled_adapters: list[str]) -> None:
    statuses = adapters_build.statuses()
    for source, tables in {"snowplow": ["events"], "segment": ["tracks", "pages", "identifies"],
                           "rudderstack": ["tracks", "pages", "identifies"]}.items():
        if source not in enabled_adapters:
            continue
        for table in tables:
            uid = f"model.omniplay.stg_{source}__{table}"
            assert statuses.get(uid) == "success", (uid, statuses.get(uid))
            assert adapters_build.tests_on(uid), f"{uid} has no data tests"


def test_adapter_models_are_documented(adapters_build: BuildRun) -> None:
    """The docs test (tests/docs) builds without adapters; their models are checked here."""
    adapter_models = {uid: node for uid, node in adapters_build.models("staging").items()
                      if node["name"].startswith(("stg_snowplow__", "stg_segment__", "stg_rudderstack__"))}
    adapter_models.update(adapters_build.models("intermediate/events"))
    assert len(adapter_models) >= 8
    columns = {uid: [row[0] for row in adapters_build.project.query(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [node["schema"], node["alias"]])] for uid, node in adapter_models.items()}
    manifest = {"nodes": adapter_models, "sources": {}}
    problems = undocumented(manifest, columns)
    assert not problems, "describe these in the model's YAML:\n  " + "\n  ".join(problems)
