"""Behaviour truth: each label is reproduced from the raw sources by its documented rule.

The rules (omniplay/generator/behaviours.py, docs/sources.md) are re-implemented here in
SQL over the source files, attributing rows to people through truth/identity.parquet.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from omniplay.generator.schema import BEHAVIOURS

RULES = {
    "cart_abandoner": """
        with atc as (
            select person_id, max(occurred_at) as t from web_p
            where event_type = 'add_to_cart' and occurred_at > as_of() - interval 3 day group by 1
        ), lb as (select person_id, max(bought_at) as t from purchases group by 1)
        select atc.person_id from atc left join lb using (person_id) where lb.t is null or lb.t < atc.t""",
    "repeat_product_viewer": """
        with v as (
            select person_id, product_id from web_p
            where event_type = 'product_view' and occurred_at > as_of() - interval 14 day
            group by all having count(*) >= 3
        )
        select distinct person_id from v
        where not exists (select 1 from product_purchases b where b.person_id = v.person_id
                          and b.product_id = v.product_id and b.bought_at > as_of() - interval 14 day)""",
    "lapsed_buyer": "select person_id from purchases group by 1 having max(bought_at) <= as_of() - interval 60 day",
    "store_to_online": """
        with f as (
            select person_id, arg_min(channel, (bought_at, channel)) as ch, min(bought_at) as t
            from purchases group by 1
        )
        select distinct f.person_id from f join purchases p using (person_id)
        where f.ch = 'store' and p.channel = 'online' and p.bought_at > f.t""",
    "online_to_store": """
        with f as (
            select person_id, arg_min(channel, (bought_at, channel)) as ch, min(bought_at) as t
            from purchases group by 1
        )
        select distinct f.person_id from f join purchases p using (person_id)
        where f.ch = 'online' and p.channel = 'store' and p.bought_at > f.t""",
    "event_attendee": """
        select distinct i.person_id from badge b join ident i on i.t = 'badge_id' and i.v = trim(b.badge_id)""",
    "new_loyalty_member": """
        select distinct i.person_id from members m
        join ident i on i.t = 'loyalty_id' and i.v = upper(trim(m.loyalty_id))
        where m.status = 'active' and m.enrolled_at >= as_of() - interval 30 day""",
    "high_intent": """
        select person_id from web_p where occurred_at > as_of() - interval 7 day group by 1
        having count(*) filter (event_type = 'product_view') >= 5
           and count(*) filter (event_type in ('search', 'add_to_cart', 'wishlist_add')) >= 1
        except select person_id from purchases where bought_at > as_of() - interval 7 day""",
    "wishlist_back_in_stock": """
        select distinct w.person_id from web_p w
        join inventory inv on inv.store_id = 'S000' and inv.product_id = w.product_id
        where w.event_type = 'wishlist_add' and inv.on_hand > 0 and inv.last_restocked_at > w.occurred_at
          and not exists (select 1 from product_purchases b where b.person_id = w.person_id
                          and b.product_id = w.product_id and b.bought_at >= w.occurred_at)""",
}


@pytest.fixture(scope="module")
def db(dataset: Path):
    as_of = json.loads((dataset / "truth" / "manifest.json").read_text())["as_of"]
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    con.execute(f"create macro as_of() as timestamptz '{as_of}'")
    d = str(dataset)
    con.execute(f"""
        create view ident as select identifier_type as t, identifier_value as v, person_id
            from '{d}/truth/identity.parquet' where identifier_type <> 'email';
        create view web as select distinct * from '{d}/web/events/*.parquet';
        create view web_p as
            select w.*, coalesce(u.person_id, c.person_id, dv.person_id) as person_id from web w
            left join ident u on u.t = 'user_id' and u.v = upper(trim(w.user_id))
            left join ident c on c.t = 'cookie_id' and c.v = trim(w.anonymous_id)
            left join ident dv on dv.t = 'device_id' and dv.v = trim(w.device_id)
            where coalesce(u.person_id, c.person_id, dv.person_id) is not null;
        create view stores as select * from '{d}/stores/stores.parquet';
        create view tx as
            select t.*, coalesce(l.person_id, k.person_id) as person_id,
                   timezone(s.timezone, t.occurred_at_local) as bought_at
            from '{d}/pos/transactions/*.parquet' t
            join stores s using (store_id)
            left join ident l on l.t = 'loyalty_id' and l.v = upper(trim(t.loyalty_id))
            left join ident k on k.t = 'card_token' and k.v = trim(t.card_token)
            where coalesce(l.person_id, k.person_id) is not null and not t.is_return;
        create view purchases as
            select person_id, bought_at, 'store' as channel from tx
            union all select person_id, occurred_at, 'online' from web_p where event_type = 'purchase';
        create view product_purchases as
            select tx.person_id, l.product_id, tx.bought_at
            from tx join '{d}/pos/transaction_lines/*.parquet' l using (transaction_id)
            union all select person_id, product_id, occurred_at from web_p where event_type = 'purchase';
        create view badge as select * from '{d}/events/badge_scans.parquet';
        create view members as select * from '{d}/loyalty/members.parquet';
        create view inventory as select * from '{d}/products/inventory.parquet';
    """)
    yield con
    con.close()


def test_every_behaviour_is_planted(truth_behaviours: pd.DataFrame) -> None:
    counts = truth_behaviours.behaviour.value_counts()
    assert set(counts.index) == set(BEHAVIOURS)
    assert not truth_behaviours.duplicated(["person_id", "behaviour"]).any()


@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_labels_equal_the_rule_applied_to_the_sources(db, truth_behaviours: pd.DataFrame, behaviour: str) -> None:
    from_sources = {row[0] for row in db.execute(RULES[behaviour]).fetchall()}
    labelled = set(truth_behaviours[truth_behaviours.behaviour == behaviour].person_id)
    assert labelled, behaviour
    assert labelled == from_sources


def test_reference_rows_point_at_real_events(db, truth_behaviours: pd.DataFrame) -> None:
    db.register("labels", truth_behaviours)
    missing = db.execute("""
        select l.* from labels l
        where (l.behaviour = 'cart_abandoner' and not exists (select 1 from web_p w where w.person_id = l.person_id
                 and w.event_type = 'add_to_cart' and w.occurred_at = l.reference_at and w.product_id = l.detail))
           or (l.behaviour = 'repeat_product_viewer' and not exists (select 1 from web_p w
                 where w.person_id = l.person_id
                 and w.event_type = 'product_view' and w.occurred_at = l.reference_at and w.product_id = l.detail))
           or (l.behaviour = 'event_attendee' and not exists (select 1 from badge b join ident i on i.t = 'badge_id'
                 and i.v = b.badge_id where i.person_id = l.person_id and b.scanned_at = l.reference_at
                 and b.event_code = l.detail))
           or (l.behaviour = 'wishlist_back_in_stock' and not exists (select 1 from inventory v
                 where v.store_id = 'S000' and v.product_id = l.detail and v.last_restocked_at = l.reference_at))
           or (l.behaviour = 'lapsed_buyer' and not exists (select 1 from purchases p where p.person_id = l.person_id
                 and p.bought_at = l.reference_at and p.channel = l.detail))
    """).fetchall()
    assert missing == []
