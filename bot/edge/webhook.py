"""Webhook mode: our own small HTTP endpoint, so the secret token is compared in constant time.

python-telegram-bot's built-in webhook server compares the secret with `!=`; here the header is
checked with `hmac.compare_digest` before the body is even parsed. An update is stored in the
inbox (bot/edge/inbox.py) before Telegram gets its 200; one the library cannot parse is stored,
answered 200 and set aside there, so Telegram does not deliver it again and again.

A pressed button (a callback query) must be answered with answerCallbackQuery. Telegram lets
the response to its webhook call carry one method ({"method": ..., parameters}); it carries it
out and gives no result back. Once the update is stored, the response waits up to
`inbox.REPLY_WAIT` for the handlers' answer and returns it as the body: one request less per
press. A handler slower than that (or one that fails) costs nothing but the saving: the
response goes as a plain 200, and the answer goes as an ordinary request when it comes (or, if
the handler never answered, a plain answer is sent for it when its handling ends).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web

from bot.edge.inbox import Inbox, update_id_of
from storage import StorageError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH = "/telegram"
MAX_BODY = 1 << 20


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of the secret header with the configured secret."""
    return hmac.compare_digest((given or "").encode(), expected.encode())


class WebhookServer:
    """Receives updates from Telegram and stores them in the inbox before answering 200."""

    def __init__(self, inbox: Inbox, *, secret: str, listen: str, port: int) -> None:
        self.inbox = inbox
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
            data: Any = await request.json()
        except ValueError:
            data = None
        if update_id_of(data) is None:
            log.warning("webhook request with a body that is not an update refused")
            return web.Response(status=400)
        try:
            new = await self.inbox.receive([data], reply=True)
        except StorageError as exc:
            # Not stored, so not acknowledged: Telegram delivers it again later.
            log.error("webhook: update not stored (%s); Telegram will send it again", exc)
            await self.inbox.tell_unstored([data])
            return web.Response(status=503)
        # Stored: whatever happens now, the update is not lost. A pressed button's answer may
        # ride back in this response (Telegram carries it out), saving a request of its own.
        for update_id in new:
            body = await self.inbox.reply_for(update_id)
            if body is not None:
                return web.json_response(body)
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
