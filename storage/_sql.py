"""Small query helpers shared by the repositories.

Each call on an aiosqlite connection is a hop to its thread and back, which costs more CPU than
a small query itself: the reads run as one `execute_fetchall` (one hop) instead of execute,
fetch and close (three).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import aiosqlite

Params = Sequence[object]


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, params: Params = ()
) -> sqlite3.Row | None:
    """Run a query and return its first row (or None), in one hop.

    It reads every row the query returns: for a lookup by key, or with a LIMIT.
    """
    rows = await conn.execute_fetchall(sql, params)
    for row in rows:
        return row
    return None


async def fetch_all(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    """Run a query and return all its rows, in one hop."""
    return list(await conn.execute_fetchall(sql, params))


async def execute(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> int:
    """Run a statement and return the number of rows it changed."""
    async with conn.execute(sql, params) as cursor:
        return cursor.rowcount


async def insert(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> int:
    """Run an INSERT and return the new row's id."""
    async with conn.execute(sql, params) as cursor:
        rowid = cursor.lastrowid
    if rowid is None:
        raise RuntimeError("INSERT did not produce a row id")
    return rowid
