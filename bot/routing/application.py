"""Builds the python-telegram-bot Application, wires the features in, and runs it (polling or
webhook)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import Any

from telegram import BotCommand
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

import safety
from bot.core import texts
from bot.edge import logs
from bot.edge.config import Config, require_token
from bot.edge.services import SERVICES_KEY, Clock, Services, SystemClock, services
from bot.edge.updates import PerChatUpdateProcessor
from bot.edge.webhook import WebhookServer
from bot.features import privacy
from bot.features.checkins import settings
from bot.features.checkins import sweep as checkins
from bot.features.handoff import coach
from bot.routing import handlers
from dialogues import Library, check_library, load_library
from storage.db import Database

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The bot cannot start; the message says why in one line."""


def load_safety() -> None:
    """Load and check the safety rule files now, not at the first message; refuse to start on
    any error (a bot that cannot hear danger must not talk to clients)."""
    try:
        safety.default_check()
    except safety.RuleFileError as exc:
        raise StartupError(str(exc)) from exc


def load_dialogues(config: Config) -> Library:
    """Load and check the scripts and the safety rules; refuse to start on any error."""
    load_safety()
    path = Path(config.dialogues.scripts) if config.dialogues.scripts else None
    library, problems = load_library(path)
    problems = list(problems) + list(check_library(library))
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        lines = "\n".join(str(p) for p in errors[:20])
        raise StartupError(f"the dialogue scripts have {len(errors)} error(s):\n{lines}")
    return library


def build_application(
    config: Config,
    db: Database,
    library: Library,
    *,
    clock: Clock | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The Application with our handlers, pacing and per-client ordering."""
    require_token(config)
    logs.quiet_libraries()
    t = config.telegram
    processor = PerChatUpdateProcessor(256)
    builder = (
        ApplicationBuilder()
        .token(t.token)
        .concurrent_updates(processor)
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=t.global_rate,
                overall_time_period=1,
                group_max_rate=t.group_rate_per_minute,
                group_time_period=60,
                max_retries=t.max_retries,
            )
        )
    )
    if t.base_url:
        builder = builder.base_url(t.base_url)
    if t.base_file_url:
        builder = builder.base_file_url(t.base_file_url)
    # No Defaults(parse_mode=...): python-telegram-bot would then add parse_mode to methods that
    # do not take it (editMessageReplyMarkup), which the Bot API spec does not allow. Every send
    # passes its parse mode itself (bot/sender.py).
    app = builder.build()
    app.bot_data[SERVICES_KEY] = Services(
        config=config, db=db, library=library, clock=clock or SystemClock(), processor=processor
    )
    # Order matters within a handler group: the coach's side first (it also claims the coach
    # group), then the features' commands and buttons, then the client routing.
    coach.register(app)
    settings.register(app)
    privacy.register(app)
    checkins.register(app)
    handlers.register(app)
    return app


async def announce(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Set the Dutch command list and remember our username for deep links (after initialize)."""
    svc = services(app)
    svc.bot_username = app.bot.username or ""
    await app.bot.set_my_commands([BotCommand(name, text) for name, text in texts.COMMANDS])


async def serve(
    config: Config,
    *,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the bot until SIGINT/SIGTERM (or `stop` is set)."""
    library = load_dialogues(config)
    db = await Database.open(config.storage.database)
    app = build_application(config, db, library, clock=clock)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with app:
            await announce(app)
            await start_updates(app, config)
            await app.start()
            log.info("bot running", extra={"mode": config.telegram.mode})
            await stop.wait()
            await stop_updates(app)
            await app.stop()
    finally:
        await db.close()


async def start_updates(app: Application[Any, Any, Any, Any, Any, Any], config: Config) -> Any:
    """Start receiving updates: long polling, or our webhook endpoint with a secret token.

    Returns the WebhookServer in webhook mode (stop it with `stop_updates`), else None.
    """
    allowed = ["message", "edited_message", "callback_query", "my_chat_member"]
    if config.telegram.mode == "webhook":
        w = config.webhook
        server = WebhookServer(app, secret=w.secret_token, listen=w.listen, port=w.port)
        await server.start()
        await app.bot.set_webhook(url=w.url, secret_token=w.secret_token, allowed_updates=allowed)
        app.bot_data["coachbot.webhook"] = server
        return server
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=0.0, timeout=10, allowed_updates=allowed, drop_pending_updates=False
    )
    return None


async def stop_updates(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop polling, or the webhook endpoint."""
    server = app.bot_data.pop("coachbot.webhook", None)
    if server is not None:
        await server.stop()
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
