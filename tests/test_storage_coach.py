"""Storage for the coach in the loop (issue 14): looking clients up by name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import Database, clients

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


async def _touch(db: Database, user_id: int, first_name: str) -> None:
    async with db.transaction() as conn:
        await clients.touch(
            conn,
            user_id=user_id,
            chat_id=user_id,
            first_name=first_name,
            language_code="nl",
            timezone="Europe/Amsterdam",
            now=NOW,
        )


async def test_names_lists_first_and_chosen_names(db: Database) -> None:
    await _touch(db, 2, "Bram")
    await _touch(db, 1, "Anna")
    async with db.transaction() as conn:
        await clients.update(conn, 1, display_name="Annie")
    async with db.read() as conn:
        assert await clients.names(conn) == [(1, "Anna", "Annie"), (2, "Bram", None)]
