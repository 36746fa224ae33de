"""Build activation queues in tests exactly as the contract (DESIGN.md) defines them."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta, timezone

import pyarrow as pa

from omniplay.warehouse import Warehouse

QUEUE_DDL = """
create table activation.activation_queue (
    message_id varchar,
    run_date date,
    decided_at timestamp,
    play_id varchar,
    play_version varchar,
    profile_id varchar,
    channel varchar,
    destination varchar,
    address varchar,
    recipient_timezone varchar,
    not_before timestamp,
    not_after timestamp,
    template varchar,
    payload {json}
)
"""
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def message_id(play_id: str, profile_id: str, period: str = "2026-11-22") -> str:
    return hashlib.sha256(f"{play_id}|{profile_id}|{period}".encode()).hexdigest()[:32]


def row(profile: int, *, play_id: str = "winback", channel: str = "email", destination: str = "email",
        address: str | None = None, template: str = "default", payload: dict | None = None,
        not_before: datetime | None = None, not_after: datetime | None = None, **extra) -> dict:
    """One queue row with sensible defaults for profile number `profile`."""
    profile_id = f"p{profile:07d}"
    if address is None:
        address = {"email": f"user{profile}@example.com", "sms": f"+1415555{profile % 10000:04d}",
                   "store": f"S{profile % 5 + 1:03d}"}[channel]
    base = {
        "message_id": message_id(play_id, profile_id),
        "run_date": date(2026, 11, 22),
        "decided_at": datetime(2026, 11, 22, 6, 0),
        "play_id": play_id,
        "play_version": "v1",
        "profile_id": profile_id,
        "channel": channel,
        "destination": destination,
        "address": address,
        "recipient_timezone": "America/New_York",
        "not_before": (not_before or NOW - timedelta(hours=1)).replace(tzinfo=None),
        "not_after": (not_after or NOW + timedelta(days=2)).replace(tzinfo=None),
        "template": template,
        "payload": json.dumps(payload if payload is not None else {"first_name": f"Ann{profile}"}),
    }
    base.update(extra)
    return base


def create_queue(wh: Warehouse, rows: list[dict], replace: bool = True) -> None:
    """(Re)create activation.activation_queue holding `rows`."""
    wh.execute("create schema if not exists activation")
    if replace:
        wh.execute("drop table if exists activation.activation_queue")
        wh.execute(QUEUE_DDL.format(json="json" if wh.dialect == "duckdb" else "jsonb"))
    if not rows:
        return
    columns = list(rows[0])
    table = pa.table({c: [r[c] for r in rows] for c in columns})
    if wh.dialect == "duckdb":
        wh._con.register("_queue_rows", table)  # noqa: SLF001 - test helper
        wh.execute(f"insert into activation.activation_queue ({', '.join(columns)}) "
                   f"select {', '.join(columns)} from _queue_rows")
        wh._con.unregister("_queue_rows")  # noqa: SLF001
    else:
        from psycopg2.extras import execute_values

        with wh._con.cursor() as cur:  # noqa: SLF001
            execute_values(cur, f"insert into activation.activation_queue ({', '.join(columns)}) values %s",
                           [tuple(r[c] for c in columns) for r in rows])


def create_generated_queue(wh: Warehouse, n: int, *, play_id: str = "bulk", channel: str = "email",
                           destination: str = "email") -> None:
    """A large queue generated inside DuckDB (no Python rows), for scale tests and benchmarks."""
    wh.execute("create schema if not exists activation")
    wh.execute("drop table if exists activation.activation_queue")
    address = {"email": "'user' || i || '@example.com'",
               "sms": "'+1415' || lpad(cast(1000000 + i % 9000000 as varchar), 7, '0')",
               "store": "'S' || lpad(cast(i % 50 + 1 as varchar), 3, '0')"}[channel]
    wh.execute(f"""
        create table activation.activation_queue as
        select
            md5('{play_id}|' || i) as message_id,
            date '2026-11-22' as run_date,
            timestamp '2026-11-22 06:00:00' as decided_at,
            '{play_id}' as play_id,
            'v1' as play_version,
            'p' || lpad(cast(i as varchar), 9, '0') as profile_id,
            '{channel}' as channel,
            '{destination}' as destination,
            {address} as address,
            'Europe/London' as recipient_timezone,
            timestamp '2020-01-01 00:00:00' as not_before,
            timestamp '2100-01-01 00:00:00' as not_after,
            'default' as template,
            cast(json_object('first_name', 'Ann' || i, 'product_name', 'Lamp ' || (i % 97)) as json) as payload
        from range({n}) t(i)
    """)
