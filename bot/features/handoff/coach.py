"""Hand-off, the coach's side: topic messages and replies to clients, card buttons, /open,
/afwezig and the waiting reminder.

Every message, command and button press is checked against the configured coach ids by number;
a coach message reaches only the client whose topic (or replied relay) it belongs to.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import date, timedelta
from typing import Any

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.core import coach_channel, conversation, flow, keyboards, menu, office_hours, texts
from bot.core.coach_channel import COACH_LABEL
from bot.core.office_hours import Away
from bot.edge.sender import call, keyboard, send_text
from bot.edge.services import Services, services
from bot.features.handoff import assign, later, lookup, pinning, saved
from bot.features.handoff import client as client_side
from bot.features.handoff.client import CLIENT_CANCEL, CLIENT_PLAIN
from storage import clients, handoffs, links, notices, progress
from storage.clients import Client

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

NOT_COACH_NOTICE = "handoff.not_coach"
REMINDER_EVERY = 300.0  # seconds between reminder sweeps
CAPTION_MAX = 1024
TEXT_MAX = 4096
_CARD_RE = re.compile(r"^h:([tmkxrp]):(\d{1,12})(?::([a-z0-9_-]{1,40}))?$")
_DATE_RE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{4}))?$")

# --- what coaches read (Dutch) --------------------------------------------------------------
NOT_A_COACH = (
    "Je staat niet als coach ingesteld in deze bot. Wat je hier schrijft, gaat niet naar "
    "cliënten. (Dit zeg ik één keer.)"
)
ONLY_COACHES = "Alleen coaches kunnen dit."
WRITE_IN_TOPIC = "Schrijf in het topic van een cliënt; hier gaat niets naar cliënten."
UNKNOWN_TOPIC = "Dit topic hoort bij geen cliënt (meer). Je bericht is niet doorgestuurd."
CLIENT_GONE = "Deze cliënt is er niet meer (gegevens gewist). Je bericht is niet doorgestuurd."
CLIENT_BLOCKED = "De cliënt heeft de bot geblokkeerd; je bericht kwam niet aan."
NOT_DELIVERED = "Je bericht kon niet worden bezorgd. Probeer het zo nog eens."
NOT_COPIED = (
    "Telegram liet dit bericht niet doorsturen; de cliënt heeft het niet gekregen. "
    "Stuur het eventueel op een andere manier, bijvoorbeeld als tekst of als foto."
)
EDITS_NOT_SENT = "Aanpassingen worden niet doorgestuurd. Stuur het gerust als nieuw bericht."
REPLY_TO_RELAY = (
    "Beantwoord (reply) het bericht van de cliënt om te antwoorden; dan weet ik voor wie het is."
)
UNKNOWN_RELAY = "Ik weet niet bij welke cliënt dat bericht hoort. Je bericht is niet doorgestuurd."
REOPENED = "Het gesprek was gesloten en is weer geopend. Geef terug met de knoppen op de kaart."
UNKNOWN_COMMAND = (
    "Coach-commando's: /open (wie wacht er), /client NAAM (de kaart van een cliënt), "
    "/sjablonen (opgeslagen antwoorden), /vastzetten ZIN en /later 18:30 TEKST (in het topic "
    "van een cliënt; /later alleen toont wat gepland staat), /overzicht (het weekoverzicht) en "
    "/afwezig (afwezigheid). Werk klaarzetten: de knop 📚 op de kaart."
)
AWAY_USAGE = (
    "Gebruik: <code>/afwezig 14-12</code> (de dag dat je terug bent), eventueel met een eigen "
    "bericht erachter, of <code>/afwezig uit</code>."
)


def _svc(context: Context) -> Services:
    return services(context.application)


def waited(delta: timedelta) -> str:
    """A waiting time as "3 u 20 min" (or "2 d 4 u")."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} u"
    if hours:
        return f"{hours} u {mins} min"
    return f"{mins} min"


def parse_return_date(arg: str, today: date) -> date | None:
    """The day the coach is back, from "2026-12-14", "14-12" or "14-12-2026"; None if unreadable."""
    try:
        return date.fromisoformat(arg)
    except ValueError:
        pass
    match = _DATE_RE.match(arg)
    if match is None:
        return None
    day, month = int(match.group(1)), int(match.group(2))
    try:
        if match.group(3):
            return date(int(match.group(3)), month, day)
        when = date(today.year, month, day)
        return when if when > today else date(today.year + 1, month, day)
    except ValueError:
        return None


