"""Events, journeys, triggers and holdouts on real builds of generated data (DuckDB).

- a chain of three nightly (incremental) builds on growing data, late events included,
  ends equal to a full rebuild of the same data;
- the generator's planted behaviours land in the expected stages, journeys and triggers;
- holdout arms never change across the builds, a merged profile keeps one arm, and
  the salted hash passes the SRM check on a million ids (oracle: omniplay.stats).
"""

from __future__ import annotations

import math
from collections import defaultdict

import pytest
from scipy import stats as sps

from omniplay.stats import srm_test
from tests.journeys.conftest import Chain
from tests.journeys.inline import inline_query

# Tables our models build, with the audit columns a full rebuild legitimately changes.
COMPARED = {
    "marts.fct_customer_events": {"processed_at"},
    "intermediate.int_journey_stage_timeline": {"events_processed_at"},
    "marts.fct_journey_stage_history": set(),
    "intermediate.int_profile_current_stage": set(),
    "marts.fct_customer_journeys": {"events_processed_at"},
    "marts.rpt_journey_kpis": set(),
    "marts.fct_trigger_fires": set(),
}


def _columns(chain: Chain, table: str, skip: set[str]) -> list[str]:
    schema, name = table.split(".")
    rows = chain.incremental.query(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, name])
    return [r[0] for r in rows if r[0] not in skip]


def _rows(project, table: str, columns: list[str]) -> list[tuple]:
    quoted = ", ".join(f'"{c}"' for c in columns)
    rows = project.query(f"select {quoted} from {table}")
    # Floats from aggregates may differ in the last bits with the order rows were summed in.
    return sorted((tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows), key=repr)


@pytest.mark.parametrize("table", sorted(COMPARED))
def test_incremental_chain_equals_full_rebuild(journey_chain: Chain, table: str) -> None:
    columns = _columns(journey_chain, table, COMPARED[table])
    incremental = _rows(journey_chain.incremental, table, columns)
    full = _rows(journey_chain.full, table, columns)
    assert incremental, f"{table} is empty: nothing was compared"
    only_incremental = sorted(set(incremental) - set(full), key=repr)[:5]
    only_full = sorted(set(full) - set(incremental), key=repr)[:5]
    assert incremental == full, f"{table}: only incremental {only_incremental}; only full rebuild {only_full}"


def test_chain_saw_new_days_late_events_and_merges(journey_chain: Chain) -> None:
    """The comparison above is only meaningful if the nightly builds had real work to do."""
    project = journey_chain.incremental
    previous_cutoff = journey_chain.steps[-2].as_of.replace(tzinfo=None)
    late = project.scalar("select count(*) from marts.fct_customer_events where occurred_at <= ? and loaded_at > ?",
                          [previous_cutoff, previous_cutoff])
    new = project.scalar("select count(*) from marts.fct_customer_events where occurred_at > ?", [previous_cutoff])
    assert late > 0, "the last nightly build brought no late event"
    assert new > 0, "the last nightly build brought no new event"
    assert journey_chain.final.merges, "the identity build merged no profile during the chain"
    runs = project.scalar("select count(distinct processed_at) from marts.fct_customer_events")
    assert runs >= 2, "every event was rewritten by the last build: it was not incremental"


def _person_profiles(project, source_data) -> dict[str, set[str]]:
    """person -> the profiles holding their identifiers; household e-mails (one value, two
    people in the truth) are left out, as they say nothing about whose profile it is."""
    truth = source_data / "truth" / "identity.parquet"
    rows = project.query(
        f"select distinct t.person_id, m.profile_id from read_parquet('{truth}') as t "
        "inner join marts.dim_identity_map as m using (identifier_type, identifier_value) "
        f"where (t.identifier_type, t.identifier_value) in (select identifier_type, identifier_value "
        f"from read_parquet('{truth}') group by all having count(distinct person_id) = 1)")
    by_person: dict[str, set[str]] = defaultdict(set)
    for person, profile in rows:
        by_person[person].add(profile)
    return by_person


def _truth(source_data, behaviour: str) -> dict[str, tuple]:
    import pyarrow.parquet as pq

    table = pq.read_table(source_data / "truth" / "behaviours.parquet").to_pylist()
    return {r["person_id"]: (r["reference_at"], r["detail"]) for r in table if r["behaviour"] == behaviour}


def _profiles(project, sql: str) -> set[str]:
    return {row[0] for row in project.query(sql)}


def _persons(profiles: set[str], by_person: dict[str, set[str]]) -> set[str]:
    return {person for person, ids in by_person.items() if ids & profiles}


