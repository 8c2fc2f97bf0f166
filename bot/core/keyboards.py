"""Buttons that apply only until the client answers: taken away once they no longer do.

A dialogue step's buttons ("Zo is het goed", "Sla over", a choice), the hand-off's reason
question ("Gewoon contact", "Toch niet") and the caring question ("ja"/"nee") stop applying when
the client answers by typing, or when the step is shown again. Each kind has one live message
per client; showing a new one, or an answer in words, removes the buttons of the old one.

The ids live in memory only: after a restart an old button is still refused politely (the
engine's nonce, the reason wait, the question's state), it just stays visible.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from telegram import Message
from telegram.error import TelegramError

from bot.edge.services import Services

log = logging.getLogger(__name__)

Kind = Literal["step", "reason", "question"]
KINDS: tuple[Kind, ...] = ("step", "reason", "question")
SCRATCH_KEY = "keyboards.live"
# At most this many clients' live keyboards are remembered (least recent go first).
MAX_REMEMBERED = 20_000


def _live(svc: Services) -> dict[tuple[int, str], tuple[int, int]]:
    live: dict[tuple[int, str], tuple[int, int]] = svc.scratch.setdefault(SCRATCH_KEY, {})
    return live


def remember(svc: Services, user_id: int, kind: Kind, message: Message | None) -> None:
    """`message` now carries the client's live buttons of this kind (it replaces the last)."""
    if message is None or not getattr(message, "reply_markup", None):
        return
    live = _live(svc)
    live.pop((user_id, kind), None)
    live[(user_id, kind)] = (message.chat_id, message.message_id)
    while len(live) > MAX_REMEMBERED:
        live.pop(next(iter(live)))


def forget(svc: Services, user_id: int, kind: Kind, message_id: int | None = None) -> None:
    """Stop tracking the live buttons of this kind (only if on `message_id`, when given): the
    caller takes them away itself, as when the button was pressed."""
    live = _live(svc)
    held = live.get((user_id, kind))
    if held is not None and (message_id is None or held[1] == message_id):
        del live[(user_id, kind)]


async def clear(svc: Services, bot: Any, user_id: int, kind: Kind) -> None:
    """Take the buttons off the client's live message of this kind, if there is one."""
    held = _live(svc).pop((user_id, kind), None)
    if held is None:
        return
    chat_id, message_id = held
    try:
        # Not through sender.call: a message the client deleted is no bug to log loudly, and
        # taking buttons away is not worth retries.
        await bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
    except TelegramError:
        # Deleted, too old, or already without buttons: the state still refuses a late press.
        log.info("could not take old buttons away", extra={"user_id": user_id})
