"""The inbox: updates from Telegram, stored before they are acknowledged, and what became of them.

A row is `pending` from the moment it is stored until its handling ends (`done`), a restart
finds it was interrupted after it had changed something (`interrupted`), or it is set aside
(`set_aside`: it cannot be parsed, or it kept failing). When a row leaves `pending`, `raw` (the
update as Telegram sent it, client text included) and `user_id` are dropped: what is left (the
update id, its kind, times) only serves to never handle it twice, and is pruned after a while.

`effects` is how a restart knows whether handling an update again could do something twice:
while a task handles an update it sets `current` (a context variable), and the first write
transaction that commits in that context also sets the row's `effects` (see
`Database.transaction`); the bot sets it before its first Bot API request too.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from storage._sql import execute, fetch_all, fetch_one
from storage.times import to_ts

STATUSES = ("pending", "done", "interrupted", "set_aside")


@dataclass
class Handling:
    """The update a task is handling now; `effects` turns True once something was changed.

    `deferred` holds small writes that may wait (a client's last_seen): the handling's first
    write transaction carries them (`Database.transaction`), or the inbox's next batch of ends
    when it has none, so they cost no transaction of their own.
    """

    update_id: int
    effects: bool = False
    finished: bool = False
    deferred: list[Callable[[aiosqlite.Connection], Awaitable[object]]] = field(
        default_factory=list
    )


# The update the running task handles (None outside an update: a sweep, a job, start-up).
current: contextvars.ContextVar[Handling | None] = contextvars.ContextVar(
    "coachbot_inbox_current", default=None
)


@dataclass(frozen=True)
class Incoming:
    """One update as received: its id, sender, kind ("message", ...) and JSON text."""

    update_id: int
    user_id: int | None
    kind: str
    raw: str


@dataclass(frozen=True)
class Pending:
    """A stored update whose handling has not ended."""

    update_id: int
    user_id: int | None
    kind: str
    raw: str
    tries: int
    effects: bool


async def store(
    conn: aiosqlite.Connection, updates: Sequence[Incoming], now: datetime
) -> list[int]:
    """Store updates not seen before; return the update ids that are new, in the given order.

    A new row counts its first try at once: the caller hands it to the handlers straight after
    (bot/edge/inbox.py), so the handling needs no write of its own to count it.
    """
    new: list[int] = []
    at = to_ts(now)
    for update in updates:
        changed = await execute(
            conn,
            "INSERT INTO inbox (update_id, user_id, kind, raw, received_at, tries) "
            "VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (update_id) DO NOTHING",
            (update.update_id, update.user_id, update.kind, update.raw, at),
        )
        if changed:
            new.append(update.update_id)
    return new


async def pending(conn: aiosqlite.Connection) -> list[Pending]:
    """Every pending update, in the order it arrived."""
    rows = await fetch_all(
        conn,
        "SELECT update_id, user_id, kind, raw, tries, effects FROM inbox "
        "WHERE status = 'pending' ORDER BY seq",
    )
    return [
        Pending(
            int(r["update_id"]),
            None if r["user_id"] is None else int(r["user_id"]),
            str(r["kind"]),
            str(r["raw"] or ""),
            int(r["tries"]),
            bool(r["effects"]),
        )
        for r in rows
    ]


async def begin(conn: aiosqlite.Connection, update_id: int) -> int | None:
    """Count one more try of a pending update; return the tries so far, or None if not pending."""
    await execute(
        conn,
        "UPDATE inbox SET tries = tries + 1 WHERE update_id = ? AND status = 'pending'",
        (update_id,),
    )
    row = await fetch_one(
        conn, "SELECT tries FROM inbox WHERE update_id = ? AND status = 'pending'", (update_id,)
    )
    return None if row is None else int(row["tries"])


async def count_tries(conn: aiosqlite.Connection, update_ids: Sequence[int]) -> None:
    """Count one more try of each of these pending updates (at start-up, as they are handed over
    again)."""
    for update_id in update_ids:
        await execute(
            conn,
            "UPDATE inbox SET tries = tries + 1 WHERE update_id = ? AND status = 'pending'",
            (update_id,),
        )


async def mark_effects(conn: aiosqlite.Connection, update_id: int) -> None:
    """Record that handling this update has changed something (saved a row, sent a request)."""
    await execute(
        conn,
        "UPDATE inbox SET effects = 1 WHERE update_id = ? AND status = 'pending' AND effects = 0",
        (update_id,),
    )


async def finish(
    conn: aiosqlite.Connection,
    update_ids: Sequence[int],
    now: datetime,
    status: str = "done",
    reason: str | None = None,
) -> int:
    """End pending updates with `status`, dropping their text; return how many changed."""
    if status not in STATUSES or status == "pending":
        raise ValueError(f"cannot finish an update as {status!r}")
    changed = 0
    for update_id in update_ids:
        changed += await execute(
            conn,
            "UPDATE inbox SET status = ?, raw = NULL, user_id = NULL, reason = ?, finished_at = ? "
            "WHERE update_id = ? AND status = 'pending'",
            (status, reason, to_ts(now), update_id),
        )
    return changed


async def interrupted(conn: aiosqlite.Connection, now: datetime) -> int:
    """At start-up: end every pending update that had changed something as `interrupted`.

    Its handling was cut off (a crash, a kill) after it saved a row or sent a request; handling
    it again could do that twice. Returns how many.
    """
    return await execute(
        conn,
        "UPDATE inbox SET status = 'interrupted', raw = NULL, user_id = NULL, finished_at = ? "
        "WHERE status = 'pending' AND effects = 1",
        (to_ts(now),),
    )


async def prune(conn: aiosqlite.Connection, before: datetime) -> int:
    """Delete updates that ended before `before`; return how many."""
    return await execute(
        conn,
        "DELETE FROM inbox WHERE finished_at IS NOT NULL AND finished_at < ?",
        (to_ts(before),),
    )


async def counts(conn: aiosqlite.Connection) -> dict[str, int]:
    """How many stored updates there are of each status."""
    rows = await fetch_all(conn, "SELECT status, count(*) AS n FROM inbox GROUP BY status")
    found = {str(r["status"]): int(r["n"]) for r in rows}
    return {status: found.get(status, 0) for status in STATUSES}
