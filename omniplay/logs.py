"""Logging for the whole app: readable text or one JSON object per line, never PII or secrets.

``configure_logging()`` installs one handler on the root logger. Every record passing
through it is redacted first (:class:`RedactingFilter`):

* values of environment variables whose names look secret (containing TOKEN, SECRET,
  PASSWORD, PASSWD, PASSPHRASE, PRIVATE, CREDENTIAL or KEY; values of 4+ characters) are
  replaced by ``***`` wherever they appear, as are passwords in URLs
  (``postgres://user:***@host``);
* email addresses become ``j***@example.com``;
* international phone numbers (``+`` and 7-15 digits, optionally grouped with spaces,
  dots, dashes or brackets) become ``+44******789``. National-format numbers without
  ``+`` are not recognised in free text: log E.164 or, better, mask with
  :func:`mask_address` before logging.

Other modules mask addresses they show on purpose (audience preview, ledger reports)
with :func:`mask_email`, :func:`mask_phone` and :func:`mask_address`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import IO, Any, Literal

from omniplay.errors import ConfigError

__all__ = [
    "LOG_FORMAT_ENV",
    "LOG_LEVEL_ENV",
    "JsonFormatter",
    "RedactingFilter",
    "configure_logging",
    "mask_address",
    "mask_email",
    "mask_phone",
    "redact",
]

LogFormat = Literal["text", "json"]
LOG_FORMAT_ENV = "OMNIPLAY_LOG_FORMAT"
LOG_LEVEL_ENV = "OMNIPLAY_LOG_LEVEL"
MASK = "***"

SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|PRIVATE|CREDENTIAL|KEY", re.I)
_MIN_SECRET_LENGTH = 4  # shorter values would mangle every log line they occur in
_NOT_SECRETS = frozenset({"true", "false", "none", "null", "yes", "no"})

_EMAIL = re.compile(
    r"(?<![\w.%+-])([A-Za-z0-9._%+-]+)@((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,})"
)
_PHONE = re.compile(r"(?<![\w+])\+[1-9](?:[ .()-]{0,2}\d){6,14}(?!\d)")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+):[^\s@/]+@", re.I)

# Loggers of libraries that log request URLs or chatter at INFO.
_NOISY = ("httpx", "httpcore", "urllib3", "asyncio", "great_expectations")

_HANDLER_MARK = "_omniplay_handler"


def mask_email(value: str) -> str:
    """``jane.doe@example.com`` -> ``j***@example.com``; anything else -> ``***``."""
    local, sep, domain = (value or "").strip().rpartition("@")
    if not sep or not local or not domain:
        return MASK
    return f"{local[0]}{MASK}@{domain}"


def mask_phone(value: str) -> str:
    """``+447700900789`` -> ``+44******789``: country code and last three digits only.

    Numbers without a country code keep only their last three digits; anything with
    fewer than seven digits becomes ``***``.
    """
    text = (value or "").strip()
    digits = re.sub(r"\D", "", text)
    if len(digits) < 7:
        return MASK
    tail = digits[-3:]
    if not text.startswith("+"):
        return f"******{tail}"
    import phonenumbers  # here, not at the top: every command configures logging, few mask a phone

    try:
        country = str(phonenumbers.parse(text, None).country_code)
    except phonenumbers.NumberParseException:
        country = digits[:2]
    return f"+{country}******{tail}"


def mask_address(channel: str, value: str | None) -> str:
    """Mask an activation address for display: email and SMS masked, store ids kept.

    Unknown channels are masked completely, so a new channel is safe by default.
    """
    if value is None:
        return ""
    kind = (channel or "").lower()
    if kind == "email":
        return mask_email(value)
    if kind in ("sms", "phone", "whatsapp", "voice"):
        return mask_phone(value)
    if kind == "store":  # store ids are not personal data
        return value
    return MASK


def _secret_values() -> tuple[str, ...]:
    values = {
        value
        for name, value in os.environ.items()
        if SECRET_NAME.search(name)
        and len(value) >= _MIN_SECRET_LENGTH
        and value.lower() not in _NOT_SECRETS
    }
    return tuple(sorted(values, key=lambda v: (-len(v), v)))  # longest first


@lru_cache(maxsize=8)
def _secret_pattern(values: tuple[str, ...]) -> re.Pattern[str] | None:
    if not values:
        return None
    return re.compile("|".join(re.escape(v) for v in values))


def redact(text: str) -> str:
    """Remove secrets from the environment and mask emails and phone numbers in ``text``."""
    if not text:
        return text
    pattern = _secret_pattern(_secret_values())  # read each time: secrets may be set late
    if pattern is not None:
        text = pattern.sub(MASK, text)
    if "://" in text:
        text = _URL_PASSWORD.sub(rf"\1:{MASK}@", text)
    if "@" in text:
        text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    if "+" in text:
        text = _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(v) for v in value]
    return redact(str(value))


# Attributes every LogRecord has; anything else came in through `extra=`.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName",
}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS and not k.startswith("_")}


class RedactingFilter(logging.Filter):
    """Redacts the message, its arguments, ``extra`` fields and tracebacks of a record.

    Attach it to handlers (handler filters see records from every logger); it
    rewrites the record in place and never drops one.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_omniplay_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not take logging down
            message = f"{record.msg!r} % {record.args!r}"
        record.msg = redact(message)
        record.args = None
        for key, value in _extras(record).items():
            setattr(record, key, _redact_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.exc_info = None  # only the redacted text may be rendered
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._omniplay_redacted = True
        return True


class _UTCFormatter(logging.Formatter):
    converter = time.gmtime

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (UTC), level, logger, message, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in _extras(record).items():
            entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


def _parse_level(level: int | str) -> int:
    if isinstance(level, int) and not isinstance(level, bool):
        return level
    if isinstance(level, str):
        number = logging.getLevelName(level.strip().upper())
        if isinstance(number, int):
            return number
    raise ConfigError(
        f"--log-level: {level!r} is not a log level; use debug, info, warning, error or critical"
    )


def _text_handler(stream: IO[str]) -> logging.Handler:
    if stream.isatty():
        from rich.console import Console
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(
            console=Console(file=stream),
            show_path=False,
            markup=False,
            rich_tracebacks=False,  # tracebacks go through the redacted text instead
            log_time_format="%H:%M:%S",
        )
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        return handler
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_UTCFormatter())
    return handler


