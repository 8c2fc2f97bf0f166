"""The weekly digest for the coaches: sent on Monday morning in the coach's time zone (once a
week, across restarts and overlapping sweeps), `/overzicht` on demand, page buttons, and the
one-tap friendly message to a quiet client.

Only configured coaches, checked by numeric id on the command and on every button; buttons
work only in the coach group or in the pressing coach's own private chat.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core import coach_channel, conversation
from bot.core.coach_channel import COACH_LABEL
from bot.core.office_hours import zone
from bot.edge.config import CoachConfig
from bot.edge.sender import call, keyboard, send_text
from bot.edge.services import Services, services
from bot.features.digest import overview
from storage import clients, kv, notices, saved_replies

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

# Before the hand-off's coach side (group -1), which claims every message in the coach group.
GROUP = -3
JOB = "digest.weekly"
JOB_EVERY = 60.0  # seconds
SENT = "digest.sent"  # notices key; subject "<ISO week>:<chat id>"
NUDGE_REPLY = "digest.nudge_reply"  # kv: the id of the saved reply used as the friendly message
NAME = "{naam}"
# A button's stamp older than this is from an overview nobody should act on any more.
STALE = timedelta(days=8)
_COMMAND_RE = re.compile(r"^/overzicht(?:@(\w+))?(?:\s+(.*))?$", re.DOTALL | re.IGNORECASE)
_PAGE_RE = re.compile(r"^dg:p:(\d{1,4}):(\d{1,10})$")
_NUDGE_RE = re.compile(r"^dg:n:(\d{1,15}):(\d{1,4}):(\d{1,10})$")

# --- the client reads (Dutch, je-form) ------------------------------------------------------
DEFAULT_NUDGE = (
    "Hoi {naam}, ik dacht even aan je. Hoe gaat het met je? Heb je zin om verder te gaan, "
    "typ dan /menu. Het mag in je eigen tempo."
)

# --- coaches read (Dutch) -------------------------------------------------------------------
ONLY_COACHES = "Alleen coaches kunnen dit."
BROKEN = "Deze knop werkt niet (meer)."
STALE_TEXT = "Dit overzicht is verouderd. Typ /overzicht voor een nieuw."
SHORTER = "Het overzicht is korter geworden; dit is de laatste pagina."
GONE = "Deze cliënt is er niet meer (gegevens gewist). Er is niets verstuurd."
BLOCKED = "Deze cliënt heeft de bot geblokkeerd. Er is niets verstuurd."
NO_CONSENT = "Deze cliënt deelt dit niet. Er is niets verstuurd."
NOT_QUIET = "{name} is weer actief geweest. Er is niets verstuurd."
ALREADY = "Er ging al een berichtje naar {name} op {day}. Er is niets nieuws verstuurd."
NOT_DELIVERED = "Het berichtje kwam niet aan bij {name}."
DONE_TOAST = "Verstuurd."
DONE_LINE = "✉️ Vriendelijk berichtje gestuurd aan <b>{name}</b>:\n{text}"
USAGE = (
    "<code>/overzicht</code> toont het weekoverzicht. <code>/overzicht groet 3</code> maakt "
    "opgeslagen antwoord 3 (zie /sjablonen) het vriendelijke berichtje voor stille cliënten; "
    "<code>/overzicht groet uit</code> zet het standaardbericht terug."
)
GREETING_SET = "Het vriendelijke berichtje is nu opgeslagen antwoord {id}:\n{text}"
GREETING_NO_SUCH = "Er is geen opgeslagen antwoord met nummer {id} (zie /sjablonen)."
GREETING_DEFAULT = "Het vriendelijke berichtje is het standaardbericht:\n{text}"


def _svc(context: Context) -> Services:
    return services(context.application)


# --- when -----------------------------------------------------------------------------------


def due_week(cfg: CoachConfig, now: datetime) -> str | None:
    """The ISO week ("2026-W48") whose digest is due now: on Monday from `digest_time` in the
    coach's zone until the day ends; None on every other moment."""
    local = now.astimezone(zone(cfg))
    hours, minutes = (int(p) for p in cfg.digest_time.split(":"))
    if local.weekday() != 0 or (local.hour, local.minute) < (hours, minutes):
        return None
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def _targets(svc: Services) -> list[int]:
    """Where the digest goes: the coach group's general topic, else each coach privately."""
    if coach_channel.group_mode(svc):
        return [svc.config.coach.chat_id]
    return list(svc.config.coach.user_ids)


