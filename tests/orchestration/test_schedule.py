"""Schedules: croniter agreement, DST rules, catch-up once after downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from croniter import croniter
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from omniplay.errors import ConfigError
from omniplay.schedule import (
    FIRST_RUN_LOOKBACK,
    Schedule,
    ScheduleError,
    due,
    next_fire,
    prev_fire,
    validate_schedule,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def fires_between(cron: str, tz: str, start: datetime, end: datetime) -> list[datetime]:
    """All fire times in (start, end]."""
    out = []
    for instant in Schedule.parse(cron, tz).fires_after(start):
        if instant > end:
            return out
        out.append(instant)
    raise AssertionError("unreachable")


# --- hypothesis strategies ------------------------------------------------------------

def _field(lo: int, hi: int) -> st.SearchStrategy[str]:
    value = st.integers(lo, hi)
    pair = st.tuples(value, value).map(sorted)
    return st.one_of(
        st.just("*"),
        value.map(str),
        pair.map(lambda p: f"{p[0]}-{p[1]}"),
        st.integers(1, hi - lo).map(lambda s: f"*/{s}"),
        st.lists(value, min_size=2, max_size=4, unique=True).map(lambda xs: ",".join(map(str, sorted(xs)))),
        st.tuples(pair, st.integers(1, 7)).map(lambda t: f"{t[0][0]}-{t[0][1]}/{t[1]}"),
    )


crons = st.tuples(_field(0, 59), _field(0, 23), _field(1, 31), _field(1, 12), _field(0, 6)).map(" ".join)
# Every zone tzdata knows, including odd ones (Lord Howe's 30-minute DST, Samoa's
# skipped day, midnight transitions in Santiago); the named ones are drawn more often.
all_zones = sorted(available_timezones() - {"localtime", "Factory"})
zones = st.one_of(
    st.sampled_from(["America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe",
                     "America/Santiago", "Pacific/Apia", "UTC"]),
    st.sampled_from(all_zones),
)
fixed_zones = st.sampled_from(["UTC", "Etc/GMT-5", "Etc/GMT+3", "Etc/GMT-14", "Asia/Kolkata"])
instants = st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2045, 1, 1), timezones=st.just(UTC))

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _schedule(cron: str, tz: str) -> Schedule:
    try:
        return Schedule.parse(cron, tz)
    except ScheduleError:
        assume(False)  # e.g. "0 0 31 2 *": never fires
        raise


def _unambiguous(wall: datetime, zone: ZoneInfo) -> bool:
    """The wall time exists and occurs once."""
    a, b = (wall.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1))
    return a == b


# --- agreement with croniter ---------------------------------------------------------

@PROPERTY
@given(cron=crons, tz=fixed_zones, after=instants)
def test_next_and_prev_match_croniter_in_zones_without_dst(cron, tz, after):
    schedule = _schedule(cron, tz)
    zone = ZoneInfo(tz)
    local = after.astimezone(zone)
    expected_next = croniter(cron, local).get_next(datetime).astimezone(UTC)
    assert schedule.next_fire(after) == expected_next
    # croniter's get_prev is exclusive; ours includes `at` itself.
    expected_prev = croniter(cron, local + timedelta(microseconds=1)).get_prev(datetime).astimezone(UTC)
    assert schedule.prev_fire(after) == expected_prev


@PROPERTY
@given(cron=crons, tz=zones, after=instants)
def test_next_matches_croniter_wall_clock_away_from_transitions(cron, tz, after):
    """Where neither end is in a skipped or repeated hour, the result is croniter's next local time."""
    schedule = _schedule(cron, tz)
    zone = ZoneInfo(tz)
    wall = after.astimezone(zone).replace(tzinfo=None)
    assume(_unambiguous(wall.replace(second=0, microsecond=0), zone))
    expected_wall = croniter(cron, wall).get_next(datetime)
    assume(_unambiguous(expected_wall, zone))
    result = schedule.next_fire(after)
    assert result == expected_wall.replace(tzinfo=zone).astimezone(UTC)
    assert result.tzinfo is UTC


@PROPERTY
@given(cron=crons, tz=zones, t=instants)
def test_fire_times_are_consistent_in_every_zone(cron, tz, t):
    schedule = _schedule(cron, tz)
    zone = ZoneInfo(tz)
    nxt = schedule.next_fire(t)
    prv = schedule.prev_fire(t)
    assert prv is not None and prv <= t < nxt
    assert nxt.tzinfo is UTC and prv.tzinfo is UTC
    # Nothing fires strictly between the previous and the next fire time.
    assert schedule.next_fire(prv) == nxt
    assert schedule.prev_fire(nxt) == nxt
    assert schedule.prev_fire(nxt - timedelta(microseconds=1)) == prv
    # Each fire time is a croniter match on the local calendar, or the end of a
    # skipped hour (where the offset changes) that swallowed a match.
    for instant in (prv, nxt):
        wall = instant.astimezone(zone).replace(tzinfo=None)
        before = (instant - timedelta(seconds=1)).astimezone(zone).utcoffset()
        at_gap_end = before < instant.astimezone(zone).utcoffset()
        assert croniter.match(cron, wall) or at_gap_end
        if not at_gap_end:
            # A matching wall time fires at its first occurrence only.
            assert instant == wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


