"""The engine against the outbox and a failure-injecting destination, on a real DuckDB file."""

from __future__ import annotations

from datetime import timedelta

import pytest

from activation.engine import OUTCOMES, SyncOptions, sync
from activation.ledger import Ledger, PendingRow
from tests.activation.conftest import write_template
from tests.activation.fakes import delivered
from tests.activation.queue import NOW, create_queue, message_id, row


def run(wh, cfg, clock=NOW, **options):
    return sync(wh, cfg, SyncOptions(**options), clock=lambda: clock, sleep=lambda s: None)


def ledger(wh) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in wh.fetchall(
        "select message_id, status, attempts, error_code, error_message from omniplay_state.sends")}


def outbox_files(project, channel="email"):
    folder = project / "out" / channel
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) if folder.exists() else []


def assert_adds_up(summary):
    totals = summary.as_dict()["totals"]
    assert totals["planned"] == sum(totals[o] for o in OUTCOMES)
    assert summary.adds_up()


def test_delivers_each_message_once_and_a_rerun_sends_nothing(warehouse, project, config_for):
    rows = [row(i) for i in range(25)] + [row(100 + i, channel="sms", destination="sms") for i in range(5)]
    create_queue(warehouse, rows)
    cfg = config_for()

    first = run(warehouse, cfg)
    assert first.total("sent") == 30 and first.total_planned == 30
    assert_adds_up(first)
    assert len(outbox_files(project, "email")) == 25 and len(outbox_files(project, "sms")) == 5
    statuses = ledger(warehouse)
    assert {v[0] for v in statuses.values()} == {"sent"} and len(statuses) == 30
    assert all(v[1] == 1 for v in statuses.values())  # one attempt each

    second = run(warehouse, cfg)
    assert second.total_planned == 0 and second.total("sent") == 0
    assert len(outbox_files(project, "email")) == 25

    runs = warehouse.fetchall("select outcome, planned, sent from omniplay_state.runs order by started_at")
    assert runs == [("success", 30, 30)]  # the empty re-run touched no play


def test_window_defers_then_sends_and_expires(warehouse, project, config_for):
    later = row(1, not_before=NOW + timedelta(hours=3), not_after=NOW + timedelta(hours=10))
    stale = row(2, not_before=NOW - timedelta(days=2), not_after=NOW - timedelta(minutes=1))
    create_queue(warehouse, [later, stale, row(3)])
    cfg = config_for()

    s = run(warehouse, cfg)
    assert (s.total("sent"), s.total("deferred"), s.total("expired")) == (1, 1, 1)
    assert_adds_up(s)
    states = ledger(warehouse)
    assert later["message_id"] not in states  # deferred leaves no trace: it is still to do
    assert states[stale["message_id"]][0] == "expired"
    assert f"{later['message_id']}.eml" not in outbox_files(project)

    s = run(warehouse, cfg, clock=NOW + timedelta(hours=4))
    assert s.total_planned == 1 and s.total("sent") == 1  # expired is final, never re-read
    assert ledger(warehouse)[later["message_id"]][0] == "sent"

    create_queue(warehouse, [row(4, not_after=NOW + timedelta(hours=1))])
    s = run(warehouse, cfg, clock=NOW + timedelta(hours=2))
    assert s.total("expired") == 1 and not (project / "out" / "email" / f"{row(4)['message_id']}.eml").exists()


