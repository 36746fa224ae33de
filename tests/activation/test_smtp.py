"""The smtp destination against a real aiosmtpd server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest

from activation.engine import SyncOptions, sync
from tests.activation.queue import NOW, create_queue, row
from tests.activation.servers import make_certificate, start_smtp


@pytest.fixture
def smtp_server():
    server = start_smtp()
    yield server
    server.controller.stop()


def smtp_config(config_for, server, **extra) -> object:
    settings = {"host": server.host, "port": server.port, **extra.pop("settings", {})}
    flow = ", ".join(f"{k}: {v}" for k, v in extra.items())
    inner = ", ".join(f"{k}: {v!s}" for k, v in settings.items())
    return config_for(f"smtp: {{type: smtp, {flow + ', ' if flow else ''}settings: {{{inner}}}}}")


def run(wh, cfg, **options):
    return sync(wh, cfg, SyncOptions(**options), clock=lambda: NOW, sleep=lambda s: None)


def test_delivers_multipart_with_one_click_unsubscribe(warehouse, project, config_for, smtp_server):
    rows = [row(i, destination="smtp", payload={"first_name": "Zoë", "product_name": "Lamp <b>"})
            for i in range(8)]
    create_queue(warehouse, rows)
    cfg = smtp_config(config_for, smtp_server, max_concurrency=2, batch_size=3,
                      settings={"from_address": "'Shop <shop@example.com>'",
                                "unsubscribe_url": "'https://shop.example.com/u/{message_id}'",
                                "unsubscribe_mailto": "unsub@example.com"})
    s = run(warehouse, cfg)
    assert s.total("sent") == 8
    mails = smtp_server.recorder.parsed()
    assert len(mails) == 8
    assert smtp_server.recorder.recipients() == {r["address"]: 1 for r in rows}
    by_to = {m["To"]: m for m in mails}
    r = rows[0]
    mail = by_to[r["address"]]
    assert mail["Message-ID"] == f"<{r['message_id']}@omniplay.invalid>"
    assert mail["From"] == "Shop <shop@example.com>"
    assert mail["Subject"] == "Zoë, something picked for you"
    assert mail["List-Unsubscribe"] == (f"<mailto:unsub@example.com?subject=unsubscribe-{r['message_id']}>, "
                                        f"<https://shop.example.com/u/{r['message_id']}>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Lamp <b>" in text and "Lamp &lt;b&gt;" in html  # HTML autoescaped, text not
    assert f"https://shop.example.com/u/{r['message_id']}" in text
    sent = dict(warehouse.fetchall("select message_id, provider_message_id from omniplay_state.sends"))
    assert sent[r["message_id"]].startswith("2.0.0 Ok: queued as")


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "sender_processes"])
def test_refused_and_greylisted_recipients(warehouse, project, config_for, smtp_server, processes):
    rows = [row(1, destination="smtp", address="nouser@example.com"),
            row(2, destination="smtp", address="greylist@example.com"),
            row(3, destination="smtp")]
    create_queue(warehouse, rows)
    s = run(warehouse, smtp_config(config_for, smtp_server, max_attempts=3, worker_processes=processes))
    assert (s.total("sent"), s.total("rejected"), s.total("failed")) == (1, 1, 1)
    ledger = {m: (st, a, c) for m, st, a, c in warehouse.fetchall(
        "select message_id, status, attempts, error_code from omniplay_state.sends")}
    assert ledger[rows[0]["message_id"]] == ("rejected", 1, "smtp_550")
    assert ledger[rows[1]["message_id"]] == ("failed", 3, "smtp_451")
    assert smtp_server.recorder.recipients() == {rows[2]["address"]: 1}


def test_connection_lost_during_data_is_ambiguous_not_resent(warehouse, project, config_for, smtp_server):
    rows = [row(1, destination="smtp", address="dropme@example.com"), row(2, destination="smtp"),
            row(3, destination="smtp")]
    create_queue(warehouse, rows)
    cfg = smtp_config(config_for, smtp_server, max_concurrency=1)
    s = run(warehouse, cfg)
    assert s.total("ambiguous") == 1 and s.total("sent") == 2
    s = run(warehouse, cfg)
    assert s.total("ambiguous") == 1 and s.total("sent") == 0
    assert smtp_server.recorder.recipients()["dropme@example.com"] == 1  # it did arrive, once


def test_starttls_with_auth(warehouse, project, config_for, tmp_path, monkeypatch):
    cert, key = make_certificate(tmp_path)
    server = start_smtp(tls_cert=(cert, key), auth=("mailer", "s3cret"))
    try:
        monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
        create_queue(warehouse, [row(i, destination="smtp") for i in range(3)])
        cfg = smtp_config(config_for, server, settings={"security": "starttls", "username": "mailer",
                                                        "password": "'${TEST_SMTP_PASSWORD}'", "ca_file": str(cert)})
        assert run(warehouse, cfg).total("sent") == 3
        assert len(server.recorder.messages) == 3

        monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
        create_queue(warehouse, [row(10 + i, destination="smtp") for i in range(3)])
        s = run(warehouse, cfg)
        assert s.total("failed") == 3 and "authentication failed" in s.stopped["winback"]
        assert "wrong" not in str(s.as_dict())
    finally:
        server.controller.stop()


def test_implicit_tls(warehouse, project, config_for, tmp_path):
    cert, key = make_certificate(tmp_path)
    server = start_smtp(tls_cert=(cert, key), implicit_tls=True)
    try:
        create_queue(warehouse, [row(i, destination="smtp") for i in range(2)])
        cfg = smtp_config(config_for, server, settings={"security": "ssl", "ca_file": str(cert)})
        assert run(warehouse, cfg).total("sent") == 2
        assert len(server.recorder.messages) == 2
    finally:
        server.controller.stop()


def test_unreachable_server_fails_after_bounded_attempts(warehouse, project, config_for):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    create_queue(warehouse, [row(1, destination="smtp")])
    cfg = config_for(f"smtp: {{type: smtp, max_attempts: 2, settings: {{host: 127.0.0.1, port: {port}}}}}")
    s = run(warehouse, cfg)
    assert s.total("failed") == 1 and s.reasons[("failed", "connect")] == 1
