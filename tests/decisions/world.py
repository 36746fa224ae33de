"""A decision "world": the tables the decision models read, written straight into a
warehouse, plus an independent Python model of what the decisions must be.

The decision models (models/marts/decisions, models/activation) are built for real with
`dbt build --select reason_codes int_play_contact_history int_play_audiences+` (decisions and queue only);
everything upstream of them (dim_profiles, dim_profile_consent, dim_holdout_assignments, dim_play_status, stg_stores__stores, the
aud_* audiences and the send ledger) is a fixture table at the relation dbt resolves the
ref to. Many generated profiles share one build, each keyed apart by its own profile id.

`expected_decisions` re-derives every outcome from the fixtures with zoneinfo and plain
Python (no SQL), following the rules documented in fct_play_decisions.sql.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from activation.ledger import ddl as ledger_ddl
from omniplay.plays import LoadedPlay, load_plays

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHANNELS = ("email", "sms", "store")
# The decision models and the queue; the lift models downstream need the event stream.
DECISION_SELECTION = ["reason_codes", "int_play_contact_history", "int_play_audiences+,path:models/marts/decisions",
                      "int_play_audiences+,path:models/activation"]
SMS_WINDOW = (time(8, 0), time(21, 0))
COUNTED_STATUSES = ("pending", "sent", "ambiguous")
DEFAULT_CAPS = {"any": {"max": 3, "days": 7}, "sms": {"max": 1, "days": 3}, "store": {"max": 1, "days": 14}}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_E164 = re.compile(r"^[+][1-9][0-9]{7,14}$")

# Zones whose DST changes never touch 07:00-22:00 local, with odd offsets among them.
TIMEZONES = (
    "UTC", "Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles",
    "America/St_Johns", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Sydney", "Australia/Adelaide",
    "Pacific/Auckland", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Tokyo",
)


@dataclass(frozen=True)
class Store:
    store_id: str
    timezone: str
    opens: time | None
    closes: time | None
    is_online: bool = False


STORES = (
    Store("S_BER", "Europe/Berlin", time(9, 0), time(20, 0)),
    Store("S_NYC", "America/New_York", time(10, 0), time(21, 0)),
    Store("S_SYD", "Australia/Sydney", time(8, 0), time(17, 0)),
    Store("S_KTM", "Asia/Kathmandu", time(7, 0), time(22, 0)),
    Store("S_NOHOURS", "Europe/London", None, None),
    Store("S_WEB", "UTC", None, None, is_online=True),
)
STORE_BY_ID = {s.store_id: s for s in STORES}


@dataclass
class Send:
    play_id: str
    channel: str
    status: str
    minutes_ago: int


@dataclass
class Person:
    """One generated profile and everything about it the decisions read."""

    profile_id: str
    timezone: str | None
    email: str | None
    phone: str | None
    home_store_id: str | None
    block: str | None  # None, 'gdpr_objection' or 'do_not_contact'
    consent: dict[str, str | None]  # channel -> 'opt_in' / 'opt_out' / None (no record)
    loyalty_tier: str | None
    purchase_propensity: float | None
    holdouts: set[str]  # scopes held out: 'global' and/or play ids
    audiences: set[str]  # play ids whose audience holds the profile
    sends: list[Send] = field(default_factory=list)

    def consent_row(self, channel: str) -> tuple[bool, str, str | None]:
        """(is_allowed, reason, address) exactly as dim_profile_consent derives them."""
        address = {"email": self.email, "sms": self.phone, "store": None}[channel]
        if self.block:
            return False, self.block, address
        if channel in ("email", "sms") and address is None:
            return False, "no_address", address
        raw = self.consent[channel]
        if raw == "opt_in":
            return True, "opted_in", address
        return False, ("opted_out" if raw == "opt_out" else "no_consent_record"), address


@dataclass
class World:
    people: list[Person]
    as_of: datetime  # aware UTC
    caps_by_persona: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    max_per_channel: int = 1

    def dbt_vars(self) -> dict[str, Any]:
        return {
            "omniplay__as_of": self.as_of.strftime("%Y-%m-%d %H:%M:%S"),
            "omniplay__register_source_files": False,
            "omniplay__contact_caps_by_persona": self.caps_by_persona,
            "omniplay__max_plays_per_channel": self.max_per_channel,
        }


@lru_cache(maxsize=1)
def _enabled_plays() -> tuple[LoadedPlay, ...]:
    return tuple(p for p in load_plays(PROJECT_DIR) if p.play.enabled)


def plays() -> list[LoadedPlay]:
    """The project's enabled plays in decision order (read once per session)."""
    return list(_enabled_plays())


# --- writing the fixtures ------------------------------------------------------------------

