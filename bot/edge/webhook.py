"""Webhook mode: our own small HTTP endpoint, so the secret token is compared in constant time.

python-telegram-bot's built-in webhook server compares the secret with `!=`; here the header is
checked with `hmac.compare_digest` before the body is even parsed.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web
from telegram import Update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH = "/telegram"
MAX_BODY = 1 << 20


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of the secret header with the configured secret."""
    return hmac.compare_digest((given or "").encode(), expected.encode())


class WebhookServer:
    """Receives updates from Telegram and hands them to the Application's update queue."""

    def __init__(self, app: Any, *, secret: str, listen: str, port: int) -> None:
        self.app = app
        self.secret = secret
        self.listen = listen
        self.port = port
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        if not secret_matches(request.headers.get(SECRET_HEADER), self.secret):
            log.warning("webhook request with a wrong or missing secret refused")
            return web.Response(status=403)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413)
        try:
            data = await request.json()
            update = Update.de_json(data, self.app.bot)
        except (ValueError, TypeError, KeyError):
            log.warning("webhook request with a body that is not an update refused")
            return web.Response(status=400)
        await self.app.update_queue.put(update)
        return web.Response(status=200)

    async def start(self) -> int:
        """Start listening; returns the port (useful when 0 asked for any free one)."""
        server = web.Application(client_max_size=MAX_BODY)
        server.router.add_post(PATH, self._handle)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port)
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[union-attr]
        if sockets:
            self.port = sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
