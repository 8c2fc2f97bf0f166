"""The coach's saved replies: short texts a coach sends a client with one tap."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage._sql import execute, fetch_all, fetch_one, insert
from storage.times import from_ts, to_ts


@dataclass(frozen=True)
class SavedReply:
    """One saved reply; `text` may hold `{naam}`, filled in by the bot."""

    id: int
    text: str
    created_by: int
    created_at: datetime


def _from_row(row: sqlite3.Row) -> SavedReply:
    return SavedReply(
        id=int(row["id"]),
        text=str(row["text"]),
        created_by=int(row["created_by"]),
        created_at=from_ts(row["created_at"]),
    )


async def add(conn: aiosqlite.Connection, text: str, created_by: int, now: datetime) -> int:
    """Store a saved reply; returns its id."""
    return await insert(
        conn,
        "INSERT INTO saved_replies (text, created_by, created_at) VALUES (?, ?, ?)",
        (text, created_by, to_ts(now)),
    )


async def all_replies(conn: aiosqlite.Connection) -> list[SavedReply]:
    """Every saved reply, oldest first."""
    rows = await fetch_all(conn, "SELECT * FROM saved_replies ORDER BY id")
    return [_from_row(r) for r in rows]


async def get(conn: aiosqlite.Connection, reply_id: int) -> SavedReply | None:
    """One saved reply, or None."""
    row = await fetch_one(conn, "SELECT * FROM saved_replies WHERE id = ?", (reply_id,))
    return None if row is None else _from_row(row)


async def remove(conn: aiosqlite.Connection, reply_id: int) -> bool:
    """Delete a saved reply; True when there was one."""
    return await execute(conn, "DELETE FROM saved_replies WHERE id = ?", (reply_id,)) == 1