# --- relaying a coach's message -------------------------------------------------------------


async def _copy(svc: Services, uid: int, make: Any) -> tuple[str | None, int | None]:
    """One copyMessage to the client: (None, its message id) when it arrived, else (the line
    for the coach, None)."""
    refused = False

    async def attempt() -> Any:
        nonlocal refused
        copied = await coach_channel.copy_or_refused(make, "coach to client")
        refused = copied is None
        return copied

    copied = await call(svc, "copyMessage", attempt, user_id=uid)
    if copied is not None:
        return None, int(copied.message_id)
    return (NOT_COPIED if refused else NOT_DELIVERED), None


async def _link_out(
    svc: Services, client: Client, message: Message, client_message_id: int
) -> None:
    """The coach's message and the client's copy of it, linked for reactions both ways."""
    await coach_channel.link_messages(
        svc,
        client.user_id,
        links.OUT,
        client_message_id,
        [(message.chat_id, message.message_id)],
    )


async def _deliver_to_client(
    svc: Services, bot: Any, client: Client, message: Message
) -> str | None:
    """Copy a coach message to the client with the "je coach" label; None when it arrived,
    else a line for the coach (Telegram would not copy this one message, or it failed)."""
    uid, target = client.user_id, client.chat_id
    if message.text is not None:
        body = f"{COACH_LABEL}\n{message.text_html}"
        if len(body) <= TEXT_MAX:
            sent = await send_text(svc, bot, target, body, user_id=uid)
            if sent is None:
                return NOT_DELIVERED
            await _link_out(svc, client, message, sent.message_id)
            return None
    elif coach_channel.captioned(message):
        caption = f"{COACH_LABEL}\n{message.caption_html}" if message.caption else COACH_LABEL
        if len(caption) <= CAPTION_MAX:
            problem, copied_id = await _copy(
                svc,
                uid,
                lambda: bot.copy_message(
                    target,
                    message.chat_id,
                    message.message_id,
                    caption=caption,
                    parse_mode=ParseMode.HTML,
                ),
            )
            if copied_id is not None:
                await _link_out(svc, client, message, copied_id)
            return problem
    # Stickers, video notes, locations, or a text too long for the label: label, then the copy.
    label = await send_text(svc, bot, target, f"{COACH_LABEL} stuurt je:", user_id=uid)
    if label is None:
        return NOT_DELIVERED
    problem, copied_id = await _copy(
        svc, uid, lambda: bot.copy_message(target, message.chat_id, message.message_id)
    )
    if copied_id is not None:
        await _link_out(svc, client, message, copied_id)
    if problem is not None:
        # No label left hanging over nothing: the client sees no trace of what did not come.
        try:
            await call(svc, "deleteMessage", lambda: bot.delete_message(target, label.message_id))
        except TelegramError:
            log.info("could not take back the coach label", extra={"user_id": uid})
    return problem


async def _deliver_text(
    svc: Services, bot: Any, client: Client, text_html: str, delivered: list[int] | None
) -> str | None:
    """A text of the coach's (a saved reply) to the client with the "je coach" label; its
    message id goes into `delivered` (for the caller to link to what the coach sees of it)."""
    body = f"{COACH_LABEL}\n{text_html}"
    sent = await send_text(svc, bot, client.chat_id, body, user_id=client.user_id)
    if sent is not None and delivered is not None:
        delivered.append(sent.message_id)
    return None if sent is not None else NOT_DELIVERED


