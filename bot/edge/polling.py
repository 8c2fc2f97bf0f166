"""Long polling through the inbox: fetch raw updates, store them, and only then confirm them.

python-telegram-bot's Updater parses updates as it fetches them, so one update it cannot parse
stops polling for everyone (it is fetched again and again, never confirmed, and the library logs
it, client text included). Here getUpdates returns the raw JSON; the inbox stores it; the next
getUpdates confirms it with its offset. Parsing comes after, in the inbox, one update at a time.

The request goes through a python-telegram-bot request object of its own (one connection, like
the Updater's; the kind `telegram.request` names, bot/edge/request.py), so Telegram's errors arrive as the library's exceptions, without the Bot's
parsing and without the rate limiter (getUpdates is never paced).
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
from collections.abc import Sequence
from typing import Any

from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.edge.inbox import Inbox, update_id_of
from bot.edge.request import make_request
from storage import StorageError

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10
LIMIT = 100
MAX_BACKOFF = 30.0


class Poller:
    """One long-polling loop: getUpdates -> inbox.receive -> the next offset confirms."""

    def __init__(
        self,
        bot: Any,
        inbox: Inbox,
        allowed_updates: Sequence[str],
        *,
        timeout: int = POLL_TIMEOUT,
        request: str = "aiohttp",
    ) -> None:
        self.bot = bot
        self.inbox = inbox
        self.allowed_updates = list(allowed_updates)
        self.timeout = timeout
        self.offset: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._request = make_request(request, connection_pool_size=1, read_timeout=timeout + 5)

    @property
    def running(self) -> bool:
        """Whether the loop runs."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start polling (a webhook left set would make getUpdates fail, so delete it first)."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        await self._request.initialize()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="coachbot-polling")

    async def stop(self) -> None:
        """Stop polling; updates fetched and not yet stored are fetched again next time."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await self._request.shutdown()

    async def _fetch(self) -> Any:
        # Parameters in the query string (the Bot API takes them there for any method).
        params: dict[str, Any] = {
            "limit": LIMIT,
            "timeout": self.timeout,
            "allowed_updates": json.dumps(self.allowed_updates),
        }
        if self.offset is not None:
            params["offset"] = self.offset
        query = urllib.parse.urlencode(params)
        return await self._request.post(f"{self.bot.base_url}/getUpdates?{query}")

    async def _run(self) -> None:
        backoff = 0.0
        while True:
            if backoff:
                await asyncio.sleep(backoff)
            try:
                result = await self._fetch()
            except TimedOut:
                backoff = 0.0
                continue
            except RetryAfter as exc:
                delay = exc.retry_after
                backoff = delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
                log.warning("polling: Telegram asks to wait %.0fs", backoff)
                continue
            except InvalidToken:
                backoff = MAX_BACKOFF
                log.error("polling: Telegram refuses the bot token; check telegram.token")
                continue
            except Conflict:
                backoff = _more(backoff)
                log.error("polling: another process polls with this token, or a webhook is set")
                continue
            except NetworkError as exc:
                backoff = _more(backoff)
                log.warning("polling: %s; trying again in %.0fs", type(exc).__name__, backoff)
                continue
            updates = result if isinstance(result, list) else []
            if updates:
                try:
                    await self.inbox.receive(updates)
                except StorageError as exc:
                    # Not stored, so not confirmed: Telegram delivers them again.
                    backoff = _more(backoff)
                    log.error("polling: updates not stored (%s); fetching them again", exc)
                    await self.inbox.tell_unstored(updates)
                    continue
                ids = [i for i in (update_id_of(u) for u in updates) if i is not None]
                if ids:
                    self.offset = max(ids) + 1
            backoff = 0.0


def _more(backoff: float) -> float:
    return min(MAX_BACKOFF, max(1.0, backoff * 2))
