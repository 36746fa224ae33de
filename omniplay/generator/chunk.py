"""Everything one chunk of people did: records, events, consent, and their ground truth.

A chunk is generated from its own seeded generator (``SeedSequence(seed, spawn_key=(1,
chunk))``), so the output does not depend on how chunks are scheduled over processes.
All large tables are built with numpy/Arrow vector operations; nothing loops per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from omniplay.generator import _arrow as A
from omniplay.generator import catalog as C
from omniplay.generator.behaviours import Activity, behaviours
from omniplay.generator.people import (
    ANON_SHOPPER,
    ANON_WEB,
    IDENTIFIED,
    PRIMARY_ACCOUNT,
    PRIMARY_BADGE,
    YEAR,
    People,
    make_people,
)
from omniplay.generator.reference import DAY, HOUR, MIN, SEC, World
from omniplay.generator.schema import TABLES, TRUTH_IDENTITY
from omniplay.generator.writer import write_part

# web event type codes
PAGE_VIEW, PRODUCT_VIEW, SEARCH, ADD_TO_CART, WISHLIST_ADD, CHECKOUT, PURCHASE, LOGIN = range(8)
WEB_EVENT_TYPES = ("page_view", "product_view", "search", "add_to_cart", "wishlist_add", "checkout", "purchase",
                   "login")
# session kinds: the shape of a visit
BROWSE, SEARCHING, BUY, WISH, ABANDON, VIEW = range(6)


@dataclass
class ChunkResult:
    """What a chunk hands back to the writer process (part files are already on disk)."""

    index: int
    tables: dict[tuple[str, str], pa.Table]
    part_rows: dict[tuple[str, str], int]
    identity: pa.Table
    behaviours: pa.Table


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For parents with ``counts`` children: each child's parent and position in its parent."""
    counts = np.asarray(counts, dtype=np.int64)
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return parent, np.arange(len(parent)) - starts[parent]


def _loaded(rng: np.random.Generator, occurred: np.ndarray, as_of: int, late_share: float,
            lo: int = 20 * SEC, hi: int = 30 * MIN) -> np.ndarray:
    """When rows landed: minutes after they happened, a few of them days late (never after as_of)."""
    delay = rng.integers(lo, hi, size=len(occurred))
    late = rng.random(len(occurred)) < late_share
    delay[late] = rng.integers(DAY, 5 * DAY, size=int(late.sum()))
    return np.minimum(occurred + delay, np.maximum(occurred, as_of))


def _ids_with_junk(rng: np.random.Generator, ids: pa.Array, rows: pa.Array | None, real: np.ndarray,
                   junk: np.ndarray) -> pa.Array:
    """``ids[rows]`` where ``real``, a junk placeholder (or null) where ``junk``, else null."""
    n = len(real)
    out = ids.take(pa.array(rows.to_numpy(), mask=~real)) if rows is not None else pa.nulls(n, pa.string())
    if junk.any():
        out = pc.replace_with_mask(out, pa.array(junk), _junk(rng, int(junk.sum())))
    return out


def _opt_in_times(rng: np.random.Generator, w: World, n: int) -> np.ndarray:
    """When people opted in: mostly before the window, some inside it."""
    inside = _uniform(rng, w.start, w.as_of - DAY, n)
    return np.where(rng.random(n) < 0.15, inside, w.start - _uniform(rng, 0, 2 * YEAR, n))


def _junk(rng: np.random.Generator, n: int, values=C.JUNK_IDS, null_share: float = 0.5) -> pa.Array:
    return A.pick(list(values), rng.integers(len(values), size=n), null_mask=rng.random(n) < null_share)


def _uniform(rng: np.random.Generator, lo, hi, n: int) -> np.ndarray:
    lo = np.broadcast_to(np.asarray(lo, dtype=np.int64), (n,))
    hi = np.broadcast_to(np.asarray(hi, dtype=np.int64), (n,))
    return lo + (rng.random(n) * np.maximum(hi - lo, 1)).astype(np.int64)


