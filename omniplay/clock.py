"""One "now" for a whole pipeline run: build windows, the gate and delivery agree on it.

`OMNIPLAY_NOW` (ISO 8601) pins it, for replays and tests. A generated dataset carries
its own simulated now (`truth/manifest.json` `as_of`): judged by the wall clock every
customer in it would look lapsed and every message expired, so its as_of is used.
Otherwise it is the wall clock.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from omniplay.errors import ConfigError
from omniplay.settings import Settings

NOW_ENV = "OMNIPLAY_NOW"


def _parse(value: str, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{where}: {value!r} is not an ISO 8601 timestamp (e.g. 2026-06-01T08:00:00Z)") from None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def dataset_as_of(settings: Settings) -> datetime | None:
    """The simulated now of a generated dataset, or None for real sources."""
    manifest = settings.data_dir / "truth" / "manifest.json"
    if not manifest.exists():
        return None
    as_of = json.loads(manifest.read_text(encoding="utf-8")).get("as_of")
    return _parse(as_of, str(manifest)) if as_of else None


def pipeline_now(settings: Settings) -> datetime:
    """The aware UTC instant this run treats as now."""
    pinned = os.environ.get(NOW_ENV)
    if pinned:
        return _parse(pinned, NOW_ENV)
    return dataset_as_of(settings) or datetime.now(timezone.utc)


def as_of_var(now: datetime) -> str:
    """`now` in the form the dbt var omniplay__as_of takes (naive UTC text)."""
    return now.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
