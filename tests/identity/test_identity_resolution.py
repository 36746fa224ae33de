"""Identity resolution on the suite's DuckDB build, judged against the generator's truth.

The truth (`truth/identity.parquet`) says which person every real identifier belongs to;
planted junk (test@test.com, 0000000000, null, unknown, ...) and households sharing one
e-mail are the traps. Most tests read the session's `duckdb_build`; the guard tests build
the identity subgraph on a small generated dataset with hand-made records appended.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from omniplay.generator import catalog
from omniplay.identity_quality import pairwise_scores
from tests.support.dbt import BuildRun, DbtProject

pytestmark = pytest.mark.dbt

MIN_PRECISION, MIN_RECALL = 0.995, 0.95

# Raw source columns that carry identifiers, with the anchor that says whose record it is.
# (raw relation, raw column, identifier type of the column, anchor column, anchor type)
JUNK_CARRIERS = [
    ("raw_crm.customers", "email", "email", "crm_id", "crm_id"),
    ("raw_crm.customers", "phone", "phone", "crm_id", "crm_id"),
    ("raw_loyalty.members", "email", "email", "loyalty_id", "loyalty_id"),
    ("raw_loyalty.members", "phone", "phone", "loyalty_id", "loyalty_id"),
    ("raw_web.accounts", "email", "email", "user_id", "user_id"),
    ("raw_web.accounts", "phone", "phone", "user_id", "user_id"),
    ("raw_events.badge_scans", "email", "email", "badge_id", "badge_id"),
    ("raw_events.badge_scans", "phone", "phone", "badge_id", "badge_id"),
    ("raw_web.events", "anonymous_id", "cookie_id", "user_id", "user_id"),
    ("raw_web.events", "device_id", "device_id", "user_id", "user_id"),
    ("raw_pos.transactions", "card_token", "card_token", "loyalty_id", "loyalty_id"),
    ("raw_pos.transactions", "loyalty_id", "loyalty_id", "card_token", "card_token"),
]
JUNK_BY_TYPE = {
    "email": catalog.JUNK_EMAILS,
    "phone": catalog.JUNK_PHONES,
    **{t: catalog.JUNK_IDS for t in ("crm_id", "loyalty_id", "user_id", "cookie_id", "device_id", "card_token",
                                     "badge_id")},
}


@contextmanager
def connect(run: BuildRun, source_data: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Read-only connection to the build with the truth as view `truth`."""
    with duckdb.connect(str(run.project.duckdb_path), read_only=True) as con:
        truth = (source_data / "truth" / "identity.parquet").as_posix()
        con.execute(f"create temp view truth as select * from read_parquet('{truth}')")
        yield con


def _anchor_sql(column: str, identifier_type: str) -> str:
    """The anchor as staging normalizes it (trim; upper-case for crm/loyalty/user ids)."""
    upper = identifier_type in {"crm_id", "loyalty_id", "user_id"}
    return f"upper(trim({column}))" if upper else f"trim({column})"


def _literal_list(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(set(values)))


def test_pairwise_precision_and_recall_against_truth(duckdb_build: BuildRun, source_data: Path) -> None:
    with connect(duckdb_build, source_data) as con:
        scores = pairwise_scores(con, "truth", "marts.dim_identity_map")
    print(scores.one_line())
    assert scores.true_pairs > 1_000, f"too few true pairs to judge: {scores.one_line()}"
    assert scores.precision >= MIN_PRECISION, scores.one_line()
    assert scores.recall >= MIN_RECALL, scores.one_line()


def test_every_mapped_identifier_is_a_real_one(duckdb_build: BuildRun, source_data: Path) -> None:
    """Junk never gets a profile: the map holds only identifiers the truth knows (it lists no junk)."""
    with connect(duckdb_build, source_data) as con:
        unknown = con.execute("""
            select identifier_type, identifier_value
            from marts.dim_identity_map
            except
            select identifier_type, identifier_value from truth
            order by 1, 2
        """).fetchall()
        mapped = con.execute("select count(*) from marts.dim_identity_map").fetchone()[0]
    assert mapped > 1_000
    assert not unknown, f"{len(unknown)} mapped identifiers are not in the truth: {unknown[:20]}"


