"""Crash safety: `omniplay sync` is killed with SIGKILL mid-delivery, then synced again.

Outbox and webhook (destinations that deduplicate) must end with every message
delivered exactly once; SMTP (which cannot) must lose none and duplicate none, with
the interrupted messages reported as ambiguous and no more of them than were in flight.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest

from activation.config import load_config
from activation.engine import DEFAULT_SEGMENT_ROWS, SyncOptions, sync
from omniplay.warehouse import DuckDBWarehouse
from tests.activation.conftest import REPO, write_destinations
from tests.activation.queue import create_queue, row
from tests.activation.servers import start_smtp, start_webhook

pytestmark = pytest.mark.slow

MESSAGES = 120
BATCH, WORKERS = 10, 2
IN_FLIGHT = 2 * WORKERS * BATCH  # at most two batches per worker pending where re-sending is unsafe
TRIALS = {"outbox": 8, "webhook": 6, "smtp": 8, "smtp_processes": 4}
SEGMENT_ROWS = 25
OPEN = dict(not_before=datetime(2020, 1, 1, tzinfo=timezone.utc), not_after=datetime(2100, 1, 1, tzinfo=timezone.utc))


def _kill_mid_flight(project: Path, db: Path, delivered_count, target: int, segment_rows: int) -> bool:
    """Start the sync and SIGKILL it once `target` messages arrived; True if it was killed."""
    env = dict(os.environ, OMNIPLAY_DUCKDB_PATH=str(db), OMNIPLAY_TARGET="duckdb",
               OMNIPLAY_SYNC_SEGMENT_ROWS=str(segment_rows))
    env.pop("OMNIPLAY_DESTINATIONS_FILE", None)
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "sync", "--project-dir", str(project), "--json"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if delivered_count() >= target:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.returncode in (0, -signal.SIGKILL), err
    return proc.returncode == -signal.SIGKILL


def _trial(tmp: Path, kind: str, seed: int):
    rng = random.Random(seed)
    # Odd trials read the queue in segments (a checkpoint between them), so kills land there too.
    segment_rows = SEGMENT_ROWS if seed % 2 else DEFAULT_SEGMENT_ROWS
    project = tmp / f"{kind}-{seed}"
    (project / "activation").mkdir(parents=True)
    (project / "activation" / "templates").symlink_to(REPO / "activation" / "templates")
    db = project / "wh.duckdb"
    channel = "store" if kind == "webhook" else "email"
    processes = kind == "smtp_processes"  # the senders are forked processes (activation.senders)
    kind = "smtp" if processes else kind
    rows = [row(i, channel=channel, destination=kind, **OPEN) for i in range(MESSAGES)]
    with DuckDBWarehouse.open(str(db)) as wh:
        create_queue(wh, rows)
    flow = f"batch_size: {BATCH}, max_concurrency: {WORKERS}"
    server = None
    if kind == "outbox":
        write_destinations(project, f"outbox: {{type: outbox, {flow}, rate_limit: 300, settings: {{dir: out}}}}")
        out = project / "out" / "email"
        count = lambda: sum(1 for p in out.glob("*.eml")) if out.exists() else 0  # noqa: E731
    elif kind == "webhook":
        server, state, url = start_webhook()
        os.environ["TEST_CRASH_WEBHOOK_SECRET"] = state.secret.decode()
        write_destinations(project, f"webhook: {{type: store_webhook, {flow}, rate_limit: 30, "
                                    f"settings: {{url: '{url}', secret: '${{TEST_CRASH_WEBHOOK_SECRET}}'}}}}")
        count = lambda: len(state.items)  # noqa: E731
    else:
        server = start_smtp()
        write_destinations(project, f"smtp: {{type: smtp, {flow}, rate_limit: 300, worker_processes: {processes}, "
                                    f"settings: {{host: {server.host}, port: {server.port}}}}}")
        count = lambda: len(server.recorder.messages)  # noqa: E731
    try:
        target = rng.randint(1, MESSAGES - 1)
        killed = _kill_mid_flight(project, db, count, target, segment_rows)
        with DuckDBWarehouse.open(str(db)) as wh:
            summary = sync(wh, load_config(project), SyncOptions(segment_rows=segment_rows))
            ledger = dict(wh.fetchall("select message_id, status from omniplay_state.sends"))
        ids = {r["message_id"] for r in rows}
        assert summary.adds_up()
        if kind == "outbox":
            files = Counter(p.stem for p in (project / "out" / "email").glob("*.eml"))
            assert set(files) == ids and set(files.values()) == {1}
            assert set(ledger.values()) == {"sent"} and set(ledger) == ids
        elif kind == "webhook":
            assert state.bad_signatures == 0
            assert state.delivered() == {m: 1 for m in ids}, "exactly once through Idempotency-Key"
            assert set(ledger.values()) == {"sent"} and set(ledger) == ids
        else:
            received = server.recorder.recipients()
            by_address = {r["address"]: r["message_id"] for r in rows}
            got = {by_address[a] for a in received}
            assert max(received.values()) == 1, "an SMTP message was delivered twice"
            ambiguous = {m for m, s in ledger.items() if s == "ambiguous"}
            sent = {m for m, s in ledger.items() if s == "sent"}
            assert sent | ambiguous == ids, "every message is sent or reported ambiguous"
            assert sent <= got, "a message marked sent never arrived"
            assert ids - got <= ambiguous, "a message that never arrived is not reported"
            assert len(ambiguous) <= IN_FLIGHT
            assert summary.total("ambiguous") == len(ambiguous) == summary.reconciled_ambiguous
        return killed
    finally:
        if server is not None:
            if kind == "smtp":
                server.controller.stop()
            else:
                server.shutdown()
                server.server_close()


@pytest.mark.parametrize("kind", sorted(TRIALS))
def test_kill_minus_nine_mid_sync(tmp_path, kind):
    killed = 0
    for seed in range(TRIALS[kind]):
        killed += _trial(tmp_path, kind, seed)
    # The kill waits for a random number of deliveries below the total, so each trial dies mid-sync.
    assert killed == TRIALS[kind]
