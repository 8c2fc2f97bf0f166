"""A key-value table for settings the bot changes at run time (e.g. the coach's away period)."""

from __future__ import annotations

import aiosqlite

from storage._sql import execute, fetch_one


async def get(conn: aiosqlite.Connection, key: str) -> str | None:
    """Return the value stored under key, or None."""
    row = await fetch_one(conn, "SELECT value FROM kv WHERE key = ?", (key,))
    return None if row is None else str(row["value"])


async def put(conn: aiosqlite.Connection, key: str, value: str) -> None:
    """Store value under key, replacing what was there."""
    await execute(
        conn,
        "INSERT INTO kv (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


async def delete(conn: aiosqlite.Connection, key: str) -> None:
    """Remove key (nothing happens if it is absent)."""
    await execute(conn, "DELETE FROM kv WHERE key = ?", (key,))