def test_bad_rows_are_rejected_with_a_reason_and_the_rest_go_on(warehouse, project, config_for):
    write_template(project, "needs_product", """
        variants:
          email: {subject: "{{ product_name }}", text: "Buy {{ product_name }}"}
    """)
    write_template(project, "broken", """
        variants:
          email: {subject: "x", text: "{{ 1 / 0 }}"}
    """)
    rows = [
        row(1),
        row(2, address="not-an-email"),
        row(3, channel="sms", destination="sms", address="+12"),
        row(4, template="no_such_template"),
        row(5, template="needs_product"),  # payload lacks product_name, no fallback
        row(6, template="broken"),
        row(7, destination="carrier_pigeon"),
        dict(row(8), payload="[1, 2]"),
        row(9, channel="push", destination="sms", address="device-1"),
        dict(row(10), address=None),
        row(11),
    ]
    create_queue(warehouse, rows)
    s = run(warehouse, config_for())
    assert s.total("sent") == 2 and s.total("rejected") == 9, s.reasons
    assert_adds_up(s)
    by_id = ledger(warehouse)
    codes = {i: by_id[rows[i]["message_id"]][2] for i in range(1, 10)}
    assert codes == {
        1: "invalid_address", 2: "invalid_address", 3: "unknown_template", 4: "template_error",
        5: "template_error", 6: "unknown_destination", 7: "invalid_payload", 8: "channel_not_supported",
        9: "invalid_address",
    }
    assert "UndefinedError" in by_id[rows[4]["message_id"]][3]
    assert "not-an-email" not in str(by_id)  # reasons never repeat the address


def test_fallback_is_used_and_recorded_when_a_variant_fails(warehouse, project, config_for):
    write_template(project, "with_fallback", """
        variants:
          sms: {body: "{{ product_name }} is back"}
        fallback:
          sms: {body: "Something you liked is back"}
    """)
    create_queue(warehouse, [row(1, channel="sms", destination="sms", template="with_fallback"),
                             row(2, channel="sms", destination="sms", template="with_fallback",
                                 payload={"product_name": "Lamp"})])
    s = run(warehouse, config_for())
    assert s.total("sent") == 2 and s.fallbacks == 1
    bodies = sorted((project / "out" / "sms" / f).read_text() for f in outbox_files(project, "sms"))
    assert any("Something you liked is back" in b for b in bodies)
    assert any("Lamp is back" in b for b in bodies)


def test_duplicate_queue_rows_deliver_once(warehouse, project, config_for):
    r = row(1)
    newer = dict(r, decided_at=r["decided_at"] + timedelta(hours=1), payload='{"first_name": "Newest"}')
    create_queue(warehouse, [r, newer, row(2)])
    s = run(warehouse, config_for())
    assert s.total_planned == 2 and s.total("sent") == 2
    text = (project / "out" / "email" / f"{r['message_id']}.eml").read_text()
    assert "Newest" in text


def test_outbox_never_rewrites_an_existing_message(warehouse, project, config_for):
    r = row(1)
    create_queue(warehouse, [r])
    target = project / "out" / "email" / f"{r['message_id']}.eml"
    target.parent.mkdir(parents=True)
    target.write_text("already delivered")
    s = run(warehouse, config_for())
    assert s.total("sent") == 1 and target.read_text() == "already delivered"


def test_retries_then_sends_and_records_attempts(warehouse, project, config_for, tmp_path):
    log = tmp_path / "deliveries.jsonl"
    cfg = config_for(f"""
        flaky: {{type: tests.activation.fakes.FlakyDestination, max_attempts: 4,
                settings: {{log: {log}, retry_first: 2}}}}
    """)
    rows = [row(i, channel="sms", destination="flaky") for i in range(12)]
    create_queue(warehouse, rows)
    s = run(warehouse, cfg)
    assert s.total("sent") == 12
    assert sorted(delivered(log)) == sorted(r["message_id"] for r in rows)
    assert {v[1] for v in ledger(warehouse).values()} == {3}


