"""The twilio destination against a local server that behaves like Twilio's Messages API."""

from __future__ import annotations

import pytest

from activation.destinations.twilio import segments
from activation.engine import SyncOptions, sync
from omniplay.errors import ConfigError
from tests.activation.queue import NOW, create_queue, row
from tests.activation.servers import TwilioState, start_twilio


@pytest.fixture
def twilio(monkeypatch):
    server, state, url = start_twilio()
    monkeypatch.setenv("TEST_TWILIO_SID", state.account_sid)
    monkeypatch.setenv("TEST_TWILIO_TOKEN", state.auth_token)
    yield state, url
    server.shutdown()
    server.server_close()


def twilio_config(config_for, url, flow="", sender="from_number: '+15005550006'"):
    return config_for(
        f"twilio: {{type: twilio, {flow}settings: {{base_url: '{url}', account_sid: '${{TEST_TWILIO_SID}}', "
        f"auth_token: '${{TEST_TWILIO_TOKEN}}', {sender}}}}}"
    )


def sms(i, **kw):
    return row(i + 100, channel="sms", destination="twilio", **kw)  # numbers ending 0000 are "invalid"


def run(wh, cfg, sleeps=None, **options):
    record = sleeps.append if sleeps is not None else (lambda s: None)
    return sync(wh, cfg, SyncOptions(**options), clock=lambda: NOW, sleep=record)


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "sender_processes"])
def test_sends_with_stop_footer_and_records_sids(warehouse, project, config_for, twilio, processes):
    state, url = twilio
    rows = [sms(i) for i in range(6)]
    create_queue(warehouse, rows)
    s = run(warehouse, twilio_config(config_for, url, f"max_concurrency: 3, batch_size: 2, "
                                                      f"worker_processes: {processes}, "))
    assert s.total("sent") == 6
    assert sorted(m["To"] for m in state.messages) == sorted(r["address"] for r in rows)
    assert all(m["Body"].endswith("Reply STOP to opt out.") and m["From"] == "+15005550006"
               for m in state.messages)
    sids = {m["sid"] for m in state.messages}
    assert {r[0] for r in warehouse.fetchall("select provider_message_id from omniplay_state.sends")} == sids


def test_messaging_service_sid_instead_of_from(warehouse, project, config_for, twilio):
    state, url = twilio
    create_queue(warehouse, [sms(1)])
    s = run(warehouse, twilio_config(config_for, url, sender="messaging_service_sid: MG123, from_number: ''"))
    assert s.total("sent") == 1 and state.messages[0]["MessagingServiceSid"] == "MG123"
    assert "From" not in state.messages[0]


def test_429_storm_is_retried_honouring_retry_after(warehouse, project, config_for, twilio):
    state, url = twilio
    state.storm, state.retry_after = 6, "2"
    create_queue(warehouse, [sms(i) for i in range(4)])
    sleeps: list[float] = []
    s = run(warehouse, twilio_config(config_for, url, "max_concurrency: 1, max_attempts: 6, "), sleeps)
    assert s.total("sent") == 4 and len(state.messages) == 4
    assert sleeps and min(sleeps) >= 2.0  # never sooner than the server asked


def test_5xx_is_retried_then_gives_up_as_failed(warehouse, project, config_for, twilio):
    state, url = twilio
    state.errors_5xx = 2
    create_queue(warehouse, [sms(1)])
    cfg = twilio_config(config_for, url, "max_attempts: 3, ")
    assert run(warehouse, cfg).total("sent") == 1

    state.errors_5xx = 100
    create_queue(warehouse, [sms(2)])
    s = run(warehouse, cfg)
    assert s.total("failed") == 1 and s.reasons[("failed", "http_503")] == 1
    assert warehouse.fetchall("select attempts from omniplay_state.sends where status = 'failed'") == [(3,)]