def test_planted_junk_is_in_the_sources_but_not_in_the_map(duckdb_build: BuildRun, source_data: Path) -> None:
    with connect(duckdb_build, source_data) as con:
        planted = {}
        for relation, column, identifier_type, _, _ in JUNK_CARRIERS:
            junk = _literal_list(v.lower().strip() for v in JUNK_BY_TYPE[identifier_type])
            planted[f"{relation}.{column}"] = con.execute(
                f"select count(*) from {relation} where lower(trim({column})) in ({junk})").fetchone()[0]
        emails = _literal_list(v.lower().strip() for v in catalog.JUNK_EMAILS)
        ids = _literal_list(v.lower().strip() for v in catalog.JUNK_IDS)
        leaked = con.execute(f"""
            select identifier_type, identifier_value
            from marts.dim_identity_map
            where (identifier_type = 'email' and identifier_value in ({emails}))
                or (identifier_type not in ('email', 'phone') and lower(identifier_value) in ({ids}))
                or (identifier_type = 'phone'
                    and regexp_matches(identifier_value, '^\\+\\d{{1,3}}(0{{7,}}|1234567890)$'))
        """).fetchall()
    # The generator plants junk in every kind of column; if it stopped, this test would prove nothing.
    assert sum(1 for n in planted.values() if n > 0) >= 8, planted
    assert planted["raw_crm.customers.email"] > 0 and planted["raw_crm.customers.phone"] > 0, planted
    assert not leaked, f"junk values in dim_identity_map: {leaked}"


def test_records_sharing_a_junk_value_stay_apart(duckdb_build: BuildRun, source_data: Path) -> None:
    """Many people typed the same placeholder; none of them is merged with another through it."""
    selects = []
    for relation, column, identifier_type, anchor, anchor_type in JUNK_CARRIERS:
        junk = _literal_list(v.lower().strip() for v in JUNK_BY_TYPE[identifier_type])
        selects.append(f"""
            select distinct
                '{relation}.{column}' as carrier,
                lower(trim({column})) as junk_value,
                '{anchor_type}' as anchor_type,
                {_anchor_sql(anchor, anchor_type)} as anchor_value
            from {relation}
            where lower(trim({column})) in ({junk}) and {anchor} is not null""")
    with connect(duckdb_build, source_data) as con:
        con.execute("create temp table junk_records as " + "\nunion all".join(selects))
        con.execute("""
            create temp table junk_people as
            select junk_records.*, truth.person_id, map.profile_id
            from junk_records
            inner join truth
                on truth.identifier_type = junk_records.anchor_type
                and truth.identifier_value = junk_records.anchor_value
            inner join marts.dim_identity_map as map
                on map.identifier_type = junk_records.anchor_type
                and map.identifier_value = junk_records.anchor_value
        """)
        shared = con.execute("""
            select count(*) from (
                select carrier, junk_value from junk_people group by 1, 2 having count(distinct person_id) > 1
            )
        """).fetchone()[0]
        merged = con.execute("""
            select profile_id, list(distinct person_id), list(distinct junk_value)
            from junk_people
            group by profile_id
            having count(distinct person_id) > 1
        """).fetchall()
    assert shared >= 3, "the sources should hold junk values shared by several people"
    assert not merged, f"profiles holding several people who share a junk value: {merged[:10]}"