async def relay_to_client(
    svc: Services,
    bot: Any,
    user_id: int,
    message: Message | None,
    coach_id: int,
    *,
    text_html: str | None = None,
    delivered: list[int] | None = None,
) -> str | None:
    """Send a coach's message (or, without one, `text_html`) to one client; returns a line for
    the coach when it did not go. A coach's message is linked to the client's copy for
    reactions here; for `text_html` the copy's message id goes into `delivered`."""
    async with svc.db.read() as conn:
        client = await clients.get(conn, user_id)
    if client is None:
        return CLIENT_GONE
    if not client.active:
        return CLIENT_BLOCKED
    now = svc.clock.now()
    reopened = False
    async with svc.db.transaction() as conn:
        current = await handoffs.current(conn, user_id)
        if current is None:
            # A coach writing after a hand-back reopens the conversation: the client's answer
            # must reach the coach, and the bot must stay quiet meanwhile.
            current = await handoffs.open(conn, user_id, None, now)
            reopened = True
        if current.status == "open":
            await handoffs.take(conn, current.id, coach_id, now)
    if message is not None:
        problem = await _deliver_to_client(svc, bot, client, message)
    else:
        problem = await _deliver_text(svc, bot, client, text_html or "", delivered)
    if problem is not None:
        async with svc.db.read() as conn:
            fresh = await clients.get(conn, user_id)
        return CLIENT_BLOCKED if fresh is not None and not fresh.active else problem
    log.info("relayed coach message to client", extra={"user_id": user_id})
    if reopened:
        await coach_channel.say_to_coaches(svc, bot, client, REOPENED)
        await coach_channel.post_card(svc, bot, client)
    return None


# --- the coach group ------------------------------------------------------------------------


async def _reply(svc: Services, bot: Any, message: Message, text: str) -> None:
    """Answer a coach in the chat (and topic) their message came from."""
    thread = message.message_thread_id if message.is_topic_message else None
    try:
        await call(
            svc,
            "sendMessage to coach chat",
            lambda: bot.send_message(
                message.chat_id, text, parse_mode=ParseMode.HTML, message_thread_id=thread
            ),
        )
    except TelegramError:
        # The topic may be gone; a note to the coach is not worth failing the update for.
        log.info("could not answer in the coach chat", extra={"chat_id": message.chat_id})


def _command(message: Message, bot_username: str) -> tuple[str, list[str]] | None:
    """("open", args) for "/open@ourbot a b"; None if not a command (or for another bot)."""
    text = message.text or ""
    if not text.startswith("/"):
        return None
    head, *args = text.split()
    name, _, target = head[1:].partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    return name.lower(), args


async def on_group_update(update: Update, context: Context) -> None:
    """Everything in the coach group: only coaches are heard; topic messages go to the client."""
    svc = _svc(context)
    message = update.effective_message
    chat_id = svc.config.coach.chat_id
    if message is None or chat_id == 0 or message.chat_id != chat_id:
        return
    await _group_message(svc, context.bot, update, message)
    # Nothing from the coach group may ever reach the client handlers.
    raise ApplicationHandlerStop


async def _group_message(svc: Services, bot: Any, update: Update, message: Message) -> None:
    sender = message.from_user
    if sender is None or sender.is_bot:
        return
    if not svc.config.is_coach(sender.id):
        await _tell_non_coach_once(svc, bot, message, sender.id)
        return
    if update.edited_message is not None:
        await _reply(svc, bot, message, EDITS_NOT_SENT)
        return
    command = _command(message, svc.bot_username)
    if command is not None:
        await _coach_command(svc, bot, message, *command)
        return
    if not _has_content(message):
        return  # service messages: topic created, member joined...
    if await assign.on_reply(svc, bot, message):
        return  # a date for work being set out, not a message for the client
    if not message.is_topic_message or message.message_thread_id is None:
        await _reply(svc, bot, message, WRITE_IN_TOPIC)
        return
    async with svc.db.read() as conn:
        user_id = await handoffs.user_for_topic(conn, message.chat_id, message.message_thread_id)
    if user_id is None:
        await _reply(svc, bot, message, UNKNOWN_TOPIC)
        return
    problem = await relay_to_client(svc, bot, user_id, message, sender.id)
    if problem is not None:
        await _reply(svc, bot, message, problem)


def _has_content(message: Message) -> bool:
    return bool(
        message.text
        or message.effective_attachment
        or message.caption
        or message.location
        or message.contact
    )


async def _tell_non_coach_once(svc: Services, bot: Any, message: Message, user_id: int) -> None:
    async with svc.db.transaction() as conn:
        told = await notices.seen(conn, NOT_COACH_NOTICE, user_id)
        if told is None:
            await notices.mark(conn, NOT_COACH_NOTICE, user_id, svc.clock.now())
    log.info("message from a non-coach in the coach group ignored", extra={"user_id": user_id})
    if told is None:
        await _reply(svc, bot, message, NOT_A_COACH)


