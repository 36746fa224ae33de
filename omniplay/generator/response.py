"""Response simulation: how customers answer the plays a build decided, with planted effects.

The generator writes history up to its as-of time; a build then decides who each play
contacts (``marts.fct_play_exposures``: treatment = selected, control = held out but
would have been selected). :func:`simulate_responses` plays the weeks after one
decision run forward and appends what customers did to the source files, so the next
build measures it:

* **Purchases** (both arms): each exposed profile buys with a base probability that
  grows with its purchases before the decision (so pre-period spend predicts the
  outcome and CUPED has something to adjust for); a profile in the treatment arm of a
  play listed in ``uplift`` buys with that probability times ``1 + uplift[play]``. The
  purchase lands uniformly inside the shortest attribution window, online (web event,
  by ``user_id``) or in the home store (till receipt, by ``loyalty_id``).
* **Unsubscribes** (treatment only): a treated profile of a play listed in ``harm``
  unsubscribes with that probability within a day (an e-mail unsubscribe, or an SMS
  STOP on SMS plays). Opted-out profiles drop out of the play's next run while their
  held-out twins stay: the arm imbalance the next run's sample-ratio check must flag,
  and the rate the guardrails must catch.

Everything is drawn from ``seed`` in a fixed order, so the same warehouse and seed give
the same files. The true effect is known: in expectation the planted play's
conversion rate is ``1 + uplift`` times the control's (tests/measurement).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from omniplay.errors import ConfigError
from omniplay.generator.schema import TABLES, relative_path
from omniplay.warehouse import Warehouse

BASE_RATE = 0.12
"""Purchase probability in the window of a profile with no recent purchases."""
RATE_PER_PURCHASE = 0.05
"""Added per purchase in the 90 days before the decision (at most MAX_PRIOR counted)."""
MAX_PRIOR = 6
MAX_RATE = 0.6
RESPONSE_TAG = "response"
"""Part files the simulation writes are named part-response-<run date>-<seed>.parquet."""


@dataclass(frozen=True)
class ResponseSummary:
    """What one simulation wrote: rows per source file and the planted parameters."""

    run_date: date
    exposures: int
    purchases: int
    unsubscribes: int
    files: tuple[Path, ...]


def _validate(rates: Mapping[str, float], name: str, upper: float) -> None:
    for play, value in rates.items():
        if not isinstance(value, int | float) or not 0 <= value <= upper:
            raise ConfigError(f"{name}[{play!r}]: must be a number from 0 to {upper} (got {value!r})")


def _ts(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def simulate_responses(
    warehouse: Warehouse,
    data_dir: Path,
    *,
    uplift: Mapping[str, float] | None = None,
    harm: Mapping[str, float] | None = None,
    seed: int = 0,
    run_date: date | None = None,
) -> ResponseSummary:
    """Append the responses to one decision run's exposures to the dataset in ``data_dir``.

    Args:
        warehouse: the built warehouse (reads marts.fct_play_exposures, dim_profiles,
            fct_customer_events, staging products and stores).
        data_dir: the generated dataset the next build reads (part files are added).
        uplift: play id -> relative conversion uplift for its treatment arm (0.2 = +20%).
        harm: play id -> probability that a treated profile unsubscribes.
        seed: random seed.
        run_date: the decision run to respond to (default: the latest).
    """
    uplift, harm = dict(uplift or {}), dict(harm or {})
    _validate(uplift, "uplift", 10.0)
    _validate(harm, "harm", 1.0)
    if run_date is None:
        latest = warehouse.fetchall("select max(run_date) from marts.fct_play_exposures")[0][0]
        if latest is None:
            raise ConfigError("marts.fct_play_exposures is empty: build first, there are no decisions to respond to")
        run_date = latest
    known = {row[0] for row in warehouse.fetchall(
        "select distinct play_id from marts.fct_play_exposures where run_date = ?", [run_date])}
    for play in [*uplift, *harm]:
        if play not in known:
            raise ConfigError(f"play {play!r} has no exposures in run {run_date} (plays: {', '.join(sorted(known))})")

    exposures = warehouse.fetchall(
        "select e.profile_id, e.play_id, e.arm, e.channel, e.decided_at, e.attribution_days, "
        "p.user_id, p.loyalty_id, p.home_store_id, p.best_email, p.best_phone "
        "from marts.fct_play_exposures e join marts.dim_profiles p on e.profile_id = p.profile_id "
        "where e.run_date = ? and e.scope = 'play' order by e.profile_id, e.play_id", [run_date])
    if not exposures:
        raise ConfigError(f"run {run_date} has no play exposures")
    decided_at = _ts(min(row[4] for row in exposures))
    window_days = min(row[5] for row in exposures)
    prior = dict(warehouse.fetchall(
        "select profile_id, count(*) from marts.fct_customer_events "
        "where event_type = 'purchase' and profile_id is not null "
        "and occurred_at <= ? and occurred_at > ? group by profile_id",
        [decided_at.replace(tzinfo=None), (decided_at - timedelta(days=90)).replace(tzinfo=None)]))
    products = warehouse.fetchall(
        "select product_id, price from staging.stg_products__products where price > 0 order by product_id")
    store_zones = dict(warehouse.fetchall(
        "select store_id, timezone from staging.stg_stores__stores where not is_online"))
    if not products:
        raise ConfigError("no products with a price to simulate purchases of")

    rng = np.random.default_rng(seed)
    # One purchase draw per profile; its probability is raised by every planted play treating it.
    profiles: dict[str, dict] = {}
    for profile_id, play_id, arm, channel, _, _, user_id, loyalty_id, store_id, email, phone in exposures:
        entry = profiles.setdefault(profile_id, {
            "user_id": user_id, "loyalty_id": loyalty_id, "store_id": store_id, "email": email, "phone": phone,
            "factor": 1.0, "harm": []})
        if arm == "treatment":
            entry["factor"] *= 1.0 + uplift.get(play_id, 0.0)
            if play_id in harm:
                entry["harm"].append((play_id, channel, harm[play_id]))

    web, pos, lines, email_events, sms_events = [], [], [], [], []
    for profile_id in sorted(profiles):
        entry = profiles[profile_id]
        base = min(MAX_RATE, BASE_RATE + RATE_PER_PURCHASE * min(prior.get(profile_id, 0), MAX_PRIOR))
        buys = rng.random() < min(1.0, base * entry["factor"])
        offset = timedelta(seconds=float(rng.uniform(3600, window_days * 86400 - 3600)))
        product_id, price = products[int(rng.integers(len(products)))]
        in_store = rng.random() < 0.5
        key = hashlib.md5(f"{seed}:{run_date}:{profile_id}".encode()).hexdigest()[:16]
        if buys:
            at = decided_at + offset
            zone = store_zones.get(entry["store_id"])
            if entry["loyalty_id"] and zone and (in_store or not entry["user_id"]):
                local = at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
                pos.append({"transaction_id": f"RSP-{key}", "store_id": entry["store_id"], "occurred_at_local": local,
                            "loyalty_id": entry["loyalty_id"], "card_token": None, "total_amount": float(price),
                            "currency": "EUR", "is_return": False, "_loaded_at": at + timedelta(minutes=5)})
                lines.append({"transaction_id": f"RSP-{key}", "line_number": 1, "product_id": product_id,
                              "quantity": 1, "unit_price": float(price), "discount_amount": 0.0,
                              "_loaded_at": at + timedelta(minutes=5)})
            elif entry["user_id"]:
                web.append({"event_id": f"rsp-{key}", "platform": "web", "anonymous_id": None, "device_id": None,
                            "user_id": entry["user_id"], "event_type": "purchase", "occurred_at": at,
                            "product_id": product_id, "order_id": f"RSP-{key}", "revenue": float(price),
                            "search_term": None, "page_url": None, "_loaded_at": at + timedelta(minutes=5)})
        for play_id, channel, probability in entry["harm"]:
            if rng.random() >= probability:
                continue
            at = decided_at + timedelta(seconds=float(rng.uniform(600, 86400)))
            event_id = hashlib.md5(f"{key}:{play_id}:unsubscribe".encode()).hexdigest()[:20]
            if channel == "sms" and entry["phone"]:
                sms_events.append({"event_id": f"rsp-{event_id}", "message_id": None, "phone": entry["phone"],
                                   "event_type": "stop", "reply_text": "STOP", "occurred_at": at,
                                   "_loaded_at": at + timedelta(minutes=5)})
            elif entry["email"]:
                email_events.append({"event_id": f"rsp-{event_id}", "message_id": None, "campaign_id": play_id,
                                     "email": entry["email"], "event_type": "unsubscribe", "bounce_type": None,
                                     "occurred_at": at, "_loaded_at": at + timedelta(minutes=5)})

    tag = f"{RESPONSE_TAG}-{run_date:%Y%m%d}-{seed}"
    written = []
    for key, rows in ((("web", "events"), web), (("pos", "transactions"), pos), (("pos", "transaction_lines"), lines),
                      (("email", "events"), email_events), (("sms", "events"), sms_events)):
        if not rows:
            continue
        folder = data_dir / relative_path(*key)
        if not folder.is_dir():
            raise ConfigError(f"{folder} is not a generated dataset folder of part files")
        path = folder / f"part-{tag}.parquet"
        pq.write_table(pa.Table.from_pylist(rows, schema=TABLES[key]), path)
        written.append(path)
    return ResponseSummary(run_date=run_date, exposures=len(exposures), purchases=len(web) + len(pos),
                           unsubscribes=len(email_events) + len(sms_events), files=tuple(written))
