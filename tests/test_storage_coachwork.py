"""Work a coach sets out (assignments) and messages for later (scheduled): the repositories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import Database, assignments, privacy, scheduled
from tests.test_storage_db import add_client

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_an_assignment_is_claimed_once_moves_on_and_is_done(db: Database) -> None:
    await add_client(db, 1, NOW)
    later = NOW + timedelta(hours=11)
    async with db.transaction() as conn:
        a = await assignments.add(conn, 1, "Stokt", ["stokt-1", "stokt-2"], 9, NOW, later, later)
        assert await assignments.due(conn, NOW, 10) == []
        assert [x.id for x in await assignments.due(conn, later, 10)] == [a.id]
        assert await assignments.claim_notify(conn, a.id, later)
        assert not await assignments.claim_notify(conn, a.id, later)  # never twice
        assert await assignments.due(conn, later, 10) == []
        # Another dialogue changes nothing; the first session moves it on; the last ends it.
        assert await assignments.session_done(conn, 1, "ademhaling", later) is None
        moved = await assignments.session_done(conn, 1, "stokt-1", later)
        assert moved is not None and moved.done == 1 and moved.next_session == "stokt-2"
        ended = await assignments.session_done(conn, 1, "stokt-2", later)
        assert ended is not None and ended.status == "done" and ended.next_session is None
        assert await assignments.current(conn, 1) is None
        assert [x.id for x in await assignments.untold_done(conn, 10)] == [a.id]
        assert await assignments.mark_told(conn, a.id, later)
        assert not await assignments.mark_told(conn, a.id, later)
        assert await assignments.untold_done(conn, 10) == []


async def test_a_new_assignment_replaces_the_open_one_and_decline_is_the_clients_own(
    db: Database,
) -> None:
    await add_client(db, 1, NOW)
    await add_client(db, 2, NOW)
    async with db.transaction() as conn:
        first = await assignments.add(conn, 1, "Een", ["a"], 9, NOW, NOW, NOW)
        second = await assignments.add(conn, 1, "Twee", ["b"], 9, NOW, NOW, NOW)
        replaced = await assignments.get(conn, first.id)
        assert replaced is not None and replaced.status == "replaced"
        assert (await assignments.current(conn, 1)) == second
        assert not await assignments.decline(conn, second.id, 2, NOW)  # not client 2's
        assert await assignments.decline(conn, second.id, 1, NOW)
        assert not await assignments.decline(conn, second.id, 1, NOW)
        latest = await assignments.latest(conn, 1)
        assert latest is not None and latest.status == "declined" and latest.title == "Twee"


async def test_a_scheduled_message_is_claimed_once_and_a_cancelled_one_never(db: Database) -> None:
    await add_client(db, 1, NOW)
    at = NOW + timedelta(hours=2)
    async with db.transaction() as conn:
        one = await scheduled.add(conn, 1, "Hoi", 9, at, NOW)
        two = await scheduled.add(conn, 1, "Dag", 9, at, NOW)
        assert await scheduled.count_pending(conn, 1) == 2
        assert await scheduled.cancel(conn, two.id, NOW)
        assert not await scheduled.cancel(conn, two.id, NOW)
        assert await scheduled.due(conn, NOW, 10) == []
        due = await scheduled.due(conn, at, 10)
        assert [m.id for m in due] == [one.id]
        assert await scheduled.claim(conn, one.id, at)
        assert not await scheduled.claim(conn, one.id, at)
        assert not await scheduled.cancel(conn, one.id, at)  # claimed: too late to cancel
        await scheduled.finish(conn, one.id, "sent", at)
        assert await scheduled.due(conn, at + timedelta(days=1), 10) == []
        assert await scheduled.count_pending(conn, 1) == 0


async def test_erasure_removes_assignments_and_scheduled_messages(db: Database) -> None:
    await add_client(db, 1, NOW)
    async with db.transaction() as conn:
        await assignments.add(conn, 1, "Een", ["a"], 9, NOW, NOW, NOW)
        await scheduled.add(conn, 1, "Hoi", 9, NOW + timedelta(hours=1), NOW)
        await privacy.erase(conn, 1)
    async with db.read() as conn:
        assert await assignments.latest(conn, 1) is None
        assert await scheduled.due(conn, NOW + timedelta(days=1), 10) == []


async def test_due_selection_uses_the_partial_indexes(db: Database) -> None:
    async with db.read() as conn:
        for sql in (
            "SELECT * FROM assignments WHERE status = 'open' AND notify_at IS NOT NULL "
            "AND notify_at <= 1 ORDER BY notify_at LIMIT 5",
            "SELECT * FROM scheduled_messages WHERE status = 'pending' AND send_at <= 1 "
            "ORDER BY send_at LIMIT 5",
        ):
            async with conn.execute("EXPLAIN QUERY PLAN " + sql) as cur:
                plan = " ".join(str(r[3]) for r in await cur.fetchall())
            assert "USING INDEX" in plan and "SCAN" not in plan.replace("USING INDEX", ""), plan
