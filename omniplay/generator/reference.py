"""The shared world every chunk of people lives in: clock, stores, products, campaigns, events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from omniplay.generator import _arrow as A
from omniplay.generator import catalog as C
from omniplay.generator.schema import TABLES

SEC = 1_000_000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

# The simulated "now" is a fixed anchor, never the wall clock, so a seed means one dataset.
AS_OF = dt.datetime(2026, 6, 1, 0, 0, tzinfo=dt.timezone.utc)
ONLINE_STORE = "S000"
_LUT_SIZE = 2**20


def to_micros(value: dt.datetime) -> int:
    return (value - EPOCH) // dt.timedelta(microseconds=1)


@dataclass
class World:
    """Everything a chunk needs besides its own people; small and picklable."""

    seed: int
    customers: int
    days: int
    as_of: int                  # microseconds since the epoch, UTC
    start: int                  # as_of - days
    # stores (index 0 is the online store S000)
    store_ids: list[str]
    store_country: np.ndarray
    store_tz: np.ndarray        # index into tz_names
    store_opens: np.ndarray     # minutes after local midnight
    store_closes: np.ndarray
    stores_by_country: list[np.ndarray]  # physical store indices per country code
    tz_names: list[str]
    tz_offsets: np.ndarray      # (n_tz, n_local_days) UTC offset in microseconds
    first_local_day: int        # day number (since epoch) of tz_offsets[:, 0]
    # products
    product_ids: list[str]
    product_price: np.ndarray
    product_cdf: np.ndarray     # popularity, for inverse-CDF sampling
    restocked_online: np.ndarray  # S000 last_restocked_at (micros; -1 when null)
    on_hand_online: np.ndarray
    back_in_stock: np.ndarray   # product indices restocked online in the last days
    # campaigns
    email_campaigns: list[str]
    email_campaign_at: np.ndarray
    sms_campaign_at: np.ndarray
    # in-store events with badge scanning
    event_codes: list[str]
    event_names: list[str]
    event_country: np.ndarray
    event_at: np.ndarray
    event_venue: np.ndarray     # store index or -1 (off-site venue)
    _product_lut: np.ndarray | None = None
    _page_urls: pa.Array | None = None

    def sample_products(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Products by popularity: a 2**20-slot lookup table of the CDF (faster than searchsorted)."""
        if self._product_lut is None:
            slots = (np.arange(_LUT_SIZE) + 0.5) / _LUT_SIZE
            self._product_lut = np.minimum(np.searchsorted(self.product_cdf, slots, side="right"),
                                           len(self.product_cdf) - 1).astype(np.int32)
        return self._product_lut[rng.integers(0, _LUT_SIZE, size=n)].astype(np.int64)

    def page_urls(self) -> pa.Array:
        """Every page URL: per platform (web, app), product pages, static pages, search pages."""
        if self._page_urls is None:
            search = ["/search?q=" + t.replace(" ", "+") for t in C.SEARCH_TERMS]
            paths = [f"/p/{p}" for p in self.product_ids] + list(C.STATIC_PAGES) + search
            self._page_urls = pa.array([base + path for base in (C.SITE, C.APP) for path in paths])
        return self._page_urls

    def __getstate__(self) -> dict:
        # lookup tables are rebuilt in each process rather than pickled
        return {**self.__dict__, "_product_lut": None, "_page_urls": None}


def _tz_offsets(tz_names: list[str], first_day: int, n_days: int) -> np.ndarray:
    """UTC offset of each zone at local noon of each day (store hours never straddle a DST switch)."""
    out = np.zeros((len(tz_names), n_days), dtype=np.int64)
    base = dt.date(1970, 1, 1) + dt.timedelta(days=first_day)
    for t, name in enumerate(tz_names):
        zone = ZoneInfo(name)
        for d in range(n_days):
            local_noon = dt.datetime.combine(base + dt.timedelta(days=d), dt.time(12), tzinfo=zone)
            out[t, d] = int(local_noon.utcoffset().total_seconds()) * SEC
    return out


