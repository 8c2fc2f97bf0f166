"""Reactions both ways during (and after) a hand-off.

A client's reaction on a coach's message (the copy the bot put in the client's chat) shows on
the coach's own message, as a reaction the bot sets there: where the coach looks, without an
extra message in the topic, and gone again when the client takes it away. When Telegram will
not take that reaction there (a custom emoji of a Premium client, or a coach group that allows
only some reactions), a short note answers the coach's message instead ("👍 van Anna"), and it
is deleted when the client takes the reaction away.

A coach's reaction on a relayed client message (in the client's topic, or in a coach's private
chat) reaches the client as the bot's reaction on the client's own message. The bot can set one
reaction per message, from Telegram's standard emoji: the latest coach's reaction shows, and
while another coach's reaction still stands, taking one away shows that one.

Only messages with a link (storage/links.py) count; every other reaction changes nothing. Coach
reactions count only from configured coach ids (checked by number). Nothing of what anybody
wrote is read or logged here: only ids and emoji.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from typing import Any

from telegram import (
    MessageReactionUpdated,
    ReactionType,
    ReactionTypeEmoji,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes, MessageReactionHandler

from bot.core import coach_channel
from bot.edge.sender import call
from bot.edge.services import Services, services
from storage import clients, handoffs, links
from storage.clients import Client
from storage.links import Link

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

# To the coaches when a client's reaction cannot be set on the coach's message itself.
REACTED = "{emoji} van {name}"
REACTED_CUSTOM = "{name} reageerde met een eigen emoji."
# What became of a reaction the bot set.
SET, GONE, REFUSED = "set", "gone", "refused"


def _svc(context: Context) -> Services:
    return services(context.application)


def _emoji(reactions: Sequence[ReactionType]) -> list[str]:
    return [r.emoji for r in reactions if isinstance(r, ReactionTypeEmoji)]


def chosen_emoji(old: Sequence[ReactionType], new: Sequence[ReactionType]) -> str | None:
    """The one standard emoji to mirror: the one just added, else the last one still set."""
    before, after = _emoji(old), _emoji(new)
    added = [e for e in after if e not in before]
    if added:
        return added[-1]
    return after[-1] if after else None


async def on_reaction(update: Update, context: Context) -> None:
    """A person changed their reaction on a message in a chat the bot is in."""
    svc = _svc(context)
    reaction = update.message_reaction
    if reaction is None or reaction.user is None:
        return  # anonymous group admins react as the group: no one to check
    user_id, chat = reaction.user.id, reaction.chat
    if chat.id == svc.config.coach.chat_id != 0:
        await from_coach(svc, context.bot, reaction)
        return
    if chat.type != "private" or chat.id != user_id:
        return
    # A coach may be a client too (trying the bot): in their own chat a message is either a
    # relayed client message (theirs as coach) or a coach message they got (theirs as client).
    if svc.config.is_coach(user_id) and await from_coach(svc, context.bot, reaction):
        return
    await from_client(svc, context.bot, reaction)


async def from_coach(svc: Services, bot: Any, reaction: MessageReactionUpdated) -> bool:
    """A reaction in a coach's chat; True when it was on a relayed client message."""
    assert reaction.user is not None
    coach_id = reaction.user.id
    if not svc.config.is_coach(coach_id):
        log.info("reaction of a non-coach in the coach group ignored", extra={"user_id": coach_id})
        return False
    async with svc.db.read() as conn:
        link = await links.by_coach_message(conn, reaction.chat.id, reaction.message_id)
        client = await clients.get(conn, link.user_id) if link is not None else None
    if link is None or link.direction != links.IN:
        return False
    if client is None or not client.active:
        log.info("coach reaction for a client who is gone or blocked", extra={"coach_id": coach_id})
        return True
    emoji = chosen_emoji(reaction.old_reaction, reaction.new_reaction)
    async with svc.db.transaction() as conn:
        await links.set_coach_reaction(
            conn, client.user_id, link.client_message_id, coach_id, emoji, svc.clock.now()
        )
        shown = await links.coach_reaction(conn, client.user_id, link.client_message_id)
    await _set(svc, bot, client.chat_id, link.client_message_id, shown, user_id=client.user_id)
    log.info(
        "coach reaction passed on to the client",
        extra={"user_id": client.user_id, "coach_id": coach_id, "kind": "set" if shown else "off"},
    )
    return True


