"""Bot API calls with the error handling the design asks for: 403 blocks, retries with backoff."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.edge.services import Services
from storage import clients

log = logging.getLogger(__name__)
T = TypeVar("T")

ButtonRows = Sequence[Sequence[tuple[str, str]]]
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def keyboard(rows: ButtonRows | None) -> InlineKeyboardMarkup | None:
    """Inline keyboard from rows of (label, callback_data)."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def call(
    svc: Services, what: str, make: Callable[[], Awaitable[T]], *, user_id: int | None = None
) -> T | None:
    """Run one Bot API call; None when the client blocked the bot or it kept failing.

    429s are waited out by the AIORateLimiter before we see them; here a lingering RetryAfter
    waits once more, network errors and 5xx retry with backoff, and a 403 marks the client
    blocked so nothing more is sent to them.
    """
    attempts = svc.config.telegram.max_retries + 1
    for attempt in range(attempts):
        try:
            return await make()
        except Forbidden:
            log.info("telegram forbidden: client blocked the bot", extra={"user_id": user_id})
            if user_id is not None:
                async with svc.db.transaction() as conn:
                    await clients.mark_blocked(conn, user_id, svc.clock.now())
            return None
        except RetryAfter as exc:
            delay = exc.retry_after
            wait = delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
            log.warning("telegram 429 on %s, waiting %.1fs", what, wait)
            await asyncio.sleep(wait)
        except BadRequest as exc:
            if what == "answerCallbackQuery" and "query is too old" in str(exc).lower():
                # A press answered again after a restart, or answered too late: the client's
                # button stopped turning by itself; nothing is lost.
                log.info("telegram: %s too late", what)
                return None
            if "not modified" in str(exc).lower():
                # An edit to what the message already shows (a button pressed twice): not a
                # bug; the caller decides what it means.
                log.info("telegram: %s changed nothing", what)
                raise
            # A request Telegram refuses is our bug: say so loudly, with no client content.
            log.exception("telegram refused %s", what)
            raise
        except (TimedOut, NetworkError) as exc:
            if attempt + 1 >= attempts:
                log.error(
                    "telegram %s failed after %d attempts: %s", what, attempts, type(exc).__name__
                )
                return None
            await asyncio.sleep(min(8.0, 0.5 * 2**attempt))
    return None


async def send_text(
    svc: Services,
    bot: Any,
    chat_id: int,
    text: str,
    rows: ButtonRows | None = None,
    *,
    user_id: int | None = None,
    **kwargs: Any,
) -> Message | None:
    """Send one HTML message, optionally with inline buttons."""
    markup = keyboard(rows)
    return await call(
        svc,
        "sendMessage",
        lambda: bot.send_message(
            chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            link_preview_options=NO_PREVIEW,
            **kwargs,
        ),
        user_id=user_id,
    )
