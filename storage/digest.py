"""The coaches' weekly digest: what happened per client in a period, read in a few queries
(one per table, grouped by client) instead of a handful per client."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from storage._sql import fetch_all
from storage.times import from_ts, to_ts


@dataclass
class Activity:
    """One client's facts for a period; moods as (when, score), oldest first."""

    completed: list[str] = field(default_factory=list)
    moods: list[tuple[datetime, int]] = field(default_factory=list)
    checkins_sent: int = 0
    flags: dict[str, int] = field(default_factory=dict)  # level -> count


async def activity(
    conn: aiosqlite.Connection, start: datetime, end: datetime, moods_from: datetime
) -> dict[int, Activity]:
    """Per client: dialogues completed, check-ins sent and safety events in [start, end), and
    moods in [moods_from, end) (an earlier start, for a trend against the period before)."""
    found: dict[int, Activity] = {}

    def of(user_id: int) -> Activity:
        return found.setdefault(int(user_id), Activity())

    lo, hi = to_ts(start), to_ts(end)
    for r in await fetch_all(
        conn,
        "SELECT user_id, dialogue_id FROM progress WHERE completed_at >= ? AND completed_at < ?"
        " ORDER BY completed_at",
        (lo, hi),
    ):
        of(r["user_id"]).completed.append(str(r["dialogue_id"]))
    for r in await fetch_all(
        conn,
        "SELECT user_id, score, created_at FROM moods WHERE created_at >= ? AND created_at < ?"
        " ORDER BY created_at, id",
        (to_ts(moods_from), hi),
    ):
        of(r["user_id"]).moods.append((from_ts(r["created_at"]), int(r["score"])))
    for r in await fetch_all(
        conn,
        "SELECT user_id, count(*) AS n FROM sends WHERE kind = 'checkin' AND status = 'sent'"
        " AND due_at >= ? AND due_at < ? GROUP BY user_id",
        (lo, hi),
    ):
        of(r["user_id"]).checkins_sent = int(r["n"])
    for r in await fetch_all(
        conn,
        "SELECT user_id, level, count(*) AS n FROM safety_events"
        " WHERE created_at >= ? AND created_at < ? GROUP BY user_id, level",
        (lo, hi),
    ):
        of(r["user_id"]).flags[str(r["level"])] = int(r["n"])
    return found


async def marked(conn: aiosqlite.Connection, key: str) -> dict[int, datetime]:
    """When a notice `key` was marked, for every client subject (one query for all clients)."""
    rows = await fetch_all(conn, "SELECT subject, at FROM notices WHERE key = ?", (key,))
    return {
        int(r["subject"]): from_ts(r["at"]) for r in rows if str(r["subject"]).lstrip("-").isdigit()
    }