def configure_logging(
    format: LogFormat | str | None = None,
    level: int | str | None = None,
    *,
    stream: IO[str] | None = None,
    quiet_loggers: Iterable[str] = _NOISY,
) -> logging.Handler:
    """Send all logging to ``stream`` (default stderr), redacted, as text or JSON.

    Args:
        format: ``"text"`` (default; rich on a terminal, plain UTC-stamped lines
            otherwise) or ``"json"`` (one object per line, for schedulers). Falls back
            to ``$OMNIPLAY_LOG_FORMAT``.
        level: level name or number; falls back to ``$OMNIPLAY_LOG_LEVEL``, then INFO.
        stream: where to write; stderr by default so stdout stays for command output.
        quiet_loggers: libraries held at WARNING unless ``level`` is DEBUG.

    Calling it again replaces the handler it installed before. Returns the handler.

    Raises:
        ConfigError: naming ``--log-format`` or ``--log-level``.
    """
    chosen = (format or os.environ.get(LOG_FORMAT_ENV) or "text").strip().lower()
    if chosen not in ("text", "json"):
        raise ConfigError(f"--log-format: {chosen!r} is not a log format; use text or json")
    number = _parse_level(level if level is not None else os.environ.get(LOG_LEVEL_ENV) or "INFO")
    out = stream if stream is not None else sys.stderr

    if chosen == "json":
        handler: logging.Handler = logging.StreamHandler(out)
        handler.setFormatter(JsonFormatter())
    else:
        handler = _text_handler(out)
    handler.addFilter(RedactingFilter())
    setattr(handler, _HANDLER_MARK, True)

    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(number)
    for name in quiet_loggers:
        logging.getLogger(name).setLevel(logging.NOTSET if number <= logging.DEBUG else logging.WARNING)
    logging.captureWarnings(True)
    return handler
