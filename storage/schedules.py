"""Schedules (when each client gets check-ins and reflections) and the sends ledger.

The bot computes next_checkin_at / next_reflection_at in the client's zone (pause, days and
quiet hours included) and stores them here in UTC; the sweep selects what is due through the
partial indexes on those columns. A NULL next time means nothing is planned.

Pause: paused_until NULL is not paused; PAUSED_INDEFINITELY (9999-12-31T23:59:59Z) means
"until the client resumes". The storage layer does not interpret pauses; the bot does, when it
plans the next times.

The sends table is the at-most-once ledger: claim_send before sending, finish_send after.
"""

from __future__ import annotations

import enum
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import aiosqlite

from storage._sql import execute, fetch_all, fetch_one
from storage.times import from_ts_opt, to_ts, to_ts_opt

PAUSED_INDEFINITELY = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
EVERY_DAY = 127
WEEKDAYS = 31  # Mon..Fri

SendKind = Literal["checkin", "reflection", "followup", "safety_followup"]
SendStatus = Literal["claimed", "sent", "skipped", "failed"]
_KINDS = ("checkin", "reflection", "followup", "safety_followup")
_STATUSES = ("claimed", "sent", "skipped", "failed")
_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def day_bit(weekday: int) -> int:
    """Return the days-bitmask bit for a weekday (Monday = 0 as in datetime.weekday())."""
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0..6, got {weekday}")
    return 1 << weekday


@dataclass(frozen=True)
class Schedule:
    """A client's check-in and reflection settings and their next due times (UTC)."""

    user_id: int
    checkin_enabled: bool = True
    checkin_time: str = "20:00"
    days: int = EVERY_DAY
    reflection_enabled: bool = True
    reflection_day: int = 6
    reflection_time: str = "19:00"
    paused_until: datetime | None = None
    next_checkin_at: datetime | None = None
    next_reflection_at: datetime | None = None

    @property
    def paused_indefinitely(self) -> bool:
        """True if paused until the client resumes."""
        return self.paused_until is not None and self.paused_until >= PAUSED_INDEFINITELY

    def is_paused(self, now: datetime) -> bool:
        """True if the schedule is paused at now."""
        return self.paused_until is not None and self.paused_until > now

    def on_day(self, weekday: int) -> bool:
        """True if check-ins are on for this weekday (Monday = 0)."""
        return bool(self.days & day_bit(weekday))


def _from_row(r: sqlite3.Row) -> Schedule:
    return Schedule(
        user_id=r["user_id"],
        checkin_enabled=bool(r["checkin_enabled"]),
        checkin_time=r["checkin_time"],
        days=r["days"],
        reflection_enabled=bool(r["reflection_enabled"]),
        reflection_day=r["reflection_day"],
        reflection_time=r["reflection_time"],
        paused_until=from_ts_opt(r["paused_until"]),
        next_checkin_at=from_ts_opt(r["next_checkin_at"]),
        next_reflection_at=from_ts_opt(r["next_reflection_at"]),
    )


async def get(conn: aiosqlite.Connection, user_id: int) -> Schedule | None:
    """Return the client's schedule, or None if they have none yet."""
    row = await fetch_one(conn, "SELECT * FROM schedules WHERE user_id = ?", (user_id,))
    return None if row is None else _from_row(row)


async def upsert(conn: aiosqlite.Connection, schedule: Schedule) -> None:
    """Insert or replace the client's schedule (every column, next times included)."""
    s = schedule
    for hhmm in (s.checkin_time, s.reflection_time):
        if not _HHMM.fullmatch(hhmm):
            raise ValueError(f"time must be HH:MM, got {hhmm!r}")
    if not 0 <= s.days <= EVERY_DAY or not 0 <= s.reflection_day <= 6:
        raise ValueError(f"bad days {s.days} or reflection_day {s.reflection_day}")
    await execute(
        conn,
        """
        INSERT INTO schedules (user_id, checkin_enabled, checkin_time, days, reflection_enabled,
                               reflection_day, reflection_time, paused_until, next_checkin_at,
                               next_reflection_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (user_id) DO UPDATE SET
            checkin_enabled = excluded.checkin_enabled,
            checkin_time = excluded.checkin_time,
            days = excluded.days,
            reflection_enabled = excluded.reflection_enabled,
            reflection_day = excluded.reflection_day,
            reflection_time = excluded.reflection_time,
            paused_until = excluded.paused_until,
            next_checkin_at = excluded.next_checkin_at,
            next_reflection_at = excluded.next_reflection_at
        """,
        (
            s.user_id,
            int(s.checkin_enabled),
            s.checkin_time,
            s.days,
            int(s.reflection_enabled),
            s.reflection_day,
            s.reflection_time,
            to_ts_opt(s.paused_until),
            to_ts_opt(s.next_checkin_at),
            to_ts_opt(s.next_reflection_at),
        ),
    )


# The WHERE repeats 'IS NOT NULL' so it matches the partial index's condition literally;
# a test checks with EXPLAIN QUERY PLAN that the planner uses the index.
DUE_CHECKINS_SQL = (
    "SELECT * FROM schedules "
    "WHERE next_checkin_at IS NOT NULL AND next_checkin_at <= ? "
    "ORDER BY next_checkin_at LIMIT ?"
)
DUE_REFLECTIONS_SQL = (
    "SELECT * FROM schedules "
    "WHERE next_reflection_at IS NOT NULL AND next_reflection_at <= ? "
    "ORDER BY next_reflection_at LIMIT ?"
)


