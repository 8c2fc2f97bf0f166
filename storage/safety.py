"""Safety events: each time a client's message signalled danger, and how they responded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiosqlite

from storage._sql import execute, fetch_all, insert
from storage.times import from_ts, to_ts

Level = Literal["crisis", "unclear"]
Response = Literal["shown", "yes", "no"]
_LEVELS = ("crisis", "unclear")
_RESPONSES = ("shown", "yes", "no")


@dataclass(frozen=True)
class SafetyEvent:
    """One danger signal: level, category (e.g. 'suicide', 'partner_violence'), response."""

    id: int
    user_id: int
    level: str
    category: str
    created_at: datetime
    response: str


async def record(
    conn: aiosqlite.Connection,
    user_id: int,
    level: Level,
    category: str,
    now: datetime,
    response: Response = "shown",
) -> int:
    """Record a danger signal and return its id."""
    if level not in _LEVELS or response not in _RESPONSES:
        raise ValueError(f"bad safety level/response: {level!r}/{response!r}")
    return await insert(
        conn,
        "INSERT INTO safety_events (user_id, level, category, created_at, response) "
        "VALUES (?, ?, ?, ?, ?)",
        (user_id, level, category, to_ts(now), response),
    )


async def set_response(conn: aiosqlite.Connection, event_id: int, response: Response) -> bool:
    """Record the client's answer to the caring question; False if no such event."""
    if response not in _RESPONSES:
        raise ValueError(f"bad safety response: {response!r}")
    changed = await execute(
        conn, "UPDATE safety_events SET response = ? WHERE id = ?", (response, event_id)
    )
    return changed == 1


async def recent(conn: aiosqlite.Connection, user_id: int, since: datetime) -> list[SafetyEvent]:
    """Return the client's safety events at or after since, oldest first."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM safety_events WHERE user_id = ? AND created_at >= ? ORDER BY created_at, id",
        (user_id, to_ts(since)),
    )
    return [
        SafetyEvent(
            id=r["id"],
            user_id=r["user_id"],
            level=r["level"],
            category=r["category"],
            created_at=from_ts(r["created_at"]),
            response=r["response"],
        )
        for r in rows
    ]