# --- coaches' private chats -----------------------------------------------------------------


async def on_coach_private(update: Update, context: Context) -> None:
    """A coach's private message: a reply to a relayed message goes to that client only."""
    svc = _svc(context)
    message = update.message
    sender = update.effective_user
    if message is None or sender is None or message.chat.type != "private":
        return
    if not svc.config.is_coach(sender.id) or message.chat_id != sender.id:
        return
    bot = context.bot
    command = _command(message, svc.bot_username)
    if command is not None:
        if command[0] in ("open", "afwezig", "client", "sjablonen", "vastzetten", "later"):
            await _coach_command(svc, bot, message, *command)
            raise ApplicationHandlerStop
        return  # /start, /menu...: a coach may try the bot as a client
    replied = message.reply_to_message
    if replied is not None and await assign.on_reply(svc, bot, message):
        raise ApplicationHandlerStop
    if replied is not None:
        async with svc.db.read() as conn:
            user_id = await handoffs.user_for_relay(conn, message.chat_id, replied.message_id)
        if user_id is None:
            if not coach_channel.group_mode(svc):
                await _reply(svc, bot, message, UNKNOWN_RELAY)
                raise ApplicationHandlerStop
            return
        problem = await relay_to_client(svc, bot, user_id, message, sender.id)
        if problem is not None:
            await _reply(svc, bot, message, problem)
        raise ApplicationHandlerStop
    if not coach_channel.group_mode(svc):
        async with svc.db.read() as conn:
            waiting = await handoffs.list_open(conn)
        if waiting:
            await _reply(svc, bot, message, REPLY_TO_RELAY)
            raise ApplicationHandlerStop


# --- commands -------------------------------------------------------------------------------


async def _coach_command(
    svc: Services, bot: Any, message: Message, name: str, args: list[str]
) -> None:
    sender = message.from_user
    if sender is None or not svc.config.is_coach(sender.id):
        return
    log.info("coach command", extra={"user_id": sender.id, "command": name})
    if name == "open":
        await _reply(svc, bot, message, await open_list(svc))
    elif name == "afwezig":
        await _reply(svc, bot, message, await away_command(svc, args))
    elif name == "client":
        await lookup.command(svc, bot, message, args)
    elif name == "sjablonen":
        await saved.command(svc, bot, message, args)
    elif name == "vastzetten":
        await pinning.command(svc, bot, message, args)
    elif name == "later":
        await later.command(svc, bot, message, args)
    else:
        await _reply(svc, bot, message, UNKNOWN_COMMAND)


async def open_list(svc: Services) -> str:
    """/open: every open hand-off with how long it has waited."""
    now = svc.clock.now()
    async with svc.db.read() as conn:
        waiting = await handoffs.list_open(conn)
        people = {h.user_id: await clients.get(conn, h.user_id) for h in waiting}
    if not waiting:
        return "Er wacht niemand. 🌿"
    lines = [f"<b>Open hand-offs ({len(waiting)})</b>"]
    for h in waiting:
        person = people.get(h.user_id)
        name = html.escape(coach_channel.label(person)) if person else "?"
        state = "⏳ wacht" if h.status == "open" else "✋ opgepakt"
        lines.append(f"• {name}: {state}, {waited(now - h.opened_at)}")
    return "\n".join(lines)


async def away_command(svc: Services, args: list[str]) -> str:
    """/afwezig [return date [message]] or /afwezig uit: the coach's away period."""
    cfg = svc.config.coach
    now = svc.clock.now()
    today = now.astimezone(office_hours.zone(cfg)).date()
    if not args:
        period = await office_hours.away(svc, now)
        if period is None:
            return f"Je staat niet als afwezig ingesteld.\n{AWAY_USAGE}"
        return (
            f"Afwezig; terug op {office_hours.day_words(period.back, today)}.\n"
            f"Cliënten lezen: <i>{office_hours.availability(cfg, now, period)}</i>\n{AWAY_USAGE}"
        )
    if args[0].lower() in ("uit", "stop", "terug", "nee"):
        await office_hours.set_away(svc, None)
        return "Je bent niet meer afwezig. Cliënten krijgen weer de gewone kantoortijden."
    back = parse_return_date(args[0], today)
    if back is None or back <= today:
        return f"Dat is geen datum in de toekomst.\n{AWAY_USAGE}"
    if back > today + timedelta(days=366):
        return f"Dat is meer dan een jaar weg; kies een eerdere datum.\n{AWAY_USAGE}"
    period = Away(back=back, message=" ".join(args[1:])[:500])
    await office_hours.set_away(svc, period)
    return (
        f"Genoteerd: je bent terug op {office_hours.day_words(back, today)}.\n"
        f"Cliënten lezen: <i>{office_hours.availability(cfg, now, period)}</i>"
    )


