"""Check-in schedule maths: local times in a zone, DST nights, days, pause, reflections."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.schedule import (
    local_moment,
    next_checkin,
    next_reflection,
    parse_hhmm,
    plan,
)
from storage.schedules import EVERY_DAY, PAUSED_INDEFINITELY, WEEKDAYS, Schedule

AMS = ZoneInfo("Europe/Amsterdam")
TOKYO = ZoneInfo("Asia/Tokyo")
NY = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def sched(**kw: object) -> Schedule:
    return Schedule(user_id=1, **kw)  # type: ignore[arg-type]


def test_parse_hhmm() -> None:
    assert parse_hhmm("07:45") == time(7, 45)
    assert parse_hhmm(" 7:05 ") == time(7, 5)
    assert parse_hhmm("21.30") == time(21, 30)
    for bad in ("24:00", "7", "ab:cd", "12:5", "12:60", "", "123:00", "-1:00"):
        assert parse_hhmm(bad) is None, bad


def test_checkin_at_local_time_in_amsterdam_winter_and_summer() -> None:
    s = sched(checkin_time="20:00")
    # Winter: CET is UTC+1.
    assert next_checkin(s, AMS, utc(2026, 11, 23, 9, 0)) == utc(2026, 11, 23, 19, 0)
    # Summer: CEST is UTC+2.
    assert next_checkin(s, AMS, utc(2026, 7, 1, 9, 0)) == utc(2026, 7, 1, 18, 0)
    # Just after today's moment: tomorrow.
    assert next_checkin(s, AMS, utc(2026, 11, 23, 19, 0)) == utc(2026, 11, 24, 19, 0)


def test_checkin_in_other_zones() -> None:
    s = sched(checkin_time="08:00")
    assert next_checkin(s, TOKYO, utc(2026, 11, 23, 9, 0)) == utc(2026, 11, 23, 23, 0)
    assert next_checkin(s, NY, utc(2026, 11, 23, 9, 0)) == utc(2026, 11, 23, 13, 0)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # Spring forward: 02:00 CET -> 03:00 CEST; 02:30 does not exist and moves to 03:00.
        (date(2026, 3, 29), utc(2026, 3, 29, 1, 0)),
        (date(2027, 3, 28), utc(2027, 3, 28, 1, 0)),
        # Fall back: 03:00 CEST -> 02:00 CET; 02:30 happens twice, the first one counts.
        (date(2026, 10, 25), utc(2026, 10, 25, 0, 30)),
        (date(2027, 10, 31), utc(2027, 10, 31, 0, 30)),
    ],
)
def test_dst_nights_in_amsterdam(day: date, expected: datetime) -> None:
    assert local_moment(day, time(2, 30), AMS) == expected
    s = sched(checkin_time="02:30")
    evening_before = datetime.combine(day - timedelta(days=1), time(20, 0), AMS)
    first = next_checkin(s, AMS, evening_before)
    assert first == expected
    # Once it fired, the next one is the following night: never the second 02:30.
    second = next_checkin(s, AMS, expected)
    assert second is not None
    assert second.astimezone(AMS).date() == day + timedelta(days=1)
    assert second.astimezone(AMS).time() == time(2, 30)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (date(2026, 3, 28), date(2026, 3, 29)),
        (date(2026, 10, 24), date(2026, 10, 25)),
        (date(2027, 3, 27), date(2027, 3, 28)),
        (date(2027, 10, 30), date(2027, 10, 31)),
    ],
)
def test_evening_checkin_keeps_its_local_hour_across_dst(before: date, after: date) -> None:
    s = sched(checkin_time="20:00")
    t1 = next_checkin(s, AMS, datetime.combine(before, time(12, 0), AMS))
    assert t1 is not None
    t2 = next_checkin(s, AMS, t1)
    assert t2 is not None
    assert t1.astimezone(AMS).time() == t2.astimezone(AMS).time() == time(20, 0)
    assert t2.astimezone(AMS).date() == after
    # The UTC gap is 23 h in spring and 25 h in autumn.
    assert (t2 - t1) in (timedelta(hours=23), timedelta(hours=25))


def test_days_of_the_week() -> None:
    s = sched(checkin_time="09:00", days=WEEKDAYS)
    friday_after = utc(2026, 11, 27, 9, 0)  # Friday 10:00 local
    monday = next_checkin(s, AMS, friday_after)
    assert monday == utc(2026, 11, 30, 8, 0)
    only_wednesday = sched(checkin_time="09:00", days=1 << 2)
    got = next_checkin(only_wednesday, AMS, utc(2026, 11, 23, 9, 0))
    assert got is not None and got.astimezone(AMS).weekday() == 2
    assert next_checkin(sched(days=0), AMS, friday_after) is None


def test_off_and_pause() -> None:
    now = utc(2026, 11, 23, 9, 0)
    assert next_checkin(sched(checkin_enabled=False), AMS, now) is None
    paused = sched(checkin_time="20:00", paused_until=now + timedelta(days=3))
    assert next_checkin(paused, AMS, now) == utc(2026, 11, 26, 19, 0)
    assert next_reflection(paused, AMS, now) == utc(2026, 11, 29, 18, 0)
    forever = sched(paused_until=PAUSED_INDEFINITELY)
    assert next_checkin(forever, AMS, now) is None
    assert next_reflection(forever, AMS, now) is None
    # An expired pause is no pause.
    old = sched(checkin_time="20:00", paused_until=now - timedelta(days=1))
    assert next_checkin(old, AMS, now) == utc(2026, 11, 23, 19, 0)


def test_pause_ending_exactly_on_a_checkin_keeps_it() -> None:
    now = utc(2026, 11, 23, 9, 0)
    s = sched(checkin_time="20:00", paused_until=utc(2026, 11, 25, 19, 0))
    assert next_checkin(s, AMS, now) == utc(2026, 11, 25, 19, 0)


def test_weekly_reflection() -> None:
    s = sched(reflection_day=6, reflection_time="19:00")
    now = utc(2026, 11, 23, 9, 0)  # Monday
    assert next_reflection(s, AMS, now) == utc(2026, 11, 29, 18, 0)
    assert next_reflection(s, AMS, utc(2026, 11, 29, 18, 0)) == utc(2026, 12, 6, 18, 0)
    assert next_reflection(sched(reflection_enabled=False), AMS, now) is None


def test_plan_fills_both_times() -> None:
    planned = plan(sched(days=EVERY_DAY), AMS, utc(2026, 11, 23, 9, 0))
    assert planned.next_checkin_at == utc(2026, 11, 23, 19, 0)
    assert planned.next_reflection_at == utc(2026, 11, 29, 18, 0)


def test_every_day_of_two_years_fires_once_a_day_at_the_local_time() -> None:
    """Walk 2026-2027 in Amsterdam at 02:30 (the DST hour): one check-in per local date."""
    s = sched(checkin_time="02:30")
    at = utc(2026, 1, 1, 0, 0)
    seen: list[date] = []
    while at < utc(2028, 1, 1, 0, 0):
        nxt = next_checkin(s, AMS, at)
        assert nxt is not None and nxt > at
        seen.append(nxt.astimezone(AMS).date())
        at = nxt
    assert len(seen) == len(set(seen))
    assert seen[0] == date(2026, 1, 1) and seen[-1] == date(2028, 1, 1)
    assert len(seen) == 365 + 365 + 1
