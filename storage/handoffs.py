"""Handoffs to the human coach, the coach-group topic of each client, and relayed-message links.

A client has at most one handoff that is not closed (a partial unique index enforces it).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage._sql import execute, fetch_all, fetch_one, insert
from storage.times import from_ts, from_ts_opt, to_ts


@dataclass(frozen=True)
class Handoff:
    """One handoff; status is 'open', 'taken' (by coach taken_by) or 'closed'."""

    id: int
    user_id: int
    status: str
    reason: str | None
    opened_at: datetime
    taken_at: datetime | None
    taken_by: int | None
    closed_at: datetime | None
    reminded_at: datetime | None
    return_to: str | None


@dataclass(frozen=True)
class CoachTopic:
    """The forum topic in the coach group that belongs to one client."""

    user_id: int
    chat_id: int
    thread_id: int
    name: str


def _from_row(r: sqlite3.Row) -> Handoff:
    return Handoff(
        id=r["id"],
        user_id=r["user_id"],
        status=r["status"],
        reason=r["reason"],
        opened_at=from_ts(r["opened_at"]),
        taken_at=from_ts_opt(r["taken_at"]),
        taken_by=r["taken_by"],
        closed_at=from_ts_opt(r["closed_at"]),
        reminded_at=from_ts_opt(r["reminded_at"]),
        return_to=r["return_to"],
    )


async def get(conn: aiosqlite.Connection, handoff_id: int) -> Handoff | None:
    """Return a handoff by id, whatever its status."""
    row = await fetch_one(conn, "SELECT * FROM handoffs WHERE id = ?", (handoff_id,))
    return None if row is None else _from_row(row)


async def current(conn: aiosqlite.Connection, user_id: int) -> Handoff | None:
    """Return the client's handoff that is not closed (open or taken), or None."""
    row = await fetch_one(
        conn, "SELECT * FROM handoffs WHERE user_id = ? AND status <> 'closed'", (user_id,)
    )
    return None if row is None else _from_row(row)


async def open(  # shadows the builtin inside this module only; the bot calls handoffs.open
    conn: aiosqlite.Connection, user_id: int, reason: str | None, now: datetime
) -> Handoff:
    """Open a handoff; if one is already open or taken, return that one unchanged."""
    existing = await current(conn, user_id)
    if existing is not None:
        return existing
    handoff_id = await insert(
        conn,
        "INSERT INTO handoffs (user_id, status, reason, opened_at) VALUES (?, 'open', ?, ?)",
        (user_id, reason, to_ts(now)),
    )
    handoff = await get(conn, handoff_id)
    assert handoff is not None
    return handoff


async def take(conn: aiosqlite.Connection, handoff_id: int, coach_id: int, now: datetime) -> bool:
    """A coach takes an open handoff; False if it was already taken or closed."""
    changed = await execute(
        conn,
        "UPDATE handoffs SET status = 'taken', taken_at = ?, taken_by = ? "
        "WHERE id = ? AND status = 'open'",
        (to_ts(now), coach_id, handoff_id),
    )
    return changed == 1


async def close(
    conn: aiosqlite.Connection, handoff_id: int, now: datetime, return_to: str | None = None
) -> bool:
    """Close a handoff, noting where the client returns (a module id, or None for the menu).

    Returns False if it was already closed.
    """
    changed = await execute(
        conn,
        "UPDATE handoffs SET status = 'closed', closed_at = ?, return_to = ? "
        "WHERE id = ? AND status <> 'closed'",
        (to_ts(now), return_to, handoff_id),
    )
    return changed == 1


async def list_open(conn: aiosqlite.Connection) -> list[Handoff]:
    """Return every handoff not closed (status 'open' or 'taken'), longest waiting first."""
    rows = await fetch_all(
        conn, "SELECT * FROM handoffs WHERE status <> 'closed' ORDER BY opened_at, id"
    )
    return [_from_row(r) for r in rows]


async def mark_reminded(conn: aiosqlite.Connection, handoff_id: int, now: datetime) -> None:
    """Record that the coach was reminded of this handoff at now."""
    await execute(
        conn, "UPDATE handoffs SET reminded_at = ? WHERE id = ?", (to_ts(now), handoff_id)
    )


