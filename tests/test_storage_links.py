"""storage.links: relayed messages linked both ways, and the coaches' reactions on them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import Database, links
from tests.test_storage_db import add_client

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def test_links_both_ways(db: Database) -> None:
    await add_client(db, 1, NOW)
    async with db.transaction() as conn:
        # Anna's message 5 relayed to two coaches privately; a coach's message 9 reached her as 6.
        await links.add(conn, 1, links.IN, 5, 111, 40, NOW)
        await links.add(conn, 1, links.IN, 5, 222, 41, NOW)
        await links.add(conn, 1, links.OUT, 6, 111, 9, NOW)
        with pytest.raises(ValueError):
            await links.add(conn, 1, "sideways", 7, 111, 50, NOW)
    async with db.read() as conn:
        first = await links.by_coach_message(conn, 222, 41)
        assert first is not None and (first.direction, first.client_message_id) == ("in", 5)
        out = await links.coach_message_for(conn, 1, 6)
        assert out is not None and (out.coach_chat_id, out.coach_message_id) == (111, 9)
        # Anna's own message is no coach message; an unknown one has no link.
        assert await links.coach_message_for(conn, 1, 5) is None
        assert await links.by_coach_message(conn, 111, 99) is None
    async with db.transaction() as conn:
        await links.set_note(conn, out.id, 77)
    async with db.read() as conn:
        noted = await links.by_coach_message(conn, 111, 9)
        assert noted is not None and noted.note_message_id == 77


async def test_the_latest_coach_reaction_standing_shows(db: Database) -> None:
    await add_client(db, 1, NOW)
    async with db.transaction() as conn:
        await links.set_coach_reaction(conn, 1, 5, 111, "👍", NOW)
        await links.set_coach_reaction(conn, 1, 5, 222, "❤", NOW + timedelta(seconds=1))
        assert await links.coach_reaction(conn, 1, 5) == "❤"
        await links.set_coach_reaction(conn, 1, 5, 222, None, NOW + timedelta(seconds=2))
        assert await links.coach_reaction(conn, 1, 5) == "👍"
        await links.set_coach_reaction(conn, 1, 5, 111, None, NOW + timedelta(seconds=3))
        assert await links.coach_reaction(conn, 1, 5) is None


async def test_prune_and_erasure_take_links_away(db: Database) -> None:
    await add_client(db, 1, NOW)
    await add_client(db, 2, NOW)
    async with db.transaction() as conn:
        await links.add(conn, 1, links.IN, 5, 111, 40, NOW - timedelta(days=400))
        await links.set_coach_reaction(conn, 1, 5, 111, "👍", NOW - timedelta(days=400))
        await links.add(conn, 1, links.IN, 6, 111, 42, NOW)
        await links.add(conn, 2, links.IN, 5, 111, 43, NOW)
        assert await links.prune(conn, NOW - timedelta(days=30)) == 1
        assert await links.by_coach_message(conn, 111, 40) is None
        assert await links.coach_reaction(conn, 1, 5) is None
        await conn.execute("DELETE FROM clients WHERE user_id = 1")  # the cascade of erasure
        assert await links.by_coach_message(conn, 111, 42) is None
        assert await links.by_coach_message(conn, 111, 43) is not None
