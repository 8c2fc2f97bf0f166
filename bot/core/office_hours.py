"""The coach's office hours and away period, and what a client reads about when to expect an answer.

Shared by the hand-off (the confirmation a client reads), the coach's side (/afwezig, the waiting
reminder, the card) and the crisis answer (the coach's time zone).
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.edge.config import DAY_NAMES, CoachConfig
from bot.edge.services import Services
from storage import kv

log = logging.getLogger(__name__)

AWAY_KEY = "coach.away"
DAY_WORDS = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip


def zone(cfg: CoachConfig) -> ZoneInfo:
    """The coach's time zone."""
    return ZoneInfo(cfg.timezone)


def _office_window(cfg: CoachConfig, day: date) -> tuple[datetime, datetime] | None:
    """The office hours of one local day as aware datetimes, or None on a day off."""
    if DAY_NAMES[day.weekday()] not in cfg.office_days:
        return None
    tz = zone(cfg)
    return (
        datetime.combine(day, cfg.office_start, tzinfo=tz),
        datetime.combine(day, cfg.office_end, tzinfo=tz),
    )


def next_opening(cfg: CoachConfig, now: datetime, back: date | None = None) -> datetime | None:
    """`now` when the coach is in office now, else when office hours next begin (after `back`)."""
    local = now.astimezone(zone(cfg))
    for offset in range(0, 400):
        day = local.date() + timedelta(days=offset)
        if back is not None and day < back:
            continue
        window = _office_window(cfg, day)
        if window is None:
            continue
        start, end = window
        if local < end:
            return now if local >= start else start
    return None


def in_office(cfg: CoachConfig, now: datetime, back: date | None = None) -> bool:
    """Whether the coach is in office hours now (and not away)."""
    return next_opening(cfg, now, back) == now


def office_seconds(cfg: CoachConfig, start: datetime, end: datetime) -> float:
    """How many seconds of office hours lie between start and end."""
    if end <= start:
        return 0.0
    tz = zone(cfg)
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    # A waiting time of months is not a case to count exactly; cap the loop.
    first = max(first, last - timedelta(days=62))
    total = 0.0
    day = first
    while day <= last:
        window = _office_window(cfg, day)
        if window is not None:
            lo, hi = max(window[0], start), min(window[1], end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


@dataclass(frozen=True)
class Away:
    """The coach's away period: back on `back` (a local date), with an optional own message."""

    back: date
    message: str = ""


async def away(svc: Services, now: datetime | None = None) -> Away | None:
    """The current away period, or None when the coach is not away (or is back already)."""
    async with svc.db.read() as conn:
        raw = await kv.get(conn, AWAY_KEY)
    if raw is None:
        return None
    try:
        data = json.loads(raw)
        period = Away(back=date.fromisoformat(data["back"]), message=str(data.get("message", "")))
    except (ValueError, KeyError, TypeError):
        log.warning("unreadable away period ignored")
        return None
    now = now or svc.clock.now()
    if now.astimezone(zone(svc.config.coach)).date() >= period.back:
        return None
    return period


async def set_away(svc: Services, period: Away | None) -> None:
    """Store (or clear, with None) the coach's away period."""
    async with svc.db.transaction() as conn:
        if period is None:
            await kv.delete(conn, AWAY_KEY)
        else:
            value = json.dumps({"back": period.back.isoformat(), "message": period.message})
            await kv.put(conn, AWAY_KEY, value)


def day_words(when: date, today: date) -> str:
    """A date as the client reads it: "vandaag", "morgen" or "maandag 7 december"."""
    if when == today:
        return "vandaag"
    if when == today + timedelta(days=1):
        return "morgen"
    return f"{DAY_WORDS[when.weekday()]} {when.day} {MONTHS[when.month - 1]}"


def hhmm(t: time) -> str:
    """A time of day as 09:00."""
    return f"{t.hour:02d}:{t.minute:02d}"


def availability(cfg: CoachConfig, now: datetime, period: Away | None) -> str:
    """When the client can expect an answer, in one or two plain sentences."""
    tz = zone(cfg)
    today = now.astimezone(tz).date()
    back = period.back if period is not None else None
    opening = next_opening(cfg, now, back)
    if period is not None:
        first = period.message or cfg.away_message
        when = f" Terug op {day_words(period.back, today)}"
        if opening is not None:
            local = opening.astimezone(tz)
            day = "" if local.date() == period.back else f"{day_words(local.date(), today)} "
            when += f"; je krijgt antwoord vanaf {day}{hhmm(local.time())}"
        when += "."
        return html.escape(first, quote=False) + when
    if opening is None:
        return html.escape(cfg.away_message, quote=False)
    if opening == now:
        return f"Vandaag kan dat tot {hhmm(cfg.office_end)}; je krijgt zo snel mogelijk antwoord."
    local = opening.astimezone(tz)
    return (
        f"{html.escape(cfg.away_message, quote=False)} Je krijgt weer antwoord vanaf "
        f"{day_words(local.date(), today)} {hhmm(local.time())}."
    )
