"""Fixtures for the sandbox's own tests: a started Sandbox and a python-telegram-bot Bot on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram

from sandbox import Sandbox


@pytest.fixture(name="sb")
async def sandbox_fixture() -> AsyncIterator[Sandbox]:
    """A running sandbox on an ephemeral port."""
    sandbox = Sandbox()
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()


@pytest.fixture(name="bot")
async def bot_fixture(sb: Sandbox) -> AsyncIterator[telegram.Bot]:
    """An unmodified python-telegram-bot Bot talking to the sandbox."""
    client = telegram.Bot(sb.token, base_url=sb.base_url, base_file_url=sb.base_file_url)
    async with client:
        yield client
