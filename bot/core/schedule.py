"""A client's check-in schedule: the maths of the next times, and storing it.

Shared by the check-in sweep, the settings screen and the onboarding (whose check-in choice the
conversation core applies). Next times are computed in the client's zone with zoneinfo: a local
time that does not exist on the spring-forward night moves to the first valid moment after it
(02:30 -> 03:00); one that exists twice on the fall-back night fires once, at its first occurrence.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.edge.config import DAY_NAMES
from bot.edge.services import Services
from storage import clients, schedules
from storage.schedules import Schedule

log = logging.getLogger(__name__)


# --- schedule maths (pure) ------------------------------------------------------------------


def parse_hhmm(value: str) -> time | None:
    """A 'HH:MM' string (also 'H:MM' or 'HH.MM') as a time, or None when it is not one."""
    text = value.strip().replace(".", ":")
    hours, sep, minutes = text.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        return None
    h, m = int(hours), int(minutes)
    if not (0 <= h <= 23 and 0 <= m <= 59) or len(hours) > 2:
        return None
    return time(h, m)


def format_hhmm(value: time) -> str:
    """A time as 'HH:MM'."""
    return f"{value.hour:02d}:{value.minute:02d}"


def zone_or_default(name: str | None, default: str) -> ZoneInfo:
    """The client's zone; an unknown name (an old tzdata, say) falls back to the default."""
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone, using the default")
        return ZoneInfo(default)


def _exists(naive: datetime, zone: ZoneInfo) -> bool:
    """Whether a wall-clock time exists in the zone (it does not inside a DST gap)."""
    aware = naive.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


def local_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local date and time: the first occurrence, or just after a gap."""
    naive = datetime.combine(day, at)
    if not _exists(naive, zone):
        # Inside the spring-forward gap: walk to the first wall-clock minute that exists,
        # which is the moment the clocks jumped to (02:30 -> 03:00 in Europe/Amsterdam).
        probe = naive.replace(second=0, microsecond=0)
        for _ in range(24 * 60):
            probe += timedelta(minutes=1)
            if _exists(probe, zone):
                naive = probe
                break
    # fold=0 is the first of two occurrences on the fall-back night.
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _pause_start(schedule: Schedule, after: datetime) -> datetime | None:
    """Where planning may start: after the pause, or None while paused until resumed."""
    if schedule.paused_until is not None and schedule.paused_until > after:
        if schedule.paused_indefinitely:
            return None
        return schedule.paused_until
    return after


def next_checkin(schedule: Schedule, zone: ZoneInfo, after: datetime) -> datetime | None:
    """The first check-in strictly after `after` (UTC), honouring days and pause; None if none."""
    if not schedule.checkin_enabled or schedule.days == 0:
        return None
    start = _pause_start(schedule, after)
    if start is None:
        return None
    at = parse_hhmm(schedule.checkin_time)
    assert at is not None, "schedules.upsert validates HH:MM"
    first = start.astimezone(zone).date() - timedelta(days=1)
    for offset in range(9):
        day = first + timedelta(days=offset)
        if not schedule.on_day(day.weekday()):
            continue
        moment = local_moment(day, at, zone)
        if moment > start or (moment == start and start != after):
            return moment
    return None


def next_reflection(schedule: Schedule, zone: ZoneInfo, after: datetime) -> datetime | None:
    """The first weekly reflection strictly after `after` (UTC), honouring the pause."""
    if not schedule.reflection_enabled:
        return None
    start = _pause_start(schedule, after)
    if start is None:
        return None
    at = parse_hhmm(schedule.reflection_time)
    assert at is not None, "schedules.upsert validates HH:MM"
    first = start.astimezone(zone).date() - timedelta(days=1)
    for offset in range(9):
        day = first + timedelta(days=offset)
        if day.weekday() != schedule.reflection_day:
            continue
        moment = local_moment(day, at, zone)
        if moment > start or (moment == start and start != after):
            return moment
    return None


def plan(schedule: Schedule, zone: ZoneInfo, now: datetime) -> Schedule:
    """The schedule with both next times computed from now."""
    return replace(
        schedule,
        next_checkin_at=next_checkin(schedule, zone, now),
        next_reflection_at=next_reflection(schedule, zone, now),
    )


def default_schedule(svc: Services, user_id: int) -> Schedule:
    """A new client's schedule from the config: check-in at the default time, reflection on."""
    c = svc.config.checkins
    return Schedule(
        user_id=user_id,
        checkin_enabled=True,
        checkin_time=c.default_time,
        days=schedules.EVERY_DAY,
        reflection_enabled=True,
        reflection_day=DAY_NAMES.index(c.reflection_day),
        reflection_time=c.reflection_time,
    )


async def load_schedule(svc: Services, conn: Any, user_id: int) -> Schedule:
    """The client's schedule, or a default one (check-ins off) when they have none yet."""
    found = await schedules.get(conn, user_id)
    if found is not None:
        return found
    return replace(default_schedule(svc, user_id), checkin_enabled=False)


async def save_schedule(
    svc: Services, conn: Any, schedule: Schedule, now: datetime, zone_name: str | None = None
) -> Schedule:
    """Plan the next times in the client's zone and store the schedule (inside a transaction)."""
    if zone_name is None:
        client = await clients.get(conn, schedule.user_id)
        zone_name = client.timezone if client is not None else None
    zone = zone_or_default(zone_name, svc.config.clients.default_timezone)
    planned = plan(schedule, zone, now)
    await schedules.upsert(conn, planned)
    return planned


async def apply_onboarding_choice(
    svc: Services, conn: Any, user_id: int, value: str, now: datetime
) -> None:
    """The onboarding's check-in choice: 'HH:MM' turns the daily check-in on, 'uit' off.

    Runs inside the caller's transaction; an empty value (not chosen yet) changes nothing.
    'uit' also turns the weekly reflection off: the client chose no scheduled messages;
    /instellingen turns either back on.
    """
    if not value.strip():
        return  # the script's variable starting out empty: nothing chosen yet
    current = await schedules.get(conn, user_id)
    base = current or default_schedule(svc, user_id)
    if value.strip().lower() == "uit":
        chosen = replace(base, checkin_enabled=False, reflection_enabled=False)
    else:
        at = parse_hhmm(value)
        if at is None:
            raise ValueError(f"checkin_tijd must be HH:MM or 'uit', got {value!r}")
        chosen = replace(
            base,
            checkin_enabled=True,
            checkin_time=format_hhmm(at),
            reflection_enabled=True if current is None else base.reflection_enabled,
        )
    await save_schedule(svc, conn, chosen, now)
    log.info("check-in schedule set at onboarding", extra={"user_id": user_id})
