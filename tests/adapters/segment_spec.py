"""Segment- and RudderStack-shaped warehouse tables (tracks, pages, identifies) with the
cases the adapters must handle, and the outcomes they must produce.

Both vendors write the same schema; the two sources differ here the way deployments do:
Segment's pages table has no uuid_ts (received_at stands in) and its tracks no
context_device_id (web only); RudderStack's carry both (a mobile SDK).
"""

from __future__ import annotations

import duckdb

T = "2026-01-05 10:{:02d}:00+00"

# (id, anonymous_id, user_id, event, timestamp, uuid_ts, context_device_id)
TRACKS = {
    "segment": [
        ("s-t1", "seg-anon-1", "seg-user-1", "order_completed", T.format(5), T.format(30), None),
        ("s-t2", "seg-anon-1", None, "product_viewed", T.format(2), T.format(30), None),
        ("s-t2", "seg-anon-1", None, "product_viewed", T.format(2), T.format(40), None),  # redelivered
        ("s-t3", "undefined", None, "product_viewed", T.format(3), T.format(30), None),  # junk cookie
    ],
    "rudderstack": [
        ("r-t1", "rs-anon-1", "rs-user-1", "Checkout_Started", T.format(6), T.format(30), "rs-device-1"),
        ("r-t2", "rs-anon-2", None, "newsletter_opened", T.format(7), T.format(30), None),
    ],
}
# (id, anonymous_id, user_id, url, path, timestamp, uuid_ts)
PAGES = {
    "segment": [
        ("s-p1", "seg-anon-1", None, "https://shop.example/", "/", T.format(1), None),
        ("s-p2", "seg-shared", None, "https://shop.example/cart", "/cart", T.format(1), None),
    ],
    "rudderstack": [
        ("r-p1", "rs-anon-2", None, "https://shop.example/", "/", T.format(1), T.format(30)),
    ],
}
# (id, anonymous_id, user_id, timestamp, uuid_ts, context_device_id)
IDENTIFIES = {
    "segment": [
        ("s-i1", "seg-anon-1", "seg-user-1", T.format(4), T.format(30), None),
        # One browser, two logins: seg-user-a three times, then seg-user-b once, last.
        ("s-i2", "seg-shared", "seg-user-a", T.format(10), T.format(30), None),
        ("s-i3", "seg-shared", "seg-user-a", T.format(11), T.format(30), None),
        ("s-i4", "seg-shared", "seg-user-a", T.format(12), T.format(30), None),
        ("s-i5", "seg-shared", "seg-user-b", T.format(13), T.format(30), None),
    ],
    "rudderstack": [
        ("r-i1", "rs-anon-1", "rs-user-1", T.format(5), T.format(30), "rs-device-1"),
    ],
}

# What the build must show: cookie -> login through the identity graph.
EXPECTED_COOKIE_LOGINS = {
    ("segment", "seg-anon-1"): "SEG-USER-1",
    ("segment", "seg-shared"): "SEG-USER-A",  # most observed wins; upstream Snowplow would say SEG-USER-B
    ("rudderstack", "rs-anon-1"): "RS-USER-1",
    ("rudderstack", "rs-anon-2"): None,  # never logged in: an anonymous profile
}
# event_id in fct_customer_events -> (channel, event_type); identify calls are no events.
EXPECTED_EVENTS = {
    "segment:s-t1": ("web", "purchase"),
    "segment:s-t2": ("web", "product_view"),
    "segment:s-t3": ("web", "product_view"),
    "segment:s-p1": ("web", "page_view"),
    "segment:s-p2": ("web", "page_view"),
    "rudderstack:r-t1": ("app", "checkout"),
    "rudderstack:r-t2": ("web", "newsletter_opened"),
    "rudderstack:r-p1": ("web", "page_view"),
}


def load(con: duckdb.DuckDBPyConnection) -> None:
    """Create schemas segment and rudderstack with their tracks, pages and identifies."""
    for source in ("segment", "rudderstack"):
        mobile = source == "rudderstack"
        device = ", context_device_id varchar" if mobile else ""
        con.execute(f"create schema {source}")
        con.execute(f"""create table {source}.tracks (id varchar, anonymous_id varchar, user_id varchar,
            event varchar, "timestamp" timestamptz, received_at timestamptz, uuid_ts timestamptz,
            context_page_url varchar{device})""")
        con.execute(f"""create table {source}.pages (id varchar, anonymous_id varchar, user_id varchar,
            url varchar, path varchar, "timestamp" timestamptz, received_at timestamptz
            {", uuid_ts timestamptz" if mobile else ""})""")
        con.execute(f"""create table {source}.identifies (id varchar, anonymous_id varchar, user_id varchar,
            "timestamp" timestamptz, received_at timestamptz, uuid_ts timestamptz{device})""")
        for row in TRACKS[source]:
            id_, anon, user, event, ts, uuid_ts, device_id = row
            values = [id_, anon, user, event, ts, ts, uuid_ts, "https://shop.example/p"] + ([device_id] if mobile else [])
            con.execute(f"insert into {source}.tracks values ({', '.join('?' * len(values))})", values)
        for id_, anon, user, url, path, ts, uuid_ts in PAGES[source]:
            values = [id_, anon, user, url, path, ts, ts] + ([uuid_ts] if mobile else [])
            con.execute(f"insert into {source}.pages values ({', '.join('?' * len(values))})", values)
        for id_, anon, user, ts, uuid_ts, device_id in IDENTIFIES[source]:
            values = [id_, anon, user, ts, ts, uuid_ts] + ([device_id] if mobile else [])
            con.execute(f"insert into {source}.identifies values ({', '.join('?' * len(values))})", values)