# --- card buttons and the client's buttons --------------------------------------------------


async def _answer(svc: Services, query: Any, text: str | None = None) -> None:
    await call(svc, "answerCallbackQuery", lambda: query.answer(text=text))


async def _edit_markup(svc: Services, message: Message, rows: Any) -> None:
    try:
        await call(
            svc,
            "editMessageReplyMarkup",
            lambda: message.edit_reply_markup(reply_markup=keyboard(rows)),
        )
    except TelegramError:
        # Unchanged or too old to edit: the state in storage is what counts.
        log.info("could not edit card buttons", extra={"message_id": message.message_id})


async def on_callback(update: Update, context: Context) -> None:
    """Buttons: the client's hand-off buttons, the card buttons, and strays in the coach group."""
    svc = _svc(context)
    query = update.callback_query
    if query is None:
        return
    data = query.data or ""
    message = query.message if isinstance(query.message, Message) else None
    if data.startswith("hc:"):
        await _client_button(svc, context.bot, update, data)
        raise ApplicationHandlerStop
    if data.startswith("h:"):
        await _card_button(svc, context.bot, query, message, data)
        raise ApplicationHandlerStop
    if data.startswith("cc:"):
        await lookup.on_button(svc, context.bot, query, data)
        raise ApplicationHandlerStop
    if data.startswith("sr:"):
        await saved.on_button(svc, context.bot, query, data, relay_to_client)
        raise ApplicationHandlerStop
    if data.startswith(assign.PREFIX):
        await assign.on_coach_button(svc, context.bot, query, data)
        raise ApplicationHandlerStop
    if data.startswith(assign.CLIENT_PREFIX):
        await assign.on_client_button(svc, context.bot, update, data)
        raise ApplicationHandlerStop
    if data.startswith(later.PREFIX):
        await later.on_button(svc, context.bot, query, data)
        raise ApplicationHandlerStop
    if message is not None and message.chat_id == svc.config.coach.chat_id != 0:
        await _answer(
            svc, query, ONLY_COACHES if not svc.config.is_coach(query.from_user.id) else None
        )
        raise ApplicationHandlerStop


async def _client_button(svc: Services, bot: Any, update: Update, data: str) -> None:
    query = update.callback_query
    assert query is not None
    client = await conversation.client_for(svc, update)
    if client is None:
        await _answer(svc, query)
        return
    message = query.message if isinstance(query.message, Message) else None
    if message is not None:
        keyboards.forget(svc, client.user_id, "reason", message.message_id)
        if message.reply_markup:
            await _edit_markup(svc, message, None)
    if not await client_side.reason_asked(svc, client.user_id):
        # The question was answered or passed by (a hand-off opened and maybe closed since):
        # an old button, answered like every old button, and nothing is opened.
        if await coach_channel.is_open(svc, client.user_id):
            await _answer(svc, query, texts.IN_HANDOFF)
            return
        await _answer(svc, query, texts.OLD_BUTTON)
        await flow.resume(svc, bot, client)
        return
    await _answer(svc, query)
    if data == CLIENT_CANCEL:
        await client_side.clear_reason_wait(svc, client.user_id)
        await send_text(svc, bot, client.chat_id, client_side.CANCELLED, user_id=client.user_id)
    elif data == CLIENT_PLAIN:
        await coach_channel.open_handoff(svc, bot, client, None)


async def _card_owner(svc: Services, message: Message) -> int | None:
    """The client a card belongs to, from where it is: its topic, or the relay link."""
    async with svc.db.read() as conn:
        if message.chat_id == svc.config.coach.chat_id != 0:
            if not message.is_topic_message or message.message_thread_id is None:
                return None
            return await handoffs.user_for_topic(conn, message.chat_id, message.message_thread_id)
        return await handoffs.user_for_relay(conn, message.chat_id, message.message_id)


