"""Saved replies: `/sjablonen` to add, list and remove short texts; in a client's topic (or
replying to their relayed message in a coach's private chat) a button per text sends it to
that client as "Je coach", with `{naam}` their chosen name.

Only configured coaches, checked by numeric id on the command (by the caller) and on every
button here. The texts are the coach's own words; they are never logged.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Message

from bot.core import coach_channel
from bot.edge.sender import ButtonRows, call
from bot.edge.services import Services
from storage import clients, handoffs, links, saved_replies

log = logging.getLogger(__name__)

SEND = "sr:"
NAME = "{naam}"
MAX_TEXT = 600
MAX_REPLIES = 30
PREVIEW = 40
_SEND_RE = re.compile(r"^sr:(\d{1,12})$")
_ADD_RE = re.compile(r"^/\S+\s+\S+\s+(.+)$", re.DOTALL)

# The coach relays one text to one client; the hand-off's coach module passes its own.
Relay = Callable[..., Awaitable[str | None]]

# --- what coaches read (Dutch) --------------------------------------------------------------
USAGE = (
    "<code>/sjablonen nieuw Hoi {naam}, ik denk aan je.</code> voegt een tekst toe "
    "({naam} wordt de naam van de cliënt); <code>/sjablonen weg 3</code> haalt nummer 3 weg. "
    "In het topic van een cliënt (of als antwoord op hun bericht) geeft <code>/sjablonen</code> "
    "een knop per tekst."
)
EMPTY = "Nog geen opgeslagen antwoorden."
ADDED = "Opgeslagen als nummer {id}."
REMOVED = "Nummer {id} is weggehaald."
NO_SUCH = "Er is geen opgeslagen antwoord met nummer {id}."
TOO_LONG = f"Dat is te lang; houd het onder de {MAX_TEXT} tekens."
TOO_MANY = f"Er zijn al {MAX_REPLIES} opgeslagen antwoorden; haal er eerst een weg."
PICK = "Tik op een tekst om die naar {name} te sturen:"
SENT = "📝 Verstuurd als opgeslagen antwoord:\n{text}"
ONLY_COACHES = "Alleen coaches kunnen dit."
NOT_HERE = "Deze knop werkt alleen bij een cliënt (in hun topic, of als antwoord op hun bericht)."
GONE = "Dat opgeslagen antwoord bestaat niet meer."


def fill(text: str, name: str) -> str:
    """The saved text with the client's chosen name in place of {naam} (plain text)."""
    return text.replace(NAME, name)


async def _client_of(svc: Services, message: Message, *, button: bool = False) -> int | None:
    """The client a command or button is about: the topic it is in, or in a coach's private
    chat the relayed message it replies to (a command) or the picker itself (a button)."""
    coach_chat = svc.config.coach.chat_id
    async with svc.db.read() as conn:
        if coach_chat != 0 and message.chat_id == coach_chat:
            if not message.is_topic_message or message.message_thread_id is None:
                return None
            return await handoffs.user_for_topic(conn, message.chat_id, message.message_thread_id)
        if message.chat.type != "private":
            return None
        linked = message if button else message.reply_to_message
        if linked is None:
            return None
        return await handoffs.user_for_relay(conn, message.chat_id, linked.message_id)


async def command(svc: Services, bot: Any, message: Message, args: list[str]) -> None:
    """/sjablonen [nieuw TEKST | weg NUMMER] from a coach (the caller checked the coach id)."""
    sender = message.from_user
    if sender is None or not svc.config.is_coach(sender.id):
        return
    action = args[0].lower() if args else ""
    if action in ("nieuw", "toevoegen", "+"):
        await _add(svc, bot, message, sender.id)
    elif action in ("weg", "verwijder", "-") and len(args) == 2 and args[1].isdigit():
        await _remove(svc, bot, message, int(args[1]))
    elif action:
        await coach_channel.reply_here(svc, bot, message, USAGE)
    else:
        await _list(svc, bot, message)


