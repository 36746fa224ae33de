"""`omniplay run` as a scheduler calls it: real subprocesses on a copy of the real build.

Exit codes (DESIGN.md): 2 bad config, 3 a gate blocked a play, 4 messages failed
permanently, 5 another run holds the target's lock; and never a message sent twice.
"""

from __future__ import annotations

import shutil
import socket
import time
from pathlib import Path

import duckdb

from omniplay.lock import TargetLock
from tests.activation.servers import start_smtp
from tests.cli.conftest import Workspace
from tests.support.dbt import PROJECT_DIR

DEFAULT_DESTINATIONS = (PROJECT_DIR / "activation" / "destinations.yml").read_text(encoding="utf-8")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _email_via_smtp(port: int) -> str:
    """The default destinations with `email` pointed at an SMTP server, one attempt only."""
    smtp = (f"  email:\n    type: smtp\n    max_attempts: 1\n    backoff_initial: 0.01\n"
            f"    settings:\n      host: 127.0.0.1\n      port: {port}\n")
    head, tail = DEFAULT_DESTINATIONS.split("  email:\n", 1)
    return head + smtp + tail[tail.index("  sms:\n"):]


def _sent_twice(ws: Workspace) -> int:
    return ws.scalar("select count(*) from omniplay_state.sends where status = 'sent' and attempts <> 1")


def test_concurrent_runs_one_exits_5_and_nothing_is_sent_twice(workspace: Workspace):
    first = workspace.popen("run", "--skip-build")
    deadline = time.monotonic() + 120
    while f'"pid": {first.pid}' not in (workspace.lock_file.read_text() if workspace.lock_file.exists() else ""):
        assert first.poll() is None, f"first run ended before taking the lock: {first.communicate()}"
        assert time.monotonic() < deadline, "first run never took the lock"
        time.sleep(0.01)
    second = workspace.omniplay("run", "--skip-build")
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert second.returncode == 5, second.stderr
    reason = second.stderr.strip().splitlines()[-1]
    assert reason.startswith("omniplay: ") and "locked by another omniplay run" in reason
    assert f"pid {first.pid}" in reason and "'omniplay run'" in reason

    ledger = workspace.ledger()
    emails, sms = workspace.outbox_files("email"), workspace.outbox_files("sms")
    assert ledger["sent"] > 0 and ledger.get("pending", 0) == 0
    assert workspace.scalar("select count(*) from omniplay_state.sends where status = 'sent' "
                            "and channel in ('email', 'sms')") == len(emails) + len(sms)
    assert _sent_twice(workspace) == 0
    assert workspace.scalar("select count(distinct run_id) from omniplay_state.runs") == 1
    assert workspace.query("select exit_code from omniplay_state.pipeline_runs") == [(0,)]

    again = workspace.omniplay("run", "--skip-build")  # same now: nothing is due, nothing re-sent
    assert again.returncode == 0, again.stderr
    assert "no play was due" in again.stdout
    assert workspace.ledger() == ledger and _sent_twice(workspace) == 0
    assert workspace.outbox_files("email") == emails