def test_no_profile_holds_two_people_unless_reported(duckdb_build: BuildRun, source_data: Path) -> None:
    """Two people's crm_ids in one profile is a wrong merge unless the guard audit reports the profile."""
    with connect(duckdb_build, source_data) as con:
        crm_profiles = con.execute("""
            select map.profile_id, count(distinct truth.person_id) as people
            from marts.dim_identity_map as map
            inner join truth
                on truth.identifier_type = map.identifier_type
                and truth.identifier_value = map.identifier_value
            where map.identifier_type = 'crm_id'
            group by map.profile_id
        """).fetchall()
        reported = {row[0] for row in con.execute(
            "select profile_id from marts.rpt_identity_guard_hits where profile_id is not null").fetchall()}
        # Unambiguous identifiers of every kind: a profile mixing people is a wrong merge.
        mixed = con.execute("""
            with unambiguous as (
                select identifier_type, identifier_value, min(person_id) as person_id
                from truth
                group by 1, 2
                having count(distinct person_id) = 1
            )
            select map.profile_id, list(distinct unambiguous.person_id)
            from marts.dim_identity_map as map
            inner join unambiguous
                on unambiguous.identifier_type = map.identifier_type
                and unambiguous.identifier_value = map.identifier_value
            group by map.profile_id
            having count(distinct unambiguous.person_id) > 1
        """).fetchall()
    assert len(crm_profiles) > 100
    wrong = [(profile, people) for profile, people in crm_profiles if people > 1 and profile not in reported]
    assert not wrong, f"profiles with several people's crm_ids, not in rpt_identity_guard_hits: {wrong[:10]}"
    unreported = [row for row in mixed if row[0] not in reported]
    assert not unreported, f"profiles mixing people: {unreported[:10]}"


def test_household_email_is_cut_audited_and_the_people_stay_apart(duckdb_build: BuildRun,
                                                                    source_data: Path) -> None:
    with connect(duckdb_build, source_data) as con:
        households = con.execute("""
            select identifier_value, list(distinct person_id order by person_id)
            from truth
            where identifier_type = 'email'
            group by identifier_value
            having count(distinct person_id) > 1
        """).fetchall()
        assert households, "the suite dataset should plant at least one household sharing an e-mail"
        for email, people in households:
            node = f"email:{email}"
            cuts = con.execute("""
                select guard, detail, node_a, node_b
                from marts.rpt_identity_guard_hits
                where ? in (node_a, node_b)
            """, [node]).fetchall()
            assert cuts and all(guard == "conflicting_anchors" for guard, *_ in cuts), (email, cuts)
            # Each person's crm_id is in a different profile, and the e-mail in exactly one of them.
            crm_profiles = con.execute("""
                select truth.person_id, map.profile_id
                from truth
                inner join marts.dim_identity_map as map
                    on map.identifier_type = truth.identifier_type
                    and map.identifier_value = truth.identifier_value
                where truth.identifier_type = 'crm_id' and truth.person_id in (select unnest(?))
            """, [people]).fetchall()
            assert {person for person, _ in crm_profiles} == set(people), (email, crm_profiles)
            assert len({profile for _, profile in crm_profiles}) == len(people), (email, crm_profiles)
            email_profiles = con.execute("""
                select profile_id from marts.dim_identity_map
                where identifier_type = 'email' and identifier_value = ?
            """, [email]).fetchall()
            assert len(email_profiles) <= 1
            if email_profiles:
                assert email_profiles[0][0] in {profile for _, profile in crm_profiles}
            # The cut edge is the one to the weaker person's crm_id: it names one of theirs.
            cut_crm_ids = {n.split(":", 1)[1] for _, _, a, b in cuts for n in (a, b) if n.startswith("crm_id:")}
            owners = con.execute("""
                select distinct person_id from truth
                where identifier_type = 'crm_id' and identifier_value in (select unnest(?))
            """, [sorted(cut_crm_ids)]).fetchall()
            assert owners and {o for (o,) in owners} <= set(people), (email, cut_crm_ids, people)


def test_every_identifier_once_and_profiles_unique(duckdb_build: BuildRun) -> None:
    project = duckdb_build.project
    duplicated = project.query("""
        select identifier_type, identifier_value, count(*)
        from marts.dim_identity_map
        group by 1, 2
        having count(*) > 1
    """)
    assert not duplicated, duplicated[:10]
    profiles, distinct = project.query("select count(*), count(distinct profile_id) from marts.dim_profiles")[0]
    assert profiles == distinct > 0
    # dim_profiles holds exactly the profiles of the map, no more and no fewer.
    orphans = project.query("""
        select profile_id from marts.dim_profiles
        except select profile_id from marts.dim_identity_map
        union all
        (select profile_id from marts.dim_identity_map except select profile_id from marts.dim_profiles)
    """)
    assert not orphans, orphans[:10]
    identifiers = project.query("""
        select p.profile_id, p.identifiers, count(*)
        from marts.dim_profiles as p
        inner join marts.dim_identity_map as m on m.profile_id = p.profile_id
        group by 1, 2
        having p.identifiers <> count(*)
    """)
    assert not identifiers, identifiers[:10]