def test_bounded_attempts_then_failed_and_retried_next_run(warehouse, project, config_for, tmp_path):
    log = tmp_path / "deliveries.jsonl"
    body = f"flaky: {{type: tests.activation.fakes.FlakyDestination, max_attempts: 3, settings: {{log: {log}, raise_retriable_first: 100}}}}"
    cfg = config_for(body)
    create_queue(warehouse, [row(i, channel="sms", destination="flaky") for i in range(5)])
    s = run(warehouse, cfg)
    assert s.total("failed") == 5 and delivered(log) == []
    assert_adds_up(s)
    states = ledger(warehouse)
    assert {v[0] for v in states.values()} == {"failed"} and {v[1] for v in states.values()} == {3}
    assert "503" in next(iter(states.values()))[3]
    assert warehouse.fetchall("select outcome from omniplay_state.runs") == [("partial",)]

    cfg = config_for(f"flaky: {{type: tests.activation.fakes.FlakyDestination, settings: {{log: {log}}}}}")
    s = run(warehouse, cfg)
    assert s.total_planned == 5 and s.total("sent") == 5  # failed is retried by the next sync
    assert {v[1] for v in ledger(warehouse).values()} == {4}


def test_fatal_error_stops_the_play_and_other_plays_go_on(warehouse, project, config_for, tmp_path):
    log = tmp_path / "deliveries.jsonl"
    cfg = config_for(f"""
        flaky: {{type: tests.activation.fakes.FlakyDestination, max_concurrency: 1, batch_size: 5,
                settings: {{log: {log}, fatal_on_call: 1}}}}
        email: {{type: outbox, settings: {{dir: out}}}}
    """)
    rows = [row(i, play_id="p_sms", channel="sms", destination="flaky") for i in range(30)] + [row(100 + i) for i in range(5)]
    create_queue(warehouse, rows)
    s = run(warehouse, cfg)
    assert "p_sms" in s.stopped and "401" in s.stopped["p_sms"]
    per_play = s.per_play()
    assert per_play["p_sms"]["failed"] == 30 and per_play["p_sms"]["sent"] == 0
    assert per_play["winback"]["sent"] == 5
    assert_adds_up(s)
    outcomes = dict(warehouse.fetchall("select play_id, outcome from omniplay_state.runs"))
    assert outcomes == {"p_sms": "stopped", "winback": "success"}


def test_skippable_error_rejects_the_batch(warehouse, project, config_for, tmp_path):
    cfg = config_for(f"flaky: {{type: tests.activation.fakes.FlakyDestination, settings: {{log: {tmp_path / 'l'}, skip_all: true}}}}")
    create_queue(warehouse, [row(i, channel="sms", destination="flaky") for i in range(3)])
    s = run(warehouse, cfg)
    assert s.total("rejected") == 3 and s.reasons[("rejected", "closed")] == 3


def test_unexpected_error_is_ambiguous_for_a_destination_that_cannot_deduplicate(
        warehouse, project, config_for, tmp_path):
    log = tmp_path / "deliveries.jsonl"
    cfg = config_for(f"flaky: {{type: tests.activation.fakes.FlakyDestination, max_concurrency: 1, batch_size: 2, settings: {{log: {log}, crash_on_call: 1}}}}")
    create_queue(warehouse, [row(i, channel="sms", destination="flaky") for i in range(4)])
    s = run(warehouse, cfg)
    assert s.total("ambiguous") == 2 and s.total("sent") == 2
    # A later sync reports them again but does not re-send unless asked.
    s = run(warehouse, cfg)
    assert s.total_planned == 2 and s.total("ambiguous") == 2 and len(delivered(log)) == 2
    cfg = config_for(f"flaky: {{type: tests.activation.fakes.FlakyDestination, settings: {{log: {log}}}}}")
    s = run(warehouse, cfg, resend_ambiguous=True)
    assert s.total("sent") == 2 and len(delivered(log)) == 4


def _leave_pending(wh, rows, destination, batch_id="b1"):
    led = Ledger(wh)
    led.ensure()
    led.mark_pending([PendingRow(r["message_id"], r["play_id"], r["profile_id"], r["channel"], destination, batch_id)
                      for r in rows], "crashed-run", NOW.replace(tzinfo=None))


