"""Ground-truth behaviour labels, computed exactly from what a chunk generated.

The generator plants these patterns on purpose (abandoned carts, repeat views, back-in-
stock wishlists, event visits, new members, bursts of intent); the labels are then the
rules below applied to the person's *attributable* activity (events and transactions
that carry one of their identifiers; duplicates and late loads do not change them).
``as_of`` is the simulated now.

* cart_abandoner — the latest add_to_cart in the last 3 days is followed by no purchase
  (online or in store). reference_at: that add_to_cart; detail: its product.
* repeat_product_viewer — viewed one product at least 3 times in the last 14 days and did
  not buy it in that time. reference_at: the last such view; detail: the product.
* lapsed_buyer — has bought (online or in store, returns excluded) but not in the last
  60 days. reference_at: the last purchase; detail: ``online`` or ``store``.
* store_to_online — first purchase was in a store and a later one online.
  reference_at: the first online purchase after it; detail: the first store's id.
* online_to_store — first purchase was online and a later one in a store.
  reference_at: that first store purchase; detail: its store id.
* event_attendee — has a badge scan. reference_at: the latest scan; detail: event code.
* new_loyalty_member — an active loyalty membership enrolled in the last 30 days.
  reference_at: enrolled_at; detail: loyalty id.
* high_intent — in the last 7 days at least 5 product views and at least one search,
  add_to_cart or wishlist_add, and no purchase. reference_at: the last product view;
  detail: the most viewed product.
* wishlist_back_in_stock — wishlisted a product that the online store (S000) restocked
  after the wishlist_add and now has on hand, and has not bought it since the
  wishlist_add. reference_at: the restock; detail: the product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from omniplay.generator import _arrow as A
from omniplay.generator.reference import DAY, World
from omniplay.generator.schema import TRUTH_BEHAVIOURS

PRODUCT_VIEW, SEARCH, ADD_TO_CART, WISHLIST_ADD, PURCHASE = 1, 2, 3, 4, 6
NONE = np.iinfo(np.int64).min


@dataclass
class Activity:
    """What the chunk generated, in the generator's own (person-indexed) terms."""

    n: int
    pp: object = None
    web_person: np.ndarray = None
    web_type: np.ndarray = None
    web_at: np.ndarray = None
    web_product: np.ndarray = None
    pos_person: np.ndarray = None     # -1 when the transaction carries no identifier
    pos_at: np.ndarray = None
    pos_return: np.ndarray = None
    pos_store: np.ndarray = None
    line_tx: np.ndarray = None
    line_product: np.ndarray = None
    enrolled_at: np.ndarray = None    # -1 when not an active member
    loyalty_id: pa.Array = None
    badge_person: np.ndarray = None
    badge_at: np.ndarray = None
    badge_event: pa.Array = None