def write_world(con, world: World, *, placeholder: str = "?") -> None:
    """Create the upstream relations of the decision models and fill them from `world`.

    `con` is a DuckDB connection (placeholder '?') or a psycopg2 cursor ('%s').
    """
    naive = world.as_of.replace(tzinfo=None)
    for schema in ("marts", "staging", "audiences"):
        con.execute(f"create schema if not exists {schema}")
    statements = [
        "drop table if exists marts.dim_profiles",
        "create table marts.dim_profiles (profile_id varchar, first_name varchar, best_email varchar, "
        "best_phone varchar, home_store_id varchar, timezone varchar, loyalty_tier varchar, "
        "purchase_propensity double precision, do_not_contact boolean)",
        "drop table if exists marts.dim_profile_consent",
        "create table marts.dim_profile_consent (profile_id varchar, channel varchar, is_allowed boolean, "
        "reason varchar, address varchar, updated_at timestamp)",
        "drop table if exists marts.dim_holdout_assignments",
        "create table marts.dim_holdout_assignments (profile_id varchar, scope varchar, arm varchar, "
        "status varchar, assigned_at timestamp)",
        # Guardrail status (models/marts/measurement): no play paused in these worlds.
        "drop table if exists marts.dim_play_status",
        "create table marts.dim_play_status (play_id varchar, is_enabled boolean, is_paused boolean, "
        "last_paused_at timestamp, last_breached_metrics varchar, last_resumed_at timestamp)",
        "drop table if exists staging.stg_stores__stores",
        "create table staging.stg_stores__stores (store_id varchar, store_name varchar, timezone varchar, "
        "opening_time_local time, closing_time_local time, is_online boolean)",
    ]
    for loaded in plays():
        statements += [
            f"drop table if exists audiences.{loaded.model}",
            f"create table audiences.{loaded.model} (profile_id varchar, product_name varchar, "
            f"triggered_at timestamp, trigger_detail varchar)",
        ]
    for statement in statements:
        con.execute(statement)
    for statement in ledger_ddl("omniplay_state"):
        con.execute(statement)
    con.execute("delete from omniplay_state.sends")

    def insert(table: str, rows: list[tuple]) -> None:
        if not rows:
            return
        if placeholder == "?":  # DuckDB: one bulk insert from Arrow (executemany is row by row)
            import pyarrow as pa

            names = [d[0] for d in con.execute(f"select * from {table} limit 0").description]
            con.register("fixture_rows", pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)}))
            con.execute(f"insert into {table} select * from fixture_rows")
            con.unregister("fixture_rows")
        else:
            from psycopg2.extras import execute_values

            execute_values(con, f"insert into {table} values %s", rows, page_size=1000)

    insert("staging.stg_stores__stores", [
        (s.store_id, f"Store {s.store_id}", s.timezone, s.opens, s.closes, s.is_online) for s in STORES])
    profiles, consent, holdouts, sends = [], [], [], []
    members: dict[str, list[tuple]] = defaultdict(list)
    by_id = {p.id: p for p in plays()}
    for person in world.people:
        profiles.append((person.profile_id, f"N{person.profile_id[-4:]}", person.email, person.phone,
                         person.home_store_id, person.timezone, person.loyalty_tier, person.purchase_propensity,
                         person.block == "do_not_contact"))
        for channel in CHANNELS:
            allowed, reason, address = person.consent_row(channel)
            consent.append((person.profile_id, channel, allowed, reason, address, naive))
        for scope in ["global", *by_id]:
            arm = "holdout" if scope in person.holdouts else "treatment"
            holdouts.append((person.profile_id, scope, arm, "active", naive))
        for play_id in sorted(person.audiences):
            members[by_id[play_id].model].append((person.profile_id, "Blue shoes", naive, "x"))
        for n, send in enumerate(person.sends):
            at = naive - timedelta(minutes=send.minutes_ago)
            sends.append((f"{person.profile_id}-s{n}", send.status, 1, None, None, None, at, at, "fixture-run",
                          send.play_id, person.profile_id, send.channel, "outbox", None, at))
    insert("marts.dim_profiles", profiles)
    insert("marts.dim_profile_consent", consent)
    insert("marts.dim_holdout_assignments", holdouts)
    for model, rows in members.items():
        insert(f"audiences.{model}", rows)
    insert("omniplay_state.sends", sends)


# --- the independent model of the decisions -------------------------------------------------

def _utc(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)


def daily_window(now: datetime, zone_name: str, start: time, end: time) -> tuple[datetime, datetime]:
    """First [start, end) local window still open at `now` (aware UTC), in UTC."""
    zone = ZoneInfo(zone_name)
    local_now = now.astimezone(zone).replace(tzinfo=None)
    day = local_now.date()
    today_end = datetime.combine(day, end)
    if local_now < today_end:
        return max(now, _utc(datetime.combine(day, start), zone)), _utc(today_end, zone)
    tomorrow = day + timedelta(days=1)
    return _utc(datetime.combine(tomorrow, start), zone), _utc(datetime.combine(tomorrow, end), zone)


