"""Work a coach sets out for a client from the card ("📚 Werk klaarzetten"): the next one to three
sessions of a module in order, or an exercise, starting "nu", "morgen", in a week or on a typed
date. The client is told by a warm line "from je coach" at their check-in time on or after the
start day (the sweep runs `notify_due`), never at night; the menu shows the work first until it
is done or declined (`bot.core.assigned`). Declining tells the coaches, without judgement.

Every coach button is checked against the configured coach ids by number; every client button
against the client who pressed it.

Decisions: while a client's check-ins are paused, the line waits until the pause ends (first
check-in time after it; a pause until resumed is looked at again each day); the menu shows the
work meanwhile. A blocked client gets nothing (and the menu shows it when they come back); an
erased one has no rows left (the cascade). Consent does not limit it: the row holds only the
coach's choice, as any coach message would.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.core import assigned, coach_channel, conversation, due_work, flow, texts
from bot.core.schedule import local_moment, parse_hhmm, zone_or_default
from bot.edge.sender import ButtonRows, call, keyboard, send_text
from bot.edge.services import Services, services
from bot.features.handoff.when import moment_words, parse_day
from storage import assignments, clients, progress, schedules
from storage.assignments import Assignment
from storage.clients import Client

log = logging.getLogger(__name__)

PREFIX = "as:"
CLIENT_PREFIX = "jc:"
_COACH_RE = re.compile(r"^as:([mbokwtx]):(\d{1,15})(?::([a-z0-9._:-]{1,48}))?$")
_WHEN_ITEM_RE = re.compile(r"^(nu|mo|wk):([a-z0-9._-]{1,44})$")
_CLIENT_RE = re.compile(r"^jc:([cbd]):(\d{1,15})$")
_ITEM_RE = re.compile(r"^(?:m\.([a-z0-9_-]{1,40})\.([1-3])|e\.([a-z0-9_-]{1,40}))$")
MAX_SESSIONS = 3
# The client is never told at night: only between these local hours ("nu" waits otherwise).
DAY_START = time(8, 0)
DAY_END = time(22, 0)
BATCH = 100

# --- what coaches read (Dutch) --------------------------------------------------------------
ONLY_COACHES = "Alleen coaches kunnen dit."
NOT_WORKING = "Deze knop werkt niet (meer)."
GONE = coach_channel.GONE
UNKNOWN_ITEM = "Die module of oefening ken ik niet (meer)."
BLOCKED = "De cliënt heeft de bot geblokkeerd; er is niets klaargezet."
PICK = "📚 Wat zet je klaar voor {name}?"
PICK_EXERCISE = "🌿 Welke oefening zet je klaar voor {name}?"
PICK_COUNT = "📚 {module}: hoeveel sessies, vanaf de eerstvolgende ({first})?"
PICK_WHEN = (
    "📚 {title}\nWanneer begint {name}? {name} krijgt een bericht op de check-in-tijd van die "
    "dag, nooit ’s nachts.\n<i>Of beantwoord dit bericht met een datum, zoals 14-12.</i>"
)
NO_DATE = "Dat is geen datum. Typ bijvoorbeeld 14-12 of 14-12-2026."
PAST_DATE = "Die dag is al voorbij. Kies vandaag of later."
FAR_DATE = "Dat is meer dan een jaar weg; kies een eerdere datum."
CLOSED = "Niets klaargezet."
SET = "📚 Klaargezet voor {name}: <b>{title}</b>{count}.\n{when}"
WHEN_NOW = "{name} krijgt nu een bericht van je."
WHEN_LATER = "{name} krijgt een bericht {moment} (hun tijd)."
PAUSED = "\nCheck-ins staan op pauze: het bericht komt na de pauze. In het menu staat het al."
REPLACES = "\nDit vervangt wat er klaarstond: {title}."
DONE_NOTE = "✅ {name} heeft afgerond wat je klaarzette: {title}."
DECLINED_NOTE = (
    "📚 {name} koos ‘Nu liever niet’ voor {title}. Het staat niet meer bovenaan het menu."
)

# --- what the client reads (Dutch, je-form) ---------------------------------------------------
DECLINED = (
    "Dat is helemaal goed. Ik laat je coach weten dat het nu niet uitkomt. "
    "Je kunt er later altijd nog mee verder via het menu."
)
NOT_THERE = "Die oefening is er niet meer. Hieronder zie je wat er wel is."


@dataclass(frozen=True)
class Work:
    """What a coach picked: a title and the dialogues in order."""

    title: str
    sessions: list[str]


def resolve(svc: Services, item: str, completed: set[str]) -> Work | None:
    """An item of the picker ("m.<module>.<n>" or "e.<exercise>") as work; None if unknown."""
    match = _ITEM_RE.match(item)
    if match is None:
        return None
    lib = svc.library
    if match.group(3):
        exercise = match.group(3)
        if exercise not in lib.menu.exercises or exercise not in lib.dialogues:
            return None
        return Work(lib.dialogues[exercise].title, [exercise])
    module = next((m for m in lib.menu.modules if m.id == match.group(1)), None)
    if module is None:
        return None
    available = [s for s in module.sessions if s in lib.dialogues]
    remaining = [s for s in available if s not in completed] or available
    chosen = remaining[: int(match.group(2))]
    if not chosen:
        return None
    if len(chosen) == 1:
        return Work(f"{module.title} – {lib.dialogues[chosen[0]].title}", chosen)
    return Work(module.title, chosen)


# --- when the client is told ----------------------------------------------------------------


def _daytime(when: datetime, zone: Any) -> bool:
    local = when.astimezone(zone).time()
    return DAY_START <= local < DAY_END


def _checkin_time(svc: Services, schedule: schedules.Schedule | None) -> time:
    """The client's check-in time, or the default schedule time when check-ins are off."""
    chosen = schedule.checkin_time if schedule is not None and schedule.checkin_enabled else None
    at = parse_hhmm(chosen or svc.config.checkins.default_time)
    assert at is not None
    if not (DAY_START <= at < DAY_END):
        # A check-in time at night (the client's own choice) is theirs; a note from the coach
        # waits for the morning instead.
        return DAY_START
    return at


