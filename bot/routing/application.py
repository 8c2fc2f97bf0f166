"""Builds the python-telegram-bot Application, wires the features in, and runs it (polling or
webhook)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import Any

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application, ApplicationBuilder

import safety
from bot.core import texts
from bot.edge import logs
from bot.edge.config import Config, require_token
from bot.edge.inbox import Inbox, InboxRateLimiter
from bot.edge.polling import Poller
from bot.edge.request import make_request
from bot.edge.services import SERVICES_KEY, Clock, Services, SystemClock, services
from bot.edge.updates import PerChatUpdateProcessor
from bot.edge.webhook import WebhookServer
from bot.features import privacy
from bot.features.checkins import settings
from bot.features.checkins import sweep as checkins
from bot.features.digest import weekly as digest
from bot.features.handoff import coach, reactions
from bot.routing import handlers
from dialogues import Library, check_library, load_library
from storage import StorageError
from storage.db import Database

log = logging.getLogger(__name__)

INBOX_KEY = "coachbot.inbox"
POLLER_KEY = "coachbot.poller"
WEBHOOK_KEY = "coachbot.webhook"
REQUESTS_KEY = "coachbot.requests"
# message_reaction: Telegram sends it only when asked for here (and, in a group, only to an
# admin bot); the hand-off mirrors reactions both ways with it.
ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "callback_query",
    "my_chat_member",
    "message_reaction",
)


class StartupError(Exception):
    """The bot cannot start; the message says why in one line."""


def load_safety() -> None:
    """Load and check the safety rule files and the learned second opinion now, not at the first
    message; refuse to start on any error (a bot that cannot hear danger must not talk to
    clients)."""
    try:
        safety.default_check()
        safety.load_model()
    except (safety.RuleFileError, safety.ModelError) as exc:
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
    """The Application with our handlers, pacing, per-client ordering and the inbox."""
    require_token(config)
    logs.quiet_libraries()
    t = config.telegram
    processor = PerChatUpdateProcessor(256)
    limiter = InboxRateLimiter(
        overall_max_rate=t.global_rate,
        overall_time_period=1,
        group_max_rate=t.group_rate_per_minute,
        group_time_period=60,
        max_retries=t.max_retries,
    )
    requests = (make_request(t.request), make_request(t.request, connection_pool_size=1))
    # No Updater: updates come through the inbox (bot/edge/polling.py, bot/edge/webhook.py).
    builder = (
        ApplicationBuilder()
        .token(t.token)
        .concurrent_updates(processor)
        .rate_limiter(limiter)
        .updater(None)
        .request(requests[0])
        .get_updates_request(requests[1])
    )
    if t.base_url:
        builder = builder.base_url(t.base_url)
    if t.base_file_url:
        builder = builder.base_file_url(t.base_file_url)
    # No Defaults(parse_mode=...): python-telegram-bot would then add parse_mode to methods that
    # do not take it (editMessageReplyMarkup), which the Bot API spec does not allow. Every send
    # passes its parse mode itself (bot/sender.py).
    app = builder.build()
    inbox = Inbox(app, db)
    processor.inbox = inbox
    limiter.inbox = inbox
    app.bot_data[INBOX_KEY] = inbox
    app.bot_data[REQUESTS_KEY] = requests
    app.bot_data[SERVICES_KEY] = Services(
        config=config, db=db, library=library, clock=clock or SystemClock(), processor=processor
    )
    # Order matters within a handler group: the coach's side first (it also claims the coach
    # group), then the features' commands and buttons, then the client routing.
    coach.register(app)
    reactions.register(app)
    settings.register(app)
    privacy.register(app)
    checkins.register(app)
    digest.register(app)
    handlers.register(app)
    return app


async def announce(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Set the Dutch command list and remember our username for deep links (after initialize)."""
    svc = services(app)
    svc.bot_username = app.bot.username or ""
    await app.bot.set_my_commands([BotCommand(name, text) for name, text in texts.COMMANDS])
    # The coaches' menu in the coach group and in each coach's private chat with the bot.
    coach_menu = [BotCommand(name, text) for name, text in texts.COACH_COMMANDS]
    chats = ([svc.config.coach.chat_id] if svc.config.coach.chat_id else []) + list(
        svc.config.coach.user_ids
    )
    for chat_id in chats:
        try:
            await app.bot.set_my_commands(coach_menu, scope=BotCommandScopeChat(chat_id))
        except TelegramError as exc:
            # A coach who never opened the bot's chat: Telegram knows no such chat yet.
            log.info("no coach command menu for a chat: %s", type(exc).__name__)