@PROPERTY
@given(cron=crons, tz=zones, last=instants, gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)))
def test_due_catches_up_exactly_once(cron, tz, last, gap):
    schedule = _schedule(cron, tz)
    now = last + gap
    check = schedule.due(last, now)
    first_missed = schedule.next_fire(last)
    assert check.is_due == (first_missed <= now)
    assert check.next_fire == schedule.next_fire(now)
    if check:
        assert check.fire_at == schedule.prev_fire(now)
        assert check.earliest_missed == first_missed <= check.fire_at <= now
        # Having run now, nothing is due until the next fire time.
        assert not schedule.due(now, now)
        assert not schedule.due(now, check.next_fire - timedelta(seconds=1))
        assert schedule.due(now, check.next_fire).fire_at == check.next_fire
    else:
        assert check.earliest_missed is None


# --- DST: explicit cases ---------------------------------------------------------------

@pytest.mark.parametrize(
    ("cron", "tz", "start", "end", "expected"),
    [
        # Europe/Berlin springs forward 2026-03-29 02:00 CET -> 03:00 CEST.
        ("0 2 * * *", "Europe/Berlin", utc(2026, 3, 27), utc(2026, 3, 30, 12),
         [utc(2026, 3, 27, 1), utc(2026, 3, 28, 1), utc(2026, 3, 29, 1), utc(2026, 3, 30, 0)]),
        ("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 12), utc(2026, 3, 30, 12),
         [utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)]),
        # Every 15 minutes: 02:00-02:45 do not exist and collapse onto 03:00 CEST.
        ("*/15 * * * *", "Europe/Berlin", utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30),
         [utc(2026, 3, 29, 0, 45), utc(2026, 3, 29, 1), utc(2026, 3, 29, 1, 15), utc(2026, 3, 29, 1, 30)]),
        # Europe/Berlin falls back 2026-10-25 03:00 CEST -> 02:00 CET: 02:xx occurs twice.
        ("0 2 * * *", "Europe/Berlin", utc(2026, 10, 23, 12), utc(2026, 10, 26, 12),
         [utc(2026, 10, 24), utc(2026, 10, 25), utc(2026, 10, 26, 1)]),
        ("30 2 * * *", "Europe/Berlin", utc(2026, 10, 24, 12), utc(2026, 10, 25, 12),
         [utc(2026, 10, 25, 0, 30)]),
        # Hourly: the repeated 02:00 does not fire a second time.
        ("0 * * * *", "Europe/Berlin", utc(2026, 10, 24, 22, 30), utc(2026, 10, 25, 3, 30),
         [utc(2026, 10, 24, 23), utc(2026, 10, 25, 0), utc(2026, 10, 25, 2), utc(2026, 10, 25, 3)]),
        # America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
        ("30 2 * * *", "America/New_York", utc(2026, 3, 7, 12), utc(2026, 3, 9, 12),
         [utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30)]),
        ("30 1 * * *", "America/New_York", utc(2026, 10, 31, 12), utc(2026, 11, 2, 12),
         [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]),
        ("0 9 * * 1-5", "America/New_York", utc(2026, 3, 6), utc(2026, 3, 10),
         [utc(2026, 3, 6, 14), utc(2026, 3, 9, 13)]),
        # Australia/Sydney: 2026-04-05 03:00 AEDT -> 02:00 AEST; 2026-10-04 02:00 AEST -> 03:00 AEDT.
        ("30 2 * * *", "Australia/Sydney", utc(2026, 4, 4, 0), utc(2026, 4, 5, 23),
         [utc(2026, 4, 4, 15, 30), utc(2026, 4, 5, 16, 30)]),
        ("30 2 * * *", "Australia/Sydney", utc(2026, 10, 2, 12), utc(2026, 10, 4, 23),
         [utc(2026, 10, 2, 16, 30), utc(2026, 10, 3, 16), utc(2026, 10, 4, 15, 30)]),
    ],
)
def test_dst_transitions(cron, tz, start, end, expected):
    assert fires_between(cron, tz, start, end) == expected
    # Walking backwards gives the same fire times.
    backwards = []
    for instant in Schedule.parse(cron, tz).fires_until(end):
        if instant <= start:
            break
        backwards.append(instant)
    assert backwards[::-1] == expected