def _next_at(day: date, at: time, zone: Any, after: datetime) -> datetime:
    """The first moment at local time `at` on `day` or later that is after `after`."""
    for offset in range(0, 400):
        moment = local_moment(day + timedelta(days=offset), at, zone)
        if moment > after:
            return moment
    raise AssertionError("a day within 400 days always comes")


def plan(
    svc: Services,
    client: Client,
    schedule: schedules.Schedule | None,
    day: date | None,
    now: datetime,
) -> datetime:
    """When the client is told: "nu" (day None, or today) now when it is day where they are,
    else at their check-in time on the day (or the next one when that time has passed)."""
    zone = zone_or_default(client.timezone, svc.config.clients.default_timezone)
    today = now.astimezone(zone).date()
    if day is None or day <= today:
        if _daytime(now, zone):
            return now
        day = today
    return _next_at(day, _checkin_time(svc, schedule), zone, now)


# --- the sweep's step -------------------------------------------------------------------------


async def notify_due(svc: Services, bot: Any, now: datetime) -> None:
    """Tell clients about work whose time has come (claimed first, so once), and tell the
    coaches about work that was finished."""
    work: list[tuple[Assignment, Client]] = []
    async with svc.db.read() as conn:
        # Most passes find nothing: a read, and the write lock stays free.
        idle = not await assignments.due(conn, now, 1) and not await assignments.untold_done(
            conn, 1
        )
    if idle:
        return
    async with svc.db.transaction() as conn:
        for a in await assignments.due(conn, now, BATCH):
            client = await clients.get(conn, a.user_id)
            if client is None or not client.active or client.age_ok == 0:
                # Blocked (or turned away): nothing is sent; the menu shows it if they return.
                await assignments.postpone(conn, a.id, None)
                continue
            schedule = await schedules.get(conn, a.user_id)
            zone = zone_or_default(client.timezone, svc.config.clients.default_timezone)
            if schedule is not None and schedule.is_paused(now):
                assert schedule.paused_until is not None
                after = (
                    now + timedelta(days=1)
                    if schedule.paused_indefinitely
                    else max(now, schedule.paused_until)
                )
                at = _checkin_time(svc, schedule)
                await assignments.postpone(
                    conn, a.id, _next_at(after.astimezone(zone).date(), at, zone, after)
                )
                continue
            if not _daytime(now, zone):
                # Late after an outage, say: never at night, at the next check-in time.
                at = _checkin_time(svc, schedule)
                await assignments.postpone(
                    conn, a.id, _next_at(now.astimezone(zone).date(), at, zone, now)
                )
                continue
            if await assignments.claim_notify(conn, a.id, now):
                work.append((a, client))
        finished = await assignments.untold_done(conn, BATCH)
    for a, client in work:
        async with svc.client_lock(client.user_id):
            await _tell_client(svc, bot, client, a)
    for a in finished:
        async with svc.db.transaction() as conn:
            first = await assignments.mark_told(conn, a.id, now)
            client = await clients.get(conn, a.user_id)
        if first and client is not None and svc.config.coach.user_ids:
            note = DONE_NOTE.format(
                name=html.escape(coach_channel.chosen_name(client)), title=html.escape(a.title)
            )
            await coach_channel.say_to_coaches(svc, bot, client, note)