async def _card_button(
    svc: Services, bot: Any, query: Any, message: Message | None, data: str
) -> None:
    coach_id = query.from_user.id
    if not svc.config.is_coach(coach_id):
        await _answer(svc, query, ONLY_COACHES)
        return
    match = _CARD_RE.match(data)
    in_group = message is not None and message.chat_id == svc.config.coach.chat_id != 0
    in_private = (
        message is not None and message.chat.type == "private" and message.chat_id == coach_id
    )
    if match is None or message is None or not (in_group or in_private):
        await _answer(svc, query, "Deze knop werkt niet (meer).")
        return
    action, handoff_id, extra = match.group(1), int(match.group(2)), match.group(3)
    owner = await _card_owner(svc, message)
    async with svc.db.read() as conn:
        h = await handoffs.get(conn, handoff_id)
        client = await clients.get(conn, owner) if owner is not None else None
    if h is None or owner is None or h.user_id != owner or client is None:
        await _answer(svc, query, "Deze knop hoort niet bij deze cliënt.")
        return
    if h.status == "closed":
        await _answer(svc, query, "Dit gesprek is al afgerond.")
        await _edit_markup(svc, message, None)
        return
    log.info("card button", extra={"user_id": owner, "coach_id": coach_id, "action": action})
    if action == "t":
        await _take(svc, bot, query, message, client, h.id, coach_id)
    elif action == "p":
        how = pinning.HOW_GROUP if in_group else pinning.HOW_PRIVATE
        await call(svc, "answerCallbackQuery", lambda: query.answer(text=how, show_alert=True))
    elif action == "k":
        await _answer(svc, query)
        await _edit_markup(svc, message, coach_channel.module_rows(svc, h.id))
    elif action == "x":
        await _answer(svc, query)
        await _edit_markup(svc, message, coach_channel.card_rows(svc, h))
    elif action == "m":
        await _hand_back(svc, bot, query, message, client, h.id, None)
    elif action == "r":
        await _hand_back(svc, bot, query, message, client, h.id, extra)


async def _take(
    svc: Services, bot: Any, query: Any, message: Message, client: Client, hid: int, coach_id: int
) -> None:
    async with svc.db.transaction() as conn:
        took = await handoffs.take(conn, hid, coach_id, svc.clock.now())
        fresh = await handoffs.get(conn, hid)
    await _answer(svc, query, "Opgepakt." if took else "Dit is al opgepakt.")
    await _edit_markup(svc, message, coach_channel.card_rows(svc, fresh))
    if took:
        who = html.escape(query.from_user.first_name or "een coach")
        await coach_channel.say_to_coaches(svc, bot, client, f"✋ Opgepakt door {who}.")
        await send_text(svc, bot, client.chat_id, coach_channel.TAKEN, user_id=client.user_id)


async def _hand_back(
    svc: Services,
    bot: Any,
    query: Any,
    message: Message,
    client: Client,
    hid: int,
    module_id: str | None,
) -> None:

    session = None
    title = ""
    if module_id is not None:
        module = next((m for m in svc.library.menu.modules if m.id == module_id), None)
        if module is None:
            await _answer(svc, query, "Die module ken ik niet.")
            return
        title = module.title
        async with svc.db.read() as conn:
            done = await progress.completed(conn, client.user_id)
        session = menu.next_session(svc.library, module.id, done)
        if session is not None and session not in svc.library.dialogues:
            # Sessions not yet written: the first one that exists.
            session = next((s for s in module.sessions if s in svc.library.dialogues), None)
        if session is None:
            await _answer(svc, query, "Die module heeft nog geen sessie.")
            return
    async with svc.db.transaction() as conn:
        closed = await handoffs.close(conn, hid, svc.clock.now(), return_to=module_id)
    if not closed:
        await _answer(svc, query, "Dit gesprek is al afgerond.")
        return
    await _answer(svc, query, "Teruggegeven.")
    await _edit_markup(svc, message, None)
    where = f"module {html.escape(title)}" if session else "het menu"
    await coach_channel.say_to_coaches(svc, bot, client, f"✅ Teruggegeven aan {where}.")
    log.info("handoff closed", extra={"user_id": client.user_id, "handoff_id": hid})
    # The hand-back runs in the coach group's update order; hold the client's own lock too.
    async with svc.client_lock(client.user_id):
        async with svc.db.read() as conn:
            client = await clients.get(conn, client.user_id) or client
        if session is None:
            await flow.show_menu(svc, bot, client, coach_channel.HANDED_BACK)
            return
        intro = coach_channel.HANDED_BACK_MODULE.format(title=html.escape(title))
        await send_text(svc, bot, client.chat_id, intro, user_id=client.user_id)
        await flow.begin(svc, bot, client, session)