def test_invalid_and_unsubscribed_numbers(warehouse, project, config_for, twilio):
    state, url = twilio
    rows = [sms(1, address="+14155550000"), sms(2, address="+14155558888"), sms(3, address="+14155559999"),
            sms(4)]
    create_queue(warehouse, rows)
    s = run(warehouse, twilio_config(config_for, url))
    assert s.total("sent") == 1 and s.total("rejected") == 3
    codes = dict(warehouse.fetchall("select message_id, error_code from omniplay_state.sends"))
    assert [codes[r["message_id"]] for r in rows[:3]] == ["twilio_21211", "twilio_21614", "twilio_21610"]
    opt_outs = warehouse.fetchall(
        "select identifier_type, identifier_value, channel, action, source, profile_id from omniplay_state.opt_outs")
    assert opt_outs == [("phone", "+14155559999", "sms", "opt_out", "twilio_provider", rows[2]["profile_id"])]
    errors = str(warehouse.fetchall("select error_message from omniplay_state.sends"))
    assert "+14155550000" not in errors  # provider messages are scrubbed of the number


def test_max_segments_guard(warehouse, project, config_for, twilio):
    state, url = twilio
    create_queue(warehouse, [sms(1, template="default", payload={"first_name": "Zoë 😀" * 40}), sms(2)])
    s = run(warehouse, twilio_config(config_for, url))
    assert s.total("rejected") == 1 and s.reasons[("rejected", "too_many_segments")] == 1
    assert len(state.messages) == 1


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "sender_processes"])
def test_bad_credentials_stop_the_play(warehouse, project, config_for, twilio, monkeypatch, processes):
    state, url = twilio
    monkeypatch.setenv("TEST_TWILIO_TOKEN", "wrong")
    create_queue(warehouse, [sms(i, play_id="sms_play") for i in range(5)] + [row(50)])
    cfg = twilio_config(config_for, url, f"max_concurrency: 1, batch_size: 2, worker_processes: {processes}, ")
    cfg.raw.destinations["email"] = {"type": "outbox", "settings": {"dir": "out"}}
    s = run(warehouse, cfg)
    assert "401" in s.stopped["sms_play"] and s.per_play()["sms_play"]["failed"] == 5
    assert s.per_play()["winback"]["sent"] == 1
    assert state.requests == 1  # stopped at the first refusal
    assert "wrong" not in str(s.as_dict())


def test_config_errors_name_the_field(project, config_for, monkeypatch):
    monkeypatch.delenv("TEST_TWILIO_TOKEN", raising=False)
    monkeypatch.setenv("TEST_TWILIO_SID", "AC1")
    cfg = twilio_config(config_for, "http://127.0.0.1:9")
    with pytest.raises(ConfigError, match=r"destinations.twilio.settings.auth_token: environment variable "
                                          r"TEST_TWILIO_TOKEN is not set"):
        cfg.build("twilio")
    monkeypatch.setenv("TEST_TWILIO_TOKEN", "t")
    cfg = twilio_config(config_for, "http://127.0.0.1:9", sender="from_number: '+1500', messaging_service_sid: MG1")
    with pytest.raises(ConfigError, match="exactly one of from_number and messaging_service_sid"):
        cfg.build("twilio")


@pytest.mark.parametrize(
    "body, expected",
    [
        ("a" * 160, ("GSM-7", 1)),
        ("a" * 161, ("GSM-7", 2)),
        ("a" * 306, ("GSM-7", 2)),
        ("a" * 307, ("GSM-7", 3)),
        ("€" * 80, ("GSM-7", 1)),  # extension characters take two septets
        ("€" * 81, ("GSM-7", 2)),
        ("é" * 160, ("GSM-7", 1)),  # é is in the basic set
        ("ê" * 70, ("UCS-2", 1)),  # ê is not
        ("ê" * 71, ("UCS-2", 2)),
        ("😀" * 35, ("UCS-2", 1)),  # astral characters take two UTF-16 units
        ("😀" * 36, ("UCS-2", 2)),
    ],
)
def test_segments(body, expected):
    assert segments(body) == expected
