"""The journal: a client's free-text answers inside dialogues."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiosqlite

from storage._sql import execute, fetch_all, fetch_one, insert
from storage.times import from_ts, to_ts

# The client's choice for new answers: shared ('ja'), private ('nee'), private until chosen at
# the end of each session ('kiezen'). None (never asked) is private.
Choice = Literal["ja", "nee", "kiezen"]
CHOICES: tuple[Choice, ...] = ("ja", "nee", "kiezen")


@dataclass(frozen=True)
class Answer:
    """One free-text answer: which dialogue, which question (name), what was written, when."""

    id: int
    user_id: int
    dialogue_id: str
    name: str
    text: str
    created_at: datetime
    # Shared with the coach (True) or private (False, the default).
    shared: bool = False


async def add_answer(
    conn: aiosqlite.Connection,
    user_id: int,
    dialogue_id: str,
    name: str,
    text: str,
    now: datetime,
    *,
    shared: bool = False,
) -> int:
    """Save an answer (private unless `shared`) and return its id."""
    return await insert(
        conn,
        "INSERT INTO answers (user_id, dialogue_id, name, text, created_at, shared)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (user_id, dialogue_id, name, text, to_ts(now), int(shared)),
    )


async def answers(conn: aiosqlite.Connection, user_id: int) -> list[Answer]:
    """Return all of a client's answers, oldest first."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM answers WHERE user_id = ? ORDER BY created_at, id",
        (user_id,),
    )
    return [_answer(r) for r in rows]


async def latest(conn: aiosqlite.Connection, user_id: int, dialogue_id: str) -> dict[str, Answer]:
    """The newest answer to each question of one dialogue (a redone exercise replaces answers)."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM answers WHERE user_id = ? AND dialogue_id = ? ORDER BY created_at, id",
        (user_id, dialogue_id),
    )
    return {r["name"]: _answer(r) for r in rows}


# --- sharing with the coach -------------------------------------------------------------------
#
# shared_answers is the ONLY way for anything the coach sees (the card, /client, a digest) to
# read a client's journal: it returns shared answers only, and nothing at all for a client who
# has not consented (or withdrew), whatever the flags say.

# The same test as the bot's "consented": a consent version, and not too young.
_CONSENTED = "c.consent_version IS NOT NULL AND (c.age_ok IS NULL OR c.age_ok != 0)"


async def shared_answers(
    conn: aiosqlite.Connection,
    user_id: int,
    *,
    limit: int | None = None,
    since: datetime | None = None,
) -> list[Answer]:
    """The answers the client shared with the coach, newest first (at most `limit`, written at
    or after `since`); empty without consent. Every coach-facing reader must use this."""
    sql = (
        "SELECT a.* FROM answers AS a JOIN clients AS c ON c.user_id = a.user_id"
        f" WHERE a.user_id = ? AND a.shared = 1 AND {_CONSENTED}"
    )
    params: list[object] = [user_id]
    if since is not None:
        sql += " AND a.created_at >= ?"
        params.append(to_ts(since))
    sql += " ORDER BY a.created_at DESC, a.id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(max(0, limit))
    return [_answer(r) for r in await fetch_all(conn, sql, params)]


async def share_span(
    conn: aiosqlite.Connection,
    user_id: int,
    first_id: int,
    last_id: int,
    shared: bool,
    *,
    exclude: Iterable[str] = (),
) -> int:
    """Share (or make private) this client's answers with ids first_id..last_id, except those of
    the dialogues in `exclude`; returns how many answers that span holds. Another client's
    ids change nothing: the user id is part of the condition."""
    skip = sorted(set(exclude))
    marks = ", ".join("?" for _ in skip)
    where = "user_id = ? AND id BETWEEN ? AND ?" + (
        f" AND dialogue_id NOT IN ({marks})" if skip else ""
    )
    params = [user_id, first_id, last_id, *skip]
    await execute(conn, f"UPDATE answers SET shared = ? WHERE {where}", [int(shared), *params])
    row = await fetch_one(conn, f"SELECT COUNT(*) AS n FROM answers WHERE {where}", params)
    return int(row["n"]) if row is not None else 0


async def in_span(
    conn: aiosqlite.Connection, user_id: int, first_id: int, last_id: int
) -> list[Answer]:
    """This client's answers with ids first_id..last_id (one session's answers), oldest first."""
    rows = await fetch_all(
        conn,
        "SELECT * FROM answers WHERE user_id = ? AND id BETWEEN ? AND ? ORDER BY id",
        (user_id, first_id, last_id),
    )
    return [_answer(r) for r in rows]


async def share_dialogue(
    conn: aiosqlite.Connection, user_id: int, dialogue_id: str, shared: bool
) -> int:
    """Share (or make private) every answer of this client in one dialogue; returns how many."""
    return await execute(
        conn,
        "UPDATE answers SET shared = ? WHERE user_id = ? AND dialogue_id = ?",
        (int(shared), user_id, dialogue_id),
    )


async def unshare_all(conn: aiosqlite.Connection, user_id: int) -> None:
    """Make all of a client's answers private and forget their choice (consent withdrawn)."""
    await execute(conn, "UPDATE answers SET shared = 0 WHERE user_id = ?", (user_id,))
    await execute(conn, "DELETE FROM answer_sharing WHERE user_id = ?", (user_id,))


async def by_dialogue(conn: aiosqlite.Connection, user_id: int) -> list[tuple[str, int, int]]:
    """Per dialogue the client answered in: (dialogue id, answers, of which shared), the most
    recently answered first."""
    rows = await fetch_all(
        conn,
        "SELECT dialogue_id, COUNT(*) AS n, SUM(shared) AS s, MAX(created_at) AS at"
        " FROM answers WHERE user_id = ? GROUP BY dialogue_id ORDER BY at DESC, dialogue_id",
        (user_id,),
    )
    return [(str(r["dialogue_id"]), int(r["n"]), int(r["s"] or 0)) for r in rows]


async def last_id(conn: aiosqlite.Connection, user_id: int) -> int | None:
    """The id of the client's newest answer, if any."""
    row = await fetch_one(conn, "SELECT MAX(id) AS m FROM answers WHERE user_id = ?", (user_id,))
    return None if row is None or row["m"] is None else int(row["m"])


async def choice(conn: aiosqlite.Connection, user_id: int) -> Choice | None:
    """The client's choice for new answers; None when never asked (private)."""
    row = await fetch_one(conn, "SELECT choice FROM answer_sharing WHERE user_id = ?", (user_id,))
    value = None if row is None else str(row["choice"])
    return value if value in CHOICES else None


async def set_choice(
    conn: aiosqlite.Connection, user_id: int, value: Choice, now: datetime
) -> None:
    """Set the client's choice for new answers."""
    if value not in CHOICES:
        raise ValueError(f"unknown sharing choice {value!r}")
    await execute(
        conn,
        "INSERT INTO answer_sharing (user_id, choice, set_at) VALUES (?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET choice = excluded.choice, set_at = excluded.set_at",
        (user_id, value, to_ts(now)),
    )


def _answer(r: aiosqlite.Row) -> Answer:
    return Answer(
        id=r["id"],
        user_id=r["user_id"],
        dialogue_id=r["dialogue_id"],
        name=r["name"],
        text=r["text"],
        created_at=from_ts(r["created_at"]),
        shared=bool(r["shared"]),
    )