# --- Guards on planted records ------------------------------------------------------------
# A small generated dataset with hand-made records appended (ids and e-mail domains that the
# generator never produces), built through the identity subgraph of the real project.

GUARD_DATASET = {"customers": 60, "days": 30, "seed": 7}
GUARD_SELECTION = ["+rpt_identity_guard_hits", "+dim_identity_map"]
# Run only the data tests whose every parent is selected (a relationship to an unbuilt model would fail).
SUBGRAPH_ENV = {"DBT_INDIRECT_SELECTION": "cautious"}
SHARED_EMAIL = "frontdesk@planted-hotel.example"      # 11 CRM records: over the threshold of 10
THRESHOLD_EMAIL = "family@planted-house.example"      # exactly 10 CRM records: at the threshold
THRESHOLD_WINNER = "CG0205"                           # the most recently updated of the ten
SHARED_CARD = "tok_planted_shared"
MANY_EMAILS_CRM = "CG0301"


def _planted_rows(as_of: datetime, store_id: str) -> dict[tuple[str, str], list[dict]]:
    """The planted source rows, per (source, entity)."""
    def at(days_ago: float) -> datetime:
        return as_of - timedelta(days=days_ago)

    def crm(crm_id: str, email: str | None, phone: str | None = None, updated: float = 5.0) -> dict:
        return {"crm_id": crm_id, "first_name": "Planted", "last_name": crm_id, "email": email, "phone": phone,
                "country": "US", "birth_date": None, "created_at": at(400), "updated_at": at(updated),
                "do_not_contact": False, "_loaded_at": at(2)}

    customers = [
        # (a) two people type the same blocklisted address and phone, two others a placeholder pattern
        crm("CG0001", "TEST@test.com", "000-000-0000"),
        crm("CG0002", " test@test.com", "000-000-0000"),
        crm("CG0003", "no-reply@planted-shop.example"),
        crm("CG0004", "No-Reply@planted-shop.example "),
        # (e) two CRM records joined through a loyalty member: a path no per-identifier limit sees
        crm("CG0401", "path.one@planted.example"),
        crm("CG0402", None, "+1 415 555 0142"),
        # (d) one CRM record with six e-mails (its own and five web accounts')
        crm(MANY_EMAILS_CRM, "ann.1@planted.example", updated=1.0),
    ]
    # (b) a shared desk address over the threshold, and a family address exactly at it
    customers += [crm(f"CG01{i:02d}", SHARED_EMAIL) for i in range(1, 12)]
    customers += [crm(f"CG02{i:02d}", THRESHOLD_EMAIL, updated=1.0 if f"CG02{i:02d}" == THRESHOLD_WINNER else 10.0 + i)
                  for i in range(1, 11)]

    def member(loyalty_id: str, email: str | None, phone: str | None = None, crm_id: str | None = None) -> dict:
        return {"loyalty_id": loyalty_id, "crm_id": crm_id, "first_name": "Planted", "last_name": loyalty_id,
                "email": email, "phone": phone, "tier": "bronze", "points_balance": 0, "home_store_id": store_id,
                "enrolled_at": at(300), "status": "active", "updated_at": at(5), "_loaded_at": at(2)}

    members = [
        member("LG0001", "card.keeper@planted.example"),
        member("LG0002", "card.borrower@planted.example"),
        member("LG0401", "path.one@planted.example", "+1 415 555 0142"),
    ]
    accounts = [
        {"user_id": f"UG030{k}", "email": f"ann.{k}@planted.example", "phone": None, "crm_id": MANY_EMAILS_CRM,
         # ann.6 is the oldest, so the weakest e-mail edge of the anchor
         "created_at": at(10 + k), "_loaded_at": at(2)}
        for k in range(2, 7)
    ]

    def sale(transaction_id: str, loyalty_id: str, days_ago: float) -> dict:
        return {"transaction_id": transaction_id, "store_id": store_id,
                "occurred_at_local": at(days_ago).replace(tzinfo=None), "loyalty_id": loyalty_id,
                "card_token": SHARED_CARD, "total_amount": 10.0, "currency": "USD", "is_return": False,
                "_loaded_at": at(2)}

    # (c) one card token paying for two loyalty members: three sales for LG0001, one for LG0002
    transactions = [sale("TG0001", "LG0001", 20), sale("TG0002", "LG0001", 15), sale("TG0003", "LG0001", 9),
                    sale("TG0004", "LG0002", 4)]
    return {("crm", "customers"): customers, ("loyalty", "members"): members, ("web", "accounts"): accounts,
            ("pos", "transactions"): transactions}


