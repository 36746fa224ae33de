"""Property tests of the decision models through the real dbt build.

Each Hypothesis example is a world of a few hundred generated profiles - random consent
and blocks, addresses, holdout arms, send-ledger history, personas with their own caps,
timezones, and an as-of time that is often on a DST edge - written as the upstream
tables of the decision models; `dbt build` then builds the real int_play_audiences+
models on it. Checked against the fixtures, not against the models' own columns:
exactly one decision per candidate, the same outcome an independent Python model gives,
and in the queue zero holdout rows, zero rows without consent, zero rows over a contact
budget, and no SMS outside 08:00-21:00 local (no store task outside opening hours).
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tests.decisions.strategies import DST_EDGES, PERSONA_CAPS, seeded_people, worlds
from tests.decisions.world import (
    DECISION_SELECTION,
    SMS_WINDOW,
    STORE_BY_ID,
    World,
    address_ok,
    caps_for,
    expected_decisions,
    ledger_count,
    plays,
    write_world,
)
from tests.support.dbt import DbtProject

pytestmark = pytest.mark.dbt

_counter = itertools.count()


def build_world(root, world: World, *, target: str = "duckdb", extra_env: dict | None = None,
                connect=None) -> DbtProject:
    """Write the world's fixtures and `dbt build` the decision models on them."""
    project = DbtProject.isolated(root, target=target, data_dir=root / "unused-sources",
                                  extra_env={"DBT_INDIRECT_SELECTION": "cautious", **(extra_env or {})})
    if target == "duckdb":
        with duckdb.connect(str(project.duckdb_path)) as con:
            write_world(con, world)
    else:
        connect(world)
    result = project.run("build", select=DECISION_SELECTION, vars=world.dbt_vars(), raise_on_failure=False)
    assert result.success, f"dbt build of the decision models failed: {result.failures}"
    return project


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_results(project: DbtProject):
    decisions = project.query(
        "select profile_id, play_id, outcome, selected_email, selected_sms, selected_store, ghost_outcome "
        "from marts.fct_play_decisions")
    queue = project.query(
        "select message_id, profile_id, play_id, channel, address, recipient_timezone, not_before, not_after, "
        "destination, template, payload, play_version from activation.activation_queue")
    return decisions, queue


def check_world(world: World, decisions: list[tuple], queue: list[tuple]) -> None:
    people = {p.profile_id: p for p in world.people}
    by_id = {p.id: p for p in plays()}
    expected = expected_decisions(world)

    # Exactly one decision per candidate, and the same outcome as the Python model.
    keys = Counter((profile, play) for profile, play, *_ in decisions)
    assert not [k for k, n in keys.items() if n > 1], "a candidate has more than one decision"
    assert set(keys) == set(expected), "decided candidates differ from the audiences"
    wrong = [(k, row[2], expected[k].outcome) for row in decisions
             if expected[(k := (row[0], row[1]))].outcome != row[2]]
    assert not wrong, f"{len(wrong)} outcome(s) differ (candidate, built, expected): {wrong[:5]}"
    for profile, play, outcome, *flags, ghost in decisions:
        built = {c for c, on in zip(("email", "sms", "store"), flags, strict=True) if on}
        assert built == set(expected[profile, play].selected), (profile, play, built)
        # Held-out candidates: the would-be outcome the lift control arm is built from.
        assert ghost == expected[profile, play].ghost, (profile, play, ghost, expected[profile, play].ghost)

    # The queue: one row per selected channel, with exactly the expected window.
    assert len({row[0] for row in queue}) == len(queue), "message_id is not unique"
    queued = {(r[1], r[2], r[3]): r for r in queue}
    wanted = {(p, play, c) for (p, play), e in expected.items() for c in e.selected}
    assert set(queued) == wanted
    for (profile, play, channel), row in queued.items():
        begin, end = expected[profile, play].windows[channel]
        assert (_utc(row[6]), _utc(row[7])) == (begin, end), (profile, play, channel)

    # The acceptance invariants, each checked on its own against the fixtures.
    sent = defaultdict(Counter)
    for _, profile, play, channel, address, zone, not_before, not_after, *_ in queue:
        person = people[profile]
        assert "global" not in person.holdouts and play not in person.holdouts, "holdout leak"
        assert person.consent_row(channel)[0], f"no consent: {profile} {channel}"
        assert address_ok(person, channel) and address, "bad address queued"
        nb, na = _utc(not_before), _utc(not_after)
        assert world.as_of <= nb < na <= world.as_of + by_id[play].play.expires_after
        if channel == "sms":
            local_nb, local_na = nb.astimezone(zone_info(zone)), na.astimezone(zone_info(zone))
            assert local_nb.date() == local_na.date()
            assert SMS_WINDOW[0] <= local_nb.time() and local_na.time() <= SMS_WINDOW[1], "SMS outside 08-21 local"
        if channel == "store":
            store = STORE_BY_ID[address]
            local_nb, local_na = nb.astimezone(zone_info(store.timezone)), na.astimezone(zone_info(store.timezone))
            assert store.opens <= local_nb.time() and local_na.time() <= store.closes and local_nb.date() == local_na.date()
        sent[profile][channel] += 1
        sent[profile]["any"] += 1
        sent[profile]["play:" + play] += channel in by_id[play].play.channels
    for profile, counts in sent.items():
        person = people[profile]
        for scope, cap in caps_for(world, person).items():
            before = ledger_count(world, person, cap["days"], channel=None if scope == "any" else scope)
            assert counts[scope] == 0 or before + counts[scope] <= cap["max"], f"over budget: {profile} {scope}"
        for channel in ("email", "sms", "store"):
            assert counts[channel] <= world.max_per_channel
        for play_id, loaded in by_id.items():
            if loaded.play.frequency and counts["play:" + play_id]:
                before = ledger_count(world, person, loaded.play.frequency.days, play_id=play_id,
                                      channels=tuple(loaded.play.channels))
                assert before + counts["play:" + play_id] <= loaded.play.frequency.max


