"""Identifiers per source record, normalized by the docs/sources.md rules (tests/generator/normalize.py)."""

from __future__ import annotations

import pandas as pd

from omniplay.generator.catalog import JUNK_EMAILS, JUNK_PHONES
from tests.generator import normalize as N

JUNK_EMAIL_VALUES = {v.strip().lower() for v in JUNK_EMAILS}
JUNK_PHONE_VALUES = {v.strip().lower() for v in JUNK_PHONES}

Record = list[tuple[str, str]]


def _email(raw):
    value = N.email(raw)
    if value is None or value in JUNK_EMAIL_VALUES or not N.EMAIL_VALID.match(value):
        return None
    return value


def _phone(raw, country):
    if raw is None or raw.strip().lower() in JUNK_PHONE_VALUES:
        return None
    return N.phone(raw, country)


def records(tables: dict[tuple[str, str], pd.DataFrame]) -> list[Record]:
    """Every source row that carries identifiers, as a list of (identifier_type, value)."""
    stores = tables[("stores", "stores")].set_index("store_id")["country"].to_dict()
    out: list[Record] = []

    def add(*pairs):
        rec = [(t, v) for t, v in pairs if v is not None]
        if rec:
            out.append(rec)

    for r in tables[("crm", "customers")].itertuples():
        add(("crm_id", N.identifier(r.crm_id, True)), ("email", _email(r.email)), ("phone", _phone(r.phone, r.country)))
    for r in tables[("loyalty", "members")].itertuples():
        add(("loyalty_id", N.identifier(r.loyalty_id, True)), ("crm_id", N.identifier(r.crm_id, True)),
            ("email", _email(r.email)), ("phone", _phone(r.phone, stores.get(r.home_store_id))))
    for r in tables[("web", "accounts")].itertuples():
        add(("user_id", N.identifier(r.user_id, True)), ("email", _email(r.email)), ("phone", _phone(r.phone, None)),
            ("crm_id", N.identifier(r.crm_id, True)))
    for r in tables[("web", "events")].itertuples():
        add(("cookie_id", N.identifier(r.anonymous_id)), ("device_id", N.identifier(r.device_id)),
            ("user_id", N.identifier(r.user_id, True)))
    for r in tables[("pos", "transactions")].itertuples():
        add(("loyalty_id", N.identifier(r.loyalty_id, True)), ("card_token", N.identifier(r.card_token)))
    for r in tables[("email", "events")].itertuples():
        add(("email", _email(r.email)))
    for r in tables[("sms", "events")].itertuples():
        add(("phone", _phone(r.phone, None)))
    for r in tables[("events", "badge_scans")].itertuples():
        add(("badge_id", N.identifier(r.badge_id)), ("email", _email(r.email)),
            ("phone", _phone(r.phone, stores.get(r.venue_store_id))))
    for r in tables[("consent", "consent_log")].itertuples():
        kind = r.identifier_type
        value = {"email": lambda v: _email(v), "phone": lambda v: _phone(v, None)}.get(
            kind, lambda v: N.identifier(v, True))(r.identifier_value)
        add((kind, value))
    return out
