"""Work a coach set out for a client: a few sessions of a module in order (or one exercise),
the moment the client is told about it, and how far they got."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage._sql import execute, fetch_all, fetch_one, insert
from storage.times import from_ts, from_ts_opt, to_ts, to_ts_opt


@dataclass(frozen=True)
class Assignment:
    """One piece of work set out for a client."""

    id: int
    user_id: int
    title: str
    sessions: tuple[str, ...]
    done: int
    assigned_by: int
    created_at: datetime
    start_at: datetime
    notify_at: datetime | None
    notified_at: datetime | None
    status: str  # open, done, declined, replaced
    finished_at: datetime | None
    told_at: datetime | None

    @property
    def next_session(self) -> str | None:
        """The dialogue the client does next for this work, or None when all are done."""
        return self.sessions[self.done] if self.done < len(self.sessions) else None


def _from_row(row: sqlite3.Row) -> Assignment:
    return Assignment(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        title=str(row["title"]),
        sessions=tuple(str(s) for s in json.loads(row["sessions_json"])),
        done=int(row["done"]),
        assigned_by=int(row["assigned_by"]),
        created_at=from_ts(row["created_at"]),
        start_at=from_ts(row["start_at"]),
        notify_at=from_ts_opt(row["notify_at"]),
        notified_at=from_ts_opt(row["notified_at"]),
        status=str(row["status"]),
        finished_at=from_ts_opt(row["finished_at"]),
        told_at=from_ts_opt(row["told_at"]),
    )


async def add(
    conn: aiosqlite.Connection,
    user_id: int,
    title: str,
    sessions: list[str],
    assigned_by: int,
    now: datetime,
    start_at: datetime,
    notify_at: datetime | None,
) -> Assignment:
    """Set out new work for the client; an open earlier one is marked 'replaced'."""
    if not sessions:
        raise ValueError("an assignment needs at least one dialogue")
    await execute(
        conn,
        "UPDATE assignments SET status = 'replaced', finished_at = ?, notify_at = NULL "
        "WHERE user_id = ? AND status = 'open'",
        (to_ts(now), user_id),
    )
    new_id = await insert(
        conn,
        "INSERT INTO assignments (user_id, title, sessions_json, assigned_by, created_at, "
        "start_at, notify_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            user_id,
            title,
            json.dumps(sessions),
            assigned_by,
            to_ts(now),
            to_ts(start_at),
            to_ts_opt(notify_at),
        ),
    )
    found = await get(conn, new_id)
    assert found is not None
    return found


async def get(conn: aiosqlite.Connection, assignment_id: int) -> Assignment | None:
    """One assignment by id, or None."""
    row = await fetch_one(conn, "SELECT * FROM assignments WHERE id = ?", (assignment_id,))
    return None if row is None else _from_row(row)


async def current(conn: aiosqlite.Connection, user_id: int) -> Assignment | None:
    """The client's open assignment, or None."""
    row = await fetch_one(
        conn, "SELECT * FROM assignments WHERE user_id = ? AND status = 'open'", (user_id,)
    )
    return None if row is None else _from_row(row)


async def latest(conn: aiosqlite.Connection, user_id: int) -> Assignment | None:
    """The client's most recent assignment that was not replaced (for the coach's card)."""
    row = await fetch_one(
        conn,
        "SELECT * FROM assignments WHERE user_id = ? AND status <> 'replaced' "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        (user_id,),
    )
    return None if row is None else _from_row(row)


async def due(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[Assignment]:
    """Open assignments whose client is to be told now (through the partial index)."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM assignments WHERE status = 'open' AND notify_at IS NOT NULL "
        "AND notify_at <= ? ORDER BY notify_at LIMIT ?",
        (to_ts(now), limit),
    )
    return [_from_row(r) for r in rows]


async def claim_notify(conn: aiosqlite.Connection, assignment_id: int, now: datetime) -> bool:
    """Claim telling the client (once): True only for the caller that changed the row."""
    changed = await execute(
        conn,
        "UPDATE assignments SET notify_at = NULL, notified_at = ? "
        "WHERE id = ? AND status = 'open' AND notify_at IS NOT NULL",
        (to_ts(now), assignment_id),
    )
    return changed == 1


async def postpone(conn: aiosqlite.Connection, assignment_id: int, when: datetime | None) -> None:
    """Tell the client later (at `when`), or never (None: the menu still shows it)."""
    await execute(
        conn,
        "UPDATE assignments SET notify_at = ? WHERE id = ? AND status = 'open'",
        (to_ts_opt(when), assignment_id),
    )


async def session_done(
    conn: aiosqlite.Connection, user_id: int, dialogue_id: str, now: datetime
) -> Assignment | None:
    """The client completed a dialogue: move their open assignment past it (done after the
    last one). Returns the assignment as it is now when it changed, else None."""
    found = await current(conn, user_id)
    if found is None or dialogue_id not in found.sessions[found.done :]:
        return None
    done = found.sessions.index(dialogue_id, found.done) + 1
    if done >= len(found.sessions):
        await execute(
            conn,
            "UPDATE assignments SET done = ?, status = 'done', finished_at = ?, notify_at = NULL "
            "WHERE id = ?",
            (len(found.sessions), to_ts(now), found.id),
        )
    else:
        await execute(conn, "UPDATE assignments SET done = ? WHERE id = ?", (done, found.id))
    return await get(conn, found.id)


async def decline(
    conn: aiosqlite.Connection, assignment_id: int, user_id: int, now: datetime
) -> bool:
    """The client said "nu liever niet": True when this open assignment of theirs changed."""
    changed = await execute(
        conn,
        "UPDATE assignments SET status = 'declined', finished_at = ?, notify_at = NULL "
        "WHERE id = ? AND user_id = ? AND status = 'open'",
        (to_ts(now), assignment_id, user_id),
    )
    return changed == 1


async def untold_done(conn: aiosqlite.Connection, limit: int) -> list[Assignment]:
    """Finished assignments the coaches have not been told about yet."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM assignments WHERE status = 'done' AND told_at IS NULL "
        "ORDER BY finished_at LIMIT ?",
        (limit,),
    )
    return [_from_row(r) for r in rows]


async def mark_told(conn: aiosqlite.Connection, assignment_id: int, now: datetime) -> bool:
    """Record that the coaches were told the work is done; False when someone else did."""
    changed = await execute(
        conn,
        "UPDATE assignments SET told_at = ? WHERE id = ? AND told_at IS NULL",
        (to_ts(now), assignment_id),
    )
    return changed == 1
