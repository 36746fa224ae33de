"""A long play is read in segments of message_ids (activation.reader) with a ledger
checkpoint in between: it must read and deliver exactly what one query would."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from activation.config import load_config
from activation.engine import SyncOptions, sync
from activation.ledger import Ledger, PendingRow, Resolution
from activation.reader import QueueReader
from omniplay.warehouse import DuckDBWarehouse
from tests.activation.conftest import REPO, write_destinations
from tests.activation.queue import NOW, create_queue, row
from tests.activation.servers import start_webhook


def _queue() -> list[dict]:
    """Email, SMS and store rows, with a duplicate decision, a bad address and closed windows."""
    rows = [row(i) for i in range(14)] + [row(100 + i, channel="sms", destination="sms") for i in range(5)]
    rows += [row(200 + i, channel="store", destination="hook", payload={"product_name": f"Lamp {i % 3}"})
             for i in range(17)]
    rows += [row(300, address="broken"), row(301, not_after=NOW - timedelta(minutes=1)),
             row(302, not_before=NOW + timedelta(hours=2))]
    rows.append(dict(rows[10], decided_at=rows[10]["decided_at"] + timedelta(hours=1), payload='{"first_name": "New"}'))
    return rows


def _seed_ledger(wh, rows) -> None:
    """A previous run: two sent, one failed, one ambiguous, and two left pending by a crash."""
    ledger = Ledger(wh)
    ledger.ensure()
    ids = [r for r in rows if r["channel"] == "email"]
    rows_of = {r["message_id"]: r for r in ids}
    pending = [PendingRow(m, r["play_id"], r["profile_id"], r["channel"], r["destination"], "crashed")
               for m, r in list(rows_of.items())[:6]]
    now = NOW.replace(tzinfo=None)
    ledger.mark_pending(pending, "earlier", now)
    ledger.resolve([Resolution(pending[0].message_id, "sent", 1), Resolution(pending[1].message_id, "sent", 1),
                    Resolution(pending[2].message_id, "failed", 1, error_code="boom"),
                    Resolution(pending[3].message_id, "ambiguous", 1)], "earlier", now)


def _rows(reader, **kwargs) -> list[tuple]:
    return sorted(((r["message_id"] or "", r["payload"], r["ledger_status"])
                   for b in reader.record_batches(3, **kwargs) for r in b.to_pylist()))


@pytest.mark.parametrize("seeded", [True, False], ids=["ledger", "empty_ledger"])
@pytest.mark.parametrize("segment_rows", [1, 4, 100])
def test_segments_read_every_open_row_once_in_message_id_order(tmp_path, segment_rows, seeded):
    with DuckDBWarehouse.open(str(tmp_path / "wh.duckdb")) as wh:
        rows = _queue()
        rows.append(dict(row(400), message_id=None))  # read like any row (the gate blocks such a play)
        create_queue(wh, rows)
        if seeded:
            _seed_ledger(wh, rows)
        else:
            Ledger(wh).ensure()
        reader = QueueReader(wh)
        whole = _rows(reader)
        segments: list[list[str]] = [[]]
        for batch in reader.record_batches(3, segment_rows, lambda: segments.append([])):
            segments[-1].extend(m or "" for m in batch.column("message_id").to_pylist())
        assert sorted(m for s in segments for m in s) == [m for m, _, _ in whole]
        assert len(whole) == reader.count() == len(rows) - 1 - 4 * seeded  # a duplicate, 2 sent and 2 pending
        assert [len(s) for s in segments[:-1]] == [segment_rows] * (len(segments) - 1)
        assert "" in segments[-1] and len(segments[-1]) <= segment_rows + 1  # the row without an id comes last
        ids = [[m for m in s if m] for s in segments]
        assert all(max(a) < min(b) for a, b in zip(ids, ids[1:]) if a and b)
        assert _rows(reader, segment_rows=segment_rows) == whole
        assert "New" in dict((m, p) for m, p, _ in whole)[rows[10]["message_id"]]


def _sync(tmp_path, name, segment_rows, monkeypatch):
    """Sync the queue after the seeded crash (outbox, and a store webhook on the set-based path)."""
    project = tmp_path / name
    (project / "activation").mkdir(parents=True)
    shutil.copytree(tmp_path / "templates", project / "activation" / "templates")
    server, state, url = start_webhook()
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", state.secret.decode())
    write_destinations(project, f"""
        email: {{type: outbox, batch_size: 3, settings: {{dir: out}}}}
        sms: {{type: outbox, settings: {{dir: out}}}}
        hook: {{type: store_webhook, batch_size: 4, max_concurrency: 2,
                settings: {{url: '{url}', secret: '${{TEST_WEBHOOK_SECRET}}'}}}}
    """)
    try:
        with DuckDBWarehouse.open(str(project / "wh.duckdb")) as wh:
            rows = _queue()
            create_queue(wh, rows)
            _seed_ledger(wh, rows)
            options = SyncOptions(read_batch_size=3, segment_rows=segment_rows)
            first = sync(wh, load_config(project), options, clock=lambda: NOW, sleep=lambda s: None)
            again = sync(wh, load_config(project), options, clock=lambda: NOW, sleep=lambda s: None)
            ledger = sorted(wh.fetchall("select message_id, status, attempts, error_code from omniplay_state.sends"))
    finally:
        server.shutdown()
        server.server_close()
    files = sorted(str(p.relative_to(project / "out")) for p in (project / "out").rglob("*.*"))
    assert state.bad_signatures == 0 and max(state.delivered().values()) == 1
    return first, again, ledger, files, sorted(state.delivered())


def test_a_segmented_sync_delivers_and_records_what_one_query_does(tmp_path, monkeypatch):
    shutil.copytree(REPO / "activation" / "templates", tmp_path / "templates")
    whole = _sync(tmp_path, "whole", None, monkeypatch)
    parts = _sync(tmp_path, "segments", 4, monkeypatch)
    strip = lambda s: {k: v for k, v in s.as_dict().items() if k != "run_id"}  # noqa: E731
    assert strip(parts[0]) == strip(whole[0]) and parts[0].adds_up()
    assert parts[0].reconciled_resent == 2 and parts[0].total("sent") == len(whole[3]) + len(whole[4]) == 33
    assert strip(parts[1]) == strip(whole[1]) and parts[1].total("sent") == 0
    assert parts[2:] == whole[2:]
    assert len(parts[4]) == 17
