"""The Snowplow adapter agrees with the Snowplow web package on who each browser is.

Upstream (snowplow/dbt-snowplow-web, `snowplow_web_user_mapping`) stitches a browser to a
login as: over the deduplicated events, the latest `user_id` by `collector_tstamp` of each
`domain_userid`; sessions carry it as `stitched_user_id`. Omniplay instead links the
cookie to a login in its identity graph (int_identity_edges): a cookie seen with several
logins keeps the one with most records, then most observations, then the latest, and
the other edges are cut (`conflicting_anchors`). On the package's integration-test data
every multi-login browser saw each login equally often, so the two rules must agree on
every browser; tests/adapters/test_segment_spec_adapters.py pins the case where they differ.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.dbt import BuildRun

pytestmark = pytest.mark.dbt


def normalize_login(value) -> str | None:
    """A user_id as omniplay stages it (docs/sources.md: trimmed, upper-cased, empty -> null)."""
    if value is None or pd.isna(value) or not str(value).strip():
        return None
    return str(value).strip().upper()


def upstream_latest_login(events: pd.DataFrame) -> dict[str, str]:
    """Snowplow's rule: dedupe event_id (first collected), then per domain_userid the user_id
    of its latest event (collector_tstamp) that has one."""
    deduped = (events.sort_values(["collector_tstamp", "dvce_created_tstamp"], kind="stable")
               .drop_duplicates("event_id", keep="first"))
    logged_in = deduped.dropna(subset=["domain_userid", "user_id"]).sort_values("collector_tstamp", kind="stable")
    return logged_in.groupby("domain_userid").user_id.last().to_dict()


def cookie_logins(build: BuildRun) -> dict[str, str | None]:
    """cookie_id -> the login (user_id) in the same profile of dim_identity_map, None when none."""
    rows = build.project.query("""
        select cookie.identifier_value, login.identifier_value
        from marts.dim_identity_map as cookie
        left join marts.dim_identity_map as login
            on login.profile_id = cookie.profile_id and login.identifier_type = 'user_id'
        where cookie.identifier_type = 'cookie_id'
    """)
    mapping: dict[str, str | None] = {}
    for cookie, login in rows:
        assert cookie not in mapping, f"cookie {cookie} holds two logins: {mapping[cookie]}, {login}"
        mapping[cookie] = login
    return mapping


def test_upstream_rule_reproduces_the_expected_stitched_user_id(upstream: dict[str, object]) -> None:
    """Our reading of the upstream rule gives the package's own expected output."""
    latest = upstream_latest_login(upstream["events"])
    expected = upstream["expected"]
    assert expected.domain_userid.nunique() >= 10
    wrong = {cookie: (stitched, latest.get(cookie)) for cookie, stitched in
             zip(expected.domain_userid, expected.stitched_user_id, strict=True) if latest.get(cookie) != stitched}
    assert not wrong, f"domain_userid: (expected stitched_user_id, latest user_id): {wrong}"


def test_cookie_to_login_agrees_with_upstream_stitched_user_id(adapters_build: BuildRun,
                                                                upstream: dict[str, object]) -> None:
    ours = cookie_logins(adapters_build)
    expected = upstream["expected"]
    compared = {cookie: normalize_login(stitched)
                for cookie, stitched in zip(expected.domain_userid, expected.stitched_user_id, strict=True)}
    disagreements = {cookie: (stitched, ours.get(cookie, "<cookie not in dim_identity_map>"))
                     for cookie, stitched in compared.items() if ours.get(cookie, "<missing>") != stitched}
    print(f"snowplow_web_it: {len(compared)} browsers compared with upstream stitched_user_id, "
          f"{len(disagreements)} disagree")
    assert len(compared) >= 10
    # A browser that logged in as ten users in turn is in the comparison: the rule is exercised.
    multi_login = upstream["events"].dropna(subset=["user_id"]).groupby("domain_userid").user_id.nunique()
    assert (multi_login[multi_login.index.isin(list(compared))] > 1).any()
    assert not disagreements, f"domain_userid: (upstream stitched_user_id, omniplay login): {disagreements}"


def test_every_tracked_browser_maps_like_upstream(adapters_build: BuildRun, upstream: dict[str, object]) -> None:
    """Beyond the sessions upstream kept (its time window drops some), every domain_userid."""
    ours = cookie_logins(adapters_build)
    events = upstream["events"]
    latest = {cookie: normalize_login(user) for cookie, user in upstream_latest_login(events).items()}
    cookies = set(events.domain_userid.dropna())
    disagreements = {cookie: (latest.get(cookie), ours.get(cookie, "<missing>"))
                     for cookie in cookies if ours.get(cookie, "<missing>") != latest.get(cookie)}
    assert len(cookies) >= 40
    assert not disagreements, f"domain_userid: (upstream latest login, omniplay login): {disagreements}"


def test_snowplow_events_reach_the_event_stream(adapters_build: BuildRun, upstream: dict[str, object]) -> None:
    events = upstream["events"]
    customer = events[events.event_name.notna() & (events.event_name != "page_ping")]
    want = {f"snowplow:{event_id}" for event_id in customer.event_id}
    rows = adapters_build.project.query("""
        select event_id, channel, event_type, profile_id, resolved_identifier_type
        from marts.fct_customer_events where event_id like 'snowplow:%'
    """)
    got = {row[0] for row in rows}
    assert got == want, f"missing {sorted(want - got)[:5]}, unexpected {sorted(got - want)[:5]}"
    assert all(row[1] == "web" for row in rows)
    page_views = {row[0] for row in rows if row[2] == "page_view"}
    assert page_views == {f"snowplow:{e}" for e in customer[customer.event_name == "page_view"].event_id}
    # Every event with a browser or a login resolves to a profile, through the login first.
    identified = set(customer[customer.domain_userid.notna() | customer.user_id.notna()].event_id)
    unresolved = [row[0] for row in rows if row[0].split(":", 1)[1] in identified and row[3] is None]
    assert not unresolved, unresolved[:5]
    assert {row[4] for row in rows if row[3] is not None} == {"user_id"}