async def _tell_client(svc: Services, bot: Any, client: Client, a: Assignment) -> None:
    """The line from "je coach" (in discreet mode a neutral one, the offer behind a tap)."""
    if client.discreet:
        rows: ButtonRows = [[(assigned.DISCREET_BUTTON, f"{assigned.SHOW}{a.id}")]]
        text = assigned.DISCREET_LINE
    else:
        text, rows = assigned.offer(a)
    sent = await send_text(svc, bot, client.chat_id, text, rows, user_id=client.user_id)
    log.info(
        "assignment offered" if sent is not None else "assignment offer not delivered",
        extra={"user_id": client.user_id},
    )


# --- the coach's buttons ----------------------------------------------------------------------


def _coach_chat(svc: Services, message: Message | None, coach_id: int) -> bool:
    if message is None:
        return False
    in_group = message.chat_id == svc.config.coach.chat_id != 0
    return in_group or (message.chat.type == "private" and message.chat_id == coach_id)


def _asked(replied: Message, bot_id: int) -> tuple[int, str] | None:
    """The client and item a "wanneer?" question of ours is about, read from its own "Nu"
    button (Telegram sends the replied message along; nothing kept in memory, so a restart
    loses nothing); None for any other message."""
    author = replied.from_user
    if author is None or author.id != bot_id or replied.reply_markup is None:
        return None
    for row in replied.reply_markup.inline_keyboard:
        for button in row:
            match = _COACH_RE.match(str(button.callback_data or ""))
            if match is None or match.group(1) != "t":
                continue
            when = _WHEN_ITEM_RE.match(match.group(3) or "")
            if when is not None:
                return int(match.group(2)), when.group(2)
    return None


async def _answer(svc: Services, query: Any, text: str | None = None) -> None:
    await call(svc, "answerCallbackQuery", lambda: query.answer(text=text))


async def _edit(svc: Services, message: Message, text: str, rows: ButtonRows | None) -> None:
    try:
        await call(
            svc,
            "editMessageText",
            lambda: message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard(rows)),
        )
    except TelegramError:
        log.info("could not edit the assignment picker", extra={"message_id": message.message_id})


def _top_rows(svc: Services, uid: int) -> ButtonRows:
    rows: list[list[tuple[str, str]]] = []
    for module in svc.library.menu.modules:
        if any(s in svc.library.dialogues for s in module.sessions):
            rows.append([(module.title, f"{PREFIX}k:{uid}:{module.id}")])
    rows.append([("🌿 Een oefening", f"{PREFIX}o:{uid}")])
    rows.append([("✖️ Sluiten", f"{PREFIX}x:{uid}")])
    return rows


