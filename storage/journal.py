"""The journal: a client's free-text answers inside dialogues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage._sql import fetch_all, insert
from storage.times import from_ts, to_ts


@dataclass(frozen=True)
class Answer:
    """One free-text answer: which dialogue, which question (name), what was written, when."""

    id: int
    user_id: int
    dialogue_id: str
    name: str
    text: str
    created_at: datetime


async def add_answer(
    conn: aiosqlite.Connection, user_id: int, dialogue_id: str, name: str, text: str, now: datetime
) -> int:
    """Save an answer and return its id."""
    return await insert(
        conn,
        "INSERT INTO answers (user_id, dialogue_id, name, text, created_at) VALUES (?, ?, ?, ?, ?)",
        (user_id, dialogue_id, name, text, to_ts(now)),
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


def _answer(r: aiosqlite.Row) -> Answer:
    return Answer(
        id=r["id"],
        user_id=r["user_id"],
        dialogue_id=r["dialogue_id"],
        name=r["name"],
        text=r["text"],
        created_at=from_ts(r["created_at"]),
    )
