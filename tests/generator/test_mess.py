"""The planted mess of docs/sources.md is really there for staging to survive."""

from __future__ import annotations

import re

import pandas as pd

from omniplay.generator.catalog import JUNK_EMAILS, JUNK_PHONES


def test_emails_vary_in_case_and_surrounding_whitespace(tables) -> None:
    emails = tables[("crm", "customers")].email.dropna()
    assert (emails != emails.str.strip()).any()
    assert (emails.str.strip() != emails.str.strip().str.lower()).any()


def test_phones_come_in_national_and_international_formats(tables) -> None:
    phones = tables[("crm", "customers")].phone.dropna()
    assert phones.str.startswith("+").any()
    assert phones.str.startswith("00").any()
    assert phones.str.contains(r"^\(\d{3}\) \d{3}-\d{4}$").any()  # US/CA national
    assert phones.str.contains(r"^0\d+[ .-]\d+").any()            # European national with trunk 0
    assert phones.str.contains(r"\.").any() and phones.str.contains("-").any()
    assert phones.str.fullmatch(r"\d{9,11}").any()                  # digits only


def test_junk_placeholders_are_present(tables) -> None:
    crm = tables[("crm", "customers")]
    assert set(crm.email.dropna()) & set(JUNK_EMAILS)
    assert set(crm.phone.dropna()) & set(JUNK_PHONES)
    assert {"test@test.com", "noemail@example.com"} & set(crm.email.dropna())
    web = tables[("web", "events")]
    junk_ids = set(web.anonymous_id.dropna()) | set(web.device_id.dropna())
    assert junk_ids & {"", "null", "unknown", "n/a", "-1", "0", "NULL", "N/A"}


def test_exact_duplicate_rows_in_crm_and_web_events(tables) -> None:
    crm = tables[("crm", "customers")]
    assert crm.duplicated().any()
    assert crm.crm_id.duplicated().sum() == crm.duplicated().sum()  # repeats are whole-row copies
    web = tables[("web", "events")]
    assert web.duplicated().any()
    assert web.event_id.duplicated().sum() == web.duplicated().sum()


def test_late_arriving_events(tables) -> None:
    for key, column in ((("web", "events"), "occurred_at"), (("email", "events"), "occurred_at")):
        df = tables[key]
        lag = pd.to_datetime(df._loaded_at) - pd.to_datetime(df[column])
        assert (lag >= pd.Timedelta(0)).all()
        assert (lag > pd.Timedelta(days=1)).mean() > 0.005, key


def test_nothing_loads_after_the_simulated_now(tables, dataset) -> None:
    import json

    as_of = pd.Timestamp(json.loads((dataset / "truth" / "manifest.json").read_text())["as_of"])
    for key, df in tables.items():
        assert (pd.to_datetime(df._loaded_at) <= as_of).all(), key


def test_records_without_any_identifier(tables) -> None:
    pos = tables[("pos", "transactions")]
    junk = {"", "null", "unknown", "n/a", "-1", "0"}
    no_id = pos.loyalty_id.isna() & (pos.card_token.isna() | pos.card_token.str.strip().str.lower().isin(junk))
    assert no_id.any()
    web = tables[("web", "events")]
    ids = web[["anonymous_id", "device_id", "user_id"]].apply(
        lambda col: col.where(~col.fillna("").str.strip().str.lower().isin(junk | {""})))
    assert ids.isna().all(axis=1).any()


def test_non_ascii_names_survive(tables) -> None:
    names = set(tables[("crm", "customers")].first_name) | set(tables[("crm", "customers")].last_name)
    assert any(not n.isascii() for n in names)
    assert names & {"Zoë", "Łukasz", "José", "Søren", "Müller", "Ōtsuka"}


def test_households_share_one_email_across_crm_records(tables) -> None:
    crm = tables[("crm", "customers")].drop_duplicates()
    normalized = crm.email.dropna().str.strip().str.lower()
    valid = normalized[~normalized.isin({e.lower() for e in JUNK_EMAILS})]
    per_email = crm.loc[valid.index].groupby(valid).crm_id.nunique()
    assert (per_email == 2).any()


def test_ids_are_sometimes_typed_in_lower_case_or_padded(tables) -> None:
    crm_refs = tables[("loyalty", "members")].crm_id.dropna()
    assert crm_refs.str.contains(r"^c\d+$").any() or crm_refs.str.contains(r"^ ").any()
    loyalty_refs = tables[("pos", "transactions")].loyalty_id.dropna()
    assert (loyalty_refs != loyalty_refs.str.strip().str.upper()).any()


def test_pos_times_are_local_wall_clock_within_opening_hours(tables) -> None:
    stores = tables[("stores", "stores")].set_index("store_id")
    pos = tables[("pos", "transactions")]
    local = pd.to_datetime(pos.occurred_at_local)
    assert local.dt.tz is None
    minutes = local.dt.hour * 60 + local.dt.minute
    opens = pos.store_id.map(stores.opens_at).map(lambda s: int(s[:2]) * 60 + int(s[3:]))
    closes = pos.store_id.map(stores.closes_at).map(lambda s: int(s[:2]) * 60 + int(s[3:]))
    assert ((minutes >= opens) & (minutes < closes)).mean() > 0.99
    assert re.fullmatch(r"\d{2}:\d{2}", stores.opens_at.iloc[1])


def test_event_times_fall_inside_the_simulated_window(tables, dataset) -> None:
    import json

    manifest = json.loads((dataset / "truth" / "manifest.json").read_text())
    start, as_of = pd.Timestamp(manifest["window_start"]), pd.Timestamp(manifest["as_of"])
    for key, column in ((("web", "events"), "occurred_at"), (("email", "events"), "occurred_at"),
                        (("sms", "events"), "occurred_at"), (("events", "badge_scans"), "scanned_at")):
        at = pd.to_datetime(tables[key][column])
        assert at.min() >= start and at.max() <= as_of, key


def test_loyalty_cards_are_used_only_from_the_day_they_were_issued(tables) -> None:
    members = tables[("loyalty", "members")].set_index("loyalty_id").enrolled_at
    pos = tables[("pos", "transactions")].dropna(subset=["loyalty_id"])
    enrolled = pd.to_datetime(pos.loyalty_id.str.strip().str.upper().map(members), utc=True)
    local_day = pd.to_datetime(pos.occurred_at_local).dt.normalize()
    # local wall-clock day vs UTC enrolment instant: allow the zone offset (under a day)
    assert (local_day.dt.tz_localize("UTC") >= enrolled.dt.normalize() - pd.Timedelta(days=1)).all()