@pytest.mark.parametrize(
    ("tz", "fall_back_day"),
    [("Europe/Berlin", (2026, 10, 25)), ("America/New_York", (2026, 11, 1)), ("Australia/Sydney", (2026, 4, 5))],
)
def test_every_wall_clock_fire_on_a_fall_back_day_happens_once(tz, fall_back_day):
    zone = ZoneInfo(tz)
    day_start = datetime(*fall_back_day, tzinfo=zone).astimezone(UTC)
    day_end = (datetime(*fall_back_day, tzinfo=zone) + timedelta(days=1)).astimezone(UTC)
    fires = fires_between("*/30 * * * *", tz, day_start - timedelta(seconds=1), day_end - timedelta(seconds=1))
    walls = [f.astimezone(zone).strftime("%H:%M") for f in fires]
    assert walls == [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)]  # 48, none twice


def test_prev_fire_inside_the_second_pass_of_a_repeated_hour():
    # 01:45 UTC is 02:45 CET, the second 02:45 of the day; 02:30 first happened at 00:30 UTC.
    assert prev_fire("30 2 * * *", "Europe/Berlin", utc(2026, 10, 25, 1, 45)) == utc(2026, 10, 25, 0, 30)
    assert next_fire("30 2 * * *", "Europe/Berlin", utc(2026, 10, 25, 1, 45)) == utc(2026, 10, 26, 1, 30)


def test_a_play_runs_once_per_day_across_dst_and_downtime():
    """A dispatcher calling `sync --due` every 15 minutes, with the machine down 3 days."""
    schedule = Schedule.parse("0 2 * * *", "Europe/Berlin")
    down = (utc(2026, 10, 27, 0), utc(2026, 10, 30, 12))
    last_run = None
    runs = []
    tick = utc(2026, 10, 20, 3)
    while tick < utc(2026, 11, 3, 3):
        if not down[0] <= tick < down[1]:
            check = schedule.due(last_run, tick)
            if check:
                runs.append((tick, check.fire_at, check.collapsed))
                last_run = tick
        tick += timedelta(minutes=15)
    fired = [fire for _, fire, _ in runs]
    # Daily at 02:00 local: 00:00 UTC in summer time, 01:00 UTC after 2026-10-25.
    assert fired == [
        utc(2026, 10, 20), utc(2026, 10, 21), utc(2026, 10, 22), utc(2026, 10, 23), utc(2026, 10, 24),
        utc(2026, 10, 25), utc(2026, 10, 26, 1),
        utc(2026, 10, 30, 1),  # one catch-up for the fires on the 27th..30th
        utc(2026, 10, 31, 1), utc(2026, 11, 1, 1), utc(2026, 11, 2, 1), utc(2026, 11, 3, 1),
    ]
    catch_up = runs[7]
    assert catch_up[0] == down[1] and catch_up[2] is True
    assert sum(collapsed for *_, collapsed in runs) == 1


def test_catch_up_after_multi_day_downtime_reports_the_missed_window():
    check = due("0 2 * * *", "Europe/Berlin", last_run_at=utc(2026, 11, 1, 1, 0, 5), now=utc(2026, 11, 5, 9))
    assert check.is_due and check.collapsed
    assert check.fire_at == utc(2026, 11, 5, 1)
    assert check.earliest_missed == utc(2026, 11, 2, 1)
    assert check.next_fire == utc(2026, 11, 6, 1)
    assert "catching up once to 2026-11-05T01:00:00Z" in check.reason


def test_not_due_again_after_running():
    check = due("0 2 * * *", "Europe/Berlin", last_run_at=utc(2026, 11, 5, 1, 0, 3), now=utc(2026, 11, 5, 23))
    assert not check
    assert check.fire_at == utc(2026, 11, 5, 1) and check.earliest_missed is None
    assert "next fire at 2026-11-06T01:00:00Z" in check.reason


def test_first_run_uses_the_lookback():
    now = utc(2026, 11, 5, 9)  # a Thursday
    daily = due("0 2 * * *", "Europe/Berlin", None, now)
    assert daily.is_due and daily.fire_at == utc(2026, 11, 5, 1) and not daily.collapsed
    weekly = due("0 9 * * 1", "UTC", None, now)  # last fired Monday, 3 days ago
    assert not weekly and "older than 24 h" in weekly.reason
    assert due("0 9 * * 1", "UTC", None, now, first_run_lookback=timedelta(days=7)).is_due
    # The edge of the default lookback still counts.
    monday = utc(2026, 11, 2, 9)
    assert due("0 9 * * 1", "UTC", None, monday + FIRST_RUN_LOOKBACK).is_due
    assert not due("0 9 * * 1", "UTC", None, monday + FIRST_RUN_LOOKBACK + timedelta(seconds=1))