# --- the waiting reminder -------------------------------------------------------------------


async def send_reminders(svc: Services, bot: Any) -> int:
    """Remind the coaches of hand-offs waiting longer than the configured office hours."""
    cfg = svc.config.coach
    now = svc.clock.now()
    period = await office_hours.away(svc, now)
    if not office_hours.in_office(cfg, now, period.back if period else None):
        return 0
    limit = cfg.reminder_hours * 3600
    async with svc.db.read() as conn:
        waiting = [h for h in await handoffs.list_open(conn) if h.status == "open"]
    sent = 0
    for h in waiting:
        waited_office = office_hours.office_seconds(cfg, h.opened_at, now)
        since_last = (
            office_hours.office_seconds(cfg, h.reminded_at, now) if h.reminded_at else float("inf")
        )
        if waited_office < limit or since_last < limit:
            continue
        async with svc.db.read() as conn:
            client = await clients.get(conn, h.user_id)
        if client is None:
            continue
        hours = f"{waited_office / 3600:.1f}".replace(".", ",")
        text = (
            f"⏰ <b>Wacht al {hours} u (binnen kantooruren) op antwoord</b>, in totaal "
            f"{waited(now - h.opened_at)}. Pak het op met de knop op de kaart."
        )
        await coach_channel.say_to_coaches(svc, bot, client, text)
        async with svc.db.transaction() as conn:
            await handoffs.mark_reminded(conn, h.id, now)
        sent += 1
        log.info("coach reminded", extra={"user_id": h.user_id, "handoff_id": h.id})
    return sent


async def reminder_job(context: Context) -> None:
    """The JobQueue's repeating job: the reminder sweep."""
    await send_reminders(_svc(context), context.bot)


# --- the reason question lapses when the client does something else -------------------------


async def on_any_private(update: Update, context: Context) -> None:
    """A command or a button in a client's chat: we no longer wait for a hand-off reason."""
    svc = _svc(context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != "private":
        return
    query = update.callback_query
    if query is not None:
        if (query.data or "").startswith("hc:"):
            return
    elif update.message is None or not (update.message.text or "").startswith("/"):
        return
    async with svc.db.read() as conn:
        pending = await notices.seen(conn, coach_channel.REASON_WAIT, user.id)
    if pending is not None:
        await client_side.clear_reason_wait(svc, user.id)
        # Its buttons no longer apply either.
        await keyboards.clear(svc, context.bot, user.id, "reason")


def register(app: Any) -> None:
    """Add the coach-side handlers (groups -2 and -1, before the client's) and the reminder."""
    svc = services(app)
    cfg = svc.config
    app.add_handler(TypeHandler(Update, on_any_private), group=-2)
    if cfg.coach.chat_id != 0:
        app.add_handler(
            MessageHandler(filters.Chat(chat_id=cfg.coach.chat_id), on_group_update), group=-1
        )
    if cfg.coach.user_ids:
        coaches = filters.ChatType.PRIVATE & filters.User(user_id=list(cfg.coach.user_ids))
        app.add_handler(
            MessageHandler(coaches & filters.UpdateType.MESSAGE, on_coach_private), group=-1
        )
    app.add_handler(CallbackQueryHandler(on_callback), group=-1)
    # Steps of the check-in sweep: set-out work told to clients, messages for later sent.
    assign.register(app)
    later.register(app, relay_to_client)
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            reminder_job, interval=REMINDER_EVERY, first=60.0, name="handoff-reminders"
        )
    else:  # pragma: no cover - the job-queue extra is a runtime dependency
        log.error("no JobQueue: hand-off reminders are off")