def _last(keys: np.ndarray, *order: np.ndarray) -> np.ndarray:
    """Index of the last row of each key when sorted by key then ``order`` (ascending)."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    idx = np.lexsort(tuple(reversed(order)) + (keys,))
    k = keys[idx]
    return idx[np.r_[k[1:] != k[:-1], True]]


def _first(keys: np.ndarray, *order: np.ndarray) -> np.ndarray:
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    idx = np.lexsort(tuple(reversed(order)) + (keys,))
    k = keys[idx]
    return idx[np.r_[True, k[1:] != k[:-1]]]


def _per_person(n: int, person: np.ndarray, values: np.ndarray, fill=NONE) -> np.ndarray:
    out = np.full(n, fill, dtype=np.int64)
    out[person] = values
    return out


def behaviours(w: World, act: Activity) -> pa.Table:
    n, as_of = act.n, w.as_of
    pp = act.pp
    rows: list[tuple[str, np.ndarray, np.ndarray, pa.Array]] = []

    web = act.web_person >= 0
    wp, wt, wa, wprod = act.web_person[web], act.web_type[web], act.web_at[web], act.web_product[web]
    store = (act.pos_person >= 0) & ~act.pos_return
    sp, sa, ss = act.pos_person[store], act.pos_at[store], act.pos_store[store]
    online = wt == PURCHASE
    # every purchase: person, time, channel (0 store, 1 online), store index
    bp = np.r_[sp, wp[online]]
    ba = np.r_[sa, wa[online]]
    bc = np.r_[np.zeros(len(sp), np.int64), np.ones(int(online.sum()), np.int64)]
    bs = np.r_[ss, np.zeros(int(online.sum()), np.int64)]
    last_buy = np.full(n, NONE, dtype=np.int64)
    np.maximum.at(last_buy, bp, ba)
    # product-level purchases: online purchase events and store lines
    line_ok = store[act.line_tx]
    pprod_person = np.r_[wp[online], act.pos_person[act.line_tx][line_ok]]
    pprod_product = np.r_[wprod[online], act.line_product[line_ok]]
    pprod_at = np.r_[wa[online], act.pos_at[act.line_tx][line_ok]]
    n_products = len(w.product_ids)

    # cart_abandoner
    atc = (wt == ADD_TO_CART) & (wa > as_of - 3 * DAY)
    i = _last(wp[atc], wa[atc])
    p_, t_, pr_ = wp[atc][i], wa[atc][i], wprod[atc][i]
    ok = last_buy[p_] < t_
    rows.append(("cart_abandoner", p_[ok], t_[ok], A.pick(w.product_ids, pr_[ok])))

    # repeat_product_viewer
    lo = as_of - 14 * DAY
    pv = (wt == PRODUCT_VIEW) & (wa > lo)
    key = wp[pv] * n_products + wprod[pv]
    uniq, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    bought = np.isin(uniq, (pprod_person * n_products + pprod_product)[pprod_at > lo])
    cand = (cnt >= 3) & ~bought
    last_view = np.full(len(uniq), NONE, dtype=np.int64)
    np.maximum.at(last_view, inv, wa[pv])
    c = np.flatnonzero(cand)
    cp, cprod = uniq[c] // n_products, uniq[c] % n_products
    i = _last(cp, cnt[c], last_view[c])
    rows.append(("repeat_product_viewer", cp[i], last_view[c][i], A.pick(w.product_ids, cprod[i])))

    # lapsed_buyer
    i = _last(bp, ba)
    lapsed = ba[i] <= as_of - 60 * DAY
    rows.append(("lapsed_buyer", bp[i][lapsed], ba[i][lapsed], A.pick(["store", "online"], bc[i][lapsed])))

    # store_to_online / online_to_store
    f = _first(bp, ba, bc)
    first_at = _per_person(n, bp[f], ba[f])
    first_ch = _per_person(n, bp[f], bc[f], fill=-1)
    first_store = _per_person(n, bp[f], bs[f], fill=0)
    for name, from_ch, to_ch in (("store_to_online", 0, 1), ("online_to_store", 1, 0)):
        later = (bc == to_ch) & (first_ch[bp] == from_ch) & (ba > first_at[bp])
        i = _first(bp[later], ba[later])
        people = bp[later][i]
        store_idx = first_store[people] if name == "store_to_online" else bs[later][i]
        rows.append((name, people, ba[later][i], A.pick(w.store_ids, store_idx)))

    # event_attendee
    i = _last(act.badge_person, act.badge_at)
    rows.append(("event_attendee", act.badge_person[i], act.badge_at[i], act.badge_event.take(pa.array(i))))

    # new_loyalty_member
    if act.enrolled_at is not None:
        new = np.flatnonzero(act.enrolled_at >= as_of - 30 * DAY)
        rows.append(("new_loyalty_member", new, act.enrolled_at[new], act.loyalty_id.take(pa.array(new))))

    # high_intent
    lo = as_of - 7 * DAY
    recent = wa > lo
    views = np.bincount(wp[recent & (wt == PRODUCT_VIEW)], minlength=n)
    signals = np.bincount(wp[recent & np.isin(wt, (SEARCH, ADD_TO_CART, WISHLIST_ADD))], minlength=n)
    hi = np.flatnonzero((views >= 5) & (signals >= 1) & (last_buy <= lo))
    sel = recent & (wt == PRODUCT_VIEW) & np.isin(wp, hi)
    key = wp[sel] * n_products + wprod[sel]
    uniq, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    top = _last(uniq // n_products, cnt, -(uniq % n_products))
    last_view = np.full(n, NONE, dtype=np.int64)
    np.maximum.at(last_view, wp[sel], wa[sel])
    people = uniq[top] // n_products
    rows.append(("high_intent", people, last_view[people], A.pick(w.product_ids, uniq[top] % n_products)))

    # wishlist_back_in_stock
    wl = wt == WISHLIST_ADD
    wp_, wa_, wx = wp[wl], wa[wl], wprod[wl]
    restock = w.restocked_online[wx]
    ok = (restock > wa_) & (w.on_hand_online[wx] > 0)
    # bought the product at or after the wishlist_add?
    pk = pprod_person * n_products + pprod_product
    if len(pk):
        i = _last(pk, pprod_at)
        order = np.argsort(pk[i])
        sorted_keys, sorted_at = pk[i][order], pprod_at[i][order]
        wk = wp_ * n_products + wx
        pos = np.clip(np.searchsorted(sorted_keys, wk), 0, len(sorted_keys) - 1)
        found = sorted_keys[pos] == wk
        ok &= ~(found & (sorted_at[pos] >= wa_))
    i = _last(wp_[ok], restock[ok], wa_[ok])
    rows.append(("wishlist_back_in_stock", wp_[ok][i], restock[ok][i], A.pick(w.product_ids, wx[ok][i])))

    people = np.concatenate([r[1] for r in rows]).astype(np.int64)
    return pa.table({
        "person_id": pp.person_id.take(pa.array(people)),
        "behaviour": pa.array(np.concatenate([np.full(len(r[1]), r[0], dtype=object) for r in rows]), type=pa.string()),
        "reference_at": A.timestamps(np.concatenate([r[2] for r in rows]).astype(np.int64)),
        "detail": pa.concat_arrays([r[3].cast(pa.string()) for r in rows]),
    }, schema=TRUTH_BEHAVIOURS)
