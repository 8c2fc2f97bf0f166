"""Pinned sentences: a note of the coach's that opens a client's next session and shows once
in their next check-in."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage._sql import execute, fetch_one
from storage.times import from_ts, from_ts_opt, to_ts

# Where a pin is shown; each place shows it once.
PLACES = {"session": "session_shown_at", "checkin": "checkin_shown_at"}


@dataclass(frozen=True)
class Pin:
    """A client's pinned sentence and where it has been shown."""

    user_id: int
    text: str
    set_by: int
    set_at: datetime
    session_shown_at: datetime | None
    checkin_shown_at: datetime | None

    def shown_in(self, place: str) -> bool:
        """Whether the pin was shown in this place ("session" or "checkin")."""
        return (self.session_shown_at if place == "session" else self.checkin_shown_at) is not None


def _from_row(row: sqlite3.Row) -> Pin:
    return Pin(
        user_id=int(row["user_id"]),
        text=str(row["text"]),
        set_by=int(row["set_by"]),
        set_at=from_ts(row["set_at"]),
        session_shown_at=from_ts_opt(row["session_shown_at"]),
        checkin_shown_at=from_ts_opt(row["checkin_shown_at"]),
    )


async def put(
    conn: aiosqlite.Connection, user_id: int, text: str, set_by: int, now: datetime
) -> None:
    """Pin a sentence for the client, replacing any earlier one (shown nowhere yet)."""
    await execute(
        conn,
        "INSERT INTO pins (user_id, text, set_by, set_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (user_id) DO UPDATE SET text = excluded.text, set_by = excluded.set_by, "
        "set_at = excluded.set_at, session_shown_at = NULL, checkin_shown_at = NULL",
        (user_id, text, set_by, to_ts(now)),
    )


async def get(conn: aiosqlite.Connection, user_id: int) -> Pin | None:
    """The client's pin, or None."""
    row = await fetch_one(conn, "SELECT * FROM pins WHERE user_id = ?", (user_id,))
    return None if row is None else _from_row(row)


async def clear(conn: aiosqlite.Connection, user_id: int) -> bool:
    """Remove the client's pin; True when there was one."""
    return await execute(conn, "DELETE FROM pins WHERE user_id = ?", (user_id,)) == 1


async def mark_shown(conn: aiosqlite.Connection, user_id: int, place: str, now: datetime) -> bool:
    """Record that the pin was shown in `place`; False when it already was (or is gone)."""
    column = PLACES[place]  # a fixed whitelist: the only SQL built from a string
    return (
        await execute(
            conn,
            f"UPDATE pins SET {column} = ? WHERE user_id = ? AND {column} IS NULL",
            (to_ts(now), user_id),
        )
        == 1
    )
