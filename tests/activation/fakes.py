"""A failure-injecting destination (like dlt's `dummy`) to drive retry, stop and resume paths.

Deliveries are appended to a JSON-lines file so tests (and other processes) can count them.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from activation.destinations import RETRY, SENT, Destination, DestinationSettings, Message, Result
from omniplay.errors import FatalDestinationError, RetriableDestinationError, SkippableDestinationError


class FlakySettings(DestinationSettings):
    log: Path
    deduplicates: bool = False
    retry_first: int = 0  # answer RETRY (per message) to each message's first N attempts
    raise_retriable_first: int = 0  # raise RetriableDestinationError for the first N calls
    retry_after: float | None = None
    fatal_on_call: int | None = None  # raise FatalDestinationError on this call number (1-based)
    skip_all: bool = False
    crash_on_call: int | None = None  # raise an unexpected error on this call number


class FlakyDestination(Destination):
    type_name = "flaky"
    channels = frozenset({"email", "sms", "store"})
    Settings = FlakySettings
    default_batch_size = 10

    def __init__(self, name, settings, context):
        super().__init__(name, settings, context)
        self.deduplicates = settings.deduplicates  # type: ignore[misc]
        self._lock = threading.Lock()
        self._calls = 0
        self._seen: dict[str, int] = {}

    def send(self, batch: list[Message]) -> list[Result]:
        s = self.settings
        with self._lock:
            self._calls += 1
            call = self._calls
        if s.fatal_on_call is not None and call >= s.fatal_on_call:
            raise FatalDestinationError("401 unauthorized")
        if call <= s.raise_retriable_first:
            raise RetriableDestinationError("503 service unavailable", retry_after=s.retry_after)
        if s.crash_on_call is not None and call == s.crash_on_call:
            raise ConnectionResetError("connection reset by peer")
        if s.skip_all:
            raise SkippableDestinationError("account closed", code="closed")
        results = []
        delivered = []
        for m in batch:
            with self._lock:
                self._seen[m.message_id] = self._seen.get(m.message_id, 0) + 1
                seen = self._seen[m.message_id]
            if seen <= s.retry_first:
                results.append(Result(m.message_id, RETRY, error_code="429", error_message="too many requests",
                                      retry_after=s.retry_after))
            else:
                delivered.append(m.message_id)
                results.append(Result(m.message_id, SENT, provider_message_id=f"fk-{m.message_id[:8]}"))
        with self._lock, open(s.log, "a") as handle:
            for message_id in delivered:
                handle.write(json.dumps({"message_id": message_id}) + "\n")
        return results


def delivered(log: Path) -> list[str]:
    if not log.exists():
        return []
    return [json.loads(line)["message_id"] for line in log.read_text().splitlines() if line.strip()]
