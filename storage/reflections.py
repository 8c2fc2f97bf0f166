"""Which weekly reflection questions a client has been asked, so questions do not repeat soon."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage._sql import execute, fetch_all
from storage.times import to_ts


async def asked_since(conn: aiosqlite.Connection, user_id: int, since: datetime) -> set[str]:
    """Return the ids of the questions asked to the client at or after since."""
    rows = await fetch_all(
        conn,
        "SELECT DISTINCT question_id FROM reflections_asked WHERE user_id = ? AND asked_at >= ?",
        (user_id, to_ts(since)),
    )
    return {r["question_id"] for r in rows}


async def mark_asked(
    conn: aiosqlite.Connection, user_id: int, question_id: str, now: datetime
) -> None:
    """Record that the question was asked to the client at now."""
    await execute(
        conn,
        "INSERT INTO reflections_asked (user_id, question_id, asked_at) VALUES (?, ?, ?)",
        (user_id, question_id, to_ts(now)),
    )
