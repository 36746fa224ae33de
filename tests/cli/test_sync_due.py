"""`omniplay sync --due` against the plays' real schedules, the clock pinned with OMNIPLAY_NOW.

The test build decides at its dataset's as_of, 2026-06-01T00:00Z (a Monday). Schedules
(models/audiences/*.yml): the winback play fires Mondays 09:00 Europe/Berlin (07:00Z);
high_intent_store_task's store tasks wait for store hours (not_before 08:00Z or later).
"""

from __future__ import annotations

from collections import Counter

from tests.cli.conftest import Workspace

WEEKLY = "lapsed_loyalty_winback"
DEFERRED = "high_intent_store_task"
DAILY = ("wishlist_back_in_stock", "new_loyalty_member_welcome", "event_badge_follow_up", "repeat_viewers_high_score")


def _runs(ws: Workspace) -> Counter:
    return Counter(dict(ws.query("select play_id, count(*) from omniplay_state.runs group by play_id")))


def _ledger_rows(ws: Workspace, play: str) -> dict[str, int]:
    return dict(ws.query("select status, count(*) from omniplay_state.sends where play_id = ? group by status", [play]))


def _due(ws: Workspace, now: str) -> str:
    done = ws.omniplay("sync", "--due", now=now)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_due_plays_deferred_release_and_catch_up_once(workspace: Workspace):
    ws = workspace
    weekly_rows = ws.scalar("select count(*) from activation.activation_queue where play_id = ?", [WEEKLY])
    deferred_rows = ws.scalar("select count(*) from activation.activation_queue where play_id = ? "
                              "and not_before > timestamp '2026-06-01 04:10'", [DEFERRED])
    assert weekly_rows and deferred_rows, "the test build has no rows for the plays this test follows"

    out = _due(ws, "2026-06-01T04:10:00Z")  # first dispatch: daily plays fired within 24h are due
    for play in DAILY:
        assert f"due {play}: due: first run" in out
    assert WEEKLY not in out  # its last fire (May 25) is older than the first-run lookback
    assert _ledger_rows(ws, WEEKLY) == {} and _ledger_rows(ws, DEFERRED) == {}
    assert "deferred" in out and _runs(ws)[DEFERRED] == 1

    out = _due(ws, "2026-06-01T06:00:00Z")  # before the weekly fire time
    assert WEEKLY not in out and _runs(ws)[WEEKLY] == 0

    out = _due(ws, "2026-06-01T07:05:00Z")  # after it: synced, once
    assert f"due {WEEKLY}: due: first run, fired at 2026-06-01T07:00:00Z" in out
    assert sum(_ledger_rows(ws, WEEKLY).values()) == weekly_rows
    ledger = ws.ledger()

    out = _due(ws, "2026-06-01T07:10:00Z")
    assert "no play is due" in out
    assert ws.ledger() == ledger and _runs(ws)[WEEKLY] == 1

    out = _due(ws, "2026-06-01T08:45:00Z")  # store hours: the deferred tasks are released
    assert f"due {DEFERRED}: deferred messages whose window is now open" in out
    assert _ledger_rows(ws, DEFERRED) == {"sent": deferred_rows}

    before = _runs(ws)
    out = _due(ws, "2026-06-04T09:00:00Z")  # three days of downtime
    for play in DAILY:
        assert f"due {play}: due: catching up once to" in out, play
    after = _runs(ws)
    assert all(after[play] == before[play] + 1 for play in DAILY), (before, after)

    out = _due(ws, "2026-06-04T09:00:00Z")
    assert "no play is due" in out and _runs(ws) == after
    # Expired messages never reach a destination (0 attempts); every sent one went out once.
    assert ws.scalar("select count(*) from omniplay_state.sends where status = 'sent' and attempts <> 1") == 0
    assert ws.scalar("select count(*) from omniplay_state.sends where status <> 'sent' and attempts <> 0") == 0


def test_due_with_play_only_syncs_that_play_if_due(workspace: Workspace):
    done = workspace.omniplay("sync", "--due", "--play", "wishlist_back_in_stock", "--json",
                              now="2026-06-01T04:10:00Z")
    assert done.returncode == 0, done.stderr
    assert "due wishlist_back_in_stock" in done.stderr
    assert {p for (p,) in workspace.query("select distinct play_id from omniplay_state.runs")} == {
        "wishlist_back_in_stock"}
    done = workspace.omniplay("sync", "--due", "--play", WEEKLY, "--json", now="2026-06-01T04:20:00Z")
    assert done.returncode == 0, done.stderr
    assert '"due": []' in done.stdout and "no play is due" in done.stderr