def build_world(seed: int, customers: int, days: int) -> tuple[World, dict[tuple[str, str], pa.Table]]:
    """Build the shared reference data and the stores/products/inventory tables."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    as_of = to_micros(AS_OF)
    start = as_of - days * DAY

    # --- stores -------------------------------------------------------------------
    n_physical = int(np.clip(round(customers / 4000), 16, 400))
    weights = np.array(C.COUNTRY_WEIGHTS)
    per_country = np.maximum(1, np.round(weights * n_physical).astype(int))
    cities = C.CITIES
    rows = []  # (country idx, city idx)
    for c, country in enumerate(C.COUNTRIES):
        options = [i for i, city in enumerate(cities) if city[0] == country]
        w = np.array([cities[i][6] for i in options], dtype=float)
        picks = rng.choice(options, size=per_country[c], p=w / w.sum())
        rows += [(c, int(i)) for i in sorted(picks)]
    tz_names = sorted({cities[i][3] for _, i in rows} | {"Etc/UTC"})
    store_ids = [ONLINE_STORE] + [f"S{k:03d}" for k in range(1, len(rows) + 1)]
    names, seen = ["Online Store"], {}
    for _, i in rows:
        base = f"{cities[i][1]} {C.STORE_FORMATS[rng.integers(len(C.STORE_FORMATS))]}"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base} {seen[base]}")
    opens = np.array([0] + list(rng.choice([480, 540, 570, 600], size=len(rows))))
    closes = np.array([23 * 60 + 59] + list(rng.choice([1080, 1200, 1260, 1320], size=len(rows))))
    lat = np.array([np.nan] + [cities[i][4] for _, i in rows]) + np.r_[0, rng.normal(0, 0.03, len(rows))]
    lon = np.array([np.nan] + [cities[i][5] for _, i in rows]) + np.r_[0, rng.normal(0, 0.04, len(rows))]
    store_country = np.array([0] + [c for c, _ in rows])
    store_tz = np.array([tz_names.index("Etc/UTC")] + [tz_names.index(cities[i][3]) for _, i in rows])
    opened_days = (as_of // DAY) - rng.integers(200, 25 * 365, size=len(rows) + 1)
    opened_days[0] = (as_of // DAY) - 12 * 365
    stores = pa.table({
        "store_id": store_ids,
        "store_name": names,
        "region": ["online"] + [cities[i][2] for _, i in rows],
        "country": ["US"] + [C.COUNTRIES[c] for c, _ in rows],
        "timezone": [tz_names[t] for t in store_tz],
        "opens_at": [f"{m // 60:02d}:{m % 60:02d}" for m in opens],
        "closes_at": [f"{m // 60:02d}:{m % 60:02d}" for m in closes],
        "latitude": pa.array(np.round(lat, 5), from_pandas=True),
        "longitude": pa.array(np.round(lon, 5), from_pandas=True),
        "opened_on": pa.array(opened_days.astype("int32"), type=pa.date32()),
        "is_online": [True] + [False] * len(rows),
        "_loaded_at": A.timestamps(np.full(len(rows) + 1, as_of - 2 * HOUR)),
    }, schema=TABLES[("stores", "stores")])
    stores_by_country = [np.flatnonzero(store_country[1:] == c) + 1 for c in range(len(C.COUNTRIES))]

    # --- products -----------------------------------------------------------------
    n_products = int(np.clip(customers // 200, 200, 5000))
    cat = rng.integers(len(C.CATEGORIES), size=n_products)
    noun = np.array([rng.integers(len(C.CATEGORIES[c][1])) for c in cat])
    brand = rng.integers(len(C.BRANDS), size=n_products)
    adj = rng.integers(len(C.ADJECTIVES), size=n_products)
    colour = rng.integers(len(C.COLOURS), size=n_products)
    base_price = np.array([30.0, 80.0, 25.0, 20.0, 18.0, 45.0])[cat]
    price = np.floor(base_price * rng.lognormal(0, 0.5, n_products)) + 0.99
    unit_cost = np.round(price * rng.uniform(0.3, 0.6, n_products), 2)
    product_ids = [f"P{k:05d}" for k in range(1, n_products + 1)]
    products = pa.table({
        "product_id": product_ids,
        "product_name": [f"{C.BRANDS[b]} {C.ADJECTIVES[a]} {C.CATEGORIES[c][1][n]} - {C.COLOURS[o]}"
                         for b, a, c, n, o in zip(brand, adj, cat, noun, colour)],
        "category": [C.CATEGORIES[c][0] for c in cat],
        "brand": [C.BRANDS[b] for b in brand],
        "price": price,
        "unit_cost": unit_cost,
        "is_active": rng.random(n_products) < 0.96,
        "_loaded_at": A.timestamps(np.full(n_products, as_of - 2 * HOUR)),
    }, schema=TABLES[("products", "products")])
    popularity = 1.0 / (rng.permutation(n_products) + 8.0) ** 0.9
    cdf = np.cumsum(popularity / popularity.sum())

    # --- inventory ------------------------------------------------------------------
    # Physical stores carry a third of the range; the online store S000 carries all of it.
    # Online restocks are old except for a few products restocked in the last two days
    # ("back in stock"), which is what wishlist_back_in_stock looks for.
    carried = rng.random((len(rows), n_products)) < 0.35
    st_idx, pr_idx = np.nonzero(carried)
    st_idx = st_idx + 1
    n_phys = len(st_idx)
    on_hand_phys = np.where(rng.random(n_phys) < 0.08, 0, rng.poisson(9, n_phys) + 1)
    restock_phys = as_of - rng.integers(HOUR, 30 * DAY, n_phys)
    restock_phys_null = rng.random(n_phys) < 0.04
    active = products.column("is_active").to_numpy(zero_copy_only=False)
    back = np.flatnonzero(active & (rng.random(n_products) < 0.03))
    if len(back) == 0:
        back = np.flatnonzero(active)[:1]
    restocked_online = start - rng.integers(DAY, 90 * DAY, n_products)
    restocked_online[back] = as_of - rng.integers(HOUR, 2 * DAY, len(back))
    on_hand_online = np.where(rng.random(n_products) < 0.1, 0, rng.poisson(40, n_products) + 1)
    on_hand_online[back] = rng.integers(5, 60, len(back))
    inv_store = np.r_[np.zeros(n_products, dtype=np.int64), st_idx]
    inv_product = np.r_[np.arange(n_products), pr_idx]
    inventory = pa.table({
        "store_id": A.pick(store_ids, inv_store),
        "product_id": A.pick(product_ids, inv_product),
        "on_hand": pa.array(np.r_[on_hand_online, on_hand_phys].astype(np.int32)),
        "last_restocked_at": A.timestamps(np.r_[restocked_online, restock_phys],
                                          null_mask=np.r_[np.zeros(n_products, bool), restock_phys_null]),
        "updated_at": A.timestamps(as_of - rng.integers(MIN, 6 * HOUR, n_products + n_phys)),
        "_loaded_at": A.timestamps(np.full(n_products + n_phys, as_of - MIN)),
    }, schema=TABLES[("products", "inventory")])

    # --- campaigns: e-mail twice a week, SMS weekly, both at 14:00 UTC ------------------
    first_day = start // DAY
    email_days = [d for d in range(first_day, as_of // DAY) if (d + 3) % 7 in (1, 4)]  # Tuesdays, Fridays
    email_at = np.array([d * DAY + 14 * HOUR for d in email_days if d * DAY + 14 * HOUR >= start], dtype=np.int64)
    sms_at = np.array([d * DAY + 16 * HOUR for d in range(first_day, as_of // DAY)
                       if (d + 3) % 7 == 3 and d * DAY + 16 * HOUR >= start], dtype=np.int64)
    email_ids = [f"CMP{(EPOCH + dt.timedelta(microseconds=int(t))).strftime('%Y%m%d')}" for t in email_at]

    # --- events with badge scanning: one or two per country inside the window ----------
    ev_codes, ev_names, ev_country, ev_at, ev_venue = [], [], [], [], []
    seasons = {12: "WINTER", 1: "WINTER", 2: "WINTER", 3: "SPRING", 4: "SPRING", 5: "SPRING",
               6: "SUMMER", 7: "SUMMER", 8: "SUMMER", 9: "AUTUMN", 10: "AUTUMN", 11: "AUTUMN"}
    for c, country in enumerate(C.COUNTRIES):
        for k in range(1 + int(rng.random() < 0.5)):
            at = start + int(rng.integers(0, max(1, days - 1))) * DAY + 18 * HOUR
            at = min(at, as_of - 2 * HOUR)
            when = EPOCH + dt.timedelta(microseconds=at)
            venue = int(rng.choice(stores_by_country[c])) if rng.random() < 0.75 else -1
            if venue > 0:
                city = cities[rows[venue - 1][1]][1]
            else:
                city = next(x[1] for x in cities if x[0] == country) + " Expo Hall"
            code = f"EV{when.year}-{seasons[when.month]}-{country}" + (f"-{k + 1}" if k else "")
            ev_codes.append(code)
            ev_names.append(f"{seasons[when.month].title()} Style Night {city}")
            ev_country.append(c)
            ev_at.append(at)
            ev_venue.append(venue)

    n_local_days = days + 4
    world = World(
        seed=seed, customers=customers, days=days, as_of=as_of, start=start,
        store_ids=store_ids, store_country=store_country, store_tz=store_tz,
        store_opens=opens, store_closes=closes, stores_by_country=stores_by_country,
        tz_names=tz_names, tz_offsets=_tz_offsets(tz_names, first_day - 1, n_local_days),
        first_local_day=first_day - 1,
        product_ids=product_ids, product_price=price, product_cdf=cdf,
        restocked_online=restocked_online, on_hand_online=on_hand_online, back_in_stock=back,
        email_campaigns=email_ids, email_campaign_at=email_at, sms_campaign_at=sms_at,
        event_codes=ev_codes, event_names=ev_names, event_country=np.array(ev_country),
        event_at=np.array(ev_at, dtype=np.int64), event_venue=np.array(ev_venue),
    )
    tables = {("stores", "stores"): stores, ("products", "products"): products, ("products", "inventory"): inventory}
    return world, tables