def zone_info(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


# Every example is a dbt build: a handful of rich worlds, and no shrinking (each shrink
# step would be another build; the failing world's seed and size are in the report).
@settings(max_examples=4, deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(world=worlds())
def test_decisions_keep_consent_holdouts_budgets_and_quiet_hours(world: World, tmp_path_factory) -> None:
    project = build_world(tmp_path_factory.mktemp(f"decisions-{next(_counter)}"), world)
    decisions, queue = read_results(project)
    check_world(world, decisions, queue)
    if any(row[2] == "selected" for row in decisions):
        assert queue, "selected decisions but an empty queue"


def test_rebuilding_in_the_same_period_keeps_message_ids(tmp_path_factory) -> None:
    """Deterministic ids: the same world decided twice in one period gives the same message_ids."""
    world = _fixed_world()
    first = build_world(tmp_path_factory.mktemp("ids-1"), world)
    later = World(world.people, world.as_of + timedelta(minutes=30), world.caps_by_persona)
    second = build_world(tmp_path_factory.mktemp("ids-2"), later)
    ids = lambda p: {(r[1], r[2], r[3]): r[0] for r in read_results(p)[1]}  # noqa: E731
    a, b = ids(first), ids(second)
    common = set(a) & set(b)
    assert common, "no message decided in both builds"
    assert all(a[k] == b[k] for k in common)


def _fixed_world() -> World:
    """A small deterministic world where every profile is reachable by email."""
    from tests.decisions.world import Person

    people = [
        Person(profile_id=f"fixed{n:03d}", timezone="Europe/Berlin", email=f"f{n}@example.com",
               phone=f"+4915{n:09d}", home_store_id="S_BER", block=None,
               consent={"email": "opt_in", "sms": "opt_in", "store": "opt_in"}, loyalty_tier=None,
               purchase_propensity=0.9, holdouts=set(), audiences={p.id for p in plays()})
        for n in range(40)
    ]
    return World(people, datetime(2026, 6, 1, 10, 0, tzinfo=UTC))


def test_sms_window_is_local_across_dst() -> None:
    """The Python model's windows (what the build is compared to) on known DST days."""
    from tests.decisions.world import daily_window

    berlin_spring = datetime(2026, 3, 28, 21, 30, tzinfo=UTC)  # 22:30 CET; tomorrow is CEST
    begin, end = daily_window(berlin_spring, "Europe/Berlin", time(8), time(21))
    assert (begin, end) == (datetime(2026, 3, 29, 6, 0, tzinfo=UTC), datetime(2026, 3, 29, 19, 0, tzinfo=UTC))
    ny_fall = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)  # 23:00 EDT; tomorrow is EST
    begin, end = daily_window(ny_fall, "America/New_York", time(8), time(21))
    assert (begin, end) == (datetime(2026, 11, 1, 13, 0, tzinfo=UTC), datetime(2026, 11, 2, 2, 0, tzinfo=UTC))


def _normalized_queue(queue: list[tuple]) -> set[tuple]:
    import json

    return {(*row[:6], _utc(row[6]), _utc(row[7]), *row[8:10], json.dumps(json.loads(row[10]), sort_keys=True), row[11])
            for row in queue}


def test_postgres_decides_exactly_like_duckdb(postgres_server, tmp_path_factory) -> None:
    """One world built on both engines: same decisions, same queue (ids, windows, payloads)."""
    world = World(seeded_people(20261122, 0, 300), DST_EDGES[0], PERSONA_CAPS[2], max_per_channel=1)
    duck = build_world(tmp_path_factory.mktemp("parity-duckdb"), world)
    database = postgres_server.create_database("omniplay_decisions")

    def load(w: World) -> None:
        conn = postgres_server.connect(database)
        try:
            with conn, conn.cursor() as cur:
                write_world(cur, w, placeholder="%s")
        finally:
            conn.close()

    pg = build_world(tmp_path_factory.mktemp("parity-postgres"), world, target="postgres",
                     extra_env=postgres_server.env(database), connect=load)
    duck_decisions, duck_queue = read_results(duck)
    pg_decisions, pg_queue = read_results(pg)
    check_world(world, pg_decisions, pg_queue)
    assert sorted(pg_decisions) == sorted(duck_decisions)
    assert _normalized_queue(pg_queue) == _normalized_queue(duck_queue)