async def due_checkins(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[Schedule]:
    """Return up to limit schedules whose next check-in is at or before now, earliest first."""
    rows = await fetch_all(conn, DUE_CHECKINS_SQL, (to_ts(now), limit))
    return [_from_row(r) for r in rows]


async def due_reflections(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[Schedule]:
    """Return up to limit schedules whose next reflection is at or before now, earliest first."""
    rows = await fetch_all(conn, DUE_REFLECTIONS_SQL, (to_ts(now), limit))
    return [_from_row(r) for r in rows]


class _Keep(enum.Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP


async def set_next(
    conn: aiosqlite.Connection,
    user_id: int,
    *,
    checkin: datetime | None | _Keep = KEEP,
    reflection: datetime | None | _Keep = KEEP,
) -> None:
    """Set the next check-in and/or reflection time (None: nothing planned; omitted: unchanged)."""
    assignments: list[str] = []
    params: list[object] = []
    if not isinstance(checkin, _Keep):
        assignments.append("next_checkin_at = ?")
        params.append(to_ts_opt(checkin))
    if not isinstance(reflection, _Keep):
        assignments.append("next_reflection_at = ?")
        params.append(to_ts_opt(reflection))
    if not assignments:
        return
    # Only the two fixed fragments above are ever joined into the SQL.
    sql = f"UPDATE schedules SET {', '.join(assignments)} WHERE user_id = ?"
    if await execute(conn, sql, (*params, user_id)) != 1:
        raise LookupError(f"no schedule for user_id {user_id}")


async def claim_send(
    conn: aiosqlite.Connection, user_id: int, kind: SendKind, due_at: datetime, now: datetime
) -> bool:
    """Claim the send of kind due at due_at; False if already claimed, sent or skipped.

    A send that finished as 'failed' can be claimed again (it is known not to have arrived);
    one left 'claimed' by a crash is never claimed again, so nothing is sent twice.
    """
    if kind not in _KINDS:
        raise ValueError(f"bad send kind {kind!r}")
    changed = await execute(
        conn,
        """
        INSERT INTO sends (user_id, kind, due_at, status, updated_at)
        VALUES (?, ?, ?, 'claimed', ?)
        ON CONFLICT (user_id, kind, due_at) DO UPDATE SET
            status = 'claimed', updated_at = excluded.updated_at
        WHERE status = 'failed'
        """,
        (user_id, kind, to_ts(due_at), to_ts(now)),
    )
    return changed == 1


async def finish_send(
    conn: aiosqlite.Connection,
    user_id: int,
    kind: SendKind,
    due_at: datetime,
    status: SendStatus,
    now: datetime,
) -> None:
    """Record how a send ended ('sent', 'skipped', 'failed'); also works without a claim."""
    if kind not in _KINDS or status not in _STATUSES:
        raise ValueError(f"bad send kind/status {kind!r}/{status!r}")
    await execute(
        conn,
        """
        INSERT INTO sends (user_id, kind, due_at, status, updated_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (user_id, kind, due_at) DO UPDATE SET
            status = excluded.status, updated_at = excluded.updated_at
        """,
        (user_id, kind, to_ts(due_at), status, to_ts(now)),
    )


async def send_status(
    conn: aiosqlite.Connection, user_id: int, kind: SendKind, due_at: datetime
) -> str | None:
    """Return the status of one send, or None if it was never claimed or recorded."""
    row = await fetch_one(
        conn,
        "SELECT status FROM sends WHERE user_id = ? AND kind = ? AND due_at = ?",
        (user_id, kind, to_ts(due_at)),
    )
    return None if row is None else str(row["status"])


async def prune_sends(conn: aiosqlite.Connection, before: datetime) -> int:
    """Delete send records last updated before `before` (keep the ledger small); return count."""
    return await execute(conn, "DELETE FROM sends WHERE updated_at < ?", (to_ts(before),))


async def needing_plan(conn: aiosqlite.Connection, after_user: int, limit: int) -> list[int]:
    """Return up to limit active clients (user_id > after_user) with an unplanned enabled item.

    These are clients who blocked the bot (mark_blocked clears the next times) and came back;
    paused-until-resumed schedules and check-ins on no day are left alone.
    """
    rows = await fetch_all(
        conn,
        """
        SELECT s.user_id FROM schedules s JOIN clients c ON c.user_id = s.user_id
        WHERE s.user_id > ? AND c.active = 1 AND (c.age_ok IS NULL OR c.age_ok = 1)
          AND (s.paused_until IS NULL OR s.paused_until < ?)
          AND ((s.checkin_enabled = 1 AND s.days > 0 AND s.next_checkin_at IS NULL)
               OR (s.reflection_enabled = 1 AND s.next_reflection_at IS NULL))
        ORDER BY s.user_id LIMIT ?
        """,
        (after_user, to_ts(PAUSED_INDEFINITELY), limit),
    )
    return [int(r["user_id"]) for r in rows]