def _append_rows(path: Path, rows: list[dict]) -> None:
    """Append rows to a Parquet source: a file is rewritten, a part folder gets a new part."""
    if path.is_dir():
        schema = ds.dataset(path, format="parquet").schema
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path / "planted-guards.parquet")
        return
    table = pq.read_table(path)
    pq.write_table(pa.concat_tables([table, pa.Table.from_pylist(rows, schema=table.schema)]), path)


@dataclass
class GuardBuild:
    project: DbtProject

    def profile(self, identifier_type: str, value: str) -> str | None:
        rows = self.project.query("select profile_id from marts.dim_identity_map"
                                  " where identifier_type = ? and identifier_value = ?", [identifier_type, value])
        return rows[0][0] if rows else None

    def hits(self, node: str) -> list[tuple[str, str, str]]:
        """(guard, node_a, node_b) of every cut edge touching `node`."""
        return self.project.query("select guard, node_a, node_b from marts.rpt_identity_guard_hits"
                                  " where ? in (node_a, node_b) order by 1, 2, 3", [node])


@pytest.fixture(scope="module")
def guard_build(tmp_path_factory: pytest.TempPathFactory) -> GuardBuild:
    from omniplay.generator import generate_dataset
    from omniplay.loader import find_source_files

    data_dir = tmp_path_factory.mktemp("guard-sources")
    generate_dataset(**GUARD_DATASET, out=data_dir)
    manifest = json.loads((data_dir / "truth" / "manifest.json").read_text())
    as_of = datetime.fromisoformat(manifest["as_of"].replace("Z", "+00:00")).astimezone(timezone.utc)
    files = find_source_files(data_dir)
    stores = pq.read_table(files[("stores", "stores")].path).to_pylist()
    store_id = next(s["store_id"] for s in stores if not s["is_online"] and s["country"] == "US")
    for key, rows in _planted_rows(as_of, store_id).items():
        _append_rows(files[key].path, rows)
    project = DbtProject.isolated(tmp_path_factory.mktemp("dbt-guards"), target="duckdb", data_dir=data_dir,
                                  extra_env=SUBGRAPH_ENV)
    project.build(select=GUARD_SELECTION)
    return GuardBuild(project)


def test_guard_blocklisted_values_link_nobody(guard_build: GuardBuild) -> None:
    profiles = {crm_id: guard_build.profile("crm_id", crm_id) for crm_id in ("CG0001", "CG0002", "CG0003", "CG0004")}
    assert None not in profiles.values(), profiles
    assert len(set(profiles.values())) == 4, f"people sharing a placeholder were merged: {profiles}"
    leaked = guard_build.project.query("""
        select identifier_type, identifier_value from intermediate.int_identity_observations
        where identifier_value in ('test@test.com', 'no-reply@planted-shop.example')
            or (identifier_type = 'phone' and identifier_value like '%0000000')
    """)
    assert not leaked, f"blocklisted values entered the identity graph: {leaked}"


def test_guard_value_shared_by_too_many_records_is_excluded_and_reported(guard_build: GuardBuild) -> None:
    node = f"email:{SHARED_EMAIL}"
    assert guard_build.profile("email", SHARED_EMAIL) is None, "a shared desk address must not get a profile"
    hits = guard_build.hits(node)
    assert {guard for guard, _, _ in hits} == {"shared_value"}, hits
    assert {a if b == node else b for _, a, b in hits} == {f"crm_id:CG01{i:02d}" for i in range(1, 12)}
    profiles = {guard_build.profile("crm_id", f"CG01{i:02d}") for i in range(1, 12)}
    assert None not in profiles and len(profiles) == 11


