"""Export, erasure, retention and online backup."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from storage import (
    Database,
    StorageError,
    assignments,
    clients,
    followups,
    handoffs,
    inbox,
    journal,
    kv,
    links,
    moods,
    notices,
    pins,
    privacy,
    progress,
    reflections,
    safety,
    scheduled,
    schedules,
)

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


async def _fill(
    conn: aiosqlite.Connection, user_id: int, name: str, *, now: datetime = NOW
) -> None:
    """Put a row about the client in every table."""
    await clients.touch(
        conn,
        user_id=user_id,
        chat_id=user_id,
        first_name=name,
        language_code="nl",
        timezone="Europe/Amsterdam",
        now=now,
    )
    await clients.save_state(conn, user_id, {"dialogue": "ruzie", "node": "n1", "vars": {}})
    await clients.set_consent(conn, user_id, "v1", now)
    await journal.add_answer(conn, user_id, "ruzie", "gevoel", f"{name} schreef dit", now)
    mood = await moods.add(conn, user_id, 2, now)
    await moods.set_note(conn, user_id, mood, f"notitie van {name}")
    await progress.mark_completed(conn, user_id, "ruzie", now)
    await followups.add(conn, user_id, "nazorg", now + timedelta(days=1))
    await schedules.upsert(conn, schedules.Schedule(user_id=user_id, next_checkin_at=now))
    await schedules.claim_send(conn, user_id, "checkin", now, now)
    handoff = await handoffs.open(conn, user_id, f"{name} wil praten", now)
    await handoffs.take(conn, handoff.id, 555, now)
    await handoffs.set_topic(conn, user_id, -100, user_id, f"{name} · {user_id}")
    await handoffs.add_relay(conn, 555, user_id * 10, user_id, now)
    await safety.record(conn, user_id, "unclear", "suicide", now)
    await reflections.mark_asked(conn, user_id, "q1", now)
    await notices.mark(conn, "low_mood_offer", user_id, now)
    await pins.put(conn, user_id, f"Zin voor {name}", 555, now)
    await journal.set_choice(conn, user_id, "ja", now)
    await links.add(conn, user_id, links.IN, 7, -100, user_id * 10 + 1, now)
    await links.set_coach_reaction(conn, user_id, 7, 555, "👍", now)
    await assignments.add(conn, user_id, "Module", ["stokt-1"], 555, now, now, now)
    await scheduled.add(conn, user_id, f"Later voor {name}", 555, now + timedelta(hours=1), now)
    raw = json.dumps({"update_id": user_id, "message": {"text": f"{name} typte dit"}})
    await inbox.store(conn, [inbox.Incoming(user_id, user_id, "message", raw)], now)


async def _user_tables(conn: aiosqlite.Connection) -> list[str]:
    async with conn.execute(
        "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' "
        "AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'user_id')"
    ) as cur:
        return [str(r[0]) for r in await cur.fetchall()]


async def _rows_for(conn: aiosqlite.Connection, table: str, user_id: int) -> int:
    async with conn.execute(f'SELECT count(*) FROM "{table}" WHERE user_id = ?', (user_id,)) as c:
        row = await c.fetchone()
    assert row is not None
    return int(row[0])


async def test_export_is_complete_and_only_this_client(db: Database) -> None:
    async with db.transaction() as conn:
        await _fill(conn, 1, "Anna")
        await _fill(conn, 2, "Bob")
        await notices.mark(conn, "non_coach_warned", 999, NOW)
        await kv.put(conn, "coach_away_until", "2026-12-01")
    async with db.read() as conn:
        data = await privacy.export(conn, 1, NOW)
        tables = await _user_tables(conn)
        counts = {t: await _rows_for(conn, t, 1) for t in tables}

    text = json.dumps(data, ensure_ascii=False)  # must be JSON-serialisable as it is
    assert data["format"] == privacy.EXPORT_FORMAT and data["user_id"] == 1
    exported = data["tables"]
    # Every table about a client is in the export, every one of them has this client's rows
    # (so the fixture really covers each table), and all of them are there.
    assert set(tables) <= set(exported)
    for table in tables:
        assert counts[table] >= 1, f"_fill() writes nothing to {table}"
        assert len(exported[table]) == counts[table], table
        assert all(row["user_id"] == 1 for row in exported[table])
    assert exported["notices"] == [
        {"key": "low_mood_offer", "subject": "1", "at": "2026-11-22T03:00:00+00:00"}
    ]
    client = exported["clients"][0]
    assert client["first_name"] == "Anna"
    assert client["created_at"] == "2026-11-22T03:00:00+00:00"
    assert client["consent_at"] == "2026-11-22T03:00:00+00:00"
    assert client["state_json"] == {"dialogue": "ruzie", "node": "n1", "vars": {}}
    assert exported["answers"][0]["text"] == "Anna schreef dit"
    assert exported["moods"][0]["note"] == "notitie van Anna"
    assert exported["schedules"][0]["next_checkin_at"] == "2026-11-22T03:00:00+00:00"
    assert exported["handoffs"][0]["reason"] == "Anna wil praten"
    assert exported["handoffs"][0]["closed_at"] is None
    assert exported["followups"][0]["due_at"] == "2026-11-23T03:00:00+00:00"
    # Nothing of the other client, the non-client notice or the settings leaks in.
    assert "Bob" not in text and "999" not in text and "coach_away_until" not in text
    assert data["exported_at"] == "2026-11-22T03:00:00+00:00"


async def test_export_of_unknown_client_is_empty(db: Database) -> None:
    async with db.read() as conn:
        data = await privacy.export(conn, 42)
    assert all(rows == [] for rows in data["tables"].values())
    # Without a now, the export is stamped with the current time.
    assert datetime.fromisoformat(data["exported_at"]).tzinfo is not None


async def test_erase_removes_every_row_about_the_client(db: Database) -> None:
    async with db.transaction() as conn:
        await _fill(conn, 1, "Anna")
        await _fill(conn, 2, "Bob")
        await notices.mark(conn, "non_coach_warned", 999, NOW)
        await kv.put(conn, "coach_away_until", "2026-12-01")
    async with db.transaction() as conn:
        await privacy.erase(conn, 1)
    async with db.read() as conn:
        tables = await _user_tables(conn)
        left = {t: await _rows_for(conn, t, 1) for t in tables}
        kept = {t: await _rows_for(conn, t, 2) for t in tables}
        assert await notices.seen(conn, "low_mood_offer", 1) is None
        assert await notices.seen(conn, "low_mood_offer", 2) == NOW
        assert await notices.seen(conn, "non_coach_warned", 999) == NOW
        assert await kv.get(conn, "coach_away_until") == "2026-12-01"
        assert await handoffs.user_for_topic(conn, -100, 1) is None
        assert await handoffs.user_for_relay(conn, 555, 10) is None
    assert len(tables) >= 12
    assert all(n == 0 for n in left.values()), left
    assert all(n >= 1 for n in kept.values()), kept
    # Nothing of Anna anywhere in the file's tables, whatever the column.
    async with db.read() as conn:
        for table in tables + ["notices"]:
            async with conn.execute(f'SELECT * FROM "{table}"') as cur:
                for row in await cur.fetchall():
                    assert "Anna" not in json.dumps([row[k] for k in row.keys()])


async def test_erase_relies_on_cascade_too(db: Database) -> None:
    # Deleting only the clients row (as a retention job might) leaves nothing behind either.
    async with db.transaction() as conn:
        await _fill(conn, 1, "Anna")
        await conn.execute("DELETE FROM clients WHERE user_id = 1")
    async with db.read() as conn:
        left = {t: await _rows_for(conn, t, 1) for t in await _user_tables(conn)}
    assert all(n == 0 for n in left.values()), left


async def test_inactive(db: Database) -> None:
    async with db.transaction() as conn:
        await _fill(conn, 1, "Anna", now=NOW - timedelta(days=400))
        await _fill(conn, 2, "Bob", now=NOW - timedelta(days=10))
        await _fill(conn, 3, "Cas", now=NOW - timedelta(days=500))
        assert await privacy.inactive(conn, NOW - timedelta(days=365)) == [3, 1]
        assert await privacy.inactive(conn, NOW - timedelta(days=600)) == []


async def test_backup_while_writing(db: Database, tmp_path: Path) -> None:
    async with db.transaction() as conn:
        await _fill(conn, 1, "Anna")
    stop = asyncio.Event()
    written = 0

    async def keep_writing() -> None:
        nonlocal written
        while not stop.is_set():
            async with db.transaction() as conn:
                await kv.put(conn, f"k{written}", "v")
            written += 1
            await asyncio.sleep(0)

    writer = asyncio.create_task(keep_writing())
    await asyncio.sleep(0.05)
    dest = tmp_path / "backups" / "copy.sqlite3"
    await privacy.backup(db, dest)
    stop.set()
    await writer
    assert written > 0

    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert not dest.with_name(dest.name + "-wal").exists()
    assert not dest.with_name(dest.name + ".tmp").exists()
    raw = sqlite3.connect(dest)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("SELECT first_name FROM clients").fetchall() == [("Anna",)]
        copied = raw.execute("SELECT count(*) FROM kv").fetchone()[0]
    finally:
        raw.close()
    assert 0 <= copied <= written
    # The copy opens as a database of its own, at the same schema version.
    restored = await Database.open(dest)
    try:
        assert await restored.user_version() == await db.user_version()
        async with restored.read() as conn:
            assert await journal.answers(conn, 1) != []
    finally:
        await restored.close()


async def test_backup_replaces_existing_file_and_stays_private(
    db: Database, tmp_path: Path
) -> None:
    async with db.transaction() as conn:
        await kv.put(conn, "round", "1")
    dest = tmp_path / "copy.sqlite3"
    dest.write_text("old junk")
    dest.chmod(0o644)
    await privacy.backup(db, dest)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    raw = sqlite3.connect(dest)
    try:
        assert raw.execute("SELECT value FROM kv WHERE key = 'round'").fetchone() == ("1",)
    finally:
        raw.close()


async def test_backup_to_impossible_place_is_storage_error(db: Database, tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="backup"):
        await privacy.backup(db, blocker / "copy.sqlite3")
