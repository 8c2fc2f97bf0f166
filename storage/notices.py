"""Notices: "told once" facts, such as a non-coach warned or a low-mood offer made.

A subject that is a client must be their user id (an int, stored as text): then export and
erasure include it.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage._sql import execute, fetch_one
from storage.times import from_ts, to_ts


async def seen(conn: aiosqlite.Connection, key: str, subject: str | int) -> datetime | None:
    """Return when key was last marked for subject, or None if never."""
    row = await fetch_one(
        conn, "SELECT at FROM notices WHERE key = ? AND subject = ?", (key, str(subject))
    )
    return None if row is None else from_ts(row["at"])


async def mark(conn: aiosqlite.Connection, key: str, subject: str | int, now: datetime) -> None:
    """Mark key as done for subject at now (a later mark replaces the time)."""
    await execute(
        conn,
        "INSERT INTO notices (key, subject, at) VALUES (?, ?, ?) "
        "ON CONFLICT (key, subject) DO UPDATE SET at = excluded.at",
        (key, str(subject), to_ts(now)),
    )


async def clear(conn: aiosqlite.Connection, key: str, subject: str | int) -> None:
    """Forget key for subject."""
    await execute(conn, "DELETE FROM notices WHERE key = ? AND subject = ?", (key, str(subject)))
