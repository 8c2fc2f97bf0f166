"""/later: a coach writes a client a message for a chosen time (the Bot API cannot schedule).

In the client's topic (or replying to their relayed message in a private chat):
`/later 18:30 tekst`, `/later morgen 09:00 tekst`, `/later 14-12 09:00 tekst`, in the coach's
time zone; `/later` alone lists the client's pending messages with a ❌ button each. Kept in
SQLite (`storage/scheduled.py`); the sweep (`send_due`, a step of the check-in sweep) claims
each one before sending, so a restart or a second sweep never sends it twice. It goes out as a
coach message does (`coach.relay_to_client`, handed in to avoid an import cycle): with the
"je coach" label, and the client's answer reaches the coach. An erased client's messages are
gone with them (the cascade); a blocked client's are marked failed, and the coach is told.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import Any

from telegram import Message
from telegram.error import TelegramError

from bot.core import coach_channel, due_work
from bot.core.office_hours import zone as coach_zone
from bot.core.schedule import local_moment, zone_or_default
from bot.edge.sender import call
from bot.edge.services import Services, services
from bot.features.handoff.when import moment_words, parse_day, parse_time
from storage import clients, links
from storage import scheduled as scheduled_messages
from storage.clients import Client

log = logging.getLogger(__name__)

Relay = Callable[..., Awaitable[str | None]]

PREFIX = "lt:"
_CANCEL_RE = re.compile(r"^lt:x:(\d{1,15})$")
_COMMAND_RE = re.compile(r"^/\S+\s+(?:(\S+)\s+)??(\d{1,2}[:.]\d{2})\s+(.+)$", re.DOTALL)
TEXT_MAX = 3900
BATCH = 100
# A message the sweep finds this late (the bot was down) is not sent: it could land at night.
LATE_LIMIT = timedelta(hours=3)
MAX_AHEAD = timedelta(days=366)

# --- what coaches read (Dutch) --------------------------------------------------------------
USAGE = (
    "In het topic van een cliënt (of als antwoord op hun bericht):\n"
    "<code>/later 18:30 tekst</code>, <code>/later morgen 09:00 tekst</code> of "
    "<code>/later 14-12 09:00 tekst</code> (jouw tijd). <code>/later</code> alleen toont wat "
    "er gepland staat."
)
WHERE = "Gebruik /later in het topic van een cliënt, of als antwoord op hun bericht."
ONLY_COACHES = "Alleen coaches kunnen dit."
NOT_WORKING = "Deze knop werkt niet (meer)."
BAD_DAY = "Die dag begrijp ik niet. Gebruik morgen, 14-12 of 14-12-2026.\n" + USAGE
PAST = "Dat moment is al voorbij. Kies een tijd later dan nu."
TOO_FAR = "Dat is meer dan een jaar weg; kies een eerder moment."
TOO_LONG = f"Houd het onder {TEXT_MAX} tekens."
BLOCKED = "De cliënt heeft de bot geblokkeerd; er is niets gepland."
PLANNED = "🕒 Gepland voor {name}: {moment} ({zone}).{theirs}\n<i>{text}</i>"
THEIRS = " Voor {name} is dat {moment} ({zone})."
NONE_PENDING = "Er staat niets gepland voor {name}.\n" + USAGE
LIST_HEAD = "🕒 Gepland voor {name}:"
CANCELLED = "Geannuleerd."
NOT_PENDING = "Dit bericht is al verstuurd of geannuleerd."
SENT_NOTE = "🕒 Gepland bericht verstuurd:\n{text}"
NOTE_TEXT_MAX = 3500
FAILED_NOTE = "🕒 Je geplande bericht is niet verstuurd. {why}"
LATE_WHY = "De bot kon het niet op tijd sturen; stuur het gerust opnieuw."


def _preview(text: str, size: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


async def command(svc: Services, bot: Any, message: Message, args: list[str]) -> None:
    """/later [[dag] HH:MM tekst] from a coach (checked here by numeric id too)."""
    target = await coach_channel.command_target(svc, bot, message, WHERE)
    if target is None:
        return
    coach_id, client = target
    user_id = client.user_id
    if not args:
        await _list(svc, bot, message, client)
        return
    match = _COMMAND_RE.match(message.text or "")
    if match is None:
        await coach_channel.reply_here(svc, bot, message, USAGE)
        return
    day_word, time_word, text = match.group(1), match.group(2), match.group(3).strip()
    cz = coach_zone(svc.config.coach)
    now = svc.clock.now()
    today = now.astimezone(cz).date()
    at = parse_time(time_word)
    day = today if day_word is None else parse_day(day_word, today)
    if at is None or day is None:
        await coach_channel.reply_here(svc, bot, message, BAD_DAY if day is None else USAGE)
        return
    send_at = local_moment(day, clock_time(*at), cz)
    if day_word is None and send_at <= now:
        send_at = local_moment(day + timedelta(days=1), clock_time(*at), cz)
    if send_at <= now:
        await coach_channel.reply_here(svc, bot, message, PAST)
        return
    if send_at - now > MAX_AHEAD:
        await coach_channel.reply_here(svc, bot, message, TOO_FAR)
        return
    if len(text) > TEXT_MAX or not text:
        await coach_channel.reply_here(svc, bot, message, TOO_LONG if text else USAGE)
        return
    if not client.active:
        await coach_channel.reply_here(svc, bot, message, BLOCKED)
        return
    async with svc.db.transaction() as conn:
        planned = await scheduled_messages.add(conn, user_id, text, coach_id, send_at, now)
    log.info("message scheduled", extra={"user_id": user_id, "coach_id": coach_id})
    name = html.escape(coach_channel.chosen_name(client))
    theirs = ""
    tz = zone_or_default(client.timezone, svc.config.clients.default_timezone)
    if (
        tz.key != cz.key
        and send_at.astimezone(tz).utcoffset() != send_at.astimezone(cz).utcoffset()
    ):
        their_today = now.astimezone(tz).date()
        theirs = THEIRS.format(
            name=name, moment=moment_words(send_at, tz, their_today), zone=tz.key
        )
    reply = PLANNED.format(
        name=name,
        moment=moment_words(send_at, cz, today),
        zone=f"jouw tijd, {cz.key}",
        theirs=theirs,
        text=html.escape(_preview(text, 200)),
    )
    if client.discreet:
        reply = f"{reply}\n{coach_channel.DISCREET_NOTE}"
    await coach_channel.reply_here(
        svc, bot, message, reply, [[("❌ Annuleren", f"{PREFIX}x:{planned.id}")]]
    )


async def _list(svc: Services, bot: Any, message: Message, client: Client) -> None:
    """The client's pending messages, each with a ❌ button."""
    async with svc.db.read() as conn:
        waiting = await scheduled_messages.pending(conn, client.user_id)
    name = html.escape(coach_channel.chosen_name(client))
    if not waiting:
        await coach_channel.reply_here(svc, bot, message, NONE_PENDING.format(name=name))
        return
    cz = coach_zone(svc.config.coach)
    today = svc.clock.now().astimezone(cz).date()
    lines = [LIST_HEAD.format(name=name)]
    rows: list[list[tuple[str, str]]] = []
    for n, item in enumerate(waiting, start=1):
        moment = moment_words(item.send_at, cz, today)
        lines.append(f"{n}. {moment}: <i>{html.escape(_preview(item.text))}</i>")
        rows.append([(f"❌ {n}. {moment}", f"{PREFIX}x:{item.id}")])
    await coach_channel.reply_here(svc, bot, message, "\n".join(lines), rows)


