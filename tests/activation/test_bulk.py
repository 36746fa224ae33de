"""The set-based path (activation.bulk) against its oracle, the per-row path: the same queue
synced both ways gives the same outcomes, reasons, ledger rows and delivered items."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activation.bulk import BulkPlanner
from activation.engine import SyncOptions, sync
from activation.ledger import Ledger, Resolution, PendingRow
from omniplay.warehouse import DuckDBWarehouse
from tests.activation.conftest import write_template
from tests.activation.queue import NOW, create_queue, row
from tests.activation.servers import start_webhook


def _templates(project) -> None:
    write_template(project, "points", """
        variants:
          store: {talking_points: "Mention {{ product_name }} to {{ first_name | default('them') }} ({{ play_id }})."}
    """)
    write_template(project, "points_fb", """
        variants:
          store: {talking_points: "Mention {{ product_name }}."}
        fallback:
          store: {talking_points: "Say hello."}
    """)


def _sync(tmp_path, name, config_for, rows, monkeypatch, bulk: bool, seed=None, item_ids=True):
    server, state, url = start_webhook()
    state.item_ids = item_ids
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", state.secret.decode())
    planned = []
    original = BulkPlanner._batches

    def spy(self):
        batches, identities = original(self)
        planned.extend(b.size for b in batches)
        return batches, identities

    with monkeypatch.context() as patch:
        patch.setattr(BulkPlanner, "_batches", spy)
        if not bulk:
            patch.setattr(BulkPlanner, "eligible", staticmethod(lambda destination: False))
        wh = DuckDBWarehouse.open(str(tmp_path / f"{name}.duckdb"))
        try:
            create_queue(wh, rows)
            if seed:
                seed(wh)
            cfg = config_for(f"hook: {{type: store_webhook, batch_size: 4, max_concurrency: 2, settings: "
                             f"{{url: '{url}', secret: '${{TEST_WEBHOOK_SECRET}}'}}}}")
            summary = sync(wh, cfg, SyncOptions(), clock=lambda: NOW, sleep=lambda s: None)
            ledger = {m: (s, c, a) for m, s, c, a in wh.fetchall(
                "select message_id, status, error_code, attempts from omniplay_state.sends")}
        finally:
            wh.close()
            server.shutdown()
            server.server_close()
    items = {i["message_id"]: {k: v for k, v in i.items()} for i in state.items}
    assert state.bad_signatures == 0 and max(state.delivered().values(), default=1) == 1
    return summary, ledger, items, sum(planned)


def _compare(tmp_path, config_for, rows, monkeypatch, seed=None, expect_bulk=True, item_ids=True):
    fast = _sync(tmp_path, "bulk", config_for, rows, monkeypatch, True, seed, item_ids)
    slow = _sync(tmp_path, "rows", config_for, rows, monkeypatch, False, seed, item_ids)
    assert fast[0].as_dict()["totals"] == slow[0].as_dict()["totals"]
    assert fast[0].reasons == slow[0].reasons and fast[0].fallbacks == slow[0].fallbacks
    assert fast[0].adds_up()
    assert fast[1] == slow[1]
    assert fast[2] == slow[2]
    assert slow[3] == 0 and (fast[3] > 0) == expect_bulk
    return fast


@pytest.mark.parametrize("item_ids", [True, False], ids=["ids_per_item", "batch_id_stands"])
def test_mixed_queue_same_outcomes_both_ways(tmp_path, project, config_for, monkeypatch, item_ids):
    _templates(project)

    def store(i, **kw):
        kw.setdefault("payload", {"first_name": f"Ann{i}", "product_name": f"Lamp {i % 3}"})
        kw.setdefault("template", "points")
        kw.setdefault("destination", "hook")
        return row(i, channel="store", play_id=kw.pop("play", "winback"), **kw)

    rows = [store(i) for i in range(10)] + [store(i, play="second") for i in range(10, 14)] + [
        store(20, address="!!"),  # invalid store id
        store(21, address="S 1"),  # the per-row check accepts it: so must the set-based path (it defers)
        store(22, not_after=NOW - timedelta(minutes=1)),  # expired
        store(23, not_before=NOW + timedelta(hours=1)),  # deferred
        dict(store(24), payload="[1, 2]"),  # not an object
        store(25, payload={"product_name": 7}),  # an int renders as the per-row path does
        store(26, payload={"product_name": 1.5}),  # a float: per-row path
        store(27, payload={"product_name": True}),  # a bool: per-row path
        store(28, payload={"product_name": 'Lamp "Zoë" \\ ü\n', "first_name": None}),
        store(29, template="no_such_template"),
        store(30, template="points_fb", payload={}),  # variant fails, fallback used and recorded
        store(31, payload={}),  # variant fails, no fallback: rejected
        store(32, destination="nowhere"),
        row(33, channel="email", destination="hook"),  # not a store row: per-row path
        store(34, address="S999"),  # the receiver rejects this item
        dict(store(35), payload=None),
        store(36),  # failed in an earlier run: per-row path, attempts add up
    ]

    def seed(wh):
        ledger = Ledger(wh)
        ledger.ensure()
        r = rows[-1]
        ledger.resolve([Resolution(r["message_id"], "failed", 3, None, "http_503", "busy")], "earlier",
                       NOW.replace(tzinfo=None),
                       {r["message_id"]: PendingRow(r["message_id"], r["play_id"], r["profile_id"], "store", "hook",
                                                    None)})

    summary, ledger, items, planned = _compare(tmp_path, config_for, rows, monkeypatch, seed, item_ids=item_ids)
    assert planned == 17  # the good store rows, S 1 aside, plus S999
    totals = summary.as_dict()["totals"]
    assert totals["expired"] == 1 and totals["deferred"] == 1 and summary.fallbacks == 1
    assert ledger[rows[-1]["message_id"]] == ("sent", None, 4)
    assert ledger[rows[-3]["message_id"]][:2] == ("rejected", "unknown_store")
    assert items[rows[0]["message_id"]]["content"] == {"talking_points": "Mention Lamp 0 to Ann0 (winback)."}


payload_values = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20),
                           st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(payloads=st.lists(st.dictionaries(st.sampled_from(["product_name", "first_name", "other"]), payload_values),
                         min_size=1, max_size=8))
def test_any_payload_values_same_outcomes_both_ways(tmp_path_factory, project, config_for, monkeypatch, payloads):
    _templates(project)
    rows = [row(i, channel="store", destination="hook", template="points" if i % 2 else "points_fb",
                payload=p) for i, p in enumerate(payloads)]
    _compare(tmp_path_factory.mktemp("bulk"), config_for, rows, monkeypatch,
             expect_bulk=any(_plain(p, ("product_name", "first_name") if i % 2 else ("product_name",))
                             for i, p in enumerate(payloads)))


def _plain(payload: dict, variables: tuple[str, ...]) -> bool:
    """Whether the set-based path takes the row: the variant renders, from plain values only."""
    return "product_name" in payload and all(type(payload[v]) in (str, int, type(None))
                                             for v in variables if v in payload)


@pytest.mark.parametrize("size", [1, 3, 10])
def test_batches_hold_at_most_batch_size_and_every_message_once(tmp_path, project, config_for, monkeypatch, size):
    rows = [row(i, channel="store", destination="hook", payload={"product_name": "Lamp"}) for i in range(size)]
    server, state, url = start_webhook()
    state.item_ids = False
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", state.secret.decode())
    wh = DuckDBWarehouse.open(str(tmp_path / "wh.duckdb"))
    try:
        create_queue(wh, rows)
        cfg = config_for(f"hook: {{type: store_webhook, batch_size: 4, settings: "
                         f"{{url: '{url}', secret: '${{TEST_WEBHOOK_SECRET}}'}}}}")
        assert sync(wh, cfg, SyncOptions(), clock=lambda: NOW).total("sent") == size
        batches = wh.fetchall("select batch_id, count(*) from omniplay_state.sends group by 1")
        assert wh.fetchall("select count(*) from omniplay_state.sends where provider_message_id = batch_id "
                           "and status = 'sent' and attempts = 1 and finished_at is not null")[0][0] == size
    finally:
        wh.close()
        server.shutdown()
        server.server_close()
    assert state.requests == len(batches) == -(-size // 4) and all(n <= 4 for _, n in batches)
    assert state.delivered() == {r["message_id"]: 1 for r in rows}
    assert all(json.loads(json.dumps(i))["content"]["talking_points"] == "Mention Lamp." for i in state.items)
