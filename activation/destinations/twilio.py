"""`twilio`: SMS through Twilio's Messages API over HTTP, one keep-alive connection per worker.

One request per message (the API has no batch endpoint), so the cost of a request sets
the pace: a persistent connection per worker (activation.destinations.http1: h11 for the
protocol, each request in one write, TCP_NODELAY) costs a fraction of an httpx request,
whose client layer was the bottleneck at thousands of messages a second.

Outcomes: 201 sent; 429 and 5xx retried with backoff honouring Retry-After; 21211/21614
(invalid number) rejected; 21610 (recipient replied STOP) rejected and reported as an
opt-out for consent; 401/403 fatal (the play stops). A failure to connect or to write
the request is retried; no answer after the request left is `ambiguous`: Twilio may have
queued the message, and it cannot deduplicate.
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
import time
from urllib.parse import urlencode, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from activation.destinations.base import (
    AMBIGUOUS,
    REJECTED,
    RETRY,
    SENT,
    Destination,
    DestinationSettings,
    Message,
    Result,
)
from activation.destinations.http1 import Connection, NoResponse, NotSent
from activation.flow import retry_after_seconds
from omniplay.errors import ConfigError, FatalDestinationError

# A connection idle this long is checked for a server-side close before it is reused.
IDLE_CHECK_SECONDS = 1.0

# GSM 03.38 basic character set, and the extension table (each costs two septets).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
INVALID_NUMBER_CODES = {21211, 21614}
OPT_OUT_CODES = {21610}


_GSM7_BASIC_ONLY = re.compile("[" + re.escape("".join(sorted(GSM7_BASIC))) + "]*")


def segments(body: str) -> tuple[str, int]:
    """(encoding, segment count) of an SMS body: GSM-7 160/153 septets, else UCS-2 70/67 units."""
    if _GSM7_BASIC_ONLY.fullmatch(body):  # the common case, checked in one regex pass
        return "GSM-7", 1 if len(body) <= 160 else math.ceil(len(body) / 153)
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in body):
        septets = sum(2 if ch in GSM7_EXTENDED else 1 for ch in body)
        return "GSM-7", 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(body.encode("utf-16-le")) // 2
    return "UCS-2", 1 if units <= 70 else math.ceil(units / 67)


class TwilioSettings(DestinationSettings):
    base_url: str = "https://api.twilio.com"
    account_sid: str
    auth_token: SecretStr
    from_number: str | None = None
    messaging_service_sid: str | None = None
    stop_footer: str = "Reply STOP to opt out."
    max_segments: int = Field(default=3, ge=1, le=10)
    timeout: float = Field(default=10.0, gt=0)
    status_callback: str | None = None

    @field_validator("from_number", "messaging_service_sid", "status_callback", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        return value or None

    @model_validator(mode="after")
    def _one_sender(self):
        if bool(self.from_number) == bool(self.messaging_service_sid):
            raise ValueError("set exactly one of from_number and messaging_service_sid")
        return self


class TwilioDestination(Destination):
    type_name = "twilio"
    channels = frozenset({"sms"})
    deduplicates = False
    Settings = TwilioSettings
    default_batch_size = 50

    def __init__(self, name, settings: TwilioSettings, context):
        super().__init__(name, settings, context)
        self._local = threading.local()
        self._connections: list = []
        self._lock = threading.Lock()
        url = urlsplit(settings.base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"twilio base_url must be an http(s) URL, got {settings.base_url!r}")
        self._https = url.scheme == "https"
        self._host, self._port = url.hostname, url.port
        self._prefix = url.path
        self._path = f"{url.path}/2010-04-01/Accounts/{settings.account_sid}/Messages.json"
        credentials = f"{settings.account_sid}:{settings.auth_token.get_secret_value()}".encode()
        host = f"[{url.hostname}]" if ":" in url.hostname else url.hostname  # an IPv6 literal
        self._headers = [
            (b"Host", (host if url.port is None else f"{host}:{url.port}").encode("idna")),
            (b"Authorization", b"Basic " + base64.b64encode(credentials)),
            (b"Content-Type", b"application/x-www-form-urlencoded"),
            (b"Accept", b"application/json"),
            (b"User-Agent", b"omniplay-activation"),
        ]
        self._post_target = self._path.encode()
        sender = ({"MessagingServiceSid": settings.messaging_service_sid} if settings.messaging_service_sid
                  else {"From": settings.from_number})
        if settings.status_callback:
            sender["StatusCallback"] = settings.status_callback
        self._sender_form = "&" + urlencode(sender)

    def _connection(self) -> Connection:
        """This worker's connection, opened lazily; a long-idle one is dropped if the server closed it."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.is_open and time.monotonic() - self._local.used > IDLE_CHECK_SECONDS:
            if conn.closed_by_peer():
                self._drop(conn)
                conn = None
        if conn is None:
            conn = Connection(self._host, self._port, self._https, self.settings.timeout)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        self._local.used = time.monotonic()
        return conn

    def _drop(self, conn) -> None:
        conn.close()
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None

    def _request(self, method: bytes, target: bytes, body: bytes = b"") -> tuple[int, dict, bytes]:
        """(status, lower-cased headers, body). Raises NotSent when nothing can have reached
        Twilio (connect or write failed), NoResponse when the request left but no answer came."""
        conn = self._connection()
        try:
            return conn.request(method, target, self._headers, body)
        except (NotSent, NoResponse):
            self._drop(conn)
            raise

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()

    def check(self) -> None:
        try:
            status, _, _ = self._request(b"GET", f"{self._prefix}/2010-04-01/Accounts/{self.settings.account_sid}.json".encode())
        except (NotSent, NoResponse) as exc:
            raise FatalDestinationError(f"cannot reach {self.settings.base_url}: {exc}") from None
        if status in (401, 403):
            raise FatalDestinationError(f"Twilio rejected the credentials ({status})")

    def body(self, message: Message) -> str:
        text = message.content.get("body", "").strip()
        footer = self.settings.stop_footer.strip()
        if footer and "stop" not in text.lower():
            text = f"{text} {footer}"
        return text

    def send(self, batch: list[Message]) -> list[Result]:
        results: list[Result] = []
        for index, message in enumerate(batch):
            try:
                results.append(self._send_one(message))
            except FatalDestinationError:
                if not results:
                    raise
                results.extend(Result(m.message_id, RETRY, error_code="fatal") for m in batch[index:])
                break
        return results

    def _send_one(self, message: Message) -> Result:
        body = self.body(message)
        encoding, count = segments(body)
        if count > self.settings.max_segments:
            return Result(message.message_id, REJECTED, error_code="too_many_segments",
                          error_message=f"{count} {encoding} segments > max_segments {self.settings.max_segments}")
        form = (urlencode({"To": message.address, "Body": body}) + self._sender_form).encode()
        self.context.limiter.acquire()
        try:
            status, headers, data = self._request(b"POST", self._post_target, form)
        except NotSent as exc:
            return Result(message.message_id, RETRY, error_code="connect", error_message=str(exc))
        except NoResponse as exc:
            # The request left; whether Twilio queued it is unknown.
            return Result(message.message_id, AMBIGUOUS, error_code="no_response",
                          error_message=f"{exc} after the request was sent")
        return self._interpret(message, status, headers, data)

    def _interpret(self, message: Message, status: int, headers: dict, raw: bytes) -> Result:
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        code = data.get("code") if isinstance(data, dict) else None
        text = str(data.get("message", "")) if isinstance(data, dict) else ""
        text = text.replace(message.address, "<to>")[:300]
        if status in (200, 201):
            return Result(message.message_id, SENT, provider_message_id=data.get("sid"))
        if status in (401, 403):
            raise FatalDestinationError(f"Twilio rejected the credentials ({status} {code or ''})".strip())
        if status == 429 or status >= 500:
            return Result(message.message_id, RETRY, error_code=f"http_{status}", error_message=text,
                          retry_after=retry_after_seconds(headers.get("retry-after")))
        if code in OPT_OUT_CODES:
            return Result(message.message_id, REJECTED, error_code=f"twilio_{code}", error_message=text,
                          opt_out=True)
        if code in INVALID_NUMBER_CODES:
            return Result(message.message_id, REJECTED, error_code=f"twilio_{code}", error_message=text)
        return Result(message.message_id, REJECTED, error_code=f"twilio_{code or status}", error_message=text)