async def on_coach_button(svc: Services, bot: Any, query: Any, data: str) -> None:
    """An "as:" button: only coaches, only in the coach chat."""
    message = query.message if isinstance(query.message, Message) else None
    coach_id = query.from_user.id
    if not svc.config.is_coach(coach_id):
        await _answer(svc, query, ONLY_COACHES)
        return
    match = _COACH_RE.match(data)
    if match is None or message is None or not _coach_chat(svc, message, coach_id):
        await _answer(svc, query, NOT_WORKING)
        return
    action, uid, extra = match.group(1), int(match.group(2)), match.group(3) or ""
    async with svc.db.read() as conn:
        client = await clients.get(conn, uid)
        completed = await progress.completed(conn, uid) if client is not None else set()
    if client is None:
        await _answer(svc, query, GONE)
        if action != "m":
            await _edit(svc, message, GONE, None)
        return
    name = html.escape(coach_channel.chosen_name(client))
    log.info("assignment button", extra={"user_id": uid, "coach_id": coach_id, "action": action})
    if action == "m":
        await _answer(svc, query)
        await coach_channel.reply_here(
            svc, bot, message, PICK.format(name=name), _top_rows(svc, uid)
        )
    elif action == "b":
        await _answer(svc, query)
        await _edit(svc, message, PICK.format(name=name), _top_rows(svc, uid))
    elif action == "x":
        await _answer(svc, query)
        await _edit(svc, message, CLOSED, None)
    elif action == "o":
        await _answer(svc, query)
        rows = [
            [(svc.library.dialogues[e].title, f"{PREFIX}w:{uid}:e.{e}")]
            for e in svc.library.menu.exercises
            if e in svc.library.dialogues
        ]
        rows.append([("← Terug", f"{PREFIX}b:{uid}")])
        await _edit(svc, message, PICK_EXERCISE.format(name=name), rows)
    elif action == "k":
        await _count_step(svc, query, message, uid, extra, completed)
    elif action == "w":
        work = resolve(svc, extra, completed)
        if work is None:
            await _answer(svc, query, UNKNOWN_ITEM)
            return
        await _answer(svc, query)
        rows = [
            [
                ("Nu", f"{PREFIX}t:{uid}:nu:{extra}"),
                ("Morgen", f"{PREFIX}t:{uid}:mo:{extra}"),
                ("Over een week", f"{PREFIX}t:{uid}:wk:{extra}"),
            ],
            [("← Terug", f"{PREFIX}b:{uid}")],
        ]
        await _edit(svc, message, PICK_WHEN.format(title=html.escape(work.title), name=name), rows)
    elif action == "t":
        when = _WHEN_ITEM_RE.match(extra)
        if when is None:
            await _answer(svc, query, NOT_WORKING)
            return
        zone = zone_or_default(client.timezone, svc.config.clients.default_timezone)
        today = svc.clock.now().astimezone(zone).date()
        offset = {"nu": None, "mo": 1, "wk": 7}[when.group(1)]
        day = None if offset is None else today + timedelta(days=offset)
        confirmation = await set_out(svc, bot, client, coach_id, when.group(2), day)
        await _answer(svc, query, None if confirmation.startswith("📚") else confirmation)
        await _edit(svc, message, confirmation, None)


async def _count_step(
    svc: Services, query: Any, message: Message, uid: int, module_id: str, completed: set[str]
) -> None:
    module = next((m for m in svc.library.menu.modules if m.id == module_id), None)
    first = resolve(svc, f"m.{module_id}.1", completed)
    widest = resolve(svc, f"m.{module_id}.{MAX_SESSIONS}", completed)
    if module is None or first is None or widest is None:
        await _answer(svc, query, UNKNOWN_ITEM)
        return
    await _answer(svc, query)
    most = len(widest.sessions)
    counts = [
        (f"{n} sessie{'s' if n > 1 else ''}", f"{PREFIX}w:{uid}:m.{module_id}.{n}")
        for n in range(1, most + 1)
    ]
    rows: ButtonRows = [counts, [("← Terug", f"{PREFIX}b:{uid}")]]
    title = svc.library.dialogues[first.sessions[0]].title
    text = PICK_COUNT.format(module=html.escape(module.title), first=html.escape(title))
    await _edit(svc, message, text, rows)


async def set_out(
    svc: Services, bot: Any, client: Client, coach_id: int, item: str, day: date | None
) -> str:
    """Store the work (replacing an open one) and return the coach's confirmation (HTML);
    "nu" in the client's daytime tells them at once."""
    now = svc.clock.now()
    name = html.escape(coach_channel.chosen_name(client))
    async with svc.db.transaction() as conn:
        fresh = await clients.get(conn, client.user_id)
        if fresh is None:
            return GONE
        if not fresh.active:
            return BLOCKED
        work = resolve(svc, item, await progress.completed(conn, client.user_id))
        if work is None:
            return UNKNOWN_ITEM
        schedule = await schedules.get(conn, client.user_id)
        notify_at = plan(svc, fresh, schedule, day, now)
        before = await assignments.current(conn, client.user_id)
        await assignments.add(
            conn, client.user_id, work.title, work.sessions, coach_id, now, notify_at, notify_at
        )
    log.info("assignment set out", extra={"user_id": client.user_id, "coach_id": coach_id})
    count = f" ({len(work.sessions)} sessies)" if len(work.sessions) > 1 else ""
    if notify_at <= now:
        when = WHEN_NOW.format(name=name)
    else:
        zone = zone_or_default(fresh.timezone, svc.config.clients.default_timezone)
        today = now.astimezone(zone).date()
        when = WHEN_LATER.format(name=name, moment=moment_words(notify_at, zone, today))
    text = SET.format(name=name, title=html.escape(work.title), count=count, when=when)
    if schedule is not None and schedule.is_paused(notify_at):
        text += PAUSED
    if before is not None:
        text += REPLACES.format(title=html.escape(before.title))
    if notify_at <= now:
        # "Nu" by day: at once, through the same claim as the sweep (so never twice).
        await notify_due(svc, bot, now)
    return text


