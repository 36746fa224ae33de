"""The decision models inside the suite's full builds (generated dataset, real triggers,
audiences, profiles, consent and holdouts): invariants checked against the upstream
tables, every queued message rendered with its real template, lineage of the plays,
and the same decisions and queue on PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from activation.templates import TemplateStore
from omniplay.plays import load_plays, templates_dir
from tests.support.dbt import PROJECT_DIR, BuildRun

QUEUE_COLUMNS = ("message_id, run_date, decided_at, play_id, play_version, profile_id, channel, destination, "
                 "address, recipient_timezone, not_before, not_after, template, payload")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def test_one_decision_per_candidate(duckdb_build: BuildRun) -> None:
    project = duckdb_build.project
    candidates = project.scalar("select count(*) from marts.int_play_audiences")
    assert candidates > 0
    assert project.scalar("select count(*) from marts.fct_play_decisions") == candidates
    assert project.scalar(
        "select count(*) from (select distinct profile_id, play_id from marts.fct_play_decisions) d") == candidates
    outcomes = {o for (o,) in project.query("select distinct outcome from marts.fct_play_decisions")}
    assert "selected" in outcomes and outcomes <= {
        "selected", "no_consent", "compliance", "holdout", "contact_budget", "lower_priority", "no_channel"}


def test_queue_holds_only_consented_non_holdout_messages_in_their_windows(duckdb_build: BuildRun) -> None:
    project = duckdb_build.project
    columns = [c.strip() for c in QUEUE_COLUMNS.split(",")]
    rows = [dict(zip(columns, r, strict=True)) for r in project.query(f"select {QUEUE_COLUMNS} from activation.activation_queue")]
    assert rows, "the suite dataset should queue messages"
    assert len({r["message_id"] for r in rows}) == len(rows)
    assert project.scalar("""
        select count(*) from activation.activation_queue as q
        inner join marts.dim_holdout_assignments as h
            on q.profile_id = h.profile_id and h.arm = 'holdout' and h.status = 'active'
            and h.scope in ('global', q.play_id)
    """) == 0
    assert project.scalar("""
        select count(*) from activation.activation_queue as q
        left join marts.dim_profile_consent as c on q.profile_id = c.profile_id and q.channel = c.channel
        where not coalesce(c.is_allowed, false)
    """) == 0
    assert project.scalar("""
        select count(*) from activation.activation_queue as q
        left join marts.fct_play_decisions as d on q.profile_id = d.profile_id and q.play_id = d.play_id
        where coalesce(d.outcome, '') <> 'selected'
    """) == 0
    stores = {s: (tz, o, c) for s, tz, o, c in project.query(
        "select store_id, timezone, opening_time_local, closing_time_local from staging.stg_stores__stores")}
    for row in rows:
        begin, end = _utc(row["not_before"]), _utc(row["not_after"])
        assert _utc(row["decided_at"]) <= begin < end
        if row["channel"] == "sms":
            zone = ZoneInfo(row["recipient_timezone"])
            assert time(8) <= begin.astimezone(zone).time() and end.astimezone(zone).time() <= time(21)
        if row["channel"] == "store":
            zone_name, opens, closes = stores[row["address"]]
            zone = ZoneInfo(zone_name)
            assert opens <= begin.astimezone(zone).time() and end.astimezone(zone).time() <= closes


def test_every_queued_message_renders_with_its_template(duckdb_build: BuildRun) -> None:
    """The payload carries what each play's template needs: no fallback, no 'None' in the text."""
    store = TemplateStore(templates_dir(PROJECT_DIR))
    rows = duckdb_build.project.query(
        "select message_id, play_id, profile_id, channel, template, payload from activation.activation_queue")
    for message_id, play_id, profile_id, channel, template, payload in rows:
        context = {**json.loads(payload), "message_id": message_id, "play_id": play_id,
                   "profile_id": profile_id, "channel": channel,
                   "unsubscribe_url": "https://example.invalid/u", "unsubscribe_mailto": "u@example.invalid"}
        rendered = store.render(template, channel, context)
        assert rendered.fallback_reason is None, (play_id, channel, rendered.fallback_reason)
        assert all("None" not in part for part in rendered.parts.values())


def test_plays_show_in_lineage_as_exposures(duckdb_build: BuildRun) -> None:
    exposures = {e["name"]: e for e in duckdb_build.manifest["exposures"].values()}
    for loaded in load_plays(PROJECT_DIR):
        exposure = exposures[f"play_{loaded.id}"]
        assert f"model.omniplay.{loaded.model}" in exposure["depends_on"]["nodes"]
        assert "model.omniplay.activation_queue" in exposure["depends_on"]["nodes"]
        assert exposure["config"]["meta"]["destinations"]
    wiring = duckdb_build.manifest["nodes"]["model.omniplay.int_play_audiences"]["depends_on"]["nodes"]
    assert {f"model.omniplay.{p.model}" for p in load_plays(PROJECT_DIR)} <= set(wiring)


def test_postgres_build_decides_like_duckdb(duckdb_build: BuildRun, postgres_build: BuildRun) -> None:
    decisions_sql = ("select run_date, profile_id, play_id, outcome, outcome_detail, channel, "
                     "selected_email, selected_sms, selected_store from marts.fct_play_decisions")
    assert sorted(postgres_build.project.query(decisions_sql)) == sorted(duckdb_build.project.query(decisions_sql))

    def queue(build: BuildRun) -> set[tuple]:
        rows = build.project.query(f"select {QUEUE_COLUMNS} from activation.activation_queue")
        return {(*r[:13], json.dumps(json.loads(r[13]), sort_keys=True)) for r in rows}

    assert queue(postgres_build) == queue(duckdb_build)


def test_audience_preview_counts_and_masks(duckdb_build: BuildRun) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    project = duckdb_build.project
    expected = project.scalar("select count(*) from marts.fct_play_decisions where play_id = 'wishlist_back_in_stock'")
    queued = project.scalar("select count(*) from activation.activation_queue where play_id = 'wishlist_back_in_stock'")
    with project.environ():
        result = CliRunner().invoke(app, ["audience", "preview", "aud_wishlist_back_in_stock", "--json", "--sample", "50"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["candidates"] == expected and sum(data["channels"].values()) == queued
    assert sum(data["outcomes"].values()) == expected
    addresses = {a for (a,) in project.query(
        "select address from activation.activation_queue where play_id = 'wishlist_back_in_stock' and channel = 'email'")}
    shown = [row["address"] for row in data["sample"] if row["channel"] == "email"]
    assert shown and not set(shown) & addresses, "addresses must be masked"
