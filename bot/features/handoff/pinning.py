"""/vastzetten: a coach pins a sentence of one or two lines for a client (in the client's
topic, or replying to their relayed message in a private chat). It opens the client's next
session and shows once in their next check-in (`bot.core.pins`); the card shows it."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from telegram import Message

from bot.core import coach_channel
from bot.core import pins as core_pins
from bot.edge.services import Services
from storage import pins

log = logging.getLogger(__name__)

_TEXT_RE = re.compile(r"^/\S+\s+(.+)$", re.DOTALL)

# --- what coaches read (Dutch) --------------------------------------------------------------
USAGE = (
    "In het topic van een cliënt (of als antwoord op hun bericht): "
    "<code>/vastzetten Let deze week op wat je lijf doet.</code> Eén of twee regels; die opent "
    "hun volgende sessie en komt één keer in hun volgende check-in. "
    "<code>/vastzetten weg</code> haalt hem weg."
)
# The card's "📌 Zin vastzetten" button answers with how (an alert holds at most 200 characters).
HOW_GROUP = (
    "Typ hier in het topic: /vastzetten en je zin (1 of 2 regels). Die opent de volgende "
    "sessie en komt één keer in de volgende check-in."
)
HOW_PRIVATE = (
    "Beantwoord een bericht van de cliënt met /vastzetten en je zin (1 of 2 regels). Die opent "
    "de volgende sessie en komt één keer in de volgende check-in."
)
WHERE = "Gebruik /vastzetten in het topic van een cliënt, of als antwoord op hun bericht."
TOO_LONG = f"Houd het kort: hoogstens {core_pins.MAX_LINES} regels en {core_pins.MAX_CHARS} tekens."
PINNED = "📌 Vastgezet voor {name}: <i>{text}</i>\nDit opent de volgende sessie, komt één keer in de volgende check-in en staat boven het menu tot je het weghaalt."
CURRENT = "📌 Nu vastgezet: <i>{text}</i>\n{usage}"
NONE = "Er staat niets vast.\n{usage}"
REMOVED = "📌 Weggehaald."


async def command(svc: Services, bot: Any, message: Message, args: list[str]) -> None:
    """/vastzetten [ZIN | weg] from a coach (checked here by numeric id too)."""
    target = await coach_channel.command_target(svc, bot, message, WHERE)
    if target is None:
        return
    coach_id, client = target
    user_id = client.user_id
    if not args:
        async with svc.db.read() as conn:
            current = await pins.get(conn, user_id)
        text = CURRENT.format(text=html.escape(current.text), usage=USAGE) if current else None
        await coach_channel.reply_here(svc, bot, message, text or NONE.format(usage=USAGE))
        return
    if len(args) == 1 and args[0].lower() in ("weg", "uit", "wis"):
        async with svc.db.transaction() as conn:
            await pins.clear(conn, user_id)
        await coach_channel.reply_here(svc, bot, message, REMOVED)
        return
    match = _TEXT_RE.match(message.text or "")
    text = match.group(1).strip() if match else ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > core_pins.MAX_LINES or len(text) > core_pins.MAX_CHARS:
        await coach_channel.reply_here(svc, bot, message, TOO_LONG)
        return
    text = "\n".join(lines)
    async with svc.db.transaction() as conn:
        await pins.put(conn, user_id, text, coach_id, svc.clock.now())
    log.info("sentence pinned", extra={"user_id": user_id, "coach_id": coach_id})
    await coach_channel.reply_here(
        svc, bot, message, PINNED.format(name=html.escape(client.name), text=html.escape(text))
    )
