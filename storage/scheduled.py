"""Messages a coach wrote to a client for later: sent once by the sweep at `send_at`."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage._sql import execute, fetch_all, fetch_one, insert
from storage.times import from_ts, to_ts


@dataclass(frozen=True)
class Scheduled:
    """One message for later."""

    id: int
    user_id: int
    text: str
    created_by: int
    created_at: datetime
    send_at: datetime
    status: str  # pending, claimed, sent, failed, cancelled
    updated_at: datetime


def _from_row(row: sqlite3.Row) -> Scheduled:
    return Scheduled(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        text=str(row["text"]),
        created_by=int(row["created_by"]),
        created_at=from_ts(row["created_at"]),
        send_at=from_ts(row["send_at"]),
        status=str(row["status"]),
        updated_at=from_ts(row["updated_at"]),
    )


async def add(
    conn: aiosqlite.Connection,
    user_id: int,
    text: str,
    created_by: int,
    send_at: datetime,
    now: datetime,
) -> Scheduled:
    """Keep a message for the client, to be sent at `send_at`."""
    new_id = await insert(
        conn,
        "INSERT INTO scheduled_messages (user_id, text, created_by, created_at, send_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        (user_id, text, created_by, to_ts(now), to_ts(send_at), to_ts(now)),
    )
    found = await get(conn, new_id)
    assert found is not None
    return found


async def get(conn: aiosqlite.Connection, message_id: int) -> Scheduled | None:
    """One scheduled message by id, or None."""
    row = await fetch_one(conn, "SELECT * FROM scheduled_messages WHERE id = ?", (message_id,))
    return None if row is None else _from_row(row)


async def pending(conn: aiosqlite.Connection, user_id: int) -> list[Scheduled]:
    """The client's messages still to be sent, soonest first."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM scheduled_messages WHERE user_id = ? AND status = 'pending' "
        "ORDER BY send_at, id",
        (user_id,),
    )
    return [_from_row(r) for r in rows]


async def count_pending(conn: aiosqlite.Connection, user_id: int) -> int:
    """How many of the client's messages are still to be sent."""
    row = await fetch_one(
        conn,
        "SELECT count(*) AS n FROM scheduled_messages WHERE user_id = ? AND status = 'pending'",
        (user_id,),
    )
    return int(row["n"]) if row is not None else 0


async def cancel(conn: aiosqlite.Connection, message_id: int, now: datetime) -> bool:
    """Cancel a message not sent yet; False when it is sent, claimed or gone."""
    changed = await execute(
        conn,
        "UPDATE scheduled_messages SET status = 'cancelled', updated_at = ? "
        "WHERE id = ? AND status = 'pending'",
        (to_ts(now), message_id),
    )
    return changed == 1


async def due(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[Scheduled]:
    """Pending messages whose time has come (through the partial index), oldest first."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM scheduled_messages WHERE status = 'pending' AND send_at <= ? "
        "ORDER BY send_at LIMIT ?",
        (to_ts(now), limit),
    )
    return [_from_row(r) for r in rows]


async def claim(conn: aiosqlite.Connection, message_id: int, now: datetime) -> bool:
    """Claim a pending message for sending: True once. A claim a crash left behind is never
    claimed again, so nothing is sent twice (at most once)."""
    changed = await execute(
        conn,
        "UPDATE scheduled_messages SET status = 'claimed', updated_at = ? "
        "WHERE id = ? AND status = 'pending'",
        (to_ts(now), message_id),
    )
    return changed == 1


async def finish(conn: aiosqlite.Connection, message_id: int, status: str, now: datetime) -> None:
    """Record how a claimed message ended ('sent' or 'failed')."""
    if status not in ("sent", "failed"):
        raise ValueError(f"bad status {status!r}")
    await execute(
        conn,
        "UPDATE scheduled_messages SET status = ?, updated_at = ? WHERE id = ?",
        (status, to_ts(now), message_id),
    )