def channel_window(person: Person, loaded: LoadedPlay, channel: str, as_of: datetime) -> tuple[datetime, datetime] | None:
    """[not_before, not_after) of a channel for this play, or None when it has no window."""
    play = loaded.play
    expires = as_of + play.expires_after
    override = play.windows.get(channel)
    if channel == "store":
        store = STORE_BY_ID.get(person.home_store_id or "")
        if store is None:
            return None
        start = time.fromisoformat(override.start) if override else store.opens
        end = time.fromisoformat(override.end) if override else store.closes
        if start is None or end is None:
            return None
        begin, finish = daily_window(as_of, store.timezone, start, end)
    elif override or channel == "sms":
        if person.timezone is None:
            return None
        start, end = (time.fromisoformat(override.start), time.fromisoformat(override.end)) if override else SMS_WINDOW
        begin, finish = daily_window(as_of, person.timezone, start, end)
    else:
        begin, finish = as_of, expires
    finish = min(finish, expires)
    return (begin, finish) if begin < finish else None


def address_ok(person: Person, channel: str) -> bool:
    if channel == "email":
        return person.email is not None and bool(_EMAIL.match(person.email))
    if channel == "sms":
        return person.phone is not None and bool(_E164.match(person.phone))
    store = STORE_BY_ID.get(person.home_store_id or "")
    return store is not None and not store.is_online


def caps_for(world: World, person: Person) -> dict[str, dict[str, int]]:
    caps = dict(DEFAULT_CAPS)
    caps.update(world.caps_by_persona.get(person.loyalty_tier or "", {}))
    return caps


def ledger_count(world: World, person: Person, days: int, *, channel: str | None = None,
                 play_id: str | None = None, channels: tuple[str, ...] | None = None) -> int:
    n = 0
    for send in person.sends:
        minutes = send.minutes_ago
        if send.status not in COUNTED_STATUSES or minutes < 0 or minutes >= days * 1440:
            continue
        if channel and send.channel != channel:
            continue
        if play_id and (send.play_id != play_id or send.channel not in (channels or ())):
            continue
        n += 1
    return n


@dataclass(frozen=True)
class Expected:
    outcome: str
    selected: frozenset[str]
    windows: dict[str, tuple[datetime, datetime]]
    ghost: str | None = None  # a held-out candidate: the outcome it would have had


def expected_decisions(world: World) -> dict[tuple[str, str], Expected]:
    """(profile_id, play_id) -> outcome and selected channels, per fct_play_decisions' rules."""
    ordered = plays()  # already in decision order
    out: dict[tuple[str, str], Expected] = {}
    for person in world.people:
        caps = caps_for(world, person)
        left = {scope: cap["max"] - ledger_count(world, person, cap["days"], channel=None if scope == "any" else scope)
                for scope, cap in caps.items()}
        used: Counter[str] = Counter()
        for loaded in ordered:
            play = loaded.play
            if play.id not in person.audiences:
                continue
            all_channels = [*play.channels, *(["store"] if play.store_task else [])]
            rows = {c: person.consent_row(c) for c in all_channels}
            usable = {c: rows[c][0] and address_ok(person, c) for c in all_channels}
            windows = {c: channel_window(person, loaded, c, world.as_of) for c in all_channels}
            if not any(rows[c][1] not in ("opted_out", "no_consent_record") for c in all_channels):
                out[person.profile_id, play.id] = Expected("no_consent", frozenset(), {})
                continue
            if not any(usable.values()):
                out[person.profile_id, play.id] = Expected("compliance", frozenset(), {})
                continue
            # Held out: settled anyway as a ghost (what the play would have decided).
            held = "global" in person.holdouts or play.id in person.holdouts
            within_cap = True
            if play.frequency:
                within_cap = ledger_count(world, person, play.frequency.days, play_id=play.id,
                                          channels=tuple(play.channels)) < play.frequency.max

            def budget_ok(c: str, extra: int = 0) -> bool:
                return (within_cap and ("any" not in left or used["any"] + extra < left["any"])
                        and (c not in left or used[c] < left[c]))

            def is_open(c: str, extra: int = 0) -> bool:
                return usable[c] and budget_ok(c, extra) and used[c] < world.max_per_channel

            def pick(c: str, extra: int = 0) -> bool:
                return is_open(c, extra) and windows[c] is not None

            order = list(play.channels)
            if play.intent:
                others = [c for c in order if c != play.intent.channel]
                high = (person.purchase_propensity or 0) >= play.intent.min_propensity \
                    if person.purchase_propensity is not None else False
                order = [play.intent.channel, *others] if high else [*others, play.intent.channel]
            chosen = next((c for c in order if pick(c)), None)
            selected = {chosen} if chosen else set()
            if play.store_task and pick("store", 1 if chosen else 0):
                selected.add("store")
            if selected:
                outcome = "selected"
            elif not any(usable[c] and budget_ok(c) for c in all_channels):
                outcome = "contact_budget"
            elif not any(is_open(c) for c in all_channels):
                outcome = "lower_priority"
            else:
                outcome = "no_channel"
            # A ghost pick uses nothing up, except in the global control group, which is
            # settled as if it did not exist (a play's own holdout still applies there).
            if play.id not in person.holdouts:
                for c in selected:
                    used[c] += 1
                    used["any"] += 1
            if held:
                out[person.profile_id, play.id] = Expected("holdout", frozenset(), {}, ghost=outcome)
                continue
            out[person.profile_id, play.id] = Expected(outcome, frozenset(selected),
                                                       {c: windows[c] for c in selected})
    return out