# behaviour -> (query of the profiles that should show it, exact: model set == truth set)
PLANTED = {
    "lapsed_buyer": ("select profile_id from intermediate.int_profile_current_stage where journey_stage = 'lapsed'", True),
    "store_to_online": ("select profile_id from marts.fct_customer_journeys where purchase_crossing = 'store_to_online'", True),
    "online_to_store": ("select profile_id from marts.fct_customer_journeys where purchase_crossing = 'online_to_store'", True),
    "event_attendee": ("select profile_id from marts.fct_customer_events where channel = 'event'", True),
    "new_loyalty_member": ("select profile_id from marts.fct_trigger_fires where trigger_name = 'new_loyalty_member'", True),
    "high_intent": ("select profile_id from marts.fct_trigger_fires where trigger_name = 'high_intent'", False),
    "wishlist_back_in_stock": ("select profile_id from marts.fct_trigger_fires where trigger_name = 'back_in_stock'", False),
}


@pytest.mark.parametrize("behaviour", sorted(PLANTED))
def test_planted_behaviours_land(journey_chain: Chain, source_data, behaviour: str) -> None:
    """Every planted person shows the behaviour; for exact ones, nobody else does."""
    project = journey_chain.incremental
    by_person = _person_profiles(project, source_data)
    truth = set(_truth(source_data, behaviour))
    assert truth, f"the generator planted no {behaviour}"
    query, exact = PLANTED[behaviour]
    found = _persons(_profiles(project, query), by_person)
    assert truth - found == set(), f"{behaviour}: planted but not found: {sorted(truth - found)[:5]}"
    if exact:
        assert found - truth == set(), f"{behaviour}: found but not planted: {sorted(found - truth)[:5]}"


def test_cart_abandoners_fire_once_the_wait_is_over(journey_chain: Chain, source_data) -> None:
    """Planted abandoned carts older than the wait fire, with the carted product; no other cart fires."""
    project = journey_chain.incremental
    by_person = _person_profiles(project, source_data)
    as_of = journey_chain.final.as_of
    wait = project.scalar("select max(fired_at - reference_at) from marts.fct_trigger_fires "
                          "where trigger_name = 'cart_abandonment'")
    truth = _truth(source_data, "cart_abandoner")
    due = {p for p, (at, _) in truth.items() if at <= as_of - wait}
    fires = project.query("select profile_id, product_id from marts.fct_trigger_fires where trigger_name = 'cart_abandonment'")
    fired = {person: product for profile, product in fires for person, ids in by_person.items() if profile in ids}
    assert due and due <= set(fired), f"due but not fired: {sorted(due - set(fired))[:5]}"
    assert set(fired) <= set(truth), f"fired but not planted: {sorted(set(fired) - set(truth))[:5]}"
    assert all(fired[p] == truth[p][1] for p in due), "a cart abandonment names another product than the cart's"


def test_repeat_viewers_with_a_high_score_fire(journey_chain: Chain, source_data) -> None:
    project = journey_chain.incremental
    by_person = _person_profiles(project, source_data)
    threshold = 0.3
    scored = _profiles(project, f"select profile_id from marts.dim_profiles where purchase_propensity >= {threshold}")
    truth = set(_truth(source_data, "repeat_product_viewer"))
    eligible = _persons(scored, by_person) & truth
    found = _persons(_profiles(project, "select profile_id from marts.fct_trigger_fires "
                                        "where trigger_name = 'repeat_product_view'"), by_person)
    assert eligible, "no planted repeat viewer has a high purchase score: the test checks nothing"
    assert eligible <= found, f"planted, scored high, not fired: {sorted(eligible - found)[:5]}"
    low = project.scalar("select count(*) from marts.fct_trigger_fires f inner join marts.dim_profiles p "
                         "using (profile_id) where f.trigger_name = 'repeat_product_view' "
                         f"and p.purchase_propensity < {threshold}")
    assert low == 0


def test_stage_history_is_a_partition_of_time(journey_chain: Chain) -> None:
    """Per profile: intervals follow each other without gap or overlap; exactly the last is current."""
    project = journey_chain.incremental
    gaps = project.scalar("""
        select count(*) from (
            select valid_to, lead(valid_from) over (partition by profile_id order by stage_sequence) as next_from,
                   is_current, stage, lag(stage) over (partition by profile_id order by stage_sequence) as before
            from marts.fct_journey_stage_history
        ) where (next_from is not null and valid_to <> next_from)
             or (next_from is null and (valid_to is not null or not is_current))
             or stage = before""")
    assert gaps == 0
    assert project.scalar("select count(*) from marts.fct_journey_stage_history where is_current") == \
        project.scalar("select count(*) from intermediate.int_profile_current_stage")


