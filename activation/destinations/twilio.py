"""`twilio`: SMS through Twilio's Messages API over HTTP (httpx), one client per worker.

One request per message (the API has no batch endpoint). Outcomes: 201 sent; 429 and
5xx retried with backoff honouring Retry-After; 21211/21614 (invalid number) rejected;
21610 (recipient replied STOP) rejected and reported as an opt-out for consent; 401/403
fatal (the play stops). A timeout after the request left is `ambiguous`: Twilio may
have queued the message, and it cannot deduplicate.
"""

from __future__ import annotations

import math
import threading
from urllib.parse import urlencode
from email.utils import parsedate_to_datetime
from datetime import datetime, timezone

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
from omniplay.errors import FatalDestinationError

# GSM 03.38 basic character set, and the extension table (each costs two septets).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
INVALID_NUMBER_CODES = {21211, 21614}
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
OPT_OUT_CODES = {21610}


def segments(body: str) -> tuple[str, int]:
    """(encoding, segment count) of an SMS body: GSM-7 160/153 septets, else UCS-2 70/67 units."""
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
        self._clients: list = []
        self._lock = threading.Lock()
        self._path = f"/2010-04-01/Accounts/{settings.account_sid}/Messages.json"

    def _client(self):
        client = getattr(self._local, "client", None)
        if client is None:
            import httpx

            s = self.settings
            client = httpx.Client(
                base_url=s.base_url.rstrip("/"),
                auth=(s.account_sid, s.auth_token.get_secret_value()),
                timeout=s.timeout,
                headers={"User-Agent": "omniplay-activation"},
            )
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()

    def check(self) -> None:
        import httpx

        try:
            response = self._client().get(f"/2010-04-01/Accounts/{self.settings.account_sid}.json")
        except httpx.HTTPError as exc:
            raise FatalDestinationError(f"cannot reach {self.settings.base_url}: {type(exc).__name__}") from None
        if response.status_code in (401, 403):
            raise FatalDestinationError(f"Twilio rejected the credentials ({response.status_code})")

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
        import httpx

        body = self.body(message)
        encoding, count = segments(body)
        if count > self.settings.max_segments:
            return Result(message.message_id, REJECTED, error_code="too_many_segments",
                          error_message=f"{count} {encoding} segments > max_segments {self.settings.max_segments}")
        form = {"To": message.address, "Body": body}
        if self.settings.messaging_service_sid:
            form["MessagingServiceSid"] = self.settings.messaging_service_sid
        else:
            form["From"] = self.settings.from_number
        if self.settings.status_callback:
            form["StatusCallback"] = self.settings.status_callback
        self.context.limiter.acquire()
        try:
            response = self._client().post(self._path, content=urlencode(form).encode(), headers=_FORM)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteError) as exc:
            return Result(message.message_id, RETRY, error_code="connect", error_message=type(exc).__name__)
        except httpx.TransportError as exc:
            # The request left; whether Twilio queued it is unknown.
            return Result(message.message_id, AMBIGUOUS, error_code="no_response",
                          error_message=f"{type(exc).__name__} after the request was sent")
        return self._interpret(message, response)

    def _interpret(self, message: Message, response) -> Result:
        status = response.status_code
        try:
            data = response.json()
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
                          retry_after=_retry_after(response.headers.get("Retry-After")))
        if code in OPT_OUT_CODES:
            return Result(message.message_id, REJECTED, error_code=f"twilio_{code}", error_message=text,
                          opt_out=True)
        if code in INVALID_NUMBER_CODES:
            return Result(message.message_id, REJECTED, error_code=f"twilio_{code}", error_message=text)
        return Result(message.message_id, REJECTED, error_code=f"twilio_{code or status}", error_message=text)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
