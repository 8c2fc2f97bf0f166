"""Follow-ups: a dialogue to start for a client at a later time (scheduled by a dialogue)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage._sql import execute, fetch_all, insert
from storage.times import from_ts, to_ts


@dataclass(frozen=True)
class FollowUp:
    """One planned follow-up."""

    id: int
    user_id: int
    dialogue_id: str
    due_at: datetime


async def add(conn: aiosqlite.Connection, user_id: int, dialogue_id: str, due_at: datetime) -> int:
    """Plan a follow-up and return its id."""
    return await insert(
        conn,
        "INSERT INTO followups (user_id, dialogue_id, due_at) VALUES (?, ?, ?)",
        (user_id, dialogue_id, to_ts(due_at)),
    )


async def due(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[FollowUp]:
    """Return up to limit follow-ups due at or before now, earliest first."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM followups WHERE due_at <= ? ORDER BY due_at, id LIMIT ?",
        (to_ts(now), limit),
    )
    return [
        FollowUp(
            id=r["id"],
            user_id=r["user_id"],
            dialogue_id=r["dialogue_id"],
            due_at=from_ts(r["due_at"]),
        )
        for r in rows
    ]


async def delete(conn: aiosqlite.Connection, followup_id: int) -> bool:
    """Delete a follow-up (done or dropped); False if it was already gone."""
    return await execute(conn, "DELETE FROM followups WHERE id = ?", (followup_id,)) == 1
