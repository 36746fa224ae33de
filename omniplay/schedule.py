"""Play schedules: a 5-field cron expression read in an IANA timezone.

Every instant going in or out is an aware datetime; results are always in UTC.

**The rule.** A schedule is a set of local wall-clock times (croniter evaluates the cron
expression on the play's local calendar), and each of those wall-clock times fires
exactly once:

* A wall-clock time that occurs twice (the repeated hour when clocks go back) fires at
  its *first* occurrence only. ``0 2 * * *`` in Europe/Berlin fires once on the
  fall-back day, at 02:00 CEST; an hourly schedule therefore does not fire again during
  the repeated hour.
* A wall-clock time that does not exist (the hour skipped when clocks go forward) fires
  at the instant the gap ends, i.e. the first existing wall-clock time after it.
  ``30 2 * * *`` in Europe/Berlin fires at 03:00 CEST on the spring-forward day.
  Several fire times inside one gap collapse onto that instant and fire once.

This is how cron daemons treat fixed-time jobs (a job in the skipped hour runs right
after the change, one in the repeated hour does not run twice), and it keeps fire times
strictly increasing, which the catch-up logic below relies on.

**Due and catch-up.** ``due(cron, tz, last_run_at, now)`` looks at the latest fire time
at or before ``now``. With a previous run it is due when that fire time is after the
previous run: however many fire times were missed while nothing ran (machine down,
scheduler paused), the play is caught up **once**, to the latest of them. A play that
has never run is due when its latest fire time lies within ``first_run_lookback`` of
``now`` (default 24 hours), so a newly added nightly play goes out on the next
dispatch but a weekly play added days after its fire time waits for the next one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, CroniterError, croniter

from omniplay.errors import ConfigError

__all__ = [
    "FIRST_RUN_LOOKBACK",
    "Due",
    "Schedule",
    "ScheduleError",
    "due",
    "next_fire",
    "prev_fire",
    "validate_schedule",
]

FIRST_RUN_LOOKBACK = timedelta(hours=24)
"""A play that has never run is due if its schedule fired this recently."""

_CRON_FIELDS = "minute hour day-of-month month day-of-week"
_CRON_ALIASES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
# croniter's hashed (H) and random (R) fields are not reproducible without extra input.
_NONDETERMINISTIC = re.compile(r"^[HR](?:$|[(/])", re.IGNORECASE)


class ScheduleError(ConfigError, ValueError):
    """A cron expression or timezone is invalid; the message names the field.

    It is also a ``ValueError`` so pydantic validators can raise it directly.
    """


def _require_aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _check_timezone(timezone: str, where: str) -> ZoneInfo:
    field = f"{where}.timezone"
    if not isinstance(timezone, str) or not timezone.strip():
        raise ScheduleError(f"{field} is required: an IANA timezone name such as 'Europe/Berlin'")
    try:
        return _zone(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScheduleError(
            f"{field}: {timezone!r} is not an IANA timezone name "
            "(e.g. 'Europe/Berlin', 'America/New_York', 'UTC')"
        ) from None


def _check_cron(cron: str, where: str) -> str:
    field = f"{where}.cron"
    if not isinstance(cron, str) or not cron.strip():
        raise ScheduleError(f"{field} is required: a cron expression such as '0 9 * * *'")
    expr = " ".join(cron.split())
    if expr.startswith("@"):
        if expr.lower() not in _CRON_ALIASES:
            raise ScheduleError(
                f"{field}: {cron!r} is not a supported alias; use one of "
                f"{', '.join(sorted(_CRON_ALIASES))} or 5 fields ({_CRON_FIELDS})"
            )
        return expr.lower()
    parts = expr.split(" ")
    if len(parts) != 5:
        raise ScheduleError(
            f"{field}: {cron!r} has {len(parts)} fields; expected 5 ({_CRON_FIELDS}), "
            "e.g. '0 9 * * 1' for Mondays at 09:00"
        )
    for name, part in zip(_CRON_FIELDS.split(), parts, strict=True):
        if any(_NONDETERMINISTIC.match(item) for item in part.split(",")):
            raise ScheduleError(
                f"{field}: {cron!r} uses a hashed/random value (H or R) in the {name} field; "
                "write the value explicitly"
            )
    try:
        # Also catches expressions that parse but never match (e.g. 30 February).
        croniter(expr, datetime(2000, 1, 1)).get_next(datetime)
    except CroniterBadDateError:
        raise ScheduleError(f"{field}: {cron!r} never fires (no such calendar date)") from None
    except (CroniterError, ValueError, KeyError, IndexError) as exc:
        raise ScheduleError(
            f"{field}: {cron!r} is not a valid cron expression ({exc}); "
            f"expected 5 fields ({_CRON_FIELDS})"
        ) from None
    return expr


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive local wall-clock time of an instant."""
    return instant.astimezone(zone).replace(tzinfo=None)


