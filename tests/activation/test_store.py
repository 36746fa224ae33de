"""store_webhook against a receiver that verifies the HMAC and deduplicates; store_tasks files."""

from __future__ import annotations

import csv
import json

import pytest

from activation.destinations.store_webhook import sign
from activation.engine import SyncOptions, sync
from activation.ledger import Ledger, PendingRow
from tests.activation.queue import NOW, create_queue, row
from tests.activation.servers import start_webhook


def run(wh, cfg, **options):
    return sync(wh, cfg, SyncOptions(**options), clock=lambda: NOW, sleep=lambda s: None)


def store(i, **kw):
    kw.setdefault("payload", {"first_name": "Zoë", "last_name": "Müller", "loyalty_tier": "gold",
                              "product_name": "Lamp", "last_viewed_products": ["P1", "P2"], "cart": ["P3"]})
    return row(i, channel="store", **kw)


@pytest.fixture
def receiver(monkeypatch):
    server, state, url = start_webhook()
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", state.secret.decode())
    yield state, url
    server.shutdown()
    server.server_close()


def webhook_config(config_for, url, flow=""):
    return config_for(f"hook: {{type: store_webhook, {flow}settings: {{url: '{url}', "
                      f"secret: '${{TEST_WEBHOOK_SECRET}}'}}}}")


def test_signed_batches_with_per_item_results(warehouse, project, config_for, receiver):
    state, url = receiver
    rows = [store(i, destination="hook") for i in range(25)] + [store(99, destination="hook", address="S999")]
    create_queue(warehouse, rows)
    s = run(warehouse, webhook_config(config_for, url, "batch_size: 10, max_concurrency: 2, "))
    assert s.total("sent") == 25 and s.total("rejected") == 1
    assert state.requests == 3 and state.bad_signatures == 0
    assert state.delivered() == {r["message_id"]: 1 for r in rows[:25]}
    item = next(i for i in state.items if i["message_id"] == rows[0]["message_id"])
    assert item["store_id"] == rows[0]["address"] and item["content"]["talking_points"] == "Mention Lamp."
    codes = dict(warehouse.fetchall("select message_id, error_code from omniplay_state.sends where status='rejected'"))
    assert codes == {rows[-1]["message_id"]: "unknown_store"}


def test_wrong_secret_is_fatal(warehouse, project, config_for, receiver, monkeypatch):
    state, url = receiver
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", "not-the-secret")
    create_queue(warehouse, [store(i, destination="hook") for i in range(3)])
    s = run(warehouse, webhook_config(config_for, url))
    assert s.total("failed") == 3 and "401" in s.stopped["winback"]
    assert state.bad_signatures == 1 and not state.items


def test_a_replayed_batch_is_answered_from_the_idempotency_cache(warehouse, project, config_for, receiver):
    state, url = receiver
    rows = [store(i, destination="hook") for i in range(4)]
    create_queue(warehouse, rows)
    cfg = webhook_config(config_for, url)
    assert run(warehouse, cfg).total("sent") == 4
    # A crash after the POST but before the ledger update leaves the batch pending with its id.
    batch_id = warehouse.fetchall("select distinct batch_id from omniplay_state.sends")[0][0]
    Ledger(warehouse).mark_pending([PendingRow(r["message_id"], r["play_id"], r["profile_id"], "store", "hook",
                                               batch_id) for r in rows], "crashed", NOW.replace(tzinfo=None))
    s = run(warehouse, cfg)
    assert s.reconciled_resent == 4 and s.total("sent") == 4
    assert state.replays == 1 and state.delivered() == {r["message_id"]: 1 for r in rows}


def test_5xx_is_retried(warehouse, project, config_for, receiver):
    state, url = receiver
    state.fail_next = 2
    create_queue(warehouse, [store(i, destination="hook") for i in range(3)])
    assert run(warehouse, webhook_config(config_for, url)).total("sent") == 3
    assert state.requests == 3


def test_signature_is_hmac_sha256_of_the_body():
    # RFC 4231 test case 2.
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert sign(b"Jefe", b"what do ya want for nothing?") == f"sha256={expected}"


def tasks_config(config_for, capacity=2, extra=""):
    return config_for(f"tasks: {{type: store_tasks, settings: {{dir: tasks, daily_capacity: {capacity}{extra}}}}}")


def test_store_tasks_respect_capacity_by_priority(warehouse, project, config_for):
    # Store S001, recipient zone America/New_York: 12:00 UTC is 07:00 on the 22nd there.
    rows = [store(i, destination="tasks", address="S001",
                  payload={"first_name": f"C{i}", "priority": p, "wishlist": ["P9"], "loyalty_tier": "gold"})
            for i, p in enumerate([50, 10, 30, 10])]
    rows.append(store(10, destination="tasks", address="S002"))
    create_queue(warehouse, rows)
    s = run(warehouse, tasks_config(config_for))
    assert s.total("sent") == 3 and s.total("deferred") == 2 and s.reasons[("deferred", "store_capacity")] == 2
    day = project / "tasks" / "2026-11-22"
    doc = json.loads((day / "S001.json").read_text())
    assert [t["customer_name"] for t in doc["tasks"]] == ["C1", "C3"]  # the two priority-10 tasks
    assert doc["tasks"][0]["recent_context"]["wishlist"] == ["P9"]
    with open(day / "S001.csv", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [line["customer_name"] for line in lines] == ["C1", "C3"] and lines[0]["wishlist"] == "P9"
    s002 = json.loads((day / "S002.json").read_text())["tasks"]
    assert s002[0]["customer_name"] == "Zoë Müller" and s002[0]["recent_context"]["cart"] == ["P3"]
    # Deferred tasks are not in the ledger; the same day they stay deferred (capacity is used up).
    s = run(warehouse, tasks_config(config_for))
    assert s.total_planned == 2 and s.total("deferred") == 2
    # With more room they go out, and the earlier tasks are not duplicated.
    s = run(warehouse, tasks_config(config_for, capacity=10))
    assert s.total("sent") == 2
    doc = json.loads((day / "S001.json").read_text())
    assert sorted(t["customer_name"] for t in doc["tasks"]) == ["C0", "C1", "C2", "C3"]


def test_store_tasks_resend_after_crash_adds_no_duplicate(warehouse, project, config_for):
    rows = [store(i, destination="tasks", address="S001") for i in range(3)]
    create_queue(warehouse, rows)
    cfg = tasks_config(config_for, capacity=5)
    assert run(warehouse, cfg).total("sent") == 3
    Ledger(warehouse).mark_pending([PendingRow(r["message_id"], r["play_id"], r["profile_id"], "store", "tasks", "b")
                                    for r in rows], "crashed", NOW.replace(tzinfo=None))
    s = run(warehouse, cfg)
    assert s.reconciled_resent == 3 and s.total("sent") == 3
    doc = json.loads((project / "tasks" / "2026-11-22" / "S001.json").read_text())
    assert len(doc["tasks"]) == 3