def test_holdout_arms_never_change_across_builds(journey_chain: Chain) -> None:
    """Three consecutive builds with new data: every assignment made stays as it was."""
    steps = journey_chain.steps
    assert all(step.assignments for step in steps)
    for before, after in zip(steps, steps[1:]):
        later = {(r[0], r[1]): r for r in after.assignments}
        for row in before.assignments:
            kept = later.get((row[0], row[1]))
            assert kept is not None, f"assignment {row[:2]} disappeared"
            assert kept[:6] == row[:6], f"assignment changed: {row} -> {kept}"
            assert row[6] == "active" or kept[6] == row[6]
        assert len(later) >= len(before.assignments)
    assert len(steps[-1].assignments) > len(steps[0].assignments), "no new profile was assigned"


def test_merged_profile_keeps_one_arm(journey_chain: Chain) -> None:
    """After a merge the retired id is logged with its arm; the survivor keeps its own single arm."""
    steps = journey_chain.steps
    project = journey_chain.incremental
    retirements = project.query("select retired_profile_id, scope, retired_arm, surviving_profile_id, surviving_arm "
                                "from marts.fct_holdout_retirements")
    assert retirements, "no assigned profile was merged during the chain: the test checks nothing"
    active = defaultdict(list)
    for profile, scope, arm, *_rest, status, _into in steps[-1].assignments:
        if status == "active":
            active[(profile, scope)].append(arm)
    earlier = {(r[0], r[1]): r[2] for step in steps[:-1] for r in step.assignments}
    for retired, scope, _retired_arm, survivor, surviving_arm in retirements:
        assert (retired, scope) not in active, f"{retired} was retired but is still active"
        assert active[(survivor, scope)] == [surviving_arm], f"{survivor} has arms {active[(survivor, scope)]}"
        if (survivor, scope) in earlier:
            assert earlier[(survivor, scope)] == surviving_arm, f"{survivor} changed arm in the merge"


def test_srm_report_agrees_with_the_oracle(journey_chain: Chain) -> None:
    rows = journey_chain.incremental.query(
        "select scope, holdout_profiles, treatment_profiles, expected_holdout_profiles, chi_square, p_value, "
        "is_mismatch from marts.rpt_holdout_srm")
    assert {r[0] for r in rows} >= {"global"}
    for scope, holdout, treatment, expected_holdout, chi_square, p_value, mismatch in rows:
        total = holdout + treatment
        oracle = srm_test([holdout, treatment], [expected_holdout, total - expected_holdout])
        assert chi_square == pytest.approx(oracle.statistic, rel=1e-9), scope
        assert p_value == pytest.approx(oracle.p_value, abs=2e-7), scope
        assert mismatch == oracle.mismatch, scope


def test_salted_hash_passes_srm_on_a_million_ids(journey_chain: Chain) -> None:
    """The assignment hash over 1M synthetic profile ids at 5% and 50%: arm shares match."""
    sql = """
        select
            sum(case when {{ omniplay.holdout_bucket("'p_' || cast(i as varchar)", "'global'") }} < 500 then 1 else 0 end),
            sum(case when {{ omniplay.holdout_bucket("'p_' || cast(i as varchar)", "'play_x'") }} < 5000 then 1 else 0 end),
            count(*)
        from range(1000000) as ids(i)
    """
    (five, fifty, total), = inline_query(journey_chain.incremental, sql)
    assert total == 1_000_000
    for held, share in ((five, 0.05), (fifty, 0.5)):
        result = srm_test([held, total - held], [share, 1 - share])
        assert not result.mismatch, f"{share:.0%}: {held} held out of {total}, p = {result.p_value:.2e}"


def test_srm_detects_a_broken_split(journey_chain: Chain) -> None:
    """The SQL p-value agrees with scipy and flags a split that is off (the check can fail)."""
    statistics = [0.0, 0.5, 3.841, 10.828, 25.0, 60.0]
    values = " union all ".join(f"select cast({x} as double) as x" for x in statistics)
    sql = f"select x, {{{{ omniplay.chi_square_p_value_df1('x') }}}} from ({values}) as t order by x"
    for x, p in inline_query(journey_chain.incremental, sql):
        assert p == pytest.approx(sps.chi2.sf(x, 1), abs=2e-7), x
    assert math.isclose(sps.chi2.ppf(1 - 0.001, 1), 10.828, abs_tol=1e-3)
    assert srm_test([5300, 94700], [5, 95]).mismatch