def _to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """Map a local wall-clock time to the instant it fires (see the module rule)."""
    first = wall.replace(tzinfo=zone, fold=0)  # earlier occurrence when ambiguous
    instant = first.astimezone(UTC)
    if _wall(instant, zone) == wall:
        return instant
    return _gap_end(wall, zone)


def _gap_end(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant a skipped wall-clock time's gap ends (the clocks jump over ``wall``)."""
    # fold=1 reads the wall time with the offset after the change (an instant before the
    # jump), fold=0 with the one before it (an instant after): the jump lies in between.
    lo = int(wall.replace(tzinfo=zone, fold=1).astimezone(UTC).timestamp())
    hi = int(wall.replace(tzinfo=zone, fold=0).astimezone(UTC).timestamp())
    if lo > hi:
        lo, hi = hi, lo
    after = datetime.fromtimestamp(hi, UTC).astimezone(zone).utcoffset()
    while hi - lo > 1:  # the first second that already has the new offset
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


@dataclass(frozen=True)
class Due:
    """Whether a schedule is due, and what it is catching up to.

    Attributes:
        is_due: the schedule fired after the last run (or, for a first run, within
            the lookback) and at or before ``now``.
        fire_at: the latest fire time at or before ``now`` (UTC); the one a due run
            catches up to. ``None`` only if the schedule never fired before ``now``.
        earliest_missed: the first fire time after the last run (UTC) when due; equal
            to ``fire_at`` unless several fire times were missed and collapsed into
            this one catch-up. ``None`` when not due.
        next_fire: the first fire time after ``now`` (UTC).
        reason: one line for logs and ``plays show``.
    """

    is_due: bool
    fire_at: datetime | None
    earliest_missed: datetime | None
    next_fire: datetime
    reason: str

    def __bool__(self) -> bool:
        return self.is_due

    @property
    def collapsed(self) -> bool:
        """True when more than one missed fire time is caught up by this single run."""
        return self.is_due and self.earliest_missed != self.fire_at


def _iso(instant: datetime | None) -> str:
    return "never" if instant is None else instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} h"