async def serve(
    config: Config,
    *,
    clock: Clock | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the bot until SIGINT/SIGTERM (or `stop` is set).

    A start-up failure a person can fix (the database path, the token, the network, the webhook
    port) raises StartupError with one line that says what to do.
    """
    library = load_dialogues(config)
    db = await open_database(config)
    try:
        app = build_application(config, db, library, clock=clock)
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await connect(app, config)
            await app.start()
            log.info("bot running", extra={"mode": config.telegram.mode})
            await stop.wait()
        finally:
            await stop_updates(app)
            if app.running:
                await app.stop()
            await close_inbox(app)
            await app.shutdown()
            await close_requests(app)
    finally:
        await db.close()


async def open_database(config: Config) -> Database:
    """Open the configured database; a path that cannot be used is a StartupError."""
    try:
        return await Database.open(config.storage.database)
    except StorageError as exc:
        raise StartupError(f"storage.database: {exc}") from None


async def connect(app: Application[Any, Any, Any, Any, Any, Any], config: Config) -> None:
    """Meet Telegram (getMe), set the commands, start receiving updates; or one clear line."""
    where = config.telegram.base_url or "https://api.telegram.org"
    try:
        await app.initialize()
        await announce(app)
        await start_updates(app, config)
    except InvalidToken:
        raise StartupError(
            "telegram.token: Telegram does not accept this token; copy it again from @BotFather"
        ) from None
    except NetworkError as exc:
        raise StartupError(
            f"cannot reach Telegram at {where} ({type(exc).__name__}); check the internet "
            "connection (or telegram.base_url) and start the bot again"
        ) from None
    except BadRequest as exc:
        if config.telegram.mode != "webhook":
            raise
        raise StartupError(f"webhook.url: Telegram refuses the webhook: {exc.message}") from None
    except OSError as exc:
        if config.telegram.mode != "webhook":
            raise
        w = config.webhook
        raise StartupError(
            f"webhook: cannot listen on {w.listen}:{w.port} ({exc.strerror}); choose another "
            "webhook.port or webhook.listen, or stop what uses it"
        ) from None


def inbox_of(app: Application[Any, Any, Any, Any, Any, Any]) -> Inbox:
    """The Application's inbox."""
    inbox = app.bot_data[INBOX_KEY]
    assert isinstance(inbox, Inbox)
    return inbox


async def start_updates(app: Application[Any, Any, Any, Any, Any, Any], config: Config) -> Any:
    """Start receiving updates into the inbox: long polling, or our webhook with a secret token.

    First the inbox takes up what an earlier run stored and did not finish. Returns the
    WebhookServer in webhook mode, else the Poller (stop either with `stop_updates`).
    """
    inbox = inbox_of(app)
    await inbox.start()
    allowed = list(ALLOWED_UPDATES)
    if config.telegram.mode == "webhook":
        w = config.webhook
        server = WebhookServer(inbox, secret=w.secret_token, listen=w.listen, port=w.port)
        await server.start()
        await app.bot.set_webhook(url=w.url, secret_token=w.secret_token, allowed_updates=allowed)
        app.bot_data[WEBHOOK_KEY] = server
        return server
    poller = Poller(app.bot, inbox, allowed, request=config.telegram.request)
    await poller.start()
    app.bot_data[POLLER_KEY] = poller
    return poller


async def stop_updates(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop polling, or the webhook endpoint (what is stored and not handled waits in SQLite)."""
    server = app.bot_data.pop(WEBHOOK_KEY, None)
    if server is not None:
        await server.stop()
    poller = app.bot_data.pop(POLLER_KEY, None)
    if poller is not None:
        await poller.stop()


async def close_requests(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Close the Bot's request objects even when `initialize` failed (then `app.shutdown()`
    leaves them open, and an aiohttp session left open is reported at exit)."""
    for request in app.bot_data.get(REQUESTS_KEY, ()):
        await request.shutdown()


async def close_inbox(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """After `app.stop()` (every fed update handled): write the inbox's last ends."""
    inbox = app.bot_data.get(INBOX_KEY)
    if isinstance(inbox, Inbox):
        await inbox.stop()