def test_guard_value_at_the_threshold_keeps_only_its_strongest_anchor(guard_build: GuardBuild) -> None:
    """Ten CRM records (the threshold, not over it): not shared, but a conflict cut down to one anchor."""
    node = f"email:{THRESHOLD_EMAIL}"
    hits = guard_build.hits(node)
    assert {guard for guard, _, _ in hits} == {"conflicting_anchors"}, hits
    cut = {a if b == node else b for _, a, b in hits}
    assert cut == {f"crm_id:CG02{i:02d}" for i in range(1, 11)} - {f"crm_id:{THRESHOLD_WINNER}"}
    winner = guard_build.profile("crm_id", THRESHOLD_WINNER)
    assert guard_build.profile("email", THRESHOLD_EMAIL) == winner
    profiles = {guard_build.profile("crm_id", f"CG02{i:02d}") for i in range(1, 11)}
    assert None not in profiles and len(profiles) == 10


def test_guard_card_token_of_two_loyalty_members_is_cut(guard_build: GuardBuild) -> None:
    node = f"card_token:{SHARED_CARD}"
    assert guard_build.hits(node) == [("conflicting_anchors", node, "loyalty_id:LG0002")]
    keeper, borrower = guard_build.profile("loyalty_id", "LG0001"), guard_build.profile("loyalty_id", "LG0002")
    assert keeper and borrower and keeper != borrower
    assert guard_build.profile("card_token", SHARED_CARD) == keeper, "the card stays with its most frequent member"


def test_guard_anchor_with_too_many_emails_loses_its_weakest(guard_build: GuardBuild) -> None:
    anchor = f"crm_id:{MANY_EMAILS_CRM}"
    hits = guard_build.hits(anchor)
    email_cuts = [(a, b) for guard, a, b in hits if guard == "limit_email"]
    assert email_cuts == [(anchor, "email:ann.6@planted.example")], hits
    profile = guard_build.profile("crm_id", MANY_EMAILS_CRM)
    emails = {row[0] for row in guard_build.project.query(
        "select identifier_value from marts.dim_identity_map where profile_id = ? and identifier_type = 'email'",
        [profile])}
    assert emails == {f"ann.{k}@planted.example" for k in range(1, 6)}, "the limit is 5 e-mails per profile"
    # Its five web accounts break the user_id limit of 1 as well: the newest account stays.
    user_cuts = sorted(b for guard, a, b in hits if guard == "limit_user_id")
    assert user_cuts == [f"user_id:UG030{k}" for k in range(3, 7)], hits
    users = guard_build.project.query("select identifier_value from marts.dim_identity_map"
                                      " where profile_id = ? and identifier_type = 'user_id'", [profile])
    assert users == [("UG0302",)]


def test_guard_limit_broken_through_a_path_is_reported(guard_build: GuardBuild) -> None:
    """CG0401 -e-mail- LG0401 -phone- CG0402: no identifier sees two CRM ids, the profile holds two."""
    profile = guard_build.profile("crm_id", "CG0401")
    assert profile is not None and guard_build.profile("crm_id", "CG0402") == profile
    reported = guard_build.project.query(
        "select guard, evidence from marts.rpt_identity_guard_hits where profile_id = ?", [profile])
    assert reported == [("unresolved_limit_crm_id", 2)], reported


def test_round_count_of_the_build_is_recorded(duckdb_build: BuildRun) -> None:
    project = duckdb_build.project
    rows = project.query("""
        select rounds, nodes, components, largest_component
        from intermediate.identity_cc_rounds
        where model = 'int_identity_components'
        order by finished_at desc
    """)
    assert rows, "no round log row for int_identity_components"
    rounds, nodes, components, largest = rows[0]
    assert nodes == project.scalar("select count(*) from marts.dim_identity_map")
    assert components == project.scalar("select count(distinct profile_id) from marts.dim_identity_map")
    assert largest == project.scalar(
        "select max(n) from (select count(*) as n from marts.dim_identity_map group by profile_id)")
    assert 1 <= rounds <= 64
