"""Relayed messages linked both ways, for reactions during (and after) a hand-off.

A link joins a message in the client's private chat to its counterpart in a coach's chat (the
client's topic in the coach group, or a coach's private chat). Direction 'in': the client wrote
it and the coach's side holds the bot's copy; 'out': a coach wrote it and the client's side
holds the bot's copy. A client's message relayed to several coaches privately has one link per
coach chat. `coach_reactions` keeps each coach's reaction on a client's message, so that the
one reaction the bot can set there shows the latest coach's, and stays while another coach's
stands. No text is kept here, only ids and emoji.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage._sql import execute, fetch_one
from storage.times import from_ts, to_ts

IN = "in"
OUT = "out"


@dataclass(frozen=True)
class Link:
    """One relayed message: where it is in the client's chat and in a coach's chat."""

    id: int
    user_id: int
    direction: str
    client_message_id: int
    coach_chat_id: int
    coach_message_id: int
    note_message_id: int | None
    created_at: datetime


def _from_row(r: sqlite3.Row) -> Link:
    return Link(
        id=int(r["id"]),
        user_id=int(r["user_id"]),
        direction=str(r["direction"]),
        client_message_id=int(r["client_message_id"]),
        coach_chat_id=int(r["coach_chat_id"]),
        coach_message_id=int(r["coach_message_id"]),
        note_message_id=None if r["note_message_id"] is None else int(r["note_message_id"]),
        created_at=from_ts(r["created_at"]),
    )


async def add(
    conn: aiosqlite.Connection,
    user_id: int,
    direction: str,
    client_message_id: int,
    coach_chat_id: int,
    coach_message_id: int,
    now: datetime,
) -> None:
    """Link a client-chat message to a coach-chat message ('in': the client's, 'out': a coach's)."""
    if direction not in (IN, OUT):
        raise ValueError(f"direction must be 'in' or 'out', not {direction!r}")
    await execute(
        conn,
        """
        INSERT INTO message_links
            (user_id, direction, client_message_id, coach_chat_id, coach_message_id, created_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (coach_chat_id, coach_message_id) DO UPDATE SET
            user_id = excluded.user_id, direction = excluded.direction,
            client_message_id = excluded.client_message_id, note_message_id = NULL,
            created_at = excluded.created_at
        """,
        (user_id, direction, client_message_id, coach_chat_id, coach_message_id, to_ts(now)),
    )


async def by_coach_message(
    conn: aiosqlite.Connection, coach_chat_id: int, coach_message_id: int
) -> Link | None:
    """The link of a message in a coach's chat, or None."""
    row = await fetch_one(
        conn,
        "SELECT * FROM message_links WHERE coach_chat_id = ? AND coach_message_id = ?",
        (coach_chat_id, coach_message_id),
    )
    return None if row is None else _from_row(row)


async def coach_message_for(
    conn: aiosqlite.Connection, user_id: int, client_message_id: int
) -> Link | None:
    """The link of a coach's message the client got as this message ('out'), or None."""
    row = await fetch_one(
        conn,
        "SELECT * FROM message_links WHERE user_id = ? AND client_message_id = ? "
        "AND direction = 'out' ORDER BY id DESC LIMIT 1",
        (user_id, client_message_id),
    )
    return None if row is None else _from_row(row)


async def set_note(conn: aiosqlite.Connection, link_id: int, note_message_id: int | None) -> None:
    """Remember (or, with None, forget) the note that stands in for a reaction on the coach side."""
    await execute(
        conn,
        "UPDATE message_links SET note_message_id = ? WHERE id = ?",
        (note_message_id, link_id),
    )


async def set_coach_reaction(
    conn: aiosqlite.Connection,
    user_id: int,
    client_message_id: int,
    coach_id: int,
    emoji: str | None,
    now: datetime,
) -> None:
    """A coach's reaction on a client's message: set (the emoji) or removed (None)."""
    if emoji is None:
        await execute(
            conn,
            "DELETE FROM coach_reactions WHERE user_id = ? AND client_message_id = ? "
            "AND coach_id = ?",
            (user_id, client_message_id, coach_id),
        )
        return
    await execute(
        conn,
        """
        INSERT INTO coach_reactions (user_id, client_message_id, coach_id, emoji, set_at)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (user_id, client_message_id, coach_id) DO UPDATE SET
            emoji = excluded.emoji, set_at = excluded.set_at
        """,
        (user_id, client_message_id, coach_id, emoji, to_ts(now)),
    )


async def coach_reaction(
    conn: aiosqlite.Connection, user_id: int, client_message_id: int
) -> str | None:
    """The reaction the client's message should show: the latest coach's still standing."""
    row = await fetch_one(
        conn,
        "SELECT emoji FROM coach_reactions WHERE user_id = ? AND client_message_id = ? "
        "ORDER BY set_at DESC, rowid DESC LIMIT 1",
        (user_id, client_message_id),
    )
    return None if row is None else str(row["emoji"])


async def prune(conn: aiosqlite.Connection, before: datetime) -> int:
    """Delete links made, and reactions set, before `before`; return how many links."""
    cutoff = to_ts(before)
    await execute(conn, "DELETE FROM coach_reactions WHERE set_at < ?", (cutoff,))
    return await execute(conn, "DELETE FROM message_links WHERE created_at < ?", (cutoff,))
