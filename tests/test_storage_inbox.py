"""The inbox repository, the effects mark a commit leaves, and erasure down to the file's bytes."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import Database, clients, inbox, journal, privacy
from storage.migrations import MIGRATIONS, split_statements

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


def _update(update_id: int, user_id: int | None = 7, text: str = "hallo") -> inbox.Incoming:
    raw = {"update_id": update_id, "message": {"text": text}}
    return inbox.Incoming(update_id, user_id, "message", json.dumps(raw))


async def _rows(db: Database) -> list[dict[str, object]]:
    async with db.read() as conn:
        async with conn.execute("SELECT * FROM inbox ORDER BY seq") as cur:
            return [dict(r) for r in await cur.fetchall()]


async def test_store_keeps_each_update_once_in_arrival_order(db: Database) -> None:
    async with db.transaction() as conn:
        assert await inbox.store(conn, [_update(30), _update(10)], NOW) == [30, 10]
    async with db.transaction() as conn:
        # Telegram delivering again what it sent before: only the new one is new.
        assert await inbox.store(conn, [_update(10), _update(20)], NOW) == [20]
        waiting = await inbox.pending(conn)
    assert [p.update_id for p in waiting] == [30, 10, 20]
    assert waiting[0].raw and json.loads(waiting[0].raw)["update_id"] == 30
    # Its first try is counted as it is stored (the caller hands it to the handlers at once).
    assert (waiting[0].tries, waiting[0].effects, waiting[0].user_id) == (1, False, 7)


async def test_tries_count_from_storing_and_finish_drops_the_text(db: Database) -> None:
    async with db.transaction() as conn:
        await inbox.store(conn, [_update(1, text="geheime woorden")], NOW)
        assert await inbox.begin(conn, 1) == 2
        await inbox.count_tries(conn, [1, 99])
        assert await inbox.begin(conn, 1) == 4
        assert await inbox.begin(conn, 99) is None
        assert await inbox.finish(conn, [1], NOW) == 1
        # Finished is finished: not again, and no more tries.
        assert await inbox.finish(conn, [1], NOW, "set_aside") == 0
        assert await inbox.begin(conn, 1) is None
        assert await inbox.pending(conn) == []
    (row,) = await _rows(db)
    assert row["status"] == "done" and row["raw"] is None and row["user_id"] is None
    assert "geheime" not in json.dumps(row)
    with pytest.raises(ValueError):
        async with db.transaction() as conn:
            await inbox.finish(conn, [1], NOW, "pending")


async def test_a_commit_while_handling_marks_effects_in_the_same_transaction(
    db: Database,
) -> None:
    async with db.transaction() as conn:
        await inbox.store(conn, [_update(1), _update(2)], NOW)
    handling = inbox.Handling(1)
    token = inbox.current.set(handling)
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO kv (key, value) VALUES ('a', 'b')")
                raise RuntimeError("rolled back: no effects")
        assert handling.effects is False
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO kv (key, value) VALUES ('a', 'b')")
        assert handling.effects is True
    finally:
        inbox.current.reset(token)
    # Outside an update's handling, commits mark nothing.
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO kv (key, value) VALUES ('c', 'd')")
    rows = await _rows(db)
    assert [(r["update_id"], r["effects"]) for r in rows] == [(1, 1), (2, 0)]


async def test_interrupted_ends_only_updates_that_changed_something(db: Database) -> None:
    async with db.transaction() as conn:
        await inbox.store(conn, [_update(1), _update(2), _update(3)], NOW)
        await inbox.begin(conn, 1)
        await inbox.mark_effects(conn, 1)
        await inbox.begin(conn, 2)  # started, changed nothing yet: safe to handle again
        assert await inbox.interrupted(conn, NOW) == 1
        waiting = await inbox.pending(conn)
        assert [(p.update_id, p.tries) for p in waiting] == [(2, 2), (3, 1)]
        assert await inbox.counts(conn) == {
            "pending": 2,
            "done": 0,
            "interrupted": 1,
            "set_aside": 0,
        }


async def test_prune_deletes_only_what_ended_long_enough_ago(db: Database) -> None:
    async with db.transaction() as conn:
        await inbox.store(conn, [_update(1), _update(2), _update(3)], NOW)
        await inbox.finish(conn, [1], NOW - timedelta(days=3))
        await inbox.finish(conn, [2], NOW, "set_aside", "unparseable")
        assert await inbox.prune(conn, NOW - timedelta(days=2)) == 1
    assert [(r["update_id"], r["status"], r["reason"]) for r in await _rows(db)] == [
        (2, "set_aside", "unparseable"),
        (3, "pending", None),
    ]


async def test_erasing_a_client_takes_their_waiting_updates(db: Database) -> None:
    async with db.transaction() as conn:
        await clients.touch(
            conn,
            user_id=7,
            chat_id=7,
            first_name="Anna",
            language_code="nl",
            timezone="Europe/Amsterdam",
            now=NOW,
        )
        await inbox.store(conn, [_update(1, 7), _update(2, 8)], NOW)
    async with db.transaction() as conn:
        await privacy.erase(conn, 7)
    assert [r["update_id"] for r in await _rows(db)] == [2]


def _holds(path: Path, *needles: str) -> list[str]:
    data = path.read_bytes() if path.exists() else b""
    return [n for n in needles if n.encode() in data]


async def test_erasure_leaves_no_trace_in_the_file_or_its_wal(db: Database) -> None:
    # secure_delete overwrites deleted rows with zeros; the checkpoint empties the -wal file.
    now = NOW
    async with db.transaction() as conn:
        for user_id, name in ((1, "Annelotte"), (2, "Bertrando")):
            await clients.touch(
                conn,
                user_id=user_id,
                chat_id=user_id,
                first_name=name,
                language_code="nl",
                timezone="Europe/Amsterdam",
                now=now,
            )
            for n in range(20):
                await journal.add_answer(conn, user_id, "d", "q", f"{name} zegt zinnetje{n}", now)
        await inbox.store(conn, [_update(5, 1, "Annelotte typte iets")], now)
    async with db.transaction() as conn:
        await privacy.erase(conn, 1)
    wal = db.path.with_name(db.path.name + "-wal")
    assert _holds(wal, "Annelotte"), "the test needs the name in the -wal file before"
    assert await db.checkpoint() is True
    assert wal.stat().st_size == 0
    assert _holds(db.path, "Annelotte", "zinnetje") == ["zinnetje"]  # Bertrando's words stay
    assert _holds(db.path, "Bertrando") == ["Bertrando"]


async def test_checkpoint_inside_a_transaction_is_a_bug(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.checkpoint()


async def test_a_database_from_before_secure_delete_is_vacuumed_once(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA journal_mode = WAL")
    raw.execute("PRAGMA secure_delete = OFF")
    for statement in split_statements(MIGRATIONS[0]):
        raw.execute(statement)
    raw.execute("PRAGMA user_version = 1")
    raw.execute(
        "INSERT INTO clients (user_id, chat_id, first_name, timezone, created_at, last_seen) "
        "VALUES (1, 1, 'Oudenaamgeheim', 'Europe/Amsterdam', 0, 0)"
    )
    raw.commit()
    raw.execute("DELETE FROM clients")
    raw.commit()
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    assert _holds(path, "Oudenaamgeheim"), "without secure_delete the deleted name lingers"
    db = await Database.open(path)
    try:
        assert await db.user_version() == len(MIGRATIONS)
    finally:
        await db.close()
    assert _holds(path, "Oudenaamgeheim") == []
    assert _holds(path.with_name(path.name + "-wal"), "Oudenaamgeheim") == []