async def weekly(svc: Services, bot: Any, now: datetime) -> int:
    """Send the week's digest where it is due and not sent yet; returns how many went out.

    Each chat is claimed in SQLite before anything is sent: a second sweep, or a restart, never
    sends the week's digest twice (a crash between claim and send loses it; /overzicht shows it).
    """
    week = due_week(svc.config.coach, now)
    if week is None or not svc.config.coach.user_ids:
        return 0
    sent = 0
    view: overview.Overview | None = None
    for chat_id in _targets(svc):
        subject = f"{week}:{chat_id}"
        async with svc.db.transaction() as conn:
            if await notices.seen(conn, SENT, subject) is not None:
                continue
            await notices.mark(conn, SENT, subject, now)
        view = view or await overview.gather(svc, now)
        text, rows = overview.render(svc, view, 0)
        got = await send_text(svc, bot, chat_id, text, rows)
        log.info(
            "weekly digest sent" if got is not None else "weekly digest not delivered",
            extra={"chat_id": chat_id},
        )
        sent += got is not None
    return sent


async def digest_job(context: Context) -> None:
    """The JobQueue's repeating job: is the week's digest due?"""
    svc = _svc(context)
    await weekly(svc, context.bot, svc.clock.now())


# --- /overzicht -----------------------------------------------------------------------------


def _where(svc: Services, message: Message, coach_id: int) -> bool:
    """The coach group, or this coach's own private chat."""
    in_group = message.chat_id == svc.config.coach.chat_id != 0
    return in_group or (message.chat.type == "private" and message.chat_id == coach_id)


async def greeting(svc: Services, name: str) -> str:
    """The friendly message for a quiet client (plain text): the saved reply the coaches chose
    for it, else the built-in one; `{naam}` becomes the client's chosen name."""
    async with svc.db.read() as conn:
        chosen = await kv.get(conn, NUDGE_REPLY)
        reply = await saved_replies.get(conn, int(chosen)) if chosen and chosen.isdigit() else None
    text = reply.text if reply is not None else DEFAULT_NUDGE
    return text.replace(NAME, name)


async def _greeting_command(svc: Services, args: list[str]) -> str:
    if not args:
        async with svc.db.read() as conn:
            chosen = await kv.get(conn, NUDGE_REPLY)
        text = html.escape(await greeting(svc, NAME))
        if chosen is None:
            return GREETING_DEFAULT.format(text=text)
        return GREETING_SET.format(id=html.escape(chosen), text=text)
    arg = args[0].lower()
    if arg in ("uit", "standaard"):
        async with svc.db.transaction() as conn:
            await kv.delete(conn, NUDGE_REPLY)
        return GREETING_DEFAULT.format(text=html.escape(DEFAULT_NUDGE))
    if not arg.isdigit() or len(arg) > 9:
        return USAGE
    async with svc.db.transaction() as conn:
        reply = await saved_replies.get(conn, int(arg))
        if reply is not None:
            await kv.put(conn, NUDGE_REPLY, str(reply.id))
    if reply is None:
        return GREETING_NO_SUCH.format(id=int(arg))
    return GREETING_SET.format(id=reply.id, text=html.escape(reply.text))


async def on_command(update: Update, context: Context) -> None:
    """/overzicht from a coach, in the coach group or their own private chat."""
    svc = _svc(context)
    message = update.message
    sender = message.from_user if message is not None else None
    if message is None or sender is None or not svc.config.is_coach(sender.id):
        return  # a non-coach: the coach side (group) or the client routing (private) answers
    if not _where(svc, message, sender.id):
        return
    match = _COMMAND_RE.match(message.text or "")
    if match is None:
        return
    target = match.group(1)
    if target and svc.bot_username and target.lower() != svc.bot_username.lower():
        return
    args = (match.group(2) or "").split()
    log.info("coach command", extra={"user_id": sender.id, "command": "overzicht"})
    if args and args[0].lower() == "groet":
        await coach_channel.reply_here(
            svc, context.bot, message, await _greeting_command(svc, args[1:])
        )
    elif args:
        await coach_channel.reply_here(svc, context.bot, message, USAGE)
    else:
        view = await overview.gather(svc, svc.clock.now())
        await coach_channel.reply_here(svc, context.bot, message, *overview.render(svc, view, 0))
    raise ApplicationHandlerStop


# --- buttons --------------------------------------------------------------------------------


async def _answer(svc: Services, query: Any, text: str | None = None) -> None:
    await call(svc, "answerCallbackQuery", lambda: query.answer(text=text))


async def _show(svc: Services, message: Message, at: datetime, page: int) -> None:
    """Edit the overview message to show `page` of the overview as of `at`."""
    view = await overview.gather(svc, at)
    text, rows = overview.render(svc, view, page)
    try:
        await call(
            svc,
            "editMessageText",
            lambda: message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard(rows)),
        )
    except BadRequest as exc:
        # Unchanged (two taps on the same page), or too old to edit: nothing is lost.
        log.info("could not edit the overview: %s", exc.message)