class ChunkBuilder:
    """Generates one chunk; methods run in dependency order from :meth:`run`."""

    def __init__(self, world: World, index: int, first_person: int, n: int, out: Path):
        self.w = world
        self.index = index
        self.out = out
        self.rng = np.random.default_rng(np.random.SeedSequence(world.seed, spawn_key=(1, index)))
        self.pp: People = make_people(world, self.rng, first_person, n)
        self.tables: dict[tuple[str, str], pa.Table] = {}
        self.part_rows: dict[tuple[str, str], int] = {}
        self.identity: list[tuple[str, pa.Array, np.ndarray]] = []  # (type, values, person rows)
        self.consent: list[dict] = []
        self.act = Activity(n=n)

    # ------------------------------------------------------------------ records ----
    def crm(self) -> None:
        w, pp, rng = self.w, self.pp, self.rng
        rows = np.flatnonzero(pp.has_crm)
        k = len(rows)
        created = np.where(rng.random(k) < 0.08, _uniform(rng, w.start, w.as_of - HOUR, k),
                           w.start - _uniform(rng, 0, 5 * YEAR, k))
        updated = _uniform(rng, created, w.as_of - HOUR, k)
        first, last = pp.names(rng, rows, messy=0.05)
        birth = (w.as_of // DAY) - rng.integers(18 * 365, 80 * 365, size=k)
        table = pa.table({
            "crm_id": pp.crm_id.take(pa.array(rows)),
            "first_name": first, "last_name": last,
            "email": pp.raw_email(rng, rows),
            "phone": pp.raw_phone(rng, rows, national_ok=True),
            "country": A.pick(list(C.COUNTRIES), pp.country[rows]),
            "birth_date": pa.array(birth.astype(np.int32), type=pa.date32(), mask=rng.random(k) < 0.3),
            "created_at": A.timestamps(created), "updated_at": A.timestamps(updated),
            "do_not_contact": pa.array(pp.dnc[rows]),
            "_loaded_at": A.timestamps(_loaded(rng, updated, w.as_of, 0.0, HOUR, 36 * HOUR)),
        }, schema=TABLES[("crm", "customers")])
        dup = np.flatnonzero(rng.random(k) < 0.02)  # exact duplicate rows from a double export
        self.tables[("crm", "customers")] = pa.concat_tables([table, table.take(pa.array(dup))])
        self._identity("crm_id", pp.crm_id.take(pa.array(rows)), rows)
        dnc = rows[pp.dnc[rows]]
        self._consent(dnc, "crm_id", pp.raw_id(rng, pp.crm_id, dnc), "all", "do_not_contact", "crm",
                      updated[pp.dnc[rows]])

    def loyalty(self) -> None:
        w, pp, rng = self.w, self.pp, self.rng
        rows = np.flatnonzero(pp.has_loyalty)
        k = len(rows)
        new = rng.random(k) < 0.05
        enrolled = np.where(new, w.as_of - _uniform(rng, HOUR, 30 * DAY, k), w.start - _uniform(rng, 0, 4 * YEAR, k))
        updated = _uniform(rng, enrolled, w.as_of - HOUR, k)
        points = np.floor(rng.lognormal(6.0, 1.2, k)).astype(np.int64)
        tier = np.searchsorted([500, 2000, 6000], points, side="right")
        status_closed = rng.random(k) < 0.03
        first, last = pp.names(rng, rows)
        crm_link = pp.has_crm[rows] & (rng.random(k) < 0.85)
        include_phone = (pp.primary[rows] == 1) | ~pp.has_email[rows] | (rng.random(k) < 0.7)
        self.tables[("loyalty", "members")] = pa.table({
            "loyalty_id": pp.loyalty_id.take(pa.array(rows)),
            "crm_id": A.with_nulls(pp.raw_id(rng, pp.crm_id, rows, 0.06), ~crm_link),
            "first_name": first, "last_name": last,
            "email": pp.raw_email(rng, rows),
            "phone": pp.raw_phone(rng, rows, national_ok=True, include=include_phone),
            "tier": A.pick(["bronze", "silver", "gold", "platinum"], tier),
            "points_balance": pa.array(points.astype(np.int32)),
            "home_store_id": A.pick(w.store_ids, pp.home_store[rows]),
            "enrolled_at": A.timestamps(enrolled),
            "status": A.pick(["active", "closed"], status_closed.astype(np.int64)),
            "updated_at": A.timestamps(updated),
            "_loaded_at": A.timestamps(_loaded(rng, updated, w.as_of, 0.0, HOUR, 20 * HOUR)),
        }, schema=TABLES[("loyalty", "members")])
        self.act.enrolled_at = np.full(pp.n, -1, dtype=np.int64)
        self.act.enrolled_at[rows[~status_closed]] = enrolled[~status_closed]
        self.enrolled = np.full(pp.n, np.iinfo(np.int64).min, dtype=np.int64)
        self.enrolled[rows] = enrolled
        self.act.loyalty_id = pp.loyalty_id
        self._identity("loyalty_id", pp.loyalty_id.take(pa.array(rows)), rows)
        store_opt = rows[rng.random(k) < 0.5]
        self._consent(store_opt, "loyalty_id", pp.raw_id(rng, pp.loyalty_id, store_opt), "store", "opt_in", "pos",
                      enrolled[np.searchsorted(rows, store_opt)])

    def accounts(self, first_session: np.ndarray) -> None:
        w, pp, rng = self.w, self.pp, self.rng
        rows = np.flatnonzero(pp.has_account)
        k = len(rows)
        created = np.where(rng.random(k) < 0.85, w.start - _uniform(rng, HOUR, 3 * YEAR, k),
                           _uniform(rng, w.start, w.as_of - HOUR, k))
        fs = first_session[rows]
        created = np.where(fs >= 0, np.minimum(created, fs - _uniform(rng, MIN, HOUR, k)), created)
        include_phone = (pp.primary[rows] == PRIMARY_ACCOUNT) | (rng.random(k) < 0.5)
        crm_link = pp.has_crm[rows] & (rng.random(k) < 0.6)
        self.tables[("web", "accounts")] = pa.table({
            "user_id": pp.user_id.take(pa.array(rows)),
            "email": pp.raw_email(rng, rows),
            "phone": A.with_nulls(pp.raw_phone(rng, rows, national_ok=False), ~(include_phone & pp.has_phone[rows])),
            "crm_id": A.with_nulls(pp.raw_id(rng, pp.crm_id, rows, 0.04), ~crm_link),
            "created_at": A.timestamps(created),
            "_loaded_at": A.timestamps(_loaded(rng, created, w.as_of, 0.0, MIN, HOUR)),
        }, schema=TABLES[("web", "accounts")])
        self._identity("user_id", pp.user_id.take(pa.array(rows)), rows)

    def badges(self) -> None:
        w, pp, rng = self.w, self.pp, self.rng
        att = np.flatnonzero(pp.attendee)
        if len(w.event_codes) == 0 or len(att) == 0:
            self._empty(("events", "badge_scans"))
            self.act.badge_person = self.act.badge_at = np.zeros(0, dtype=np.int64)
            self.act.badge_event = pa.array([], type=pa.string())
            return
        by_country = [np.flatnonzero(w.event_country == c) for c in range(len(C.COUNTRIES))]
        flat = np.concatenate(by_country)
        off = np.r_[0, np.cumsum([len(x) for x in by_country])[:-1]]
        ln = np.array([len(x) for x in by_country])
        second = att[(rng.random(len(att)) < 0.12) & (ln[pp.country[att]] > 1)]
        person = np.r_[att, second]
        pick = np.floor(rng.random(len(person)) * ln[pp.country[person]]).astype(np.int64)
        pick[len(att):] = (pick[: len(att)][np.searchsorted(att, second)] + 1) % ln[pp.country[second]]
        event = flat[off[pp.country[person]] + pick]
        nb = len(person)
        badge_ids = A.hex_tokens(rng, "BDG-", nb, 4)
        scans = 1 + rng.binomial(2, 0.4, size=nb)
        b, _ = _expand(scans)
        rows = person[b]
        ev = event[b]
        venue = w.event_venue[ev]
        k = len(rows)
        scanned = np.minimum(w.event_at[ev] + _uniform(rng, 0, 3 * HOUR, k), w.as_of - MIN)
        include_phone = (pp.primary[rows] == PRIMARY_BADGE) | ~pp.has_email[rows] | (rng.random(k) < 0.5)
        first, last = pp.names(rng, rows)
        self.tables[("events", "badge_scans")] = pa.table({
            "scan_id": A.prefixed_ids("SC", self.index * 10**7 + np.arange(k), 11),
            "event_code": A.pick(w.event_codes, ev),
            "event_name": A.pick(w.event_names, ev),
            "venue_store_id": A.pick(w.store_ids, np.maximum(venue, 0), null_mask=venue < 0),
            "badge_id": badge_ids.take(pa.array(b)),
            "first_name": first, "last_name": last,
            "email": pp.raw_email(rng, rows, junk_share=0.2),
            "phone": pp.raw_phone(rng, rows, national_ok=venue >= 0, include=include_phone),
            "scanned_at": A.timestamps(scanned),
            "_loaded_at": A.timestamps(_loaded(rng, scanned, w.as_of, 0.1, HOUR, 12 * HOUR)),
        }, schema=TABLES[("events", "badge_scans")])
        self._identity("badge_id", badge_ids, person)
        self.act.badge_person, self.act.badge_at, self.act.badge_event = rows, scanned, A.pick(w.event_codes, ev)

    # --------------------------------------------------------------------- web -----
    def web(self) -> np.ndarray:
        """Sessions and events; returns each person's first session start (or -1)."""
        w, pp, rng = self.w, self.pp, self.rng
        n = pp.n
        account = pp.has_account
        web_user = (account & (rng.random(n) < 0.9)) | (pp.kind == ANON_WEB)
        mix = rng.choice(3, size=n, p=[0.5, 0.25, 0.25])  # web only, app only, both
        anon_app = rng.random(n) < 0.3
        n_cookies = np.where(pp.kind == ANON_WEB, ~anon_app,
                             (mix != 1) * (1 + (rng.random(n) < 0.35) + (rng.random(n) < 0.1))) * web_user
        n_devices = np.where(pp.kind == ANON_WEB, anon_app, (mix != 0) * (1 + (rng.random(n) < 0.2))) * web_user
        n_ids = (n_cookies + n_devices).astype(np.int64)
        rate = np.where(account, 0.053, 0.03) * w.days * pp.activity
        n_sess = np.where(web_user, 1 + rng.poisson(rate), 0)
        n_sess = np.maximum(n_sess, n_ids)

        # identifiers: per person, cookies first then devices
        id_person, id_slot = _expand(n_ids)
        is_cookie = id_slot < n_cookies[id_person]
        raw = A.uuids(rng, len(id_person))
        id_str = pc.if_else(pa.array(is_cookie), raw, pc.utf8_upper(raw))
        id_off = np.cumsum(n_ids) - n_ids
        self._identity("cookie_id", id_str.filter(pa.array(is_cookie)), id_person[is_cookie])
        self._identity("device_id", id_str.filter(pa.array(~is_cookie)), id_person[~is_cookie])

        # planted patterns (see behaviours.py for the rules that label them)
        abandon = web_user & (rng.random(n) < 0.03)
        abandon_at = np.maximum(w.as_of - _uniform(rng, HOUR, 3 * DAY, n), w.start + (w.as_of - w.start) // 2)
        hi = np.where(abandon, abandon_at - 30 * MIN, w.as_of - HOUR)

        s_person, j = _expand(n_sess)
        S = len(s_person)
        s_start = _uniform(rng, w.start, hi[s_person], S)
        s_kind = rng.choice(4, size=S, p=[0.5, 0.22, 0.18, 0.10])
        s_slot = np.where(j < n_ids[s_person], j, np.floor(rng.random(S) * n_ids[s_person]).astype(np.int64))
        s_login = account[s_person] & ((j < n_ids[s_person]) | (rng.random(S) < 0.5))

        # Planted visits, appended to the normal ones: (people, kind, start, product, views);
        # product -1 draws one by popularity, views None draws the usual number.
        planted: list[tuple] = []
        who = np.flatnonzero(abandon)
        planted.append((who, ABANDON, abandon_at[who], -1, None))
        who = np.flatnonzero(web_user & (rng.random(n) < 0.02))  # repeat viewers: 3 visits, one product
        product = w.sample_products(rng, len(who))
        lo14 = max(w.start, w.as_of - 14 * DAY)
        for _ in range(3):
            planted.append((who, VIEW, _uniform(rng, lo14, w.as_of - HOUR, len(who)), product, 1))
        who = np.flatnonzero(web_user & (rng.random(n) < 0.02))  # a burst of intent in the last week
        lo7 = max(w.start, w.as_of - 7 * DAY)
        for kind, views in ((BROWSE, 4), (BROWSE, 4), (SEARCHING, 2)):
            planted.append((who, kind, _uniform(rng, lo7, w.as_of - HOUR, len(who)), -1, views))
        who = np.flatnonzero(web_user & (rng.random(n) < 0.02))  # wishlists a product later restocked
        product = w.back_in_stock[rng.integers(len(w.back_in_stock), size=len(who))]
        restock = np.maximum(w.restocked_online[product] - HOUR, w.start + MIN)
        planted.append((who, WISH, _uniform(rng, w.start, restock, len(who)), product, None))
        ghosts = int(np.ceil(0.004 * S))  # bots and blocked trackers: no identifier at all

        def column(normal, of_planted, ghost):
            parts = [np.broadcast_to(of_planted(g), (len(g[0]),)) for g in planted]
            return np.concatenate([normal, *parts, ghost])

        e_person = column(s_person, lambda g: g[0], np.full(ghosts, -1))
        e_kind = column(s_kind, lambda g: g[1], np.full(ghosts, BROWSE))
        e_start = column(s_start, lambda g: g[2], _uniform(rng, w.start, w.as_of - HOUR, ghosts))
        focus = column(np.full(S, -1), lambda g: g[3], np.full(ghosts, -1))
        views = column(np.full(S, -1), lambda g: -1 if g[4] is None else g[4], np.full(ghosts, -1))
        total = len(e_person)
        focus = np.where(focus >= 0, focus, w.sample_products(rng, total))
        usual = np.where(np.isin(e_kind, (BROWSE, SEARCHING)), rng.integers(0, 5, size=total),
                         1 + rng.integers(0, 3, size=total))
        views = np.where(views >= 0, views, usual)
        known = np.maximum(e_person, 0)
        slot = np.where(np.arange(total) < S, np.r_[s_slot, np.zeros(total - S, np.int64)],
                        np.floor(rng.random(total) * np.maximum(n_ids[known], 1)).astype(np.int64))
        login = np.where(np.arange(total) < S, np.r_[s_login, np.zeros(total - S, bool)],
                         account[known] & (e_person >= 0) & (rng.random(total) < 0.5))
        slot = np.where(e_person >= 0, slot, 0)
        return self._web_events(e_person, e_kind, e_start, focus, slot, login, views, id_off, is_cookie, id_str)

    def _web_events(self, sp, sk, s_start, focus, slot, login, m, id_off, is_cookie, id_str) -> np.ndarray:
        w, pp, rng = self.w, self.pp, self.rng
        base = np.select([np.isin(sk, (BROWSE, SEARCHING)), sk == BUY, np.isin(sk, (WISH, ABANDON))],
                         [1 + m, m + 3, m + 1], 1)
        length = base + login
        es, r = _expand(length)
        E = len(es)
        k, mm, lg = sk[es], m[es], login[es]
        rr = r - lg
        etype = np.select(
            [lg & (r == 0), (k == BROWSE) & (rr == 0), (k == SEARCHING) & (rr == 0), np.isin(k, (BROWSE, SEARCHING)),
             (k == BUY) & (rr < mm), (k == BUY) & (rr == mm), (k == BUY) & (rr == mm + 1), k == BUY,
             np.isin(k, (WISH, ABANDON)) & (rr < mm), k == WISH, k == ABANDON],
            [LOGIN, PAGE_VIEW, SEARCH, PRODUCT_VIEW, PRODUCT_VIEW, ADD_TO_CART, CHECKOUT, PURCHASE,
             PRODUCT_VIEW, WISHLIST_ADD, ADD_TO_CART], PRODUCT_VIEW)
        has_product = np.isin(etype, (PRODUCT_VIEW, ADD_TO_CART, WISHLIST_ADD, CHECKOUT, PURCHASE))
        on_focus = np.isin(k, (BUY, WISH, ABANDON, VIEW)) & (rr >= mm - 1)
        product = np.where(on_focus, focus[es], w.sample_products(rng, E))
        gap = np.where(r == 0, 0, rng.integers(5 * SEC, 150 * SEC, size=E))
        csum = np.cumsum(gap)
        first = np.cumsum(length) - length
        occurred = np.minimum(s_start[es] + csum - csum[first][es], w.as_of - SEC)

        person = sp[es]
        known = person >= 0
        row = np.where(known, id_off[np.maximum(person, 0)] + slot[es], 0)
        cookie = known & is_cookie[row] if len(is_cookie) else np.zeros(E, bool)
        device = known & ~cookie
        ghost_app = ~known & (rng.random(E) < 0.3)
        platform = np.where(known, device, ghost_app).astype(np.int64)
        id_rows = pa.array(row) if len(id_str) else None
        anonymous_id = _ids_with_junk(rng, id_str, id_rows, cookie, ~known & ~ghost_app)
        device_id = _ids_with_junk(rng, id_str, id_rows, device, ghost_app)
        user_id = pp.user_id.take(pa.array(np.maximum(person, 0), mask=~(lg & known)))

        buy_session = sk == BUY
        order_no = np.cumsum(buy_session) - 1
        is_order = np.isin(etype, (CHECKOUT, PURCHASE))
        order_rows = np.flatnonzero(is_order)
        order_id = A.prefixed_ids("O", self.index * 10**8 + order_no[es[order_rows]], 12).take(
            pa.array(np.cumsum(is_order) - 1, mask=~is_order))
        qty = 1 + (rng.random(E) < 0.2)
        revenue = pa.array(np.round(w.product_price[product] * qty, 2), mask=etype != PURCHASE)
        term = rng.integers(len(C.SEARCH_TERMS), size=E)
        search_term = A.pick(list(C.SEARCH_TERMS), term, null_mask=etype != SEARCH)
        pid = A.pick(w.product_ids, product, null_mask=~has_product)

        # page_url from one precomputed list: per platform, product pages, then the
        # static pages (login/checkout/confirmation last), then search result pages
        urls = w.page_urls()
        n_products, n_static = len(w.product_ids), len(C.STATIC_PAGES)
        static_idx = np.select([etype == LOGIN, etype == CHECKOUT, etype == PURCHASE],
                               [n_static - 3, n_static - 2, n_static - 1],
                               rng.integers(n_static - 3, size=E))
        page = np.select([np.isin(etype, (PRODUCT_VIEW, ADD_TO_CART, WISHLIST_ADD)), etype == SEARCH],
                         [product, n_products + n_static + term], n_products + static_idx)
        url = urls.take(pa.array(platform * (len(urls) // 2) + page))

        loaded = _loaded(rng, occurred, w.as_of, 0.02)
        table = pa.table({
            "event_id": A.uuids(rng, E),
            "platform": A.pick(["web", "app"], platform),
            "anonymous_id": anonymous_id, "device_id": device_id, "user_id": user_id,
            "event_type": A.pick(list(WEB_EVENT_TYPES), etype),
            "occurred_at": A.timestamps(occurred),
            "product_id": pid, "order_id": order_id, "revenue": revenue,
            "search_term": search_term, "page_url": url,
            "_loaded_at": A.timestamps(loaded),
        }, schema=TABLES[("web", "events")])
        dup = np.flatnonzero(rng.random(E) < 0.005)  # the tracker sent these twice
        self._write(("web", "events"), pa.concat_tables([table, table.take(pa.array(dup))]))

        self.act.web_person, self.act.web_type, self.act.web_at, self.act.web_product = person, etype, occurred, product
        first_session = np.full(pp.n, np.iinfo(np.int64).max)
        np.minimum.at(first_session, sp[sp >= 0], s_start[sp >= 0])
        return np.where(first_session == np.iinfo(np.int64).max, -1, first_session)

    # --------------------------------------------------------------------- pos -----
    def pos(self) -> None:
        w, pp, rng = self.w, self.pp, self.rng
        n = pp.n
        loyal = pp.has_loyalty & (rng.random(n) < 0.85)
        cash = (pp.kind == IDENTIFIED) & ~pp.has_loyalty & (rng.random(n) < 0.25)
        anon = pp.kind == ANON_SHOPPER
        shopper = loyal | cash | anon
        n_tx = np.where(shopper, 1 + rng.poisson(0.014 * w.days * rng.gamma(2.0, 0.5, size=n)), 0)
        n_tok = np.where(loyal, rng.choice(3, size=n, p=[0.3, 0.5, 0.2]), anon.astype(np.int64))
        n_tok = np.minimum(n_tok, n_tx)
        tok_person, _ = _expand(n_tok)
        tokens = A.hex_tokens(rng, "tok_", len(tok_person), 8)
        tok_off = np.cumsum(n_tok) - n_tok
        self._identity("card_token", tokens, tok_person)

        person, j = _expand(n_tx)
        T = len(person)
        flat = np.concatenate(w.stores_by_country)
        off = np.r_[0, np.cumsum([len(x) for x in w.stores_by_country])[:-1]]
        ln = np.array([len(x) for x in w.stores_by_country])
        c = pp.country[person]
        other = flat[off[c] + np.floor(rng.random(T) * ln[c]).astype(np.int64)]
        store = np.where(rng.random(T) < 0.8, pp.home_store[person], other)
        tz = w.store_tz[store]
        # local calendar days strictly inside the window (so local opening hours stay inside
        # it in every zone), and for loyalty members not before the day they enrolled
        last_day = max(w.as_of // DAY - 1, w.start // DAY)
        first_day = np.where(loyal[person], np.maximum(w.start // DAY + 1, self.enrolled[person] // DAY),
                             w.start // DAY + 1)
        first_day = np.minimum(first_day, last_day)
        day = first_day + np.floor(rng.random(T) * (last_day - first_day + 1)).astype(np.int64)
        tod = (w.store_opens[store] + rng.random(T) * (w.store_closes[store] - w.store_opens[store] - 1)) * MIN
        local = day * DAY + tod.astype(np.int64) // SEC * SEC
        utc = local - w.tz_offsets[tz, np.clip(day - w.first_local_day, 0, w.tz_offsets.shape[1] - 1)]
        clipped = np.clip(utc, w.start, w.as_of - MIN)
        local = local + (clipped - utc)
        utc = clipped

        forced = j < n_tok[person]
        has_l = loyal[person] & (forced | (rng.random(T) < 0.7))
        tok_slot = np.where(forced, j, np.floor(rng.random(T) * np.maximum(n_tok[person], 1)).astype(np.int64))
        has_t = (n_tok[person] > 0) & (forced | (rng.random(T) < np.where(anon[person], 0.9, 0.8)))
        tok_row = np.where(has_t, tok_off[person] + tok_slot, 0)
        neither = ~has_l & ~has_t
        junk_tok = neither & (rng.random(T) < 0.2)
        card = pc.if_else(pa.array(has_t), tokens.take(pa.array(tok_row)) if len(tokens) else pa.nulls(T, pa.string()),
                          pc.if_else(pa.array(junk_tok), _junk(rng, T, null_share=0.0), pa.scalar(None, pa.string())))
        loyalty_id = A.with_nulls(pp.raw_id(rng, pp.loyalty_id, person, 0.05), ~has_l)
        is_return = rng.random(T) < 0.03

        n_lines = 1 + rng.binomial(3, 0.35, size=T)
        lt, ln_no = _expand(n_lines)
        L = len(lt)
        product = w.sample_products(rng, L)
        qty = (1 + (rng.random(L) < 0.12)) * np.where(is_return[lt], -1, 1)
        price = w.product_price[product]
        discounted = (rng.random(L) < 0.2) & ~is_return[lt]
        discount = np.where(discounted, np.round(price * np.abs(qty) * rng.uniform(0.1, 0.3, L), 2), 0.0)
        total = np.round(np.bincount(lt, weights=price * qty - discount, minlength=T), 2)
        tx_id = A.prefixed_ids("T", self.index * 10**8 + np.arange(T), 12)
        loaded = _loaded(rng, utc, w.as_of, 0.01, 5 * MIN, 6 * HOUR)
        self._write(("pos", "transactions"), pa.table({
            "transaction_id": tx_id,
            "store_id": A.pick(w.store_ids, store),
            "occurred_at_local": A.timestamps(local, tz=None),
            "loyalty_id": loyalty_id, "card_token": card,
            "total_amount": total,
            "currency": A.pick(list(C.CURRENCIES), w.store_country[store]),
            "is_return": pa.array(is_return),
            "_loaded_at": A.timestamps(loaded),
        }, schema=TABLES[("pos", "transactions")]))
        self._write(("pos", "transaction_lines"), pa.table({
            "transaction_id": tx_id.take(pa.array(lt)),
            "line_number": pa.array((ln_no + 1).astype(np.int32)),
            "product_id": A.pick(w.product_ids, product),
            "quantity": pa.array(qty.astype(np.int32)),
            "unit_price": price, "discount_amount": discount,
            "_loaded_at": A.timestamps(loaded[lt]),
        }, schema=TABLES[("pos", "transaction_lines")]))
        attributable = has_l | has_t
        self.act.pos_person = np.where(attributable, person, -1)
        self.act.pos_at, self.act.pos_return, self.act.pos_store = utc, is_return, store
        self.act.line_tx, self.act.line_product = lt, product

    # ------------------------------------------------------------- email / sms -----
    def email(self) -> None:
        w, pp, rng = self.w, self.pp, self.rng
        n = pp.n
        contactable = ~pp.dnc & ~pp.objected
        opted = pp.has_email & (rng.random(n) < 0.7)
        opt_at = _opt_in_times(rng, w, n)
        rows = np.flatnonzero(opted)
        self._consent(rows, "email", pp.raw_email(rng, rows), "email", "opt_in",
                      rng.choice(["web_form", "pos", "crm", "preference_center"], size=len(rows)), opt_at[rows])
        # some changed their mind in the preference centre before the window: in, then out
        flip = np.flatnonzero(pp.has_email & ~opted & (rng.random(n) < 0.3))
        t_in = w.start - _uniform(rng, 30 * DAY, 2 * YEAR, len(flip))
        self._consent(flip, "email", pp.raw_email(rng, flip), "email", "opt_in", "web_form", t_in)
        self._consent(flip, "email", pp.raw_email(rng, flip), "email", "opt_out", "preference_center",
                      _uniform(rng, t_in, w.start, len(flip)))

        recipient = opted & contactable & ~pp.partner  # the household head reads the shared inbox
        camp = w.email_campaign_at
        if len(camp) == 0:
            self._empty_part(("email", "events"))
            return
        first_c = np.searchsorted(camp, opt_at)
        n_del = np.where(recipient & (first_c < len(camp)), rng.poisson(0.05 * w.days * pp.activity), 0)
        dp, _ = _expand(n_del)
        D = len(dp)
        ci = first_c[dp] + np.floor(rng.random(D) * (len(camp) - first_c[dp])).astype(np.int64)
        key = np.unique(dp * (len(camp) + 1) + ci)  # a person gets a campaign once; sorted by person, time
        dp, ci = key // (len(camp) + 1), key % (len(camp) + 1)
        D = len(dp)
        sent = np.minimum(camp[ci] + _uniform(rng, 0, 90 * MIN, D), w.as_of - MIN)
        last = np.r_[dp[1:] != dp[:-1], True] if D else np.zeros(0, bool)
        hard = last & (rng.random(D) < 0.012)
        soft = ~hard & (rng.random(D) < 0.015)
        delivered = ~hard & ~soft
        opened = delivered & (rng.random(D) < 0.3)
        open_at = np.minimum(sent + rng.exponential(6 * HOUR, D).astype(np.int64) + MIN, w.as_of - SEC)
        clicked = opened & (rng.random(D) < 0.18)
        click_at = np.minimum(open_at + _uniform(rng, 5 * SEC, 10 * MIN, D), w.as_of - SEC)
        unsub = last & delivered & (rng.random(D) < 0.02)
        complaint = last & delivered & ~unsub & (rng.random(D) < 0.003)
        after_at = np.minimum(np.maximum(open_at, sent) + _uniform(rng, MIN, 2 * DAY, D), w.as_of - SEC)
        msg = A.uuids(rng, D)

        parts = [  # (delivery mask, event type, bounce type, time)
            (delivered, "delivered", None, sent), (hard, "bounce", "hard", sent), (soft, "bounce", "soft", sent),
            (opened, "open", None, open_at), (clicked, "click", None, click_at),
            (unsub, "unsubscribe", None, after_at), (complaint, "complaint", None, after_at),
        ]
        d_idx = np.concatenate([np.flatnonzero(mk) for mk, *_ in parts])
        etype = np.concatenate([np.full(int(mk.sum()), k) for k, (mk, *_) in enumerate(parts)])
        at = np.concatenate([t[mk] for mk, _, _, t in parts])
        order = np.lexsort((at, dp[d_idx]))
        d_idx, etype, at = d_idx[order], etype[order], at[order]
        N = len(d_idx)
        person = dp[d_idx]
        raw = pp.email.take(pa.array(person))
        odd = rng.random(N) < 0.06
        raw = pc.if_else(pa.array(odd), pc.utf8_upper(raw), raw)
        self._write(("email", "events"), pa.table({
            "event_id": A.prefixed_ids("EM", self.index * 10**9 + np.arange(N), 12),
            "message_id": A.with_nulls(msg.take(pa.array(d_idx)), rng.random(N) < 0.02),
            "campaign_id": A.pick(w.email_campaigns, ci[d_idx]),
            "email": raw,
            "event_type": A.pick([p[1] for p in parts], etype),
            "bounce_type": A.pick(["hard", "soft"], np.where(etype == 2, 1, 0), null_mask=~np.isin(etype, (1, 2))),
            "occurred_at": A.timestamps(at),
            "_loaded_at": A.timestamps(_loaded(rng, at, w.as_of, 0.01, MIN, 2 * HOUR)),
        }, schema=TABLES[("email", "events")]))
        out = np.flatnonzero(unsub | complaint)
        self._consent(dp[out], "email", pp.raw_email(rng, dp[out]), "email", "opt_out", "email_unsubscribe",
                      after_at[out])

    def sms(self) -> None:
        w, pp, rng = self.w, self.pp, self.rng
        n = pp.n
        contactable = ~pp.dnc & ~pp.objected
        opted = pp.has_phone & (rng.random(n) < 0.4)
        opt_at = _opt_in_times(rng, w, n)
        rows = np.flatnonzero(opted)
        self._consent(rows, "phone", pp.raw_phone(rng, rows, national_ok=False), "sms", "opt_in",
                      rng.choice(["web_form", "pos"], size=len(rows)), opt_at[rows])
        camp = w.sms_campaign_at
        if len(camp) == 0:
            self._empty_part(("sms", "events"))
            return
        first_c = np.searchsorted(camp, opt_at)
        n_del = np.where(opted & contactable & (first_c < len(camp)), rng.poisson(0.03 * w.days * pp.activity), 0)
        dp, _ = _expand(n_del)
        D = len(dp)
        ci = first_c[dp] + np.floor(rng.random(D) * (len(camp) - first_c[dp])).astype(np.int64)
        key = np.unique(dp * (len(camp) + 1) + ci)
        dp, ci = key // (len(camp) + 1), key % (len(camp) + 1)
        D = len(dp)
        sent = np.minimum(camp[ci] + _uniform(rng, 0, 30 * MIN, D), w.as_of - MIN)
        last = np.r_[dp[1:] != dp[:-1], True] if D else np.zeros(0, bool)
        clicked = rng.random(D) < 0.07
        click_at = np.minimum(sent + _uniform(rng, MIN, 2 * HOUR, D), w.as_of - SEC)
        stop = last & (rng.random(D) < 0.04)
        stop_at = np.minimum(sent + _uniform(rng, MIN, DAY, D), w.as_of - SEC)
        start = stop & (rng.random(D) < 0.25)
        start_at = np.minimum(stop_at + _uniform(rng, DAY, 20 * DAY, D), w.as_of - SEC)
        start &= start_at > stop_at
        parts = [(np.ones(D, bool), "delivered", sent), (clicked, "click", click_at), (stop, "stop", stop_at),
                 (start, "start", start_at)]
        d_idx = np.concatenate([np.flatnonzero(mk) for mk, *_ in parts])
        etype = np.concatenate([np.full(int(mk.sum()), k) for k, (mk, *_) in enumerate(parts)])
        at = np.concatenate([t[mk] for mk, _, t in parts])
        order = np.lexsort((at, dp[d_idx]))
        d_idx, etype, at = d_idx[order], etype[order], at[order]
        N = len(d_idx)
        person = dp[d_idx]
        reply = np.where(etype == 2, rng.integers(len(C.SMS_STOP_REPLIES), size=N),
                         len(C.SMS_STOP_REPLIES) + rng.integers(len(C.SMS_START_REPLIES), size=N))
        inbound = etype >= 2
        msg = A.prefixed_ids("SM", self.index * 10**8 + d_idx, 11)
        phone_raw = pp.raw_phone(rng, person, national_ok=False)
        self._write(("sms", "events"), pa.table({
            "event_id": A.prefixed_ids("SE", self.index * 10**9 + np.arange(N), 12),
            "message_id": A.with_nulls(msg, inbound),
            "phone": phone_raw,
            "event_type": A.pick([p[1] for p in parts], etype),
            "reply_text": A.pick(list(C.SMS_STOP_REPLIES + C.SMS_START_REPLIES), reply, null_mask=~inbound),
            "occurred_at": A.timestamps(at),
            "_loaded_at": A.timestamps(_loaded(rng, at, w.as_of, 0.01, 10 * SEC, 10 * MIN)),
        }, schema=TABLES[("sms", "events")]))
        for mk, action, t in ((stop, "opt_out", stop_at), (start, "opt_in", start_at)):
            rows = dp[mk]
            self._consent(rows, "phone", pp.raw_phone(rng, rows, national_ok=False), "sms", action, "sms_reply", t[mk])

    def objections(self) -> None:
        pp, rng = self.pp, self.rng
        rows = np.flatnonzero(pp.objected)
        by_crm = pp.has_crm[rows]
        values = pc.if_else(pa.array(by_crm), pp.raw_id(rng, pp.crm_id, rows), pp.raw_email(rng, rows))
        self._consent(rows, np.where(by_crm, "crm_id", "email"), values, "all", "gdpr_objection",
                      rng.choice(["preference_center", "crm"], size=len(rows)), pp.objected_at[rows])

    # ------------------------------------------------------------------ truth -------
    def truth_identity(self) -> pa.Table:
        pp = self.pp
        self._identity("email", pp.email.filter(pa.array(pp.has_email)), np.flatnonzero(pp.has_email))
        self._identity("phone", pp.e164.filter(pa.array(pp.has_phone)), np.flatnonzero(pp.has_phone))
        types = np.concatenate([np.full(len(rows), t, dtype=object) for t, _, rows in self.identity])
        values = pa.concat_arrays([v.cast(pa.string()) for _, v, _ in self.identity])
        rows = np.concatenate([rows for _, _, rows in self.identity])
        return pa.table({"identifier_type": pa.array(types, type=pa.string()), "identifier_value": values,
                         "person_id": pp.person_id.take(pa.array(rows))}, schema=TRUTH_IDENTITY)

    def consent_table(self) -> pa.Table:
        w, rng = self.w, self.rng
        names = ("person", "identifier_type", "identifier_value", "channel", "action", "source", "occurred_at")
        cols = {k: [] for k in names}
        for c in self.consent:
            for k in cols:
                cols[k].append(c[k])
        k = sum(len(x) for x in cols["person"])
        if k == 0:
            return TABLES[("consent", "consent_log")].empty_table()
        order = np.lexsort((np.concatenate(cols["occurred_at"]), np.concatenate(cols["person"])))
        at = np.concatenate(cols["occurred_at"])[order]

        def strings(name):
            arrays = [v if isinstance(v, pa.Array) else pa.array(np.asarray(v, dtype=object), type=pa.string())
                      for v in cols[name]]
            return pa.concat_arrays(arrays).take(pa.array(order))

        return pa.table({
            "consent_event_id": A.prefixed_ids("CE", self.index * 10**8 + np.arange(k), 11),
            "identifier_type": strings("identifier_type"), "identifier_value": strings("identifier_value"),
            "channel": strings("channel"), "action": strings("action"), "source": strings("source"),
            "occurred_at": A.timestamps(at),
            "_loaded_at": A.timestamps(_loaded(rng, at, w.as_of, 0.02, MIN, 3 * HOUR)),
        }, schema=TABLES[("consent", "consent_log")])

    # ---------------------------------------------------------------- helpers -------
    def _identity(self, kind: str, values: pa.Array, rows: np.ndarray) -> None:
        self.identity.append((kind, values, np.asarray(rows, dtype=np.int64)))

    def _consent(self, rows, id_type, values, channel, action, source, at) -> None:
        k = len(rows)
        if k == 0:
            return

        def fill(v):
            return np.full(k, v, dtype=object) if isinstance(v, str) else v

        self.consent.append({"person": np.asarray(rows), "identifier_type": fill(id_type), "identifier_value": values,
                             "channel": fill(channel), "action": fill(action), "source": fill(source),
                             "occurred_at": np.asarray(at, dtype=np.int64)})

    def _write(self, key: tuple[str, str], table: pa.Table) -> None:
        write_part(self.out, key, self.index, table)
        self.part_rows[key] = table.num_rows

    def _empty(self, key: tuple[str, str]) -> None:
        self.tables[key] = TABLES[key].empty_table()

    def _empty_part(self, key: tuple[str, str]) -> None:
        self._write(key, TABLES[key].empty_table())

    def run(self) -> ChunkResult:
        self.crm()
        self.loyalty()
        self.badges()
        first_session = self.web()
        self.accounts(first_session)
        self.pos()
        self.email()
        self.sms()
        self.objections()
        self.tables[("consent", "consent_log")] = self.consent_table()
        self.act.pp = self.pp
        return ChunkResult(
            index=self.index, tables=self.tables, part_rows=self.part_rows,
            identity=self.truth_identity(), behaviours=behaviours(self.w, self.act),
        )


def generate_chunk(world: World, index: int, first_person: int, n: int, out: Path) -> ChunkResult:
    """Generate chunk ``index`` (people ``first_person`` … ``first_person + n - 1``)."""
    return ChunkBuilder(world, index, first_person, n, out).run()
