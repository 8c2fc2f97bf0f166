"""Days and times a coach types ("morgen", "14-12", "14-12-2026", "18:30") and how a moment
reads back to them, for the work they set out and the messages they send later."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.office_hours import DAY_WORDS, MONTHS

_DATE_RE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{4}))?$")
_TIME_RE = re.compile(r"^(\d{1,2})[:.](\d{2})$")


def parse_day(word: str, today: date) -> date | None:
    """ "vandaag", "morgen", "overmorgen", "14-12" (the next 14 December from today on) or
    "14-12-2026"; None when it is no day."""
    word = word.strip().lower()
    named = {"vandaag": 0, "nu": 0, "morgen": 1, "overmorgen": 2}
    if word in named:
        return today + timedelta(days=named[word])
    match = _DATE_RE.match(word)
    if match is None:
        return None
    day, month = int(match.group(1)), int(match.group(2))
    try:
        if match.group(3):
            return date(int(match.group(3)), month, day)
        when = date(today.year, month, day)
        return when if when >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


def parse_time(word: str) -> tuple[int, int] | None:
    """ "18:30" or "9.05" as (hour, minute); None when it is no time of day."""
    match = _TIME_RE.match(word.strip())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    return (hour, minute) if hour <= 23 and minute <= 59 else None


def moment_words(when: datetime, zone: ZoneInfo, today: date) -> str:
    """ "vandaag om 18:30", "morgen om 09:00" or "di 15 dec om 09:00" in that zone."""
    local = when.astimezone(zone)
    at = f"{local.hour:02d}:{local.minute:02d}"
    if local.date() == today:
        return f"vandaag om {at}"
    if local.date() == today + timedelta(days=1):
        return f"morgen om {at}"
    day = DAY_WORDS[local.weekday()][:2]
    year = f" {local.year}" if local.year != today.year else ""
    return f"{day} {local.day} {MONTHS[local.month - 1][:3]}{year} om {at}"