async def from_client(svc: Services, bot: Any, reaction: MessageReactionUpdated) -> None:
    """A client's reaction in their own chat: shown to the coaches when it is on a coach's
    message the bot relayed; any other message of the bot's, or their own, changes nothing."""
    assert reaction.user is not None
    async with svc.db.read() as conn:
        client = await clients.get(conn, reaction.user.id)
        link = (
            await links.coach_message_for(conn, client.user_id, reaction.message_id)
            if client is not None and client.chat_id == reaction.chat.id
            else None
        )
    if client is None or link is None:
        return
    emoji = chosen_emoji(reaction.old_reaction, reaction.new_reaction)
    custom = emoji is None and bool(reaction.new_reaction)
    if link.note_message_id is not None:
        # The note stood for the earlier reaction; whatever comes now replaces it.
        await _delete_note(svc, bot, link)
    where = (link.coach_chat_id, link.coach_message_id)
    outcome = await _set(svc, bot, *where, emoji) if emoji is not None else REFUSED
    if emoji is not None and outcome == SET:
        kind = "set"
    elif (emoji is not None or custom) and outcome != GONE:
        # Not a reaction the bot can set there: a note says it instead.
        await _set(svc, bot, *where, None)
        await _note(svc, bot, client, link, emoji)
        kind = "note"
    else:
        # Taken away (or the coach's message is gone, so there is nothing to answer).
        await _set(svc, bot, *where, None)
        kind = "off"
    log.info("client reaction shown to the coach", extra={"user_id": client.user_id, "kind": kind})


async def _set(
    svc: Services,
    bot: Any,
    chat_id: int,
    message_id: int,
    emoji: str | None,
    *,
    user_id: int | None = None,
) -> str:
    """Set the bot's one reaction on a message (None takes it away): SET, or GONE when the
    message is no longer there, or REFUSED when Telegram would not (a reaction this chat does
    not allow; or the request kept failing)."""
    outcome = REFUSED

    async def attempt() -> Any:
        nonlocal outcome
        try:
            done = await bot.set_message_reaction(
                chat_id, message_id, [ReactionTypeEmoji(emoji)] if emoji else []
            )
        except BadRequest as exc:
            outcome = GONE if "not found" in exc.message.lower() else REFUSED
            log.info("telegram would not set a reaction: %s", exc.message)
            return None
        outcome = SET if done else REFUSED
        return done

    await call(svc, "setMessageReaction", attempt, user_id=user_id)
    return outcome


async def _note(svc: Services, bot: Any, client: Client, link: Link, emoji: str | None) -> None:
    """The client's reaction as a short note answering the coach's message."""
    async with svc.db.read() as conn:
        topic = await handoffs.topic_for(conn, client.user_id)
    in_topic = topic is not None and topic.chat_id == link.coach_chat_id
    # In the topic the chosen name says it; in a private chat, where clients mix, the short id too.
    name = html.escape(
        coach_channel.chosen_name(client) if in_topic else coach_channel.label(client)
    )
    text = REACTED.format(emoji=emoji, name=name) if emoji else REACTED_CUSTOM.format(name=name)
    try:
        sent = await call(
            svc,
            "sendMessage reaction note",
            lambda: bot.send_message(
                link.coach_chat_id,
                text,
                parse_mode=ParseMode.HTML,
                message_thread_id=topic.thread_id if in_topic and topic else None,
                reply_parameters=ReplyParameters(
                    link.coach_message_id, allow_sending_without_reply=True
                ),
            ),
        )
    except BadRequest as exc:
        log.info("could not note a reaction for the coach: %s", exc.message)
        return
    if sent is None:
        return
    async with svc.db.transaction() as conn:
        await links.set_note(conn, link.id, sent.message_id)
        if not in_topic:
            # Like every message about the client in a coach's private chat: it goes with an
            # erasure.
            await handoffs.add_relay(
                conn, link.coach_chat_id, sent.message_id, client.user_id, svc.clock.now()
            )


async def _delete_note(svc: Services, bot: Any, link: Link) -> None:
    assert link.note_message_id is not None
    note_id = link.note_message_id
    try:
        await call(
            svc,
            "deleteMessage reaction note",
            lambda: bot.delete_message(link.coach_chat_id, note_id),
        )
    except BadRequest as exc:
        log.info("could not delete a reaction note: %s", exc.message)
    async with svc.db.transaction() as conn:
        await links.set_note(conn, link.id, None)


def register(app: Any) -> None:
    """Add the reaction handler (the update must be in allowed_updates: see routing)."""
    app.add_handler(MessageReactionHandler(on_reaction), group=-1)