@dataclass(frozen=True)
class Schedule:
    """A validated, normalised cron expression and IANA timezone.

    ``Schedule(cron, timezone)`` validates; :meth:`parse` does the same with an error
    prefix that names the play.
    """

    cron: str
    timezone: str

    def __post_init__(self) -> None:
        # Direct construction is validated too (with the generic field prefix).
        object.__setattr__(self, "cron", _check_cron(self.cron, "schedule"))
        _check_timezone(self.timezone, "schedule")

    @classmethod
    def parse(cls, cron: str, timezone: str, *, where: str = "schedule") -> Schedule:
        """Validate and normalise a schedule.

        Args:
            cron: 5-field cron expression (minute hour day-of-month month day-of-week)
                or an alias such as ``@daily``.
            timezone: IANA timezone name the expression is read in.
            where: prefix for error messages, e.g. ``"aud_winback.yml: play 'winback':
                schedule"``; the field name (``.cron`` / ``.timezone``) is appended.

        Raises:
            ScheduleError: naming ``<where>.cron`` or ``<where>.timezone``.
        """
        expr = _check_cron(cron, where)
        _check_timezone(timezone, where)
        return cls(cron=expr, timezone=timezone)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any], *, where: str = "schedule") -> Schedule:
        """Build from a config mapping ``{cron: ..., timezone: ...}`` (play YAML)."""
        if not isinstance(config, Mapping):
            raise ScheduleError(
                f"{where} must be a mapping with 'cron' and 'timezone', got {type(config).__name__}"
            )
        unknown = sorted(set(config) - {"cron", "timezone"})
        if unknown:
            raise ScheduleError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}; "
                                "expected 'cron' and 'timezone'")
        return cls.parse(config.get("cron"), config.get("timezone"), where=where)

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def fires_after(self, after: datetime) -> Iterator[datetime]:
        """Fire times strictly after ``after``, ascending, in UTC (an endless iterator)."""
        after = _require_aware(after, "after")
        zone = self.zone
        # The wall->UTC mapping is non-decreasing, and the wall time of `after` maps to
        # `after` or (second pass of a repeated hour) earlier, so iterating wall times
        # from there and skipping anything <= the last yield is exact.
        walls = croniter(self.cron, _wall(after, zone))
        last = after
        while True:
            instant = _to_utc(walls.get_next(datetime), zone)
            if instant > last:
                yield instant
                last = instant

    def fires_until(self, at: datetime) -> Iterator[datetime]:
        """Fire times at or before ``at``, descending, in UTC (an endless iterator)."""
        at = _require_aware(at, "at")
        zone = self.zone
        # Start from a wall time that maps strictly after `at`; at most one repeated
        # hour (or a few, for odd historical zones) has to be stepped over.
        start = _wall(at, zone) + timedelta(seconds=1)
        while _to_utc(start, zone) <= at:
            start += timedelta(hours=1)
        walls = croniter(self.cron, start)
        last: datetime | None = None
        while True:
            instant = _to_utc(walls.get_prev(datetime), zone)
            if instant <= at and (last is None or instant < last):
                yield instant
                last = instant

    def next_fire(self, after: datetime) -> datetime:
        """The first fire time strictly after ``after`` (UTC)."""
        return next(self.fires_after(after))

    def prev_fire(self, at: datetime) -> datetime | None:
        """The latest fire time at or before ``at`` (UTC); None if there is none."""
        try:
            return next(self.fires_until(at))
        except CroniterBadDateError:  # nothing within croniter's search window
            return None

    def due(
        self,
        last_run_at: datetime | None,
        now: datetime,
        *,
        first_run_lookback: timedelta = FIRST_RUN_LOOKBACK,
    ) -> Due:
        """Whether the schedule fired in ``(last_run_at, now]``; see the module rule.

        Args:
            last_run_at: when the play last ran (or the fire time that run caught up
                to; either works since a run starts at or after its fire time).
                ``None`` if it never ran.
            now: the current instant.
            first_run_lookback: for a play that never ran, how old its latest fire
                time may be and still be due.
        """
        now = _require_aware(now, "now")
        if last_run_at is not None:
            last_run_at = _require_aware(last_run_at, "last_run_at")
        if first_run_lookback < timedelta(0):
            raise ValueError("first_run_lookback must not be negative")
        latest = self.prev_fire(now)
        upcoming = self.next_fire(now)

        if latest is None:
            return Due(False, None, None, upcoming, f"not due: first fire at {_iso(upcoming)}")
        if last_run_at is None:
            if now - latest <= first_run_lookback:
                return Due(True, latest, latest, upcoming,
                           f"due: first run, fired at {_iso(latest)}")
            return Due(False, latest, None, upcoming,
                       f"not due: first run and the last fire ({_iso(latest)}) is older than "
                       f"{_span(first_run_lookback)}; next fire at {_iso(upcoming)}")
        if latest <= last_run_at:
            return Due(False, latest, None, upcoming,
                       f"not due: last run {_iso(last_run_at)} is after the last fire "
                       f"{_iso(latest)}; next fire at {_iso(upcoming)}")
        earliest = self.next_fire(last_run_at)
        if earliest == latest:
            reason = f"due: fired at {_iso(latest)}"
        else:
            reason = (f"due: catching up once to {_iso(latest)} "
                      f"(missed fire times since {_iso(earliest)} are not repeated)")
        return Due(True, latest, earliest, upcoming, reason)


def validate_schedule(cron: str, timezone: str, *, where: str = "schedule") -> Schedule:
    """Validate a cron expression and timezone; raise :class:`ScheduleError` naming the field."""
    return Schedule.parse(cron, timezone, where=where)


def next_fire(cron: str, timezone: str, after: datetime) -> datetime:
    """The first fire time strictly after ``after`` (aware), in UTC."""
    return Schedule.parse(cron, timezone).next_fire(after)


def prev_fire(cron: str, timezone: str, at: datetime) -> datetime | None:
    """The latest fire time at or before ``at`` (aware), in UTC."""
    return Schedule.parse(cron, timezone).prev_fire(at)


def due(
    cron: str,
    timezone: str,
    last_run_at: datetime | None,
    now: datetime,
    *,
    first_run_lookback: timedelta = FIRST_RUN_LOOKBACK,
) -> Due:
    """Whether a schedule fired in ``(last_run_at, now]``; see :meth:`Schedule.due`."""
    return Schedule.parse(cron, timezone).due(
        last_run_at, now, first_run_lookback=first_run_lookback
    )