async def history(conn: aiosqlite.Connection, user_id: int) -> list[Handoff]:
    """Return all of a client's handoffs, oldest first."""
    rows = await fetch_all(
        conn, "SELECT * FROM handoffs WHERE user_id = ? ORDER BY opened_at, id", (user_id,)
    )
    return [_from_row(r) for r in rows]


async def topic_for(conn: aiosqlite.Connection, user_id: int) -> CoachTopic | None:
    """Return the client's topic in the coach group, or None."""
    row = await fetch_one(conn, "SELECT * FROM coach_topics WHERE user_id = ?", (user_id,))
    if row is None:
        return None
    return CoachTopic(
        user_id=row["user_id"], chat_id=row["chat_id"], thread_id=row["thread_id"], name=row["name"]
    )


async def set_topic(
    conn: aiosqlite.Connection, user_id: int, chat_id: int, thread_id: int, name: str
) -> None:
    """Store (or replace, e.g. after the old one was deleted) the client's topic."""
    # A thread id belongs to one client only: drop a stale link of another client to it.
    await execute(
        conn,
        "DELETE FROM coach_topics WHERE chat_id = ? AND thread_id = ? AND user_id <> ?",
        (chat_id, thread_id, user_id),
    )
    await execute(
        conn,
        """
        INSERT INTO coach_topics (user_id, chat_id, thread_id, name) VALUES (?, ?, ?, ?)
        ON CONFLICT (user_id) DO UPDATE SET
            chat_id = excluded.chat_id, thread_id = excluded.thread_id, name = excluded.name
        """,
        (user_id, chat_id, thread_id, name),
    )


async def delete_topic(conn: aiosqlite.Connection, user_id: int) -> None:
    """Forget the client's topic (it was deleted in Telegram, or the client is erased)."""
    await execute(conn, "DELETE FROM coach_topics WHERE user_id = ?", (user_id,))


async def user_for_topic(conn: aiosqlite.Connection, chat_id: int, thread_id: int) -> int | None:
    """Return the client whose topic this is, or None."""
    row = await fetch_one(
        conn,
        "SELECT user_id FROM coach_topics WHERE chat_id = ? AND thread_id = ?",
        (chat_id, thread_id),
    )
    return None if row is None else int(row["user_id"])


async def add_relay(
    conn: aiosqlite.Connection,
    coach_chat_id: int,
    coach_message_id: int,
    user_id: int,
    now: datetime,
) -> None:
    """Remember that this message in the coach's chat was relayed from (or for) the client."""
    await execute(
        conn,
        """
        INSERT INTO relays (coach_chat_id, coach_message_id, user_id, created_at)
        VALUES (?, ?, ?, ?)
        ON CONFLICT (coach_chat_id, coach_message_id) DO UPDATE SET
            user_id = excluded.user_id, created_at = excluded.created_at
        """,
        (coach_chat_id, coach_message_id, user_id, to_ts(now)),
    )


async def user_for_relay(
    conn: aiosqlite.Connection, coach_chat_id: int, coach_message_id: int
) -> int | None:
    """Return the client a relayed message in the coach's chat belongs to, or None."""
    row = await fetch_one(
        conn,
        "SELECT user_id FROM relays WHERE coach_chat_id = ? AND coach_message_id = ?",
        (coach_chat_id, coach_message_id),
    )
    return None if row is None else int(row["user_id"])


async def relays_of(conn: aiosqlite.Connection, user_id: int) -> list[tuple[int, int]]:
    """Return (coach chat id, message id) of every message in a coach's chat about the client."""
    rows = await fetch_all(
        conn,
        "SELECT coach_chat_id, coach_message_id FROM relays WHERE user_id = ? "
        "ORDER BY coach_chat_id, coach_message_id",
        (user_id,),
    )
    return [(int(r["coach_chat_id"]), int(r["coach_message_id"])) for r in rows]


async def prune_relays(conn: aiosqlite.Connection, before: datetime) -> int:
    """Delete relay links created before `before`; return how many."""
    return await execute(conn, "DELETE FROM relays WHERE created_at < ?", (to_ts(before),))
