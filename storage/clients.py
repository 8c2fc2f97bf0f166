"""Clients: one row per Telegram user who talked to the bot, with their dialogue state."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from storage._sql import execute, fetch_all, fetch_one
from storage.times import from_ts, from_ts_opt, to_ts

# Columns update() may change; everything else has its own function with its own rules.
UPDATABLE = frozenset(
    {"display_name", "country", "timezone", "age_ok", "discreet", "module", "active"}
)
_BOOL_COLUMNS = frozenset({"age_ok", "discreet", "active"})


@dataclass(frozen=True)
class Client:
    """A client as stored; times are aware UTC datetimes, state the parsed dialogue state."""

    user_id: int
    chat_id: int
    first_name: str
    display_name: str | None
    language_code: str | None
    timezone: str
    country: str | None
    consent_at: datetime | None
    consent_version: str | None
    age_ok: bool | None
    discreet: bool
    created_at: datetime
    last_seen: datetime
    active: bool
    blocked_at: datetime | None
    state: dict[str, Any] | None
    module: str | None

    @property
    def has_consent(self) -> bool:
        """True if the client has consented (and not withdrawn)."""
        return self.consent_at is not None

    @property
    def name(self) -> str:
        """The name to address the client by: the chosen display name, else the first name."""
        return self.display_name or self.first_name


def _from_row(row: sqlite3.Row) -> Client:
    return Client(
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        first_name=row["first_name"],
        display_name=row["display_name"],
        language_code=row["language_code"],
        timezone=row["timezone"],
        country=row["country"],
        consent_at=from_ts_opt(row["consent_at"]),
        consent_version=row["consent_version"],
        age_ok=None if row["age_ok"] is None else bool(row["age_ok"]),
        discreet=bool(row["discreet"]),
        created_at=from_ts(row["created_at"]),
        last_seen=from_ts(row["last_seen"]),
        active=bool(row["active"]),
        blocked_at=from_ts_opt(row["blocked_at"]),
        state=None if row["state_json"] is None else json.loads(row["state_json"]),
        module=row["module"],
    )


async def get(conn: aiosqlite.Connection, user_id: int) -> Client | None:
    """Return the client, or None if unknown."""
    row = await fetch_one(conn, "SELECT * FROM clients WHERE user_id = ?", (user_id,))
    return None if row is None else _from_row(row)


async def touch(
    conn: aiosqlite.Connection,
    *,
    user_id: int,
    chat_id: int,
    first_name: str,
    language_code: str | None,
    timezone: str,
    now: datetime,
) -> Client:
    """Insert a new client or refresh names and last_seen (active again); return the row.

    timezone is only used for a new client: an existing one keeps the zone they chose.
    """
    ts = to_ts(now)
    await execute(
        conn,
        """
        INSERT INTO clients (user_id, chat_id, first_name, language_code, timezone,
                             created_at, last_seen, active)
        VALUES (?, ?, ?, ?, ?, ?, ?, 1)
        ON CONFLICT (user_id) DO UPDATE SET
            chat_id = excluded.chat_id,
            first_name = excluded.first_name,
            language_code = excluded.language_code,
            last_seen = excluded.last_seen,
            active = 1,
            blocked_at = NULL
        """,
        (user_id, chat_id, first_name, language_code, timezone, ts, ts),
    )
    client = await get(conn, user_id)
    assert client is not None
    return client


async def seen(conn: aiosqlite.Connection, user_id: int, now: datetime) -> None:
    """Move an existing, active client's last_seen forward to `now` (never creates a row: a
    client erased in the meantime stays erased)."""
    ts = to_ts(now)
    await execute(
        conn,
        "UPDATE clients SET last_seen = ? WHERE user_id = ? AND active = 1 AND last_seen < ?",
        (ts, user_id, ts),
    )


async def save_state(
    conn: aiosqlite.Connection, user_id: int, state: dict[str, Any] | None
) -> None:
    """Store the dialogue state as JSON (None clears it); a non-JSON value is a bug."""
    state_json = None if state is None else json.dumps(state, ensure_ascii=False, sort_keys=True)
    await _update_one(
        conn, user_id, "UPDATE clients SET state_json = ? WHERE user_id = ?", (state_json, user_id)
    )


async def update(conn: aiosqlite.Connection, user_id: int, **fields: object) -> None:
    """Set some of display_name, country, timezone, age_ok, discreet, module, active."""
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"clients.update cannot set {sorted(unknown)}")
    if not fields:
        return
    names = sorted(fields)
    values = [
        int(bool(fields[n])) if n in _BOOL_COLUMNS and fields[n] is not None else fields[n]
        for n in names
    ]
    # Column names come from the UPDATABLE whitelist above, never from a caller's string.
    assignments = ", ".join(f"{name} = ?" for name in names)
    await _update_one(
        conn, user_id, f"UPDATE clients SET {assignments} WHERE user_id = ?", (*values, user_id)
    )


async def set_consent(
    conn: aiosqlite.Connection, user_id: int, version: str | None, now: datetime
) -> None:
    """Record consent to the given text version at now; None withdraws consent."""
    consent_at = None if version is None else to_ts(now)
    await _update_one(
        conn,
        user_id,
        "UPDATE clients SET consent_at = ?, consent_version = ? WHERE user_id = ?",
        (consent_at, version, user_id),
    )


async def mark_blocked(conn: aiosqlite.Connection, user_id: int, now: datetime) -> None:
    """Mark the client inactive and blocked at now, and stop their planned check-ins."""
    await _update_one(
        conn,
        user_id,
        "UPDATE clients SET active = 0, blocked_at = ? WHERE user_id = ?",
        (to_ts(now), user_id),
    )
    # A blocked bot cannot reach them: take them out of the sweep's indexes.
    await execute(
        conn,
        "UPDATE schedules SET next_checkin_at = NULL, next_reflection_at = NULL WHERE user_id = ?",
        (user_id,),
    )


async def count(conn: aiosqlite.Connection) -> int:
    """Return the number of clients."""
    row = await fetch_one(conn, "SELECT count(*) FROM clients")
    assert row is not None
    return int(row[0])


async def every(conn: aiosqlite.Connection) -> list[Client]:
    """Every client, by user id (for the coaches' weekly digest)."""
    rows = await fetch_all(conn, "SELECT * FROM clients ORDER BY user_id")
    return [_from_row(r) for r in rows]


async def _update_one(
    conn: aiosqlite.Connection, user_id: int, sql: str, params: tuple[object, ...]
) -> None:
    """Run an UPDATE of one client; an unknown user_id is a bug and raises LookupError."""
    if await execute(conn, sql, params) != 1:
        raise LookupError(f"no client with user_id {user_id}")


async def names(conn: aiosqlite.Connection) -> list[tuple[int, str, str | None]]:
    """Every client's (user_id, first_name, display_name), for a coach looking someone up."""
    rows = await fetch_all(
        conn, "SELECT user_id, first_name, display_name FROM clients ORDER BY user_id"
    )
    return [(int(r[0]), str(r[1]), None if r[2] is None else str(r[2])) for r in rows]
