"""Consent and golden-record rules on the suite's DuckDB build, recomputed independently.

dim_profile_consent is checked row by row against a pandas computation of the rules in the
issue, from the staging tables and the identity map only:

- a GDPR objection or do-not-contact (consent log, or the CRM flag) on any identifier of
  the profile blocks every channel;
- e-mail / SMS: the address the golden record chose for the channel must exist, and its
  latest opt-in/opt-out event wins (on a tie the opt-out); SMS STOP/START replies and
  e-mail unsubscribes/complaints count as opt-out/opt-in events too;
- store: the latest store event on any of the profile's CRM or loyalty ids wins;
- no record: not allowed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from tests.support.dbt import BuildRun, DbtProject

pytestmark = pytest.mark.dbt

CHANNEL_IDENTIFIER = {"email": "email", "sms": "phone"}
BLOCKING = {"gdpr_objection", "do_not_contact"}


@contextmanager
def connect(run: BuildRun) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(run.project.duckdb_path), read_only=True) as con:
        yield con


def dataset_as_of(source_data: Path) -> pd.Timestamp:
    as_of = json.loads((source_data / "truth" / "manifest.json").read_text())["as_of"]
    return pd.Timestamp(datetime.fromisoformat(as_of.replace("Z", "+00:00")).astimezone(timezone.utc))


def consent_evidence(con: duckdb.DuckDBPyConnection, as_of: pd.Timestamp) -> pd.DataFrame:
    """Every consent-relevant event from staging: the log, e-mail opt-outs, SMS STOP/START."""
    log = con.execute("""
        select consent_event_id, identifier_type, identifier_value, channel, action, occurred_at
        from staging.stg_consent__consent_log
        where identifier_value is not null
    """).df()
    email = con.execute("select event_id, email, occurred_at from staging.stg_email__events"
                        " where event_type in ('unsubscribe', 'complaint') and email is not null").df()
    sms = con.execute("select event_id, phone, event_type, occurred_at from staging.stg_sms__events"
                      " where event_type in ('stop', 'start') and phone is not null").df()
    events = pd.concat([
        log,
        pd.DataFrame({"consent_event_id": "email_event:" + email.event_id, "identifier_type": "email",
                      "identifier_value": email.email, "channel": "email", "action": "opt_out",
                      "occurred_at": email.occurred_at}),
        pd.DataFrame({"consent_event_id": "sms_event:" + sms.event_id, "identifier_type": "phone",
                      "identifier_value": sms.phone, "channel": "sms",
                      "action": sms.event_type.map({"stop": "opt_out", "start": "opt_in"}),
                      "occurred_at": sms.occurred_at}),
    ], ignore_index=True)
    events["occurred_at"] = pd.to_datetime(events.occurred_at, utc=True)
    return events[events.occurred_at <= as_of]


def expected_consent(con: duckdb.DuckDBPyConnection, as_of: pd.Timestamp) -> pd.DataFrame:
    """(profile_id, channel) -> expected is_allowed, reason, updated_at (only for non-blocked rows)."""
    identity = con.execute("select identifier_type, identifier_value, profile_id from marts.dim_identity_map").df()
    profiles = con.execute("select profile_id, best_email, best_phone from marts.dim_profiles").df()
    crm = con.execute("select crm_id, do_not_contact from staging.stg_crm__customers").df()
    events = consent_evidence(con, as_of)
    events_by_id = events.merge(identity, on=["identifier_type", "identifier_value"], how="inner")

    blocking = events_by_id[events_by_id.action.isin(BLOCKING)]
    gdpr = set(blocking.profile_id[blocking.action == "gdpr_objection"])
    dnc_profiles = set(identity.merge(crm[crm.do_not_contact], left_on="identifier_value", right_on="crm_id")
                       .query("identifier_type == 'crm_id'").profile_id)
    blocked = set(blocking.profile_id) | dnc_profiles
    choices = events_by_id[events_by_id.action.isin({"opt_in", "opt_out"})]

    rows = []
    for profile in profiles.itertuples(index=False):
        for channel in ("email", "sms", "store"):
            address = {"email": profile.best_email, "sms": profile.best_phone}.get(channel)
            if channel == "store":
                relevant = choices[(choices.profile_id == profile.profile_id)
                                   & choices.identifier_type.isin({"crm_id", "loyalty_id"})]
            elif pd.isna(address):
                relevant = choices.iloc[0:0]
            else:
                relevant = choices[(choices.identifier_type == CHANNEL_IDENTIFIER[channel])
                                   & (choices.identifier_value == address)]
            relevant = relevant[relevant.channel.isin({channel, "all"})]
            latest = None
            if len(relevant):
                # latest wins; on a tie the opt-out
                ordered = relevant.assign(opt_out_first=(relevant.action != "opt_out"))
                latest = ordered.sort_values(["occurred_at", "opt_out_first", "consent_event_id"],
                                             ascending=[False, True, True]).iloc[0]
            if profile.profile_id in blocked:
                reason = "gdpr_objection" if profile.profile_id in gdpr else "do_not_contact"
            elif channel != "store" and pd.isna(address):
                reason = "no_address"
            elif latest is None:
                reason = "no_consent_record"
            else:
                reason = "opted_in" if latest.action == "opt_in" else "opted_out"
            rows.append({"profile_id": profile.profile_id, "channel": channel, "reason": reason,
                         "is_allowed": reason == "opted_in",
                         "decided_at": None if latest is None or reason in BLOCKING else latest.occurred_at})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def consent_comparison(duckdb_build: BuildRun, source_data: Path) -> pd.DataFrame:
    with connect(duckdb_build) as con:
        expected = expected_consent(con, dataset_as_of(source_data))
        actual = con.execute("select profile_id, channel, is_allowed, reason, updated_at"
                             " from marts.dim_profile_consent").df()
    return expected.merge(actual, on=["profile_id", "channel"], how="outer", suffixes=("_expected", "_actual"),
                          indicator=True)


def test_every_profile_has_one_consent_row_per_channel(consent_comparison: pd.DataFrame) -> None:
    unmatched = consent_comparison[consent_comparison._merge != "both"]
    assert unmatched.empty, unmatched.head(10).to_string()


def test_consent_matches_the_rules_recomputed_from_staging(consent_comparison: pd.DataFrame) -> None:
    both = consent_comparison[consent_comparison._merge == "both"]
    wrong = both[(both.is_allowed_expected != both.is_allowed_actual) | (both.reason_expected != both.reason_actual)]
    assert wrong.empty, f"{len(wrong)} consent rows differ:\n{wrong.head(20).to_string()}"
    # The dataset must exercise every branch, or the comparison proves little.
    reasons = both.groupby("reason_expected").size().to_dict()
    for reason in ("opted_in", "opted_out", "no_consent_record", "no_address"):
        assert reasons.get(reason, 0) > 0, reasons
    assert reasons.get("gdpr_objection", 0) + reasons.get("do_not_contact", 0) > 0, reasons
    decided = both[both.decided_at.notna()]
    late = decided[pd.to_datetime(decided.updated_at, utc=True) != pd.to_datetime(decided.decided_at, utc=True)]
    assert late.empty, f"updated_at is not the deciding event's time:\n{late.head(10).to_string()}"


def test_blocked_profiles_are_blocked_on_every_channel(consent_comparison: pd.DataFrame) -> None:
    blocked = consent_comparison[consent_comparison.reason_actual.isin(BLOCKING)]
    assert not blocked.empty
    per_profile = blocked.groupby("profile_id").channel.nunique()
    assert (per_profile == 3).all(), per_profile[per_profile != 3]
    assert not blocked.is_allowed_actual.any()


def test_best_email_is_never_a_hard_bounced_address(duckdb_build: BuildRun) -> None:
    """No best_email has a hard bounce that no open or click on the address followed."""
    with connect(duckdb_build) as con:
        bounced = con.execute("""
            with activity as (
                select
                    email,
                    max(case when event_type = 'bounce' and bounce_type = 'hard' then occurred_at end)
                        as hard_bounced_at,
                    max(case when event_type in ('open', 'click') then occurred_at end) as engaged_at
                from staging.stg_email__events
                group by email
            )
            select profiles.profile_id, profiles.best_email, activity.hard_bounced_at, consent.is_allowed
            from marts.dim_profiles as profiles
            inner join activity
                on activity.email = profiles.best_email
            left join marts.dim_profile_consent as consent
                on consent.profile_id = profiles.profile_id and consent.channel = 'email'
            where activity.hard_bounced_at is not null
                and (activity.engaged_at is null or activity.engaged_at <= activity.hard_bounced_at)
        """).fetchall()
        with_email = con.execute("select count(best_email) from marts.dim_profiles").fetchone()[0]
        hard_bounces = con.execute("select count(*) from staging.stg_email__events"
                                   " where event_type = 'bounce' and bounce_type = 'hard'").fetchone()[0]
    assert with_email > 100 and hard_bounces > 0
    assert not bounced, (f"{len(bounced)} profiles have a hard-bounced best_email "
                         f"(profile, address, bounced at, allowed for e-mail): {bounced[:10]}")


def test_best_email_belongs_to_the_profile(duckdb_build: BuildRun) -> None:
    foreign = duckdb_build.project.query("""
        select profiles.profile_id, profiles.best_email
        from marts.dim_profiles as profiles
        left join marts.dim_identity_map as map
            on map.profile_id = profiles.profile_id
            and map.identifier_type = 'email'
            and map.identifier_value = profiles.best_email
        where profiles.best_email is not null and map.profile_id is null
    """)
    assert not foreign, foreign[:10]


def test_best_phone_is_a_mobile_of_the_profile_never_stopped(duckdb_build: BuildRun) -> None:
    project = duckdb_build.project
    phones = project.query("""
        select profiles.profile_id, profiles.best_phone,
            exists (
                select 1 from reference.phone_mobile_prefixes as prefixes
                where starts_with(profiles.best_phone, cast(prefixes.e164_prefix as varchar))
            ) as is_mobile,
            map.profile_id is not null as is_own
        from marts.dim_profiles as profiles
        left join marts.dim_identity_map as map
            on map.profile_id = profiles.profile_id
            and map.identifier_type = 'phone'
            and map.identifier_value = profiles.best_phone
        where profiles.best_phone is not null
    """)
    with_phone = project.scalar("select count(*) from marts.dim_identity_map where identifier_type = 'phone'")
    assert len(phones) > 0.5 * with_phone, (
        f"only {len(phones)} profiles have a best_phone for {with_phone} mapped phones; is the seed "
        "phone_mobile_prefixes loaded with e164_prefix as text ('+447', not 447)?")
    bad = [row for row in phones if not (row[2] and row[3]) or not _is_e164(row[1])]
    assert not bad, f"best_phone not an own E.164 mobile: {bad[:10]}"
    stopped = project.query("""
        with replies as (
            select phone,
                max(case when event_type = 'stop' then occurred_at end) as last_stop_at,
                max(case when event_type = 'start' then occurred_at end) as last_start_at
            from staging.stg_sms__events
            group by phone
        )
        select profiles.profile_id, profiles.best_phone, replies.last_stop_at, replies.last_start_at
        from marts.dim_profiles as profiles
        inner join replies on replies.phone = profiles.best_phone
        where replies.last_stop_at is not null
            and (replies.last_start_at is null or replies.last_start_at < replies.last_stop_at)
    """)
    assert not stopped, f"best_phone with an active STOP: {stopped[:10]}"
    stops = project.scalar("select count(*) from staging.stg_sms__events where event_type = 'stop'")
    assert stops > 0, "the dataset should hold STOP replies"


def _is_e164(value: str) -> bool:
    return value.startswith("+") and value[1:].isdigit() and 8 <= len(value) - 1 <= 15 and value[1] != "0"


# --- Planted cases ------------------------------------------------------------------------
# A small generated dataset with hand-made CRM records, e-mail events and consent events
# appended, built through `+dim_profile_consent`: each case pins one rule down exactly.

PLANTED_DATASET = {"customers": 60, "days": 30, "seed": 11}
# Run only the data tests whose every parent is selected (a relationship to an unbuilt model would fail).
SUBGRAPH_ENV = {"DBT_INDIRECT_SELECTION": "cautious"}


def _planted(as_of: datetime) -> dict[tuple[str, str], list[dict]]:
    def at(days_ago: float) -> datetime:
        return as_of - timedelta(days=days_ago)

    def crm(crm_id: str, email: str, updated: float = 20.0) -> dict:
        return {"crm_id": crm_id, "first_name": "Planted", "last_name": crm_id, "email": email, "phone": None,
                "country": "US", "birth_date": None, "created_at": at(400), "updated_at": at(updated),
                "do_not_contact": False, "_loaded_at": at(0.5)}

    def consent(event_id: str, identifier_type: str, value: str, channel: str, action: str, days_ago: float) -> dict:
        return {"consent_event_id": event_id, "identifier_type": identifier_type, "identifier_value": value,
                "channel": channel, "action": action, "source": "preference_center", "occurred_at": at(days_ago),
                "_loaded_at": at(0.5)}

    def email_event(event_id: str, email: str, event_type: str, bounce_type: str | None, days_ago: float) -> dict:
        return {"event_id": event_id, "message_id": f"MG{event_id}", "campaign_id": "CMP-PLANTED", "email": email,
                "event_type": event_type, "bounce_type": bounce_type, "occurred_at": at(days_ago),
                "_loaded_at": at(0.5)}

    return {
        ("crm", "customers"): [
            # the CRM record is updated after the address hard-bounced (a phone or name change, say)
            crm("CG0501", "bounced@planted.example", updated=1.0),
            crm("CG0502", "all.out@planted.example"),
            crm("CG0503", "happy@planted.example"),
            crm("CG0504", "changed.mind@planted.example"),
            crm("CG0505", "objector@planted.example"),
        ],
        ("email", "events"): [
            email_event("EMG0501A", "bounced@planted.example", "delivered", None, 40),
            email_event("EMG0501B", "bounced@planted.example", "bounce", "hard", 3),
        ],
        ("consent", "consent_log"): [
            consent("CEG0501", "email", "bounced@planted.example", "email", "opt_in", 100),
            consent("CEG0502A", "email", "all.out@planted.example", "email", "opt_in", 100),
            consent("CEG0502B", "email", "All.Out@planted.example ", "all", "opt_out", 10),
            consent("CEG0503", "email", "happy@planted.example", "email", "opt_in", 100),
            consent("CEG0504A", "email", "changed.mind@planted.example", "email", "opt_in", 100),
            consent("CEG0504B", "email", "changed.mind@planted.example", "email", "opt_out", 10),
            consent("CEG0505A", "email", "objector@planted.example", "email", "opt_in", 100),
            consent("CEG0505B", "crm_id", "CG0505", "store", "opt_in", 100),
            consent("CEG0505C", "crm_id", "CG0505", "all", "gdpr_objection", 10),
        ],
    }


@pytest.fixture(scope="module")
def planted_build(tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    from omniplay.generator import generate_dataset
    from omniplay.loader import find_source_files

    data_dir = tmp_path_factory.mktemp("consent-sources")
    generate_dataset(**PLANTED_DATASET, out=data_dir)
    as_of = dataset_as_of(data_dir).to_pydatetime()
    files = find_source_files(data_dir)
    for key, rows in _planted(as_of).items():
        path = files[key].path
        if path.is_dir():
            schema = ds.dataset(path, format="parquet").schema
            pq.write_table(pa.Table.from_pylist(rows, schema=schema), path / "planted-consent.parquet")
        else:
            table = pq.read_table(path)
            pq.write_table(pa.concat_tables([table, pa.Table.from_pylist(rows, schema=table.schema)]), path)
    project = DbtProject.isolated(tmp_path_factory.mktemp("dbt-consent"), target="duckdb", data_dir=data_dir,
                                  extra_env=SUBGRAPH_ENV)
    project.build(select=["+dim_profile_consent"])
    return project


def _consent_of(project: DbtProject, crm_id: str) -> dict[str, tuple[bool, str]]:
    rows = project.query("""
        select consent.channel, consent.is_allowed, consent.reason
        from marts.dim_profile_consent as consent
        inner join marts.dim_identity_map as map
            on map.profile_id = consent.profile_id
        where map.identifier_type = 'crm_id' and map.identifier_value = ?
    """, [crm_id])
    return {channel: (allowed, reason) for channel, allowed, reason in rows}


def _best_email(project: DbtProject, crm_id: str) -> str | None:
    return project.scalar("select best_email from marts.dim_profiles where crm_id = ?", [crm_id])


def test_planted_consent_basics(planted_build: DbtProject) -> None:
    assert _consent_of(planted_build, "CG0503") == {
        "email": (True, "opted_in"), "sms": (False, "no_address"), "store": (False, "no_consent_record")}
    assert _consent_of(planted_build, "CG0504")["email"] == (False, "opted_out")
    assert _consent_of(planted_build, "CG0505") == {channel: (False, "gdpr_objection")
                                                     for channel in ("email", "sms", "store")}


def test_planted_hard_bounced_address_is_neither_best_email_nor_allowed(planted_build: DbtProject) -> None:
    """The address hard-bounced 3 days ago; a later CRM record update does not make it deliverable."""
    assert _best_email(planted_build, "CG0501") != "bounced@planted.example"
    assert _consent_of(planted_build, "CG0501")["email"][0] is False


def test_planted_opt_out_on_all_channels_blocks_email(planted_build: DbtProject) -> None:
    """docs/sources.md allows channel `all` on any action: an opt-out from everything is an opt-out."""
    assert _best_email(planted_build, "CG0502") == "all.out@planted.example"
    assert _consent_of(planted_build, "CG0502")["email"] == (False, "opted_out")
