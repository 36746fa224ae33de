"""Hypothesis strategies for decision worlds: consent, blocks, addresses, holdouts, the
send ledger, personas and timezones, with as-of times on DST edges among them.

A world holds a few hundred profiles so that one dbt build covers many situations.
Hypothesis caps how much it draws per example, so most profiles come from a seeded
`random.Random` (the seed is drawn, so a failure replays) and a few are drawn
field by field (those shrink).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from activation.ledger import LEDGER_STATUSES
from tests.decisions.world import STORES, TIMEZONES, Person, Send, World, plays

# The evening before and the hour of DST changes (Europe, US, Australia), as UTC.
DST_EDGES = tuple(datetime.fromisoformat(s).replace(tzinfo=UTC) for s in (
    "2026-03-28 21:30:00", "2026-03-29 00:30:00", "2026-03-07 23:00:00", "2026-03-08 06:30:00",
    "2026-10-24 21:30:00", "2026-10-25 00:45:00", "2026-10-31 23:00:00", "2026-11-01 05:45:00",
    "2026-04-04 15:30:00", "2026-10-03 15:30:00",
))
TIERS = (None, "bronze", "silver", "gold", "platinum")
PERSONA_CAPS = (
    {},
    {"gold": {"any": {"max": 1, "days": 7}}},
    {"platinum": {"any": {"max": 5, "days": 7}, "sms": {"max": 2, "days": 3}},
     "bronze": {"email": {"max": 1, "days": 2}}},
)
CONSENT = ("opt_in", "opt_in", "opt_out", None)
BLOCKS = (None, None, None, None, None, None, "gdpr_objection", "do_not_contact")


def make_person(n: int, choose: Callable[[Sequence[Any]], Any], integer: Callable[[int, int], int],
                real: Callable[[], float]) -> Person:
    """One profile from three primitive choices (Hypothesis draws or a seeded Random)."""
    play_ids = [p.id for p in plays()]
    key = f"p{n:04d}"
    sends = [
        Send(play_id=choose([*play_ids, "retired_play"]), channel=choose(("email", "sms", "store")),
             status=choose(LEDGER_STATUSES), minutes_ago=integer(0, 20 * 1440))
        for _ in range(integer(0, 4))
    ]
    audiences = {choose(play_ids) for _ in range(integer(1, len(play_ids)))}
    holdouts = {choose(["global", *play_ids]) for _ in range(integer(1, 2))} if integer(0, 4) == 0 else set()
    return Person(
        profile_id=key,
        timezone=choose((*TIMEZONES, None)) if n % 17 == 0 else choose(TIMEZONES),
        email=choose([f"{key}@example.com", f"{key}@example.com", "broken@nodot", None]),
        phone=choose([f"+4915{n:09d}", f"+1212{n:07d}", "+0123", "5551234", None]),
        home_store_id=choose([*(s.store_id for s in STORES), None]),
        block=choose(BLOCKS),
        consent={c: choose(CONSENT) for c in ("email", "sms", "store")},
        loyalty_tier=choose(TIERS),
        purchase_propensity=None if integer(0, 5) == 0 else real(),
        holdouts=holdouts,
        audiences=audiences,
        sends=sends,
    )


@st.composite
def drawn_person(draw, n: int) -> Person:
    return make_person(
        n,
        choose=lambda options: draw(st.sampled_from(list(options))),
        integer=lambda lo, hi: draw(st.integers(lo, hi)),
        real=lambda: draw(st.floats(min_value=0, max_value=1)),
    )


def seeded_people(seed: int, start: int, count: int) -> list[Person]:
    rng = random.Random(seed)
    return [make_person(n, rng.choice, rng.randint, rng.random) for n in range(start, start + count)]


@st.composite
def worlds(draw, drawn: int = 12, seeded: int = 250) -> World:
    people = [draw(drawn_person(n)) for n in range(drawn)]
    people += seeded_people(draw(st.integers(0, 2**32 - 1)), drawn, seeded)
    as_of = draw(st.one_of(
        st.sampled_from(DST_EDGES),
        st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31))
        .map(lambda d: d.replace(microsecond=0, tzinfo=UTC)),
    ))
    return World(
        people=people,
        as_of=as_of,
        caps_by_persona=draw(st.sampled_from(PERSONA_CAPS)),
        max_per_channel=draw(st.sampled_from([1, 1, 2])),
    )
