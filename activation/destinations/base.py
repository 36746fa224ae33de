"""The one base every destination implements, and the message/result types it sees.

A destination is configured once, may be checked (reachability, credentials), and is
handed batches of rendered messages from worker threads; it returns one result per
message. It signals trouble for a whole batch by raising FatalDestinationError (stop
the play), RetriableDestinationError (back off and retry) or SkippableDestinationError
(reject the batch's messages); per-message trouble goes in the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


@dataclass(slots=True)
class Message:
    """One queue row, validated and rendered, ready to leave."""

    message_id: str
    play_id: str
    play_version: str | None
    profile_id: str
    channel: str
    destination: str
    address: str
    recipient_timezone: str | None
    not_before: datetime | None
    not_after: datetime | None
    template: str
    payload: dict[str, Any]
    run_date: Any = None
    decided_at: Any = None
    content: dict[str, str] = field(default_factory=dict)
    fallback_reason: str | None = None
    batch_id: str | None = None


# Result statuses a destination may return.
SENT = "sent"
REJECTED = "rejected"  # permanent, per message (bad address, unsubscribed)
RETRY = "retry"  # transient, per message; the engine retries with backoff
AMBIGUOUS = "ambiguous"  # may or may not have been delivered (connection lost mid-send)
DEFERRED = "deferred"  # not now (capacity, window); comes back in a later sync


@dataclass(slots=True)
class Result:
    """What happened to one message."""

    message_id: str
    status: str
    provider_message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    retry_after: float | None = None
    opt_out: bool = False  # the provider says the recipient unsubscribed


@dataclass(slots=True)
class BatchOutcome:
    """What happened to a whole batch sent as one body (the set-based path, activation.bulk):
    one status for every message, except the per-item results listed in `exceptions`."""

    status: str
    provider_message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    retry_after: float | None = None
    exceptions: list[Result] = field(default_factory=list)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class DestinationContext:
    """Where a destination may write, how it limits its own pace, and what time it is."""

    project_dir: Path
    limiter: Any  # flow.TokenBucket or flow.Unlimited; acquire() once per request
    clock: Callable[[], datetime] = _utcnow


class DestinationSettings(BaseModel):
    """Base for a destination's own settings model (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")


class Destination:
    """Base class: override `send`, and `check`/`close`/`admit` where they mean something."""

    type_name: ClassVar[str] = ""
    channels: ClassVar[frozenset[str]] = frozenset()
    # Re-sending an interrupted (pending) message cannot produce a duplicate.
    deduplicates: ClassVar[bool] = False
    # Needs every message of the sync at once (capacity planning) rather than a stream.
    collects: ClassVar[bool] = False
    Settings: ClassVar[type[DestinationSettings]] = DestinationSettings
    default_batch_size: ClassVar[int] = 100

    def __init__(self, name: str, settings: DestinationSettings, context: DestinationContext):
        self.name = name
        self.settings = settings
        self.context = context

    def check(self) -> None:
        """Raise FatalDestinationError if the destination is unreachable or misconfigured."""

    def template_context(self, message: Message) -> dict[str, Any]:
        """Extra template variables this destination provides (e.g. unsubscribe links)."""
        return {}

    def admit(self, messages: list[Message]) -> tuple[list[Message], list[Result]]:
        """Choose which collected messages go now; the rest come back as DEFERRED results."""
        return messages, []

    def send(self, batch: list[Message]) -> list[Result]:
        """Deliver a batch; return one Result per message (any order). Called from workers."""
        raise NotImplementedError

    def item_sql(self) -> str | None:
        """For destinations that send a batch as one body of items: a DuckDB expression for
        one item's JSON over the queue row's columns plus `content` (the rendered parts as
        JSON text), so activation.bulk can build whole bodies in SQL. None: no such path."""
        return None

    def send_body(self, batch_id: str, body: bytes) -> BatchOutcome:
        """Deliver a body built from `item_sql` items (`{"batch_id": ..., "items": [...]}`)."""
        raise NotImplementedError

    def prepare(self) -> None:
        """Get the calling worker thread ready to send (e.g. import and open its client).
        The engine runs it once per worker at start-up, so that this overlaps the sync's
        first reads instead of delaying the first batch; a send works without it."""

    def close(self) -> None:
        """Release connections and clients held by the workers."""