def test_lock_held_exits_5_for_run_sync_and_retry_but_not_a_dry_run(workspace: Workspace):
    with TargetLock(workspace.lock_file, target="duckdb", command="omniplay test-holder"):
        for args in (("run", "--skip-build"), ("sync", "--due"), ("sync",), ("retry",)):
            done = workspace.omniplay(*args)
            assert done.returncode == 5, (args, done.stderr)
            assert "'omniplay test-holder'" in done.stderr and "Wait for it to finish" in done.stderr, args
        dry = workspace.omniplay("sync", "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert "dry run: nothing sent or written" in dry.stdout
    assert workspace.ledger() == {} and not workspace.outbox_files("email")


def test_gate_block_exits_3_and_the_other_plays_go_out(workspace: Workspace):
    blocked = "wishlist_back_in_stock"
    with duckdb.connect(str(workspace.db)) as con:  # plant a duplicate message_id in one play
        con.execute("insert into activation.activation_queue select * from activation.activation_queue "
                    "where play_id = ? limit 1", [blocked])
    done = workspace.omniplay("run", "--skip-build")
    assert done.returncode == 3, done.stderr
    reason = done.stderr.strip().splitlines()[-1]
    assert reason.startswith("omniplay: the quality gate blocked 1 play(s)") and blocked in reason
    assert f"blocked {blocked}" in " ".join(done.stdout.split())
    plays_sent = {p for (p,) in workspace.query("select distinct play_id from omniplay_state.sends")}
    assert blocked not in plays_sent and len(plays_sent) >= 2
    assert workspace.query("select exit_code, blocked_plays from omniplay_state.pipeline_runs") == [(3, blocked)]


def test_permanent_failures_exit_4_then_retry_resends_each_exactly_once(workspace: Workspace):
    workspace.write_destinations(_email_via_smtp(_closed_port()))
    done = workspace.omniplay("run", "--skip-build")
    assert done.returncode == 4, done.stderr
    reason = done.stderr.strip().splitlines()[-1]
    failed = workspace.ledger()["failed"]
    assert reason == f"omniplay: {failed} message(s) failed permanently"
    assert failed == workspace.scalar("select count(*) from omniplay_state.sends where channel = 'email'")
    assert workspace.outbox_files("sms"), "the other channels still went out"

    status = workspace.omniplay("status")
    assert status.returncode == 0, status.stderr
    text = " ".join(status.stdout.split())
    assert "pipeline runs (omniplay run)" in text and "sync runs per play" in text
    assert f"failed {failed}" in text and "DeliveryFailed" in text

    server = start_smtp()  # the destination recovers
    try:
        workspace.write_destinations(_email_via_smtp(server.port))
        retried = workspace.omniplay("retry")
        assert retried.returncode == 0, retried.stderr
        assert f"retrying {failed} failed message(s)" in retried.stdout
        again = workspace.omniplay("retry")
        assert again.returncode == 0, again.stderr
        assert "no failed messages to retry" in again.stdout
        sync = workspace.omniplay("sync", "--due")  # nor does the next dispatch re-send them
        assert sync.returncode == 0, sync.stderr
        received = server.recorder.parsed()
    finally:
        server.controller.stop()
    assert len(received) == failed
    assert len({m["Message-ID"] for m in received}) == failed
    assert workspace.ledger().get("failed", 0) == 0
    assert workspace.scalar("select count(*) from omniplay_state.sends where channel = 'email' "
                            "and status = 'sent' and attempts = 2") == failed  # one failed try, one good
    assert not workspace.query("select * from information_schema.tables where table_name = 'retry_queue'")


def test_bad_destinations_file_exits_2_before_anything_runs(workspace: Workspace):
    path = workspace.write_destinations("destinations:\n  email:\n    type: outbox\n    max_attempts: 0\n")
    for args in (("run", "--skip-build"), ("sync",)):
        done = workspace.omniplay(*args)
        assert done.returncode == 2, (args, done.stderr)
        reason = done.stderr.strip().splitlines()[-1]
        assert str(path) in reason and "destinations.email.max_attempts" in reason, reason
    assert workspace.ledger() == {} and not workspace.outbox_files("email")
    assert workspace.query("select stage, exit_code from omniplay_state.pipeline_runs") == [("build", 2)]


def test_broken_play_yaml_exits_2_naming_file_and_field(workspace: Workspace, tmp_path: Path):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copyfile(PROJECT_DIR / name, project / name)
    for name in ("models", "macros", "seeds", "activation"):
        shutil.copytree(PROJECT_DIR / name, project / name)
    play = project / "models" / "audiences" / "aud_wishlist_back_in_stock.yml"
    text = play.read_text(encoding="utf-8")
    assert "timezone: Europe/Berlin" in text
    play.write_text(text.replace("timezone: Europe/Berlin", "timezone: Mars/Olympus_Mons", 1), encoding="utf-8")
    done = workspace.omniplay("run", "--skip-build", OMNIPLAY_PROJECT_DIR=str(project))
    assert done.returncode == 2, done.stderr
    reason = done.stderr.strip().splitlines()[-1]
    assert "aud_wishlist_back_in_stock.yml" in reason and "schedule.timezone" in reason, reason
    assert workspace.ledger() == {}
