"""Data rights and safekeeping: export and erasure of a client, retention, and online backup.

Export and erasure walk the schema: every table with a user_id column is about a client, so a
table added by a later migration is included without touching this file. Notices whose subject
is the client's user id are included too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from storage._sql import execute, fetch_all
from storage.db import Database, create_private_file
from storage.errors import StorageError, translate
from storage.times import from_ts, to_ts

EXPORT_FORMAT = "coachbot-export-1"

# Integer columns that hold unix seconds; the export shows them as ISO 8601.
TIME_COLUMNS = frozenset({"last_seen", "paused_until", "at"})


def _is_time_column(name: str) -> bool:
    return name in TIME_COLUMNS or name.endswith("_at")


async def client_tables(conn: aiosqlite.Connection) -> list[str]:
    """Return the names of all tables that have a user_id column, sorted."""
    rows = await fetch_all(
        conn,
        """
        SELECT m.name FROM sqlite_master AS m
        WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
          AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) AS c WHERE c.name = 'user_id')
        ORDER BY m.name
        """,
    )
    return [str(r["name"]) for r in rows]


def _quote(identifier: str) -> str:
    """Quote a table name read from sqlite_master (names cannot be bound as parameters)."""
    return '"' + identifier.replace('"', '""') + '"'


def _exportable(column: str, value: object) -> object:
    if value is None:
        return None
    if _is_time_column(column) and isinstance(value, int):
        return from_ts(value).isoformat()
    if column == "state_json" and isinstance(value, str):
        return json.loads(value)
    return value


async def export(
    conn: aiosqlite.Connection, user_id: int, now: datetime | None = None
) -> dict[str, Any]:
    """Return every row about the client in every table, JSON-serialisable, times in ISO 8601."""
    exported_at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    tables: dict[str, list[dict[str, object]]] = {}
    for table in await client_tables(conn):
        rows = await fetch_all(
            conn, f"SELECT * FROM {_quote(table)} WHERE user_id = ? ORDER BY rowid", (user_id,)
        )
        tables[table] = [{k: _exportable(k, r[k]) for k in r.keys()} for r in rows]
    notices = await fetch_all(
        conn, "SELECT * FROM notices WHERE subject = ? ORDER BY key", (str(user_id),)
    )
    tables["notices"] = [{k: _exportable(k, r[k]) for k in r.keys()} for r in notices]
    return {
        "format": EXPORT_FORMAT,
        "user_id": user_id,
        "exported_at": exported_at.isoformat(),
        "tables": tables,
    }


async def erase(conn: aiosqlite.Connection, user_id: int) -> None:
    """Delete every row about the client in every table (call inside db.transaction())."""
    # The cascade from clients would do most of it; deleting explicitly also covers a table
    # whose foreign key someone forgot.
    tables = await client_tables(conn)
    for table in (t for t in tables if t != "clients"):
        await execute(conn, f"DELETE FROM {_quote(table)} WHERE user_id = ?", (user_id,))
    await execute(conn, "DELETE FROM notices WHERE subject = ?", (str(user_id),))
    await execute(conn, "DELETE FROM clients WHERE user_id = ?", (user_id,))


async def inactive(conn: aiosqlite.Connection, cutoff: datetime) -> list[int]:
    """Return the ids of clients last seen before cutoff (candidates for retention erasure)."""
    rows = await fetch_all(
        conn,
        "SELECT user_id FROM clients WHERE last_seen < ? ORDER BY last_seen, user_id",
        (to_ts(cutoff),),
    )
    return [int(r["user_id"]) for r in rows]


async def backup(db: Database, dest: Path) -> None:
    """Write a consistent copy of the live database to dest (mode 0600, one self-contained file).

    SQLite's online backup runs on its own read connection, so the bot keeps writing meanwhile.
    The copy is written beside dest and renamed into place, so dest is never half-written.
    """
    dest = Path(dest)
    tmp = dest.with_name(dest.name + ".tmp")
    try:
        await asyncio.to_thread(_backup_sync, db.path, tmp)
        os.replace(tmp, dest)
    except BaseException as exc:
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            # Best effort: the folder itself may be what failed.
            with contextlib.suppress(OSError):
                leftover.unlink(missing_ok=True)
        storage_exc = translate(exc)
        if storage_exc is not None:
            raise storage_exc from exc
        if isinstance(exc, sqlite3.Error | OSError):
            raise StorageError(f"backup to {dest} failed: {exc}") from exc
        raise


def _backup_sync(source: Path, tmp: Path) -> None:
    """Copy source into tmp with the backup API, in one step (a single snapshot)."""
    tmp.unlink(missing_ok=True)
    create_private_file(tmp)
    # A plain connection, not mode=ro: read-only ones cannot create the -shm file a WAL database
    # needs when the bot is not running. The backup only reads from it.
    src = sqlite3.connect(source)
    try:
        src.execute("PRAGMA busy_timeout = 5000")
        dst = sqlite3.connect(tmp)
        try:
            # pages=-1 copies everything in one step, so the copy is one consistent snapshot.
            src.backup(dst, pages=-1)
            # The copy should stand alone, without a -wal file beside it.
            dst.execute("PRAGMA journal_mode = DELETE")
            row = dst.execute("PRAGMA quick_check").fetchone()
            if row is None or row[0] != "ok":
                raise StorageError(f"the backup copy failed its integrity check: {row}")
        finally:
            dst.close()
    finally:
        src.close()
