"""/client NAAM: a coach finds a client by (part of) their name or short id and sees the card.

Only configured coaches, checked by numeric id on the command and on every button; the card
shows only what the client consented to share (`coach_channel.card_text`).
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from telegram import Message

from bot.core import coach_channel
from bot.edge.sender import ButtonRows, call
from bot.edge.services import Services
from storage import clients

log = logging.getLogger(__name__)

PICK = "cc:s:"
MAX_MATCHES = 8
_PICK_RE = re.compile(r"^cc:s:(\d{1,15})$")
_SHORT_ID = re.compile(r"^[0-9a-f]{4}$")

# --- what coaches read (Dutch) --------------------------------------------------------------
USAGE = (
    "Gebruik: <code>/client Anna</code>: een naam, een deel ervan, of de korte code "
    "(zoals <code>4f2a</code>)."
)
NONE_FOUND = "Geen cliënt gevonden bij ‘{query}’."
SEVERAL = "Meer cliënten passen bij ‘{query}’. Kies:"
TOO_MANY = "Meer dan {count} cliënten passen bij ‘{query}’. Maak het preciezer."
GONE = coach_channel.GONE
ONLY_COACHES = "Alleen coaches kunnen dit."


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


async def find(svc: Services, query: str) -> list[int]:
    """User ids of the clients whose chosen or Telegram name contains the query, or whose
    short id it is (the short id wins: it is exact)."""
    wanted = _fold(query)
    if not wanted:
        return []
    async with svc.db.read() as conn:
        rows = await clients.names(conn)
    if _SHORT_ID.match(wanted):
        exact = [uid for uid, _, _ in rows if coach_channel.short_id(uid) == wanted]
        if exact:
            return exact
    return [
        uid
        for uid, first, chosen in rows
        if wanted in _fold(first) or (chosen is not None and wanted in _fold(chosen))
    ]


async def card(svc: Services, user_id: int) -> tuple[str, ButtonRows] | None:
    """The client's card (HTML) and its buttons; None when the client is unknown (erased)."""
    facts = await coach_channel.card_facts(svc, user_id)
    if facts is None:
        return None
    rows: ButtonRows = [[(coach_channel.ASSIGN_BUTTON, f"{coach_channel.CARD_ASSIGN}{user_id}")]]
    return coach_channel.card_text(svc.config.coach, facts, svc.clock.now()), rows


async def command(svc: Services, bot: Any, message: Message, args: list[str]) -> None:
    """/client NAAM from a coach (the caller checked the coach id)."""
    query = " ".join(args)[:64]
    if not query.strip():
        await coach_channel.reply_here(svc, bot, message, USAGE, [])
        return
    found = await find(svc, query)
    shown = html.escape(query)
    if not found:
        await coach_channel.reply_here(svc, bot, message, NONE_FOUND.format(query=shown), [])
    elif len(found) == 1:
        got = await card(svc, found[0])
        if got is None:
            await coach_channel.reply_here(svc, bot, message, GONE, [])
        else:
            await coach_channel.reply_here(svc, bot, message, *got)
    elif len(found) > MAX_MATCHES:
        await coach_channel.reply_here(
            svc, bot, message, TOO_MANY.format(count=MAX_MATCHES, query=shown), []
        )
    else:
        async with svc.db.read() as conn:
            people = [await clients.get(conn, uid) for uid in found]
        rows: ButtonRows = [
            [(coach_channel.label(c), f"{PICK}{c.user_id}")] for c in people if c is not None
        ]
        await coach_channel.reply_here(svc, bot, message, SEVERAL.format(query=shown), rows)
    log.info("coach looked up a client", extra={"kind": f"{min(len(found), 2)} found"})


def _coach_chat(svc: Services, message: Message | None, coach_id: int) -> bool:
    """Whether a button sits in the coach group or in this coach's own private chat."""
    if message is None:
        return False
    in_group = message.chat_id == svc.config.coach.chat_id != 0
    return in_group or (message.chat.type == "private" and message.chat_id == coach_id)


async def on_button(svc: Services, bot: Any, query: Any, data: str) -> None:
    """A "cc:" button: only coaches, only in the coach chat; a pick shows that client's card."""
    message = query.message if isinstance(query.message, Message) else None
    coach_id = query.from_user.id
    if not svc.config.is_coach(coach_id):
        await call(svc, "answerCallbackQuery", lambda: query.answer(text=ONLY_COACHES))
        return
    match = _PICK_RE.match(data)
    if match is None or message is None or not _coach_chat(svc, message, coach_id):
        await call(svc, "answerCallbackQuery", lambda: query.answer(text="Deze knop werkt niet."))
        return
    await call(svc, "answerCallbackQuery", lambda: query.answer())
    got = await card(svc, int(match.group(1)))
    text, rows = got if got is not None else (GONE, [])
    await coach_channel.reply_here(svc, bot, message, text, rows)
    log.info("coach picked a client", extra={"user_id": int(match.group(1)), "coach_id": coach_id})
