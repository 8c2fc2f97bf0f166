"""Shared fixtures: the local Telegram and the real bot on a temporary database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox import Sandbox
from storage import Database
from tests.harness import Harness


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """A started local Telegram; the test fails if the bot sent any request Telegram would refuse."""
    sb = Sandbox()
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()
    assert sb.violations == [], f"Bot API violations: {sb.violations}"


@pytest.fixture
async def harness(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Harness]:
    """The real bot, started against the sandbox, with a controlled clock and no background jobs."""
    h = Harness(sandbox, tmp_path)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh, migrated database in the test's folder (storage tests that need rows add them)."""
    database = await Database.open(tmp_path / "bot.sqlite3")
    yield database
    await database.close()
