"""The same engine on PostgreSQL: server-side cursor reader, ledger upserts, reconciliation."""

from __future__ import annotations

import pytest

from activation.engine import SyncOptions, sync
from activation.ledger import Ledger, PendingRow, ddl
from activation.reader import QueueReader
from omniplay.settings import Settings
from omniplay.warehouse import PostgresWarehouse, connect
from tests.activation.queue import NOW, create_queue, row


@pytest.fixture
def pg_warehouse(postgres_server, monkeypatch, tmp_path):
    database = postgres_server.create_database("omniplay_activation")
    for key, value in postgres_server.env(database).items():
        monkeypatch.setenv(key, value)
    wh = connect(Settings.from_env(tmp_path, target="postgres"))
    assert isinstance(wh, PostgresWarehouse)
    yield wh
    wh.close()


def run(wh, cfg, **options):
    return sync(wh, cfg, SyncOptions(**options), clock=lambda: NOW, sleep=lambda s: None)


@pytest.mark.parametrize("segment_rows", [None, 8], ids=["one_query", "segments"])
def test_sync_rerun_and_window_on_postgres(pg_warehouse, project, config_for, segment_rows):
    from datetime import timedelta

    rows = [row(i) for i in range(30)] + [row(40, address="bad")] + [
        row(41, not_after=NOW - timedelta(minutes=5)), row(42, not_before=NOW + timedelta(hours=1))]
    create_queue(pg_warehouse, rows)
    cfg = config_for()
    s = run(pg_warehouse, cfg, read_batch_size=7, segment_rows=segment_rows)
    assert (s.total("sent"), s.total("rejected"), s.total("expired"), s.total("deferred")) == (30, 1, 1, 1)
    assert s.adds_up()
    assert len(list((project / "out" / "email").glob("*.eml"))) == 30
    counts = dict(pg_warehouse.fetchall("select status, count(*) from omniplay_state.sends group by status"))
    assert counts == {"sent": 30, "rejected": 1, "expired": 1}
    again = run(pg_warehouse, cfg, segment_rows=segment_rows)
    assert again.total_planned == 1 and again.total("deferred") == 1  # only the deferred one is still open
    assert pg_warehouse.fetchall("select outcome, planned, sent from omniplay_state.runs order by started_at") == [
        ("success", 33, 30), ("success", 1, 0)]


def test_reader_streams_in_batches_with_a_server_side_cursor(pg_warehouse):
    create_queue(pg_warehouse, [row(i) for i in range(25)])
    reader = QueueReader(pg_warehouse, ledger_exists=False)
    sizes = [len(b) for b in reader.batches(10)]
    assert sizes == [10, 10, 5]
    assert reader.count() == 25
    segments = [0]
    ids = [m for b in reader.record_batches(4, 10, lambda: segments.append(0)) for m in b.column("message_id").to_pylist()]
    assert sorted(ids) == sorted(r["message_id"] for r in [row(i) for i in range(25)]) and len(segments) == 3


def test_reconcile_on_postgres(pg_warehouse, project, config_for, tmp_path):
    log = tmp_path / "log.jsonl"
    cfg = config_for(f"""
        email: {{type: outbox, settings: {{dir: out}}}}
        flaky: {{type: tests.activation.fakes.FlakyDestination, settings: {{log: {log}}}}}
    """)
    dedup = [row(i) for i in range(3)]
    unsafe = [row(10 + i, channel="sms", destination="flaky") for i in range(2)]
    create_queue(pg_warehouse, dedup + unsafe)
    ledger = Ledger(pg_warehouse)
    ledger.ensure()
    ledger.mark_pending([PendingRow(r["message_id"], r["play_id"], r["profile_id"], r["channel"], r["destination"],
                                    "b") for r in dedup + unsafe], "crashed", NOW.replace(tzinfo=None))
    s = run(pg_warehouse, cfg)
    assert s.reconciled_resent == 3 and s.reconciled_ambiguous == 2
    assert s.total("sent") == 3 and s.total("ambiguous") == 2
    assert not log.exists()


def test_state_ddl_is_idempotent(pg_warehouse):
    for _ in range(2):
        for statement in ddl("omniplay_state"):
            pg_warehouse.execute(statement)
    columns = pg_warehouse.fetchall(
        "select column_name from information_schema.columns where table_schema = 'omniplay_state' "
        "and table_name = 'sends' order by ordinal_position")
    assert [c[0] for c in columns][:9] == ["message_id", "status", "attempts", "provider_message_id", "error_code",
                                          "error_message", "first_attempt_at", "finished_at", "run_id"]


def test_set_based_webhook_batches_on_postgres(pg_warehouse, project, config_for, monkeypatch):
    """activation.bulk over rows streamed from PostgreSQL; its ledger writes in PostgreSQL."""
    from tests.activation.servers import start_webhook

    server, state, url = start_webhook()
    state.item_ids = False  # accepted items resolve by batch, in one statement
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", state.secret.decode())
    try:
        rows = [row(i, channel="store", destination="hook", payload={"product_name": "Lamp"}) for i in range(9)]
        rows.append(row(9, channel="store", destination="hook", address="S999", payload={"product_name": "Lamp"}))
        create_queue(pg_warehouse, rows)
        cfg = config_for(f"hook: {{type: store_webhook, batch_size: 4, settings: "
                         f"{{url: '{url}', secret: '${{TEST_WEBHOOK_SECRET}}'}}}}")
        s = run(pg_warehouse, cfg)
        again = run(pg_warehouse, cfg)
    finally:
        server.shutdown()
        server.server_close()
    assert (s.total("sent"), s.total("rejected")) == (9, 1) and again.total_planned == 0
    assert state.delivered() == {r["message_id"]: 1 for r in rows[:9]}
    ledger = {m: (st, a, b) for m, st, a, b in pg_warehouse.fetchall(
        "select message_id, status, attempts, batch_id from omniplay_state.sends")}
    assert {m: v[:2] for m, v in ledger.items()} == {
        **{r["message_id"]: ("sent", 1) for r in rows[:9]}, rows[9]["message_id"]: ("rejected", 1)}
    assert len({v[2] for v in ledger.values()}) == 3 == state.requests