async def on_reply(svc: Services, bot: Any, message: Message) -> bool:
    """A coach's reply to the "wanneer?" question with a date; False when it is not one."""
    replied = message.reply_to_message
    sender = message.from_user
    if replied is None or sender is None or not svc.config.is_coach(sender.id):
        return False
    pending = _asked(replied, bot.id)
    if pending is None:
        return False
    uid, item = pending
    async with svc.db.read() as conn:
        client = await clients.get(conn, uid)
    if client is None:
        await coach_channel.reply_here(svc, bot, message, GONE)
        return True
    zone = zone_or_default(client.timezone, svc.config.clients.default_timezone)
    today = svc.clock.now().astimezone(zone).date()
    words = (message.text or "").split()
    day = parse_day(words[0], today) if len(words) == 1 else None
    if day is None:
        await coach_channel.reply_here(svc, bot, message, NO_DATE)
        return True
    if day < today:
        await coach_channel.reply_here(svc, bot, message, PAST_DATE)
        return True
    if day > today + timedelta(days=366):
        await coach_channel.reply_here(svc, bot, message, FAR_DATE)
        return True
    confirmation = await set_out(svc, bot, client, sender.id, item, day)
    await coach_channel.reply_here(svc, bot, message, confirmation)
    try:
        await call(
            svc, "editMessageReplyMarkup", lambda: replied.edit_reply_markup(reply_markup=None)
        )
    except TelegramError:
        log.info("could not take the picker's buttons away")
    return True


# --- the client's buttons ---------------------------------------------------------------------


async def on_client_button(svc: Services, bot: Any, update: Update, data: str) -> None:
    """A "jc:" button in the client's own chat: show the offer, begin, or decline."""
    query = update.callback_query
    assert query is not None
    client = await conversation.client_for(svc, update)
    if client is None:
        await _answer(svc, query)
        return
    match = _CLIENT_RE.match(data)
    found = None
    if match is not None:
        async with svc.db.read() as conn:
            found = await assignments.get(conn, int(match.group(2)))
    now = svc.clock.now()
    if (
        match is None
        or found is None
        or found.user_id != client.user_id
        or not assigned.visible(found, now)
    ):
        # Forged, someone else's, done, declined or replaced: like every old button.
        await _answer(svc, query, texts.OLD_BUTTON)
        await flow.show_menu(svc, bot, client)
        return
    message = query.message if isinstance(query.message, Message) else None
    action = match.group(1)
    if action == "c":
        await _answer(svc, query)
        text, rows = assigned.offer(found)
        await send_text(svc, bot, client.chat_id, text, rows, user_id=client.user_id)
        return
    if action == "b":
        if await coach_channel.is_open(svc, client.user_id):
            await _answer(svc, query, texts.IN_HANDOFF)
            return
        await _answer(svc, query)
        await _clear(svc, message)
        session = found.next_session
        if session is None or session not in svc.library.dialogues:
            await flow.show_menu(svc, bot, client, NOT_THERE)
            return
        await flow.begin(svc, bot, client, session)
        return
    async with svc.db.transaction() as conn:
        declined = await assignments.decline(conn, found.id, client.user_id, now)
    await _answer(svc, query)
    await _clear(svc, message)
    if not declined:
        await flow.show_menu(svc, bot, client)
        return
    log.info("assignment declined", extra={"user_id": client.user_id})
    await send_text(svc, bot, client.chat_id, DECLINED, user_id=client.user_id)
    if svc.config.coach.user_ids:
        note = DECLINED_NOTE.format(
            name=html.escape(coach_channel.chosen_name(client)), title=html.escape(found.title)
        )
        await coach_channel.say_to_coaches(svc, bot, client, note)


async def _clear(svc: Services, message: Message | None) -> None:
    if message is None or not message.reply_markup:
        return
    try:
        await call(
            svc, "editMessageReplyMarkup", lambda: message.edit_reply_markup(reply_markup=None)
        )
    except TelegramError:
        log.info("could not clear the offer's buttons")


def register(app: Any) -> None:
    """Have the check-in sweep tell clients about work whose time has come."""
    due_work.add(services(app), "assignments", notify_due)
