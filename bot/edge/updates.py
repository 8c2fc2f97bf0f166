"""Updates of one client in order, one at a time; different clients in parallel."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

if TYPE_CHECKING:
    from bot.edge.inbox import Inbox


def update_key(update: object) -> int | None:
    """The key that orders an update: the chat it belongs to (per client, or per coach topic)."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None and (
        update.effective_chat is None or update.effective_chat.type == "private"
    ):
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Runs updates concurrently, except that updates with the same key wait for each other.

    asyncio.Lock wakes waiters in FIFO order and the Application starts update tasks in the
    order Telegram delivered them, so one client's updates run in their order. With an inbox
    (bot/edge/inbox.py), the inbox counts and marks each of its updates around the handlers.
    """

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        self.inbox: Inbox | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await the handler coroutine under the lock of the update's chat."""
        key = update_key(update)
        if key is None:
            await self._run(update, coroutine)
            return
        async with self.hold(key):
            await self._run(update, coroutine)

    async def _run(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self.inbox is None or not asyncio.iscoroutine(coroutine):
            await coroutine
        else:
            await self.inbox.handle(update, coroutine)

    @contextlib.asynccontextmanager
    async def hold(self, key: int) -> AsyncIterator[None]:
        """Hold one chat's lock: for work outside its updates (a check-in, a coach's hand-back)
        that changes the same client's state, so it cannot interleave with their own taps."""
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            # Forget idle locks so memory does not grow with the number of clients ever seen.
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""
