"""Schedules, the due queries (and their index), and the sends ledger."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from storage import Database, clients, schedules
from storage.schedules import PAUSED_INDEFINITELY, Schedule

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.sqlite3")
    async with database.transaction() as conn:
        for uid in range(1, 6):
            await clients.touch(
                conn,
                user_id=uid,
                chat_id=uid,
                first_name="X",
                language_code=None,
                timezone="Europe/Amsterdam",
                now=NOW,
            )
    yield database
    await database.close()


async def test_upsert_get_round_trip(db: Database) -> None:
    async with db.read() as conn:
        assert await schedules.get(conn, 1) is None
    s = Schedule(
        user_id=1,
        checkin_enabled=False,
        checkin_time="08:30",
        days=schedules.WEEKDAYS,
        reflection_enabled=True,
        reflection_day=4,
        reflection_time="21:15",
        paused_until=NOW + timedelta(days=3),
        next_checkin_at=NOW + timedelta(hours=5),
        next_reflection_at=None,
    )
    async with db.transaction() as conn:
        await schedules.upsert(conn, Schedule(user_id=1))
        defaults = await schedules.get(conn, 1)
        await schedules.upsert(conn, s)
        stored = await schedules.get(conn, 1)
    assert defaults == Schedule(user_id=1)
    assert defaults.days == schedules.EVERY_DAY and defaults.checkin_enabled
    assert stored == s


async def test_upsert_validates(db: Database) -> None:
    for bad in (
        Schedule(user_id=1, checkin_time="24:00"),
        Schedule(user_id=1, checkin_time="8:30"),
        Schedule(user_id=1, reflection_time="19:60"),
        Schedule(user_id=1, days=128),
        Schedule(user_id=1, reflection_day=7),
    ):
        with pytest.raises(ValueError):
            async with db.transaction() as conn:
                await schedules.upsert(conn, bad)
    # The schema refuses the same even when the Python check is bypassed.
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO schedules (user_id, checkin_time) VALUES (1, '25:00')")


def test_days_and_pause_helpers() -> None:
    weekdays = Schedule(user_id=1, days=schedules.WEEKDAYS)
    assert [weekdays.on_day(d) for d in range(7)] == [True] * 5 + [False] * 2
    sunday_only = Schedule(user_id=1, days=schedules.day_bit(6))
    assert sunday_only.days == 64 and sunday_only.on_day(6) and not sunday_only.on_day(0)
    with pytest.raises(ValueError):
        schedules.day_bit(7)
    paused = Schedule(user_id=1, paused_until=NOW + timedelta(days=3))
    assert paused.is_paused(NOW) and not paused.is_paused(NOW + timedelta(days=3))
    assert not paused.paused_indefinitely
    forever = Schedule(user_id=1, paused_until=PAUSED_INDEFINITELY)
    assert forever.paused_indefinitely and forever.is_paused(NOW + timedelta(days=10_000))
    assert not Schedule(user_id=1).is_paused(NOW)


async def test_paused_indefinitely_round_trips(db: Database) -> None:
    async with db.transaction() as conn:
        await schedules.upsert(conn, Schedule(user_id=1, paused_until=PAUSED_INDEFINITELY))
        stored = await schedules.get(conn, 1)
    assert stored is not None and stored.paused_indefinitely


async def test_due_checkins_and_reflections(db: Database) -> None:
    async with db.transaction() as conn:
        await schedules.upsert(conn, Schedule(user_id=1, next_checkin_at=NOW))
        await schedules.upsert(conn, Schedule(user_id=2, next_checkin_at=NOW - timedelta(hours=1)))
        await schedules.upsert(conn, Schedule(user_id=3, next_checkin_at=NOW + timedelta(1)))
        await schedules.upsert(conn, Schedule(user_id=4, next_reflection_at=NOW))
        await schedules.upsert(conn, Schedule(user_id=5))
    async with db.read() as conn:
        due = await schedules.due_checkins(conn, NOW, 100)
        first = await schedules.due_checkins(conn, NOW, 1)
        reflections = await schedules.due_reflections(conn, NOW, 100)
        later = await schedules.due_checkins(conn, NOW + timedelta(days=2), 100)
    assert [s.user_id for s in due] == [2, 1]
    assert [s.user_id for s in first] == [2]
    assert [s.user_id for s in reflections] == [4]
    assert [s.user_id for s in later] == [2, 1, 3]


async def test_set_next(db: Database) -> None:
    async with db.transaction() as conn:
        await schedules.upsert(conn, Schedule(user_id=1, next_checkin_at=NOW))
        await schedules.set_next(conn, 1, reflection=NOW + timedelta(days=7))
        both = await schedules.get(conn, 1)
        await schedules.set_next(conn, 1, checkin=NOW + timedelta(days=1))
        moved = await schedules.get(conn, 1)
        await schedules.set_next(conn, 1, checkin=None, reflection=None)
        cleared = await schedules.get(conn, 1)
        await schedules.set_next(conn, 1)  # nothing to change
        with pytest.raises(LookupError):
            await schedules.set_next(conn, 2, checkin=NOW)
    assert both is not None and both.next_checkin_at == NOW
    assert both.next_reflection_at == NOW + timedelta(days=7)
    assert moved is not None and moved.next_checkin_at == NOW + timedelta(days=1)
    assert moved.next_reflection_at == NOW + timedelta(days=7)
    assert cleared is not None and cleared.next_checkin_at is None
    assert cleared.next_reflection_at is None


async def _plan(conn: aiosqlite.Connection, sql: str) -> list[str]:
    async with conn.execute("EXPLAIN QUERY PLAN " + sql, (0, 100)) as cur:
        return [str(r["detail"]) for r in await cur.fetchall()]


@pytest.mark.parametrize(
    ("sql", "index", "column"),
    [
        (schedules.DUE_CHECKINS_SQL, "schedules_next_checkin", "next_checkin_at"),
        (schedules.DUE_REFLECTIONS_SQL, "schedules_next_reflection", "next_reflection_at"),
    ],
)
async def test_due_query_uses_partial_index(
    db: Database, sql: str, index: str, column: str
) -> None:
    # Enough rows, most of them with nothing planned, and fresh statistics: the planner must
    # still search the partial index, not scan the table or sort.
    async with db.transaction() as conn:
        await conn.execute(
            "WITH RECURSIVE n(v) AS (SELECT 10 UNION ALL SELECT v + 1 FROM n WHERE v < 3009) "
            "INSERT INTO clients (user_id, chat_id, first_name, timezone, created_at, last_seen) "
            "SELECT v, v, 'x', 'Europe/Amsterdam', 0, 0 FROM n"
        )
        await conn.execute(
            f"INSERT INTO schedules (user_id, {column}) "
            f"SELECT user_id, CASE WHEN user_id % 10 = 0 THEN user_id * 60 END FROM clients"
        )
        await conn.execute("ANALYZE")
        plan = await _plan(conn, sql)
    joined = " | ".join(plan)
    assert f"USING INDEX {index}" in joined, joined
    assert "SCAN schedules" not in joined and "TEMP B-TREE" not in joined, joined
    # The query written differently (no IS NOT NULL, no index usable) would scan: the check
    # above is not vacuous.
    async with db.read() as conn:
        scan = await _plan(conn, f"SELECT * FROM schedules WHERE abs({column}) <= ? LIMIT ?")
    assert any("SCAN schedules" in line for line in scan), scan


async def test_claim_and_finish_send(db: Database) -> None:
    due = NOW - timedelta(minutes=1)
    async with db.transaction() as conn:
        assert await schedules.send_status(conn, 1, "checkin", due) is None
        assert await schedules.claim_send(conn, 1, "checkin", due, NOW)
        # Claimed (maybe sent, maybe the process died): never claimed again.
        assert not await schedules.claim_send(conn, 1, "checkin", due, NOW)
        assert await schedules.send_status(conn, 1, "checkin", due) == "claimed"
        # Another kind or another due time is another send.
        assert await schedules.claim_send(conn, 1, "reflection", due, NOW)
        assert await schedules.claim_send(conn, 1, "checkin", due + timedelta(days=1), NOW)
        assert await schedules.claim_send(conn, 2, "checkin", due, NOW)

        await schedules.finish_send(conn, 1, "checkin", due, "sent", NOW)
        assert await schedules.send_status(conn, 1, "checkin", due) == "sent"
        assert not await schedules.claim_send(conn, 1, "checkin", due, NOW)

        # A failed send is known not to have arrived: it may be claimed again.
        await schedules.finish_send(conn, 2, "checkin", due, "failed", NOW)
        assert await schedules.claim_send(conn, 2, "checkin", due, NOW + timedelta(seconds=30))
        assert await schedules.send_status(conn, 2, "checkin", due) == "claimed"

        # A skip can be recorded without a claim, and blocks later claims.
        await schedules.finish_send(conn, 3, "checkin", due, "skipped", NOW)
        assert not await schedules.claim_send(conn, 3, "checkin", due, NOW)
        assert await schedules.send_status(conn, 3, "checkin", due) == "skipped"

        with pytest.raises(ValueError):
            await schedules.claim_send(conn, 1, "spam", due, NOW)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await schedules.finish_send(conn, 1, "checkin", due, "done", NOW)  # type: ignore[arg-type]


async def test_claim_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    db = await Database.open(path)
    async with db.transaction() as conn:
        await clients.touch(
            conn,
            user_id=1,
            chat_id=1,
            first_name="X",
            language_code=None,
            timezone="Europe/Amsterdam",
            now=NOW,
        )
        assert await schedules.claim_send(conn, 1, "checkin", NOW, NOW)
    await db.close()
    db = await Database.open(path)
    try:
        async with db.transaction() as conn:
            assert not await schedules.claim_send(conn, 1, "checkin", NOW, NOW)
    finally:
        await db.close()


async def test_prune_sends(db: Database) -> None:
    async with db.transaction() as conn:
        await schedules.finish_send(
            conn, 1, "checkin", NOW - timedelta(days=60), "sent", NOW - timedelta(days=60)
        )
        await schedules.finish_send(conn, 1, "checkin", NOW, "sent", NOW)
        assert await schedules.prune_sends(conn, NOW - timedelta(days=30)) == 1
        assert await schedules.send_status(conn, 1, "checkin", NOW) == "sent"
        assert await schedules.send_status(conn, 1, "checkin", NOW - timedelta(days=60)) is None


async def test_replace_keeps_frozen_dataclass_usable(db: Database) -> None:
    async with db.transaction() as conn:
        await schedules.upsert(conn, Schedule(user_id=1))
        stored = await schedules.get(conn, 1)
        assert stored is not None
        with pytest.raises(AttributeError):
            stored.days = 1  # type: ignore[misc]
        await schedules.upsert(conn, replace(stored, days=schedules.day_bit(0)))
        changed = await schedules.get(conn, 1)
    assert changed is not None and changed.days == 1