def test_reconcile_resends_pending_to_deduplicating_destinations(warehouse, project, config_for):
    rows = [row(i) for i in range(6)]
    create_queue(warehouse, rows)
    cfg = config_for()
    # A crashed run left 3 pending, one of which reached the outbox before the crash.
    _leave_pending(warehouse, rows[:3], "email")
    crashed_file = project / "out" / "email" / f"{rows[0]['message_id']}.eml"
    crashed_file.parent.mkdir(parents=True)
    crashed_file.write_text("written before the crash")
    s = run(warehouse, cfg)
    assert s.reconciled_resent == 3 and s.reconciled_ambiguous == 0
    assert s.total("sent") == 6 and s.total_planned == 6
    assert crashed_file.read_text() == "written before the crash"
    assert len(outbox_files(project)) == 6


def test_reconcile_marks_pending_ambiguous_where_resending_could_duplicate(
        warehouse, project, config_for, tmp_path):
    log = tmp_path / "deliveries.jsonl"
    cfg = config_for(f"flaky: {{type: tests.activation.fakes.FlakyDestination, settings: {{log: {log}}}}}")
    rows = [row(i, channel="sms", destination="flaky") for i in range(5)]
    create_queue(warehouse, rows)
    _leave_pending(warehouse, rows[:2], "flaky")
    warehouse.execute("insert into omniplay_state.runs values ('crashed-run', 'winback', ?, null, 'running', "
                      "0, 0, 0, 0, 0, 0, 0, null)", [NOW.replace(tzinfo=None)])
    s = run(warehouse, cfg)
    assert s.reconciled_ambiguous == 2
    assert s.total("sent") == 3 and s.total("ambiguous") == 2 and s.total_planned == 5
    assert sorted(delivered(log)) == sorted(r["message_id"] for r in rows[2:])
    states = ledger(warehouse)
    assert states[rows[0]["message_id"]][:1] == ("ambiguous",) and states[rows[0]["message_id"]][2] == "interrupted"
    outcomes = dict(warehouse.fetchall("select run_id, outcome from omniplay_state.runs"))
    assert outcomes["crashed-run"] == "interrupted"


def test_only_selected_plays_are_synced(warehouse, project, config_for):
    create_queue(warehouse, [row(1, play_id="a"), row(2, play_id="b"), row(3, play_id="b")])
    s = run(warehouse, config_for(), plays=["b", "c"])
    assert s.total("sent") == 2 and set(s.per_play()) == {"b"}
    assert sorted(warehouse.fetchall("select play_id, planned from omniplay_state.runs")) == [("b", 2), ("c", 0)]


def test_dry_run_writes_nothing_and_masks_samples(warehouse, project, config_for):
    rows = [row(i, payload={"first_name": "Zoë", "last_name": "Müller"}) for i in range(4)]
    rows.append(row(9, address="broken"))
    create_queue(warehouse, rows)
    s = run(warehouse, config_for(), dry_run=True)
    assert s.total("sent") == 4 and s.total("rejected") == 1 and s.total_planned == 5
    assert not warehouse.relation_exists("omniplay_state", "sends")
    assert not (project / "out").exists()
    assert len(s.samples) == 3
    text = repr(s.samples)
    assert "user0@example.com" not in text and "Zoë" not in text and "Z***" in text
    assert s.samples[0]["to"] == "u***@e***.com"


def test_missing_queue_is_a_config_error(warehouse, config_for):
    from omniplay.errors import ConfigError

    with pytest.raises(ConfigError, match="omniplay build"):
        run(warehouse, config_for())


def test_many_read_batches_stream_through(warehouse, project, config_for):
    rows = [row(i) for i in range(120)]
    create_queue(warehouse, rows)
    s = run(warehouse, config_for(), read_batch_size=7)
    assert s.total("sent") == 120 and len(set(outbox_files(project))) == 120
    assert {message_id("winback", r["profile_id"]) for r in rows} == {f[:-4] for f in outbox_files(project)}