def test_fire_exactly_at_now_is_due_and_a_fire_exactly_at_the_last_run_is_not():
    assert due("0 9 * * *", "UTC", utc(2026, 11, 4, 9), utc(2026, 11, 5, 9)).fire_at == utc(2026, 11, 5, 9)
    assert not due("0 9 * * *", "UTC", utc(2026, 11, 5, 9), utc(2026, 11, 5, 12))


def test_last_run_in_the_future_is_never_due():
    assert not due("* * * * *", "UTC", utc(2026, 11, 6), utc(2026, 11, 5))


def test_results_are_utc_for_any_aware_input():
    berlin = datetime(2026, 6, 1, 12, tzinfo=ZoneInfo("Europe/Berlin"))
    result = next_fire("0 13 * * *", "Europe/Berlin", berlin)
    assert result == utc(2026, 6, 1, 11) and result.tzinfo is UTC


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire("0 9 * * *", "UTC", datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="last_run_at must be timezone-aware"):
        due("0 9 * * *", "UTC", datetime(2026, 1, 1), utc(2026, 1, 2))


# --- validation ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("cron", "tz", "message"),
    [
        ("61 * * * *", "UTC", r"schedule\.cron: '61 \* \* \* \*' is not a valid cron expression"),
        ("0 9 * * * *", "UTC", r"schedule\.cron: .* has 6 fields; expected 5"),
        ("0 9 * *", "UTC", r"schedule\.cron: .* has 4 fields"),
        ("0 0 30 2 *", "UTC", r"schedule\.cron: '0 0 30 2 \*' never fires"),
        ("H 9 * * *", "UTC", r"schedule\.cron: .*hashed/random value \(H or R\) in the minute field"),
        ("0 R * * *", "UTC", r"in the hour field"),
        ("@reboot", "UTC", r"schedule\.cron: '@reboot' is not a supported alias"),
        ("", "UTC", r"schedule\.cron is required"),
        ("nine am", "UTC", r"schedule\.cron: 'nine am' has 2 fields"),
        ("0 9 * * *", "Mars/Olympus_Mons", r"schedule\.timezone: 'Mars/Olympus_Mons' is not an IANA timezone"),
        ("0 9 * * *", "../../etc/passwd", r"schedule\.timezone: .* is not an IANA timezone"),
        ("0 9 * * *", "", r"schedule\.timezone is required"),
        ("0 9 * * *", None, r"schedule\.timezone is required"),
    ],
)
def test_invalid_schedules_name_the_field(cron, tz, message):
    with pytest.raises(ScheduleError, match=message) as info:
        validate_schedule(cron, tz)
    assert isinstance(info.value, ConfigError) and info.value.exit_code == 2
    assert isinstance(info.value, ValueError)  # usable inside pydantic validators


def test_error_prefix_names_the_play():
    with pytest.raises(ConfigError, match=r"^aud_winback\.yml: play 'winback': schedule\.timezone: "):
        Schedule.parse("0 9 * * *", "Europe/Berln", where="aud_winback.yml: play 'winback': schedule")


def test_valid_forms_are_normalised():
    assert Schedule.parse("  0   9 * *  MON-FRI ", "Europe/Berlin").cron == "0 9 * * MON-FRI"
    assert Schedule.parse("@Daily", "UTC").cron == "@daily"
    assert next_fire("@daily", "Europe/Berlin", utc(2026, 6, 1, 12)) == utc(2026, 6, 1, 22)
    assert next_fire("0 9 * * THU", "UTC", utc(2026, 11, 5, 9)) == utc(2026, 11, 12, 9)


def test_from_mapping():
    schedule = Schedule.from_mapping({"cron": "0 9 * * *", "timezone": "America/New_York"}, where="play x: schedule")
    assert schedule == Schedule("0 9 * * *", "America/New_York")
    with pytest.raises(ScheduleError, match=r"play x: schedule: unknown field\(s\) tz"):
        Schedule.from_mapping({"cron": "0 9 * * *", "tz": "UTC"}, where="play x: schedule")
    with pytest.raises(ScheduleError, match=r"play x: schedule\.timezone is required"):
        Schedule.from_mapping({"cron": "0 9 * * *"}, where="play x: schedule")
    with pytest.raises(ScheduleError, match="must be a mapping"):
        Schedule.from_mapping("0 9 * * *")  # type: ignore[arg-type]


def test_direct_construction_validates_too():
    assert Schedule("0  9 * * *", "UTC").cron == "0 9 * * *"
    with pytest.raises(ScheduleError, match=r"^schedule\.cron: "):
        Schedule("0 25 * * *", "UTC")
