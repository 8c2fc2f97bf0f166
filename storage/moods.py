"""Moods: the score (1..5) a client gives at a check-in, with an optional note."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage._sql import execute, fetch_all, insert
from storage.times import from_ts, to_ts


@dataclass(frozen=True)
class Mood:
    """One mood score; 1 is very low, 5 very good."""

    id: int
    user_id: int
    score: int
    note: str | None
    created_at: datetime


def _from_row(r: sqlite3.Row) -> Mood:
    return Mood(
        id=r["id"],
        user_id=r["user_id"],
        score=r["score"],
        note=r["note"],
        created_at=from_ts(r["created_at"]),
    )


async def add(conn: aiosqlite.Connection, user_id: int, score: int, now: datetime) -> int:
    """Save a mood score (1..5) and return its id."""
    if not 1 <= score <= 5:
        raise ValueError(f"mood score must be 1..5, got {score}")
    return await insert(
        conn,
        "INSERT INTO moods (user_id, score, created_at) VALUES (?, ?, ?)",
        (user_id, score, to_ts(now)),
    )


async def set_note(
    conn: aiosqlite.Connection, user_id: int, mood_id: int, note: str | None
) -> bool:
    """Attach a note to one of this client's moods; False if no such mood of theirs."""
    changed = await execute(
        conn,
        "UPDATE moods SET note = ? WHERE id = ? AND user_id = ?",
        (note, mood_id, user_id),
    )
    return changed == 1


async def since(conn: aiosqlite.Connection, user_id: int, since: datetime) -> list[Mood]:
    """Return the client's moods at or after since, oldest first."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM moods WHERE user_id = ? AND created_at >= ? ORDER BY created_at, id",
        (user_id, to_ts(since)),
    )
    return [_from_row(r) for r in rows]


async def last(conn: aiosqlite.Connection, user_id: int, n: int) -> list[Mood]:
    """Return the client's n most recent moods, oldest first (chronological, like since)."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM moods WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
        (user_id, n),
    )
    return [_from_row(r) for r in reversed(rows)]