async def on_button(svc: Services, bot: Any, query: Any, data: str) -> None:
    """A "lt:" button (cancel): only coaches, only in the coach chat."""
    message = query.message if isinstance(query.message, Message) else None
    coach_id = query.from_user.id
    if not svc.config.is_coach(coach_id):
        await call(svc, "answerCallbackQuery", lambda: query.answer(text=ONLY_COACHES))
        return
    match = _CANCEL_RE.match(data)
    in_group = message is not None and message.chat_id == svc.config.coach.chat_id != 0
    in_private = (
        message is not None and message.chat.type == "private" and message.chat_id == coach_id
    )
    if match is None or not (in_group or in_private):
        await call(svc, "answerCallbackQuery", lambda: query.answer(text=NOT_WORKING))
        return
    async with svc.db.transaction() as conn:
        done = await scheduled_messages.cancel(conn, int(match.group(1)), svc.clock.now())
    await call(
        svc, "answerCallbackQuery", lambda: query.answer(text=CANCELLED if done else NOT_PENDING)
    )
    if done:
        log.info("scheduled message cancelled", extra={"coach_id": coach_id})
        assert message is not None
        await coach_channel.reply_here(svc, bot, message, f"🕒 {CANCELLED}")


async def send_due(svc: Services, bot: Any, now: datetime, relay: Relay) -> None:
    """The sweep's step: claim each due message (once), then send it as the coach's."""
    claimed = []
    async with svc.db.read() as conn:
        if not await scheduled_messages.due(conn, now, 1):
            return  # most passes: a read, and the write lock stays free
    async with svc.db.transaction() as conn:
        for item in await scheduled_messages.due(conn, now, BATCH):
            if await scheduled_messages.claim(conn, item.id, now):
                claimed.append(item)
    for item in claimed:
        async with svc.db.read() as conn:
            client = await clients.get(conn, item.user_id)
        if client is None:
            continue  # erased meanwhile: its row went with the client
        delivered: list[int] = []
        if now - item.send_at > LATE_LIMIT:
            problem: str | None = LATE_WHY
        else:
            async with svc.client_lock(item.user_id):
                problem = await relay(
                    svc,
                    bot,
                    item.user_id,
                    None,
                    item.created_by,
                    text_html=html.escape(item.text),
                    delivered=delivered,
                )
        async with svc.db.transaction() as conn:
            await scheduled_messages.finish(
                conn, item.id, "sent" if problem is None else "failed", svc.clock.now()
            )
        log.info(
            "scheduled message sent" if problem is None else "scheduled message not sent",
            extra={"user_id": item.user_id},
        )
        async with svc.db.read() as conn:
            client = await clients.get(conn, item.user_id)
        if client is None:
            continue
        if problem is None:
            note = SENT_NOTE.format(text=html.escape(item.text[:NOTE_TEXT_MAX]))
        else:
            note = FAILED_NOTE.format(why=problem)
        try:
            placed = await coach_channel.say_to_coaches(svc, bot, client, note)
        except TelegramError:
            log.info("could not tell the coaches about a scheduled message")
            continue
        if problem is None and delivered:
            # The client's reaction on it shows on this note, as on a message typed then.
            await coach_channel.link_messages(svc, item.user_id, links.OUT, delivered[0], placed)


def register(app: Any, relay: Relay) -> None:
    """Have the check-in sweep send due messages (through `relay`, the coach's relay)."""

    async def step(svc: Services, bot: Any, now: datetime) -> None:
        await send_due(svc, bot, now, relay)

    due_work.add(services(app), "later", step)
