"""Flow control shared by destinations: a token-bucket rate limit and retry with backoff."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from tenacity import RetryCallState, wait_exponential_jitter
from tenacity.wait import wait_base

from omniplay.errors import RetriableDestinationError


class TokenBucket:
    """Allows `rate` acquisitions per second on average with bursts up to `burst`; thread-safe."""

    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = float(burst if burst is not None else max(1.0, rate))
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self, tokens: float = 1.0) -> float:
        """Take `tokens`, sleeping until they are available; returns the time slept."""
        tokens = min(float(tokens), self.capacity)
        slept = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= tokens - 1e-9:  # tolerate float rounding after a timed sleep
                    self._tokens = max(0.0, self._tokens - tokens)
                    return slept
                wait = (tokens - self._tokens) / self.rate
            self._sleep(wait)
            slept += wait


class Unlimited:
    """The no-op limiter for destinations without a rate limit."""

    def acquire(self, tokens: float = 1.0) -> float:
        return 0.0


class wait_backoff_or_retry_after(wait_base):
    """Exponential backoff with jitter, but never shorter than a server's Retry-After."""

    def __init__(self, initial: float, maximum: float, jitter: float | None = None):
        self._backoff = wait_exponential_jitter(multiplier=initial, max=maximum,
                                                jitter=initial if jitter is None else jitter)
        self._maximum = maximum

    def __call__(self, retry_state: RetryCallState) -> float:
        backoff = self._backoff(retry_state)
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None and outcome.failed else None
        retry_after = getattr(exc, "retry_after", None) if isinstance(exc, RetriableDestinationError) else None
        if retry_after:
            # Honour the server, with a little jitter so workers do not return in lockstep.
            return min(max(float(retry_after), 0.0) + random.uniform(0, 0.1 * max(retry_after, 0.1)),
                       max(self._maximum, float(retry_after)))
        return backoff


def retry_after_seconds(value: str | None) -> float | None:
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
