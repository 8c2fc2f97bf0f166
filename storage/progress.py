"""Progress: which dialogues (modules) a client has completed."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage._sql import execute, fetch_all
from storage.times import from_ts, to_ts


async def mark_completed(
    conn: aiosqlite.Connection, user_id: int, dialogue_id: str, now: datetime
) -> None:
    """Record that the client completed the dialogue; a repeat moves the time to now."""
    await execute(
        conn,
        """
        INSERT INTO progress (user_id, dialogue_id, completed_at) VALUES (?, ?, ?)
        ON CONFLICT (user_id, dialogue_id) DO UPDATE SET completed_at = excluded.completed_at
        """,
        (user_id, dialogue_id, to_ts(now)),
    )


async def completed(conn: aiosqlite.Connection, user_id: int) -> set[str]:
    """Return the ids of the dialogues the client has completed."""
    rows = await fetch_all(conn, "SELECT dialogue_id FROM progress WHERE user_id = ?", (user_id,))
    return {r["dialogue_id"] for r in rows}


async def completed_at(conn: aiosqlite.Connection, user_id: int) -> dict[str, datetime]:
    """Return each completed dialogue id with when it was (last) completed."""
    rows = await fetch_all(
        conn, "SELECT dialogue_id, completed_at FROM progress WHERE user_id = ?", (user_id,)
    )
    return {r["dialogue_id"]: from_ts(r["completed_at"]) for r in rows}