async def _add(svc: Services, bot: Any, message: Message, coach_id: int) -> None:
    match = _ADD_RE.match(message.text or "")
    text = match.group(1).strip() if match else ""
    if not text:
        await coach_channel.reply_here(svc, bot, message, USAGE)
        return
    if len(text) > MAX_TEXT:
        await coach_channel.reply_here(svc, bot, message, TOO_LONG)
        return
    async with svc.db.transaction() as conn:
        if len(await saved_replies.all_replies(conn)) >= MAX_REPLIES:
            new_id = None
        else:
            new_id = await saved_replies.add(conn, text, coach_id, svc.clock.now())
    log.info("saved reply added", extra={"user_id": coach_id})
    await coach_channel.reply_here(
        svc, bot, message, TOO_MANY if new_id is None else ADDED.format(id=new_id)
    )


async def _remove(svc: Services, bot: Any, message: Message, reply_id: int) -> None:
    async with svc.db.transaction() as conn:
        removed = await saved_replies.remove(conn, reply_id)
    await coach_channel.reply_here(
        svc, bot, message, (REMOVED if removed else NO_SUCH).format(id=reply_id)
    )


async def _list(svc: Services, bot: Any, message: Message) -> None:
    async with svc.db.read() as conn:
        replies = await saved_replies.all_replies(conn)
    owner = await _client_of(svc, message)
    client = None
    if owner is not None:
        async with svc.db.read() as conn:
            client = await clients.get(conn, owner)
    if not replies:
        await coach_channel.reply_here(svc, bot, message, f"{EMPTY}\n{USAGE}")
        return
    if client is None:
        lines = [f"<b>{r.id}</b>. {html.escape(r.text)}" for r in replies]
        await coach_channel.reply_here(svc, bot, message, "\n".join([*lines, "", USAGE]))
        return
    name = coach_channel.chosen_name(client)
    rows: ButtonRows = []
    for r in replies:
        shown = " ".join(fill(r.text, name).split())
        shown = shown if len(shown) <= PREVIEW else shown[: PREVIEW - 1] + "…"
        rows.append([(f"{r.id}. {shown}", f"{SEND}{r.id}")])
    picker = await coach_channel.reply_here(
        svc, bot, message, PICK.format(name=html.escape(name)), rows
    )
    if picker is not None and message.chat.type == "private":
        # In a private chat the picker itself says which client it is for (and goes with an
        # erasure, like every message about the client there).
        async with svc.db.transaction() as conn:
            await handoffs.add_relay(
                conn, message.chat_id, picker.message_id, client.user_id, svc.clock.now()
            )


async def on_button(svc: Services, bot: Any, query: Any, data: str, relay: Relay) -> None:
    """A saved-reply button in a client's topic: a coach sends that text to that client."""
    coach_id = query.from_user.id
    message = query.message if isinstance(query.message, Message) else None
    if not svc.config.is_coach(coach_id):
        await call(svc, "answerCallbackQuery", lambda: query.answer(text=ONLY_COACHES))
        return
    match = _SEND_RE.match(data)
    in_own_chat = message is not None and (
        message.chat_id == svc.config.coach.chat_id != 0 or message.chat_id == coach_id
    )
    owner = await _client_of(svc, message, button=True) if message and in_own_chat else None
    if match is None or message is None or owner is None:
        await call(svc, "answerCallbackQuery", lambda: query.answer(text=NOT_HERE))
        return
    async with svc.db.read() as conn:
        reply = await saved_replies.get(conn, int(match.group(1)))
        client = await clients.get(conn, owner)
    if reply is None or client is None:
        await call(svc, "answerCallbackQuery", lambda: query.answer(text=GONE))
        return
    text = html.escape(fill(reply.text, coach_channel.chosen_name(client)))
    delivered: list[int] = []
    problem = await relay(svc, bot, owner, None, coach_id, text_html=text, delivered=delivered)
    await call(
        svc, "answerCallbackQuery", lambda: query.answer(text=None if problem else "Verstuurd.")
    )
    log.info("saved reply sent", extra={"user_id": owner, "coach_id": coach_id})
    note = await coach_channel.reply_here(svc, bot, message, problem or SENT.format(text=text))
    if problem is None and note is not None and delivered:
        # The client's reaction on the saved reply shows on this note, as on a coach's message.
        await coach_channel.link_messages(
            svc, owner, links.OUT, delivered[0], [(note.chat_id, note.message_id)]
        )
