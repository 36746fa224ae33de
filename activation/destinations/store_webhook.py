"""`store_webhook`: JSON batches to a POS or clienteling API, signed and idempotent.

Each request carries `X-Omniplay-Signature: sha256=<hex HMAC-SHA256 of the body>` keyed
by a secret from the environment, and `Idempotency-Key: <batch id>`. The batch id is
stored with the pending messages, so after a crash the same batch is re-sent with the
same key and the receiver answers it from its idempotency cache: the destination
deduplicates. The response lists a result per item (`accepted` or `rejected`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from typing import Any

from pydantic import Field, SecretStr

from activation.destinations.base import (
    REJECTED,
    RETRY,
    SENT,
    BatchOutcome,
    Destination,
    DestinationSettings,
    Message,
    Result,
)
from activation.flow import retry_after_seconds
from omniplay.errors import FatalDestinationError

SIGNATURE_HEADER = "X-Omniplay-Signature"


def sign(secret: bytes, body: bytes) -> str:
    """The signature header value a receiver recomputes to authenticate the body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class StoreWebhookSettings(DestinationSettings):
    url: str
    secret: SecretStr
    timeout: float = Field(default=30.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)
    include_payload: bool = True  # send the personalization payload with each item


class StoreWebhookDestination(Destination):
    type_name = "store_webhook"
    channels = frozenset({"store", "email", "sms"})
    deduplicates = True
    Settings = StoreWebhookSettings
    default_batch_size = 500

    def __init__(self, name, settings: StoreWebhookSettings, context):
        super().__init__(name, settings, context)
        self._local = threading.local()
        self._clients: list = []
        self._lock = threading.Lock()
        self._secret = settings.secret.get_secret_value().encode()

    def _client(self):
        client = getattr(self._local, "client", None)
        if client is None:
            import httpx

            client = httpx.Client(timeout=self.settings.timeout,
                                  headers={"User-Agent": "omniplay-activation", **self.settings.headers})
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def prepare(self) -> None:
        self._client()

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()

    def item(self, message: Message) -> dict[str, Any]:
        item = {
            "message_id": message.message_id,
            "play_id": message.play_id,
            "play_version": message.play_version,
            "profile_id": message.profile_id,
            "channel": message.channel,
            "store_id" if message.channel == "store" else "address": message.address,
            "template": message.template,
            "content": message.content,
            "not_after": message.not_after.isoformat() if message.not_after else None,
        }
        if self.settings.include_payload:
            item["payload"] = message.payload
        return item

    def body(self, batch: list[Message], batch_id: str) -> bytes:
        document = {"batch_id": batch_id, "items": [self.item(m) for m in batch]}
        return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                          default=str).encode("utf-8")

    def item_sql(self) -> str:
        # The same item as `item()` (keys in the same sorted order), built by DuckDB.
        payload = ", 'payload', json(payload)" if self.settings.include_payload else ""
        not_after = ("strftime(not_after, '%Y-%m-%dT%H:%M:%S') || case when epoch_us(not_after) % 1000000 = 0 "
                     "then '' else '.' || lpad(cast(epoch_us(not_after) % 1000000 as varchar), 6, '0') end "
                     "|| '+00:00'")
        return (f"json_object('channel', channel, 'content', json(content), 'message_id', message_id, "
                f"'not_after', {not_after}{payload}, 'play_id', play_id, 'play_version', play_version, "
                f"'profile_id', profile_id, 'store_id', address, 'template', template)")

    def send(self, batch: list[Message]) -> list[Result]:
        batch_id = batch[0].batch_id or "unbatched"
        outcome = self.send_body(batch_id, self.body(batch, batch_id))
        if outcome.status != SENT:
            return [Result(m.message_id, outcome.status, error_code=outcome.error_code,
                           error_message=outcome.error_message, retry_after=outcome.retry_after) for m in batch]
        exceptions = {r.message_id: r for r in outcome.exceptions}
        return [exceptions.get(m.message_id) or Result(m.message_id, SENT, provider_message_id=batch_id)
                for m in batch]

    def send_body(self, batch_id: str, body: bytes) -> BatchOutcome:
        import httpx

        headers = {"Content-Type": "application/json", "Idempotency-Key": batch_id,
                   SIGNATURE_HEADER: sign(self._secret, body)}
        self.context.limiter.acquire()
        try:
            response = self._client().post(self.settings.url, content=body, headers=headers)
        except httpx.TransportError as exc:
            # Safe to retry whatever happened: the receiver deduplicates on the key.
            return BatchOutcome(RETRY, error_code="transport", error_message=type(exc).__name__)
        status = response.status_code
        if status in (401, 403):
            raise FatalDestinationError(f"webhook refused the signature or credentials ({status})")
        if status == 429 or status >= 500:
            return BatchOutcome(RETRY, error_code=f"http_{status}",
                                retry_after=retry_after_seconds(response.headers.get("Retry-After")))
        if status >= 400:
            return BatchOutcome(REJECTED, error_code=f"http_{status}", error_message=response.text[:300])
        try:
            reported = response.json().get("results", [])
            if not isinstance(reported, list):
                reported = []
        except (ValueError, AttributeError):
            reported = []
        # Items not reported, or accepted without an id of their own, are sent under the batch id.
        exceptions = []
        for r in reported:
            if not isinstance(r, dict) or "message_id" not in r:
                continue
            if r.get("status") not in ("accepted", "ok", "sent"):
                exceptions.append(Result(str(r["message_id"]), REJECTED,
                                         error_code=str(r.get("code") or "rejected")[:64],
                                         error_message=str(r.get("error") or "")[:300]))
            elif r.get("id"):
                exceptions.append(Result(str(r["message_id"]), SENT, provider_message_id=str(r["id"])))
        return BatchOutcome(SENT, provider_message_id=batch_id, exceptions=exceptions)
