"""`store_tasks`: per-store, per-day clienteling task lists for store associates.

Files: `<dir>/<YYYY-MM-DD>/<store_id>.json` (the source of truth) and a `.csv` beside
it, both replaced atomically. A store takes at most `daily_capacity` tasks a day
(counting those already in the day's file); the excess is deferred, lowest priority
first (payload `priority`, lower wins). Tasks are keyed by message_id, so re-sending
after a crash never adds a task twice.
"""

from __future__ import annotations

import csv
import io
import json
import os
import threading
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field

from activation.destinations.base import DEFERRED, SENT, Destination, DestinationSettings, Message, Result

CSV_COLUMNS = ("priority", "customer_name", "loyalty_tier", "recommended_play", "talking_points",
               "last_viewed_products", "wishlist", "cart", "profile_id", "message_id")


class StoreTasksSettings(DestinationSettings):
    dir: Path = Path("target") / "store_tasks"
    daily_capacity: int = Field(default=25, ge=0)
    capacity_by_store: dict[str, int] = Field(default_factory=dict)
    default_priority: int = 100


class StoreTasksDestination(Destination):
    type_name = "store_tasks"
    channels = frozenset({"store"})
    deduplicates = True
    collects = True
    Settings = StoreTasksSettings
    default_batch_size = 1000

    def __init__(self, name, settings: StoreTasksSettings, context):
        super().__init__(name, settings, context)
        self.root = settings.dir if settings.dir.is_absolute() else context.project_dir / settings.dir
        self._locks: dict[Path, threading.Lock] = defaultdict(threading.Lock)
        self._locks_lock = threading.Lock()

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    # -- planning -----------------------------------------------------------------------

    def task_day(self, message: Message) -> date:
        """The store's local date on which the task is due: today, or the window's start."""
        start = self.context.clock()
        if message.not_before is not None and message.not_before > start:
            start = message.not_before
        try:
            zone = ZoneInfo(message.recipient_timezone) if message.recipient_timezone else ZoneInfo("UTC")
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        return start.astimezone(zone).date()

    def priority(self, message: Message) -> int:
        value = message.payload.get("priority", self.settings.default_priority)
        try:
            return int(value)
        except (TypeError, ValueError):
            return self.settings.default_priority

    def admit(self, messages: list[Message]) -> tuple[list[Message], list[Result]]:
        groups: dict[tuple[date, str], list[Message]] = defaultdict(list)
        for m in messages:
            groups[(self.task_day(m), m.address)].append(m)
        admitted: list[Message] = []
        deferred: list[Result] = []
        for (day, store), group in groups.items():
            existing = {t["message_id"] for t in self._read(self._json_path(day, store))["tasks"]}
            capacity = self.settings.capacity_by_store.get(store, self.settings.daily_capacity)
            room = max(0, capacity - len(existing))
            fresh = sorted((m for m in group if m.message_id not in existing),
                           key=lambda m: (self.priority(m), m.message_id))
            admitted.extend(m for m in group if m.message_id in existing)
            admitted.extend(fresh[:room])
            deferred.extend(Result(m.message_id, DEFERRED, error_code="store_capacity",
                                   error_message=f"{store} is at its daily capacity of {capacity} on {day}")
                            for m in fresh[room:])
        return admitted, deferred

    # -- writing ------------------------------------------------------------------------

    def _json_path(self, day: date, store: str) -> Path:
        return self.root / day.isoformat() / f"{store}.json"

    def _read(self, path: Path) -> dict[str, Any]:
        if not path.exists():
            return {"tasks": []}
        return json.loads(path.read_text(encoding="utf-8"))

    def task(self, message: Message) -> dict[str, Any]:
        p = message.payload
        name = p.get("customer_name") or " ".join(x for x in (p.get("first_name"), p.get("last_name")) if x)
        return {
            "message_id": message.message_id,
            "profile_id": message.profile_id,
            "priority": self.priority(message),
            "customer_name": name or None,
            "loyalty_tier": p.get("loyalty_tier"),
            "recommended_play": p.get("play_name") or message.play_id,
            "talking_points": message.content.get("talking_points", ""),
            "recent_context": {
                "last_viewed_products": p.get("last_viewed_products") or [],
                "wishlist": p.get("wishlist") or [],
                "cart": p.get("cart") or [],
            },
        }

    def send(self, batch: list[Message]) -> list[Result]:
        groups: dict[tuple[date, str], list[Message]] = defaultdict(list)
        for m in batch:
            groups[(self.task_day(m), m.address)].append(m)
        results = []
        for (day, store), group in groups.items():
            path = self._json_path(day, store)
            with self._locks_lock:
                lock = self._locks[path]
            with lock:
                document = self._read(path)
                known = {t["message_id"] for t in document["tasks"]}
                document.update(store_id=store, date=day.isoformat())
                document["tasks"].extend(self.task(m) for m in group if m.message_id not in known)
                document["tasks"].sort(key=lambda t: (t["priority"], t["message_id"]))
                self.context.limiter.acquire()
                path.parent.mkdir(parents=True, exist_ok=True)
                _replace(path, json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8"))
                _replace(path.with_suffix(".csv"), _csv(document["tasks"]))
            results.extend(Result(m.message_id, SENT, provider_message_id=f"{day.isoformat()}/{store}")
                           for m in group)
        return results


def _csv(tasks: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for t in tasks:
        ctx = t["recent_context"]
        writer.writerow([t["priority"], t["customer_name"] or "", t["loyalty_tier"] or "", t["recommended_play"],
                         t["talking_points"], "; ".join(map(str, ctx["last_viewed_products"])),
                         "; ".join(map(str, ctx["wishlist"])), "; ".join(map(str, ctx["cart"])),
                         t["profile_id"], t["message_id"]])
    return out.getvalue().encode("utf-8")


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
