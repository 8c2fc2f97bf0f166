"""A sentence the coach pinned for a client: it opens the client's next session and shows once
in their next check-in. Set from the coach's side (features/handoff), shown here, where a
dialogue starts, so sessions and check-ins (two features) share it."""

from __future__ import annotations

import html
import logging
from typing import Any

from bot.edge.sender import send_text
from bot.edge.services import Services
from storage import pins
from storage.clients import Client

log = logging.getLogger(__name__)

# Dialogue kinds and the place each one shows the pin in.
PLACE_OF_KIND = {"session": "session", "exercise": "session", "checkin": "checkin"}
MAX_CHARS = 300
MAX_LINES = 2

# What the client reads (Dutch, je-form).
PINNED = "📌 <b>Van je coach, om even bij stil te staan:</b>\n{text}"
# Above the menu for as long as the pin is set, so the client can read it again.
IN_MENU = "📌 <i>Van je coach:</i> {text}"


async def show(svc: Services, bot: Any, client: Client, kind: str) -> None:
    """Before a dialogue of this kind starts: the pin, if it was not shown in this place yet."""
    place = PLACE_OF_KIND.get(kind)
    if place is None:
        return
    async with svc.db.read() as conn:
        pin = await pins.get(conn, client.user_id)
    if pin is None or pin.shown_in(place):
        return
    text = PINNED.format(text=html.escape(pin.text))
    if await send_text(svc, bot, client.chat_id, text, user_id=client.user_id) is None:
        return  # not arrived: the next time it is tried again
    async with svc.db.transaction() as conn:
        await pins.mark_shown(conn, client.user_id, place, svc.clock.now())
    log.info("pinned sentence shown", extra={"user_id": client.user_id, "kind": place})
