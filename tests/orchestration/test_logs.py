"""Logging: masking helpers, redaction of PII and secrets, text and JSON output."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest

from omniplay.errors import ConfigError
from omniplay.logs import (
    LOG_FORMAT_ENV,
    LOG_LEVEL_ENV,
    configure_logging,
    mask_address,
    mask_email,
    mask_phone,
    redact,
)


@pytest.fixture(autouse=True)
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def json_lines(buf: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buf.getvalue().splitlines()]


# --- masking helpers ---------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("jane.doe@example.com", "j***@example.com"),
        ("j@example.com", "j***@example.com"),
        ("Bob+promo@mail.example.co.uk", "B***@mail.example.co.uk"),
        ("not-an-email", "***"),
        ("@example.com", "***"),
        ("", "***"),
    ],
)
def test_mask_email(value, masked):
    assert mask_email(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+447700900789", "+44******789"),
        ("+44 7700 900789", "+44******789"),
        ("+14155550123", "+1******123"),
        ("+4915112345678", "+49******678"),
        ("+999123456789", "+99******789"),  # no such country code: first two digits
        ("07700 900789", "******789"),
        ("12345", "***"),
        ("", "***"),
    ],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked


def test_mask_address_by_channel():
    assert mask_address("email", "jane@example.com") == "j***@example.com"
    assert mask_address("SMS", "+447700900789") == "+44******789"
    assert mask_address("store", "store_0042") == "store_0042"
    assert mask_address("carrier_pigeon", "12 Main St") == "***"  # unknown: fully masked
    assert mask_address("email", None) == ""


# --- redaction ---------------------------------------------------------------------------

def test_redact_masks_addresses_in_free_text():
    text = "to jane.doe@example.com / +44 7700 900789 / +14155550123; see j***@example.com"
    assert redact(text) == "to j***@example.com / +44******789 / +1******123; see j***@example.com"


def test_redact_leaves_numbers_times_and_ids_alone():
    text = "run 42 sent=12345678 at 2026-11-22T08:00:00+00:00 offset +05:30 play=winback store_0042 +1"
    assert redact(text) == text


def test_redact_hides_url_passwords():
    assert redact("postgresql://omniplay:s3cr3t!@db:5432/x") == "postgresql://omniplay:***@db:5432/x"


def test_redact_hides_secret_environment_values(monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "tok_abcdef123456")
    monkeypatch.setenv("DBT_ENV_SECRET_OMNIPLAY_PG_PASSWORD", "pg-pass-9876")
    monkeypatch.setenv("OMNIPLAY_WEBHOOK_SIGNING_KEY", "k3y-material-xyz")
    monkeypatch.setenv("SOME_API_KEY", "abc")  # too short to redact safely
    monkeypatch.setenv("FEATURE_SECRET_ENABLED", "true")  # a flag, not a secret
    monkeypatch.setenv("OMNIPLAY_PLAY_NAME", "winback-2026")  # not secret-looking
    text = ("auth tok_abcdef123456 pw=pg-pass-9876 sig k3y-material-xyz "
            "abc true winback-2026")
    assert redact(text) == "auth *** pw=*** sig *** abc true winback-2026"


# --- configure_logging -----------------------------------------------------------------

def test_json_lines_are_redacted_objects(monkeypatch):
    monkeypatch.setenv("SMTP_PASSWORD", "correct-horse-battery")
    buf = io.StringIO()
    configure_logging("json", "INFO", stream=buf)
    log = logging.getLogger("omniplay.activation.engine")
    log.info("sent %d messages to %s", 3, "jane@example.com",
             extra={"play_id": "winback", "run_id": 7, "address": "+447700900789",
                    "at": datetime(2026, 11, 22, tzinfo=UTC), "detail": {"login": "correct-horse-battery"}})
    log.debug("not shown at INFO")
    try:
        raise RuntimeError("smtp login failed for correct-horse-battery <ops@example.com>")
    except RuntimeError:
        log.exception("delivery failed")

    first, second = json_lines(buf)
    assert first["level"] == "INFO" and first["logger"] == "omniplay.activation.engine"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["ts"])
    assert first["message"] == "sent 3 messages to j***@example.com"
    assert first["play_id"] == "winback" and first["run_id"] == 7
    assert first["address"] == "+44******789"
    assert first["at"] == "2026-11-22 00:00:00+00:00"
    assert first["detail"] == {"login": "***"}
    assert second["message"] == "delivery failed" and second["level"] == "ERROR"
    assert "RuntimeError: smtp login failed for *** <o***@example.com>" in second["exception"]
    assert "correct-horse-battery" not in buf.getvalue()
    assert "ops@example.com" not in buf.getvalue()


def test_plain_text_lines_when_not_a_terminal():
    buf = io.StringIO()
    configure_logging("text", "debug", stream=buf)
    logging.getLogger("omniplay.lock").warning("took over from %s", "bob@example.org")
    line = buf.getvalue().strip()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ WARNING omniplay\.lock: took over from b\*\*\*@example\.org", line
    ), line


def test_rich_text_on_a_terminal(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("STRIPE_SECRET", "sk_live_0123456789")
    master, slave = os.openpty()
    with os.fdopen(slave, "w") as tty:
        handler = configure_logging("text", "INFO", stream=tty)
        assert type(handler).__name__ == "RichHandler"
        logging.getLogger("omniplay.cli").info("key sk_live_0123456789 for jane@example.com")
        tty.flush()
        output = os.read(master, 65536).decode()
    os.close(master)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)
    assert "omniplay.cli: key *** for j***@example.com" in plain
    assert "sk_live" not in output and "jane@" not in output


def test_secret_set_after_configuration_is_still_redacted(monkeypatch):
    buf = io.StringIO()
    configure_logging("json", stream=buf)
    monkeypatch.setenv("LATE_TOKEN", "late-token-value")
    logging.getLogger("x").warning("token is late-token-value")
    assert json_lines(buf)[0]["message"] == "token is ***"


def test_reconfiguring_replaces_the_handler():
    first, second = io.StringIO(), io.StringIO()
    configure_logging("text", stream=first)
    configure_logging("json", stream=second)
    logging.getLogger("omniplay").info("once")
    assert first.getvalue() == ""
    assert [e["message"] for e in json_lines(second)] == ["once"]


def test_environment_defaults(monkeypatch):
    monkeypatch.setenv(LOG_FORMAT_ENV, "json")
    monkeypatch.setenv(LOG_LEVEL_ENV, "warning")
    buf = io.StringIO()
    configure_logging(stream=buf)
    logging.getLogger("omniplay").info("hidden")
    logging.getLogger("omniplay").warning("shown")
    assert [e["message"] for e in json_lines(buf)] == ["shown"]


def test_noisy_libraries_are_quiet_unless_debugging():
    buf = io.StringIO()
    configure_logging("json", "INFO", stream=buf)
    logging.getLogger("httpx").info("HTTP Request: POST https://api.example.com/Accounts/AC123")
    logging.getLogger("httpx").warning("retrying")
    configure_logging("json", "DEBUG", stream=buf)
    logging.getLogger("httpx").debug("now visible")
    assert [e["message"] for e in json_lines(buf)] == ["retrying", "now visible"]


def test_python_warnings_go_through_the_redacting_handler():
    buf = io.StringIO()
    configure_logging("json", stream=buf)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("bounce from jane@example.com", UserWarning, stacklevel=1)
    (entry,) = json_lines(buf)
    assert entry["logger"] == "py.warnings" and "j***@example.com" in entry["message"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"format": "yaml"}, r"--log-format: 'yaml' is not a log format"),
     ({"level": "loud"}, r"--log-level: 'loud' is not a log level")],
)
def test_bad_options_are_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message) as info:
        configure_logging(stream=io.StringIO(), **kwargs)
    assert info.value.exit_code == 2


def test_json_logging_in_a_real_process(tmp_path: Path):
    """What a scheduler captures: one JSON object per stderr line, no secret, no address."""
    script = (
        "import logging\n"
        "from omniplay.logs import configure_logging\n"
        "configure_logging('json')\n"
        "log = logging.getLogger('omniplay.run')\n"
        "log.info('run started', extra={'run_id': 'r1'})\n"
        "log.error('send to %s failed with key %s', '+14155550123', 'twilio-key-555777')\n"
        "print('summary on stdout')\n"
    )
    env = {**os.environ, "TWILIO_API_KEY": "twilio-key-555777"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "summary on stdout\n"
    entries = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(e["level"], e["message"]) for e in entries] == [
        ("INFO", "run started"),
        ("ERROR", "send to +1******123 failed with key ***"),
    ]
    assert entries[0]["run_id"] == "r1"