def _stamp(svc: Services, raw: str) -> datetime | str:
    """The moment an overview was made, from a button; or the answer for a bad one."""
    now = svc.clock.now()
    try:
        at = datetime.fromtimestamp(int(raw), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return BROKEN
    if at > now + timedelta(minutes=1):
        return BROKEN
    if now - at > STALE:
        return STALE_TEXT
    return at


async def on_button(update: Update, context: Context) -> None:
    """A "dg:" button: a page of the overview, or a friendly message to a quiet client."""
    svc = _svc(context)
    query = update.callback_query
    if query is None:
        return
    data = query.data or ""
    message = query.message if isinstance(query.message, Message) else None
    coach_id = query.from_user.id
    if not svc.config.is_coach(coach_id):
        await _answer(svc, query, ONLY_COACHES)
        log.info("non-coach pressed a digest button", extra={"user_id": coach_id})
        raise ApplicationHandlerStop
    page_match, nudge_match = _PAGE_RE.match(data), _NUDGE_RE.match(data)
    if message is None or not _where(svc, message, coach_id) or not (page_match or nudge_match):
        await _answer(svc, query, BROKEN)
        raise ApplicationHandlerStop
    if page_match is not None:
        at = _stamp(svc, page_match.group(2))
        if isinstance(at, str):
            await _answer(svc, query, at)
        else:
            await _page(svc, query, message, at, int(page_match.group(1)))
    elif nudge_match is not None:
        at = _stamp(svc, nudge_match.group(3))
        if isinstance(at, str):
            await _answer(svc, query, at)
        else:
            uid, page = int(nudge_match.group(1)), int(nudge_match.group(2))
            await _nudge(svc, context.bot, query, message, coach_id, uid)
            await _show(svc, message, at, page)
    raise ApplicationHandlerStop


async def _page(svc: Services, query: Any, message: Message, at: datetime, page: int) -> None:
    view = await overview.gather(svc, at)
    await _answer(svc, query, SHORTER if page >= view.pages else None)
    await _show(svc, message, at, page)


async def _nudge(
    svc: Services, bot: Any, query: Any, message: Message, coach_id: int, uid: int
) -> None:
    """Send the friendly message to a quiet client, once; the coach sees that it went."""
    now = svc.clock.now()
    async with svc.db.read() as conn:
        client = await clients.get(conn, uid)
    if client is None:
        await _answer(svc, query, GONE)
        return
    name = coach_channel.chosen_name(client)
    if not overview.reachable(client):
        await _answer(svc, query, BLOCKED)
        return
    if not conversation.consented(client):
        await _answer(svc, query, NO_CONSENT)
        return
    if not overview.quiet(svc, client, now):
        await _answer(svc, query, NOT_QUIET.format(name=name))
        return
    # Claimed before it is sent: a second tap, or another coach's, finds it taken.
    async with svc.db.transaction() as conn:
        before = await notices.seen(conn, overview.NUDGED, uid)
        fresh = await clients.get(conn, uid)
        done = fresh is not None and overview.already_nudged(before, fresh, now)
        if fresh is not None and not done:
            await notices.mark(conn, overview.NUDGED, uid, now)
    if fresh is None:
        await _answer(svc, query, GONE)
        return
    if done and before is not None:
        local = before.astimezone(zone(svc.config.coach))
        await _answer(svc, query, ALREADY.format(name=name, day=f"{local.day}/{local.month}"))
        return
    text = html.escape(await greeting(svc, name))
    got = await send_text(svc, bot, client.chat_id, f"{COACH_LABEL}\n{text}", user_id=uid)
    if got is None:
        async with svc.db.transaction() as conn:
            await notices.clear(conn, overview.NUDGED, uid)
        await _answer(svc, query, NOT_DELIVERED.format(name=name))
        log.info("friendly message not delivered", extra={"user_id": uid})
        return
    await _answer(svc, query, DONE_TOAST)
    await coach_channel.reply_here(
        svc,
        bot,
        message,
        DONE_LINE.format(name=html.escape(coach_channel.label(client)), text=text),
    )
    log.info("friendly message sent", extra={"user_id": uid, "coach_id": coach_id})


def register(app: Any) -> None:
    """/overzicht and the digest's buttons (before the coach side), and the weekly job."""
    command = filters.UpdateType.MESSAGE & filters.Regex(r"(?i)^/overzicht(@\w+)?(\s|$)")
    app.add_handler(MessageHandler(command, on_command), group=GROUP)
    app.add_handler(CallbackQueryHandler(on_button, pattern=r"^dg:"), group=GROUP)
    if app.job_queue is not None:
        app.job_queue.run_repeating(digest_job, interval=JOB_EVERY, first=45.0, name=JOB)
    else:  # pragma: no cover - the job-queue extra is a runtime dependency
        log.error("no JobQueue: the weekly digest is off")
