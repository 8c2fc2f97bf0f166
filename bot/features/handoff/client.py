"""Hand-off to the human coach, the client's side: /coach, the optional reason, and relaying.

The card, the topic and opening the hand-off itself live in `bot.core.coach_channel` (the crisis
answer and a dialogue's hand-off step use them too); the coach's side is `coach.py` beside this.
A client's reason is stored only when they consented to storing what they write.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from telegram import Message

from bot.core import conversation, keyboards
from bot.core.coach_channel import (
    ALREADY_OPEN,
    NO_COACH,
    REASON_WAIT,
    is_open,
    open_handoff,
    relay_from_client,
)
from bot.edge.sender import send_text
from bot.edge.services import Services
from storage import notices
from storage.clients import Client

log = logging.getLogger(__name__)

REASON_WAIT_FOR = timedelta(minutes=30)
CLIENT_PLAIN = "hc:plain"
CLIENT_CANCEL = "hc:cancel"

ASK_REASON = (
    "Fijn dat je contact zoekt met je coach. Waar wil je het over hebben? "
    "Schrijf het in een paar woorden, of kies hieronder."
)
ASK_REASON_PLAIN = "Gewoon contact"
ASK_REASON_CANCEL = "Toch niet"
CANCELLED = "Goed. Je kunt altijd later nog /coach typen."


async def reason_asked(svc: Services, user_id: int) -> bool:
    """Whether the last reason question is unanswered (its buttons still apply): no hand-off
    opened since, nothing else pressed or commanded, "Toch niet" not chosen."""
    async with svc.db.read() as conn:
        return await notices.seen(conn, REASON_WAIT, user_id) is not None


async def reason_pending(svc: Services, user_id: int) -> bool:
    """Whether a message now counts as the reason: asked, unanswered, and recently."""
    async with svc.db.read() as conn:
        asked = await notices.seen(conn, REASON_WAIT, user_id)
    return asked is not None and svc.clock.now() - asked <= REASON_WAIT_FOR


async def clear_reason_wait(svc: Services, user_id: int) -> None:
    """Stop waiting for a reason (the client did something else)."""
    async with svc.db.transaction() as conn:
        await notices.clear(conn, REASON_WAIT, user_id)


async def ask_reason(svc: Services, bot: Any, client: Client) -> None:
    """/coach and the menu button: ask for an optional short reason, with a button to skip it."""
    if not svc.config.coach.user_ids:
        await send_text(svc, bot, client.chat_id, NO_COACH, user_id=client.user_id)
        return
    if await is_open(svc, client.user_id):
        await send_text(svc, bot, client.chat_id, ALREADY_OPEN, user_id=client.user_id)
        return
    async with svc.db.transaction() as conn:
        await notices.mark(conn, REASON_WAIT, client.user_id, svc.clock.now())
    rows = [[(ASK_REASON_PLAIN, CLIENT_PLAIN), (ASK_REASON_CANCEL, CLIENT_CANCEL)]]
    await keyboards.clear(svc, bot, client.user_id, "reason")  # an earlier /coach's question
    sent = await send_text(svc, bot, client.chat_id, ASK_REASON, rows, user_id=client.user_id)
    keyboards.remember(svc, client.user_id, "reason", sent)
    log.info("handoff reason asked", extra={"user_id": client.user_id})


async def intercept(svc: Services, bot: Any, client: Client, message: Message) -> bool:
    """A client's private message: the reason we asked for, or a message for the coach."""
    sender = message.from_user
    if message.chat.type != "private" or sender is None or sender.id != client.user_id:
        return False
    text = message.text
    if text is not None and text.startswith("/"):
        return False
    if await reason_pending(svc, client.user_id):
        # The reason came in words: "Gewoon contact" and "Toch niet" no longer apply.
        await keyboards.clear(svc, bot, client.user_id, "reason")
        if text and conversation.consented(client):
            await open_handoff(svc, bot, client, text)
        else:
            # Media, or a client who did not consent to storing what they write: the "reason"
            # travels to the coach as a relayed message and is never stored.
            await open_handoff(svc, bot, client, None, first_message=message)
        return True
    if not await is_open(svc, client.user_id):
        return False
    await relay_from_client(svc, bot, client, message)
    return True
