"""/instellingen: the check-in on or off, its time and days, time zone, weekly reflection, pause,
discreet mode and withdrawing consent. Every change re-plans the next times at once.

Buttons carry what they do ("st:tijd:2030"), never a position, so an old settings message still
does the right thing. A time or a time zone may also be typed after pressing "Andere ..."; that
wait lives in memory for ten minutes (a restart simply forgets it).
"""

from __future__ import annotations

import html
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from telegram import Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot.core import consent, conversation, flow, menu, schedule, sharing
from bot.edge.sender import ButtonRows, call, keyboard, send_text
from bot.edge.services import Services, services
from storage import clients, journal, schedules
from storage.clients import Client
from storage.schedules import Schedule

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

PREFIX = "st:"
WAIT_KEY = "settings.wait"
WAIT_FOR = timedelta(minutes=10)
CHECKIN_TIMES = ("07:00", "08:00", "09:00", "12:00", "12:30", "13:00", "17:00", "18:00", "19:00")
CHECKIN_TIMES_LATE = ("20:00", "21:00", "22:00")
REFLECTION_TIMES = ("09:00", "12:00", "17:00", "19:00", "20:00", "21:00")
OFFERED_ZONES = ("Europe/Amsterdam", "Europe/Brussels")
# The onboarding's safety questions (dialogues/scripts/veiligheid.yaml), changeable here.
SAFETY_SCREEN = "veiligheid"
SAFETY_AGAIN = "🛡️ Vragen over je veiligheid"
# How a client reads a zone: "Nederland" and "België", not "Europe/Brussels".
ZONE_NAMES = {"Europe/Amsterdam": "Nederland", "Europe/Brussels": "België"}


def zone_name(zone: str | None) -> str:
    """A time zone as a client reads it; other zones by their city ("New York")."""
    if not zone:
        return ZONE_NAMES["Europe/Amsterdam"]
    return ZONE_NAMES.get(zone, zone.rsplit("/", 1)[-1].replace("_", " "))


WEEKEND = 96  # za + zo
DAY_SHORT = ("ma", "di", "wo", "do", "vr", "za", "zo")
DAY_LONG = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")

TITLE = "<b>Je instellingen</b>"
ASK_TIME = "Typ de tijd die je wilt, bijvoorbeeld <b>07:45</b>."
ASK_ZONE = (
    "Typ je tijdzone, bijvoorbeeld <b>Europe/Lisbon</b> of <b>America/Curacao</b>. "
    "Een stad mag ook, zoals <b>Lissabon</b> in het Engels: <b>Lisbon</b>."
)
BAD_TIME = "Dat herken ik niet als tijd. Typ bijvoorbeeld <b>07:45</b> of <b>21:30</b>."
BAD_ZONE = "Die tijdzone ken ik niet. Typ bijvoorbeeld <b>Europe/Lisbon</b>."
SAVED = "Opgeslagen. ✅"
WITHDRAW_CONFIRM = (
    "Wil je je toestemming intrekken? Dan bewaar ik vanaf nu geen antwoorden, stemmingen of "
    "notities meer. Je kunt de modules gewoon blijven doen."
)
BACK = "↩️ Terug"
# What the coach may read of the journal (bot.core.sharing): the default for new answers, and
# per exercise already done. Buttons carry the value they set ("st:dl:1:stokt-1").
SHARE_ITEM = "👁 Delen met je coach"
SHARE_DEFAULT_LABELS = (("ja", "Ja"), ("nee", "Nee"), ("kiezen", "Per oefening kiezen"))
SHARE_DONE_MAX = 8  # exercises listed, most recently answered first
SHARE_INTRO = (
    f"<b>{sharing.QUESTION}</b>\nNu: {{now}}.\n\n"
    "Je veiligheidsplan deel je apart, onder /veiligheidsplan."
)
SHARE_DONE = "\n\n<b>Oefeningen die je al deed</b> (tik om te veranderen):"


def _wait_map(svc: Services) -> dict[int, tuple[str, datetime]]:
    waits = svc.scratch.setdefault(WAIT_KEY, {})
    assert isinstance(waits, dict)
    return waits


def waiting_for(svc: Services, user_id: int) -> str | None:
    """What typed input the client was asked for in the last ten minutes, if anything."""
    entry = _wait_map(svc).get(user_id)
    if entry is None:
        return None
    what, asked = entry
    if svc.clock.now() - asked > WAIT_FOR:
        _wait_map(svc).pop(user_id, None)
        return None
    return what


# --- texts ------------------------------------------------------------------------------------


def days_text(days: int) -> str:
    """The chosen days in words."""
    if days == schedules.EVERY_DAY:
        return "elke dag"
    if days == schedules.WEEKDAYS:
        return "op werkdagen"
    if days == WEEKEND:
        return "in het weekend"
    if days == 0:
        return "op geen enkele dag"
    return "op " + ", ".join(DAY_SHORT[i] for i in range(7) if days & (1 << i))


def _local(svc: Services, client: Client, when: datetime) -> str:
    zone = schedule.zone_or_default(client.timezone, svc.config.clients.default_timezone)
    local = when.astimezone(zone)
    return f"{DAY_SHORT[local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local:%H:%M}"


def screen_text(svc: Services, client: Client, s: Schedule, now: datetime) -> str:
    """The settings overview."""
    lines = [TITLE, ""]
    if s.checkin_enabled:
        lines.append(f"☀️ Check-in: {days_text(s.days)} om {s.checkin_time}")
    else:
        lines.append("☀️ Check-in: uit")
    lines.append(f"🌍 Tijdzone: {zone_name(client.timezone)}")
    if s.reflection_enabled:
        lines.append(f"🌿 Weekreflectie: op {DAY_LONG[s.reflection_day]} om {s.reflection_time}")
    else:
        lines.append("🌿 Weekreflectie: uit")
    if s.is_paused(now):
        until = (
            "tot je ze weer aanzet"
            if s.paused_indefinitely
            else "tot " + _local(svc, client, s.paused_until or now)
        )
        lines.append(f"⏸ Gepauzeerd {until}")
    lines.append(f"🤫 Discrete meldingen: {'aan' if client.discreet else 'uit'}")
    upcoming = [t for t in (s.next_checkin_at, s.next_reflection_at) if t is not None]
    if upcoming:
        lines += ["", f"Het volgende bericht komt {_local(svc, client, min(upcoming))}."]
    return "\n".join(lines)


def screen_rows(svc: Services, client: Client, s: Schedule, now: datetime) -> ButtonRows:
    """The overview's buttons."""
    rows: list[list[tuple[str, str]]] = [
        [
            ("Check-in uitzetten" if s.checkin_enabled else "Check-in aanzetten", "st:ci"),
            ("Tijd", "st:tijd"),
        ],
        [("Dagen", "st:dagen"), ("Tijdzone", "st:zone")],
        [
            ("Reflectie uitzetten" if s.reflection_enabled else "Reflectie aanzetten", "st:rf"),
            ("Reflectie dag/tijd", "st:rfdag"),
        ],
        [("▶️ Hervatten", "st:hervat") if s.is_paused(now) else ("⏸ Pauze", "st:pauze")],
        [("Discreet uitzetten" if client.discreet else "Discreet aanzetten", "st:disc")],
    ]
    # The safety questions again (the answer changes what the sessions suggest); the screen
    # never shows the answer itself, in case someone else looks at the phone.
    rows.append([(SAFETY_AGAIN, "st:veilig")])
    if conversation.consented(client):
        rows.append([(SHARE_ITEM, "st:delen")])
        rows.append([("Toestemming intrekken", "st:intrek")])
    rows.append([("↩️ Terug naar het menu", menu.MENU)])
    return rows


def _time_rows(prefix: str, times: tuple[str, ...]) -> list[list[tuple[str, str]]]:
    rows: list[list[tuple[str, str]]] = []
    for i in range(0, len(times), 3):
        rows.append([(t, f"{prefix}{t.replace(':', '')}") for t in times[i : i + 3]])
    return rows


def sub_screen(page: str, client: Client, s: Schedule) -> tuple[str, ButtonRows] | None:
    """The text and buttons of a settings sub-page ('tijd', 'dagen', ...)."""
    home = [(BACK, "st:home")]
    if page == "tijd":
        rows = _time_rows("st:tijd:", CHECKIN_TIMES + CHECKIN_TIMES_LATE)
        rows.append([("Andere tijd", "st:typ:tijd"), home[0]])
        return f"Hoe laat wil je je check-in? Nu: {s.checkin_time}.", rows
    if page == "dagen":
        rows = [[("Elke dag", "st:dagen:alle"), ("Werkdagen", "st:dagen:werk")]]
        toggles = [
            (("✅ " if s.days & (1 << i) else "▫️ ") + DAY_SHORT[i], f"st:dag:{i}") for i in range(7)
        ]
        rows += [toggles[:4], toggles[4:]]
        rows.append([("Klaar", "st:home")])
        warn = "\nLet op: zonder dagen komt er geen check-in." if s.days == 0 else ""
        return f"Op welke dagen wil je een check-in? Nu: {days_text(s.days)}.{warn}", rows
    if page == "zone":
        rows = [[(zone_name(z), f"st:zone:{z}") for z in OFFERED_ZONES]]
        rows.append([("Andere tijdzone", "st:typ:zone"), home[0]])
        return f"In welke tijdzone ben je? Nu: {client.timezone}.", rows
    if page == "rfdag":
        rows = [
            [(("✅ " if s.reflection_day == i else "") + DAY_SHORT[i], f"st:rfdag:{i}")]
            for i in range(7)
        ]
        rows = [sum(rows[:4], []), sum(rows[4:], [])]
        rows += _time_rows("st:rftijd:", REFLECTION_TIMES)
        rows.append([("Andere tijd", "st:typ:rftijd"), ("Klaar", "st:home")])
        text = (
            "Op welke dag en hoe laat wil je je weekreflectie? "
            f"Nu: {DAY_LONG[s.reflection_day]} om {s.reflection_time}."
        )
        return text, rows
    if page == "pauze":
        rows = [
            [("3 dagen", "st:pauze:3"), ("Een week", "st:pauze:7")],
            [("Tot ik ze weer aanzet", "st:pauze:0")],
            [home[0]],
        ]
        return "Hoe lang wil je even geen check-ins en reflecties?", rows
    if page == "intrek":
        rows = [[("Ja, trek in", "st:intrek:ja"), ("Nee, toch niet", "st:home")]]
        return WITHDRAW_CONFIRM, rows
    return None


def share_screen(
    svc: Services,
    choice: journal.Choice | None,
    done: list[tuple[str, int, int]],
) -> tuple[str, ButtonRows]:
    """The sharing page: the default for new answers, and each exercise already done."""
    rows: list[list[tuple[str, str]]] = [
        [
            (("✅ " if choice == value else "") + label, f"st:delen:{value}")
            for value, label in SHARE_DEFAULT_LABELS[:2]
        ],
        [
            (("✅ " if choice == value else "") + label, f"st:delen:{value}")
            for value, label in SHARE_DEFAULT_LABELS[2:]
        ],
    ]
    text = SHARE_INTRO.format(now=sharing.choice_line(choice))
    listed = [d for d in done if d[0] not in sharing.OWN_CHOICE][:SHARE_DONE_MAX]
    if listed:
        text += SHARE_DONE
    for dialogue_id, total, shared in listed:
        name = sharing.title(svc, dialogue_id)
        everything = shared == total
        state = "👁 gedeeld" if everything else ("🔒 privé" if shared == 0 else "deels gedeeld")
        text += f"\n• {html.escape(name, quote=False)}: {state}"
        target = 0 if everything else 1
        label = f"{'🔒 Maak privé' if everything else '👁 Deel'}: {name}"[:60]
        data = f"st:dl:{target}:{dialogue_id}"
        if len(data.encode()) <= 64:
            rows.append([(label, data)])
    rows.append([(BACK, "st:home")])
    return text, rows


# --- actions ------------------------------------------------------------------------------------


async def _state(svc: Services, user_id: int) -> tuple[Client, Schedule]:
    async with svc.db.read() as conn:
        client = await clients.get(conn, user_id)
        assert client is not None, "the handler touched the client first"
        return client, await schedule.load_schedule(svc, conn, user_id)


async def change(
    svc: Services, user_id: int, *, timezone: str | None = None, **fields: Any
) -> Schedule:
    """Change schedule fields (and/or the time zone) and re-plan the next times."""
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        current = await schedule.load_schedule(svc, conn, user_id)
        if timezone is not None:
            await clients.update(conn, user_id, timezone=timezone)
        return await schedule.save_schedule(svc, conn, replace(current, **fields), now, timezone)


def _hhmm(raw: str) -> str | None:
    """'2030' (from callback data) as '20:30'."""
    if len(raw) == 4 and raw.isdigit():
        at = schedule.parse_hhmm(f"{raw[:2]}:{raw[2:]}")
        return schedule.format_hhmm(at) if at else None
    return None


async def apply(svc: Services, bot: Any, client: Client, data: str) -> str | None:
    """Do what a settings button says; returns the sub-page to show next (None: overview)."""
    parts = data[len(PREFIX) :].split(":")
    action, arg = parts[0], ":".join(parts[1:])
    uid = client.user_id
    now = svc.clock.now()
    _, current = await _state(svc, uid)
    if action in ("tijd", "dagen", "zone", "rfdag", "pauze", "intrek", "delen") and not arg:
        return action
    if action == "ci":
        await change(svc, uid, checkin_enabled=not current.checkin_enabled)
    elif action == "rf":
        await change(svc, uid, reflection_enabled=not current.reflection_enabled)
    elif action == "tijd" and _hhmm(arg):
        await change(svc, uid, checkin_enabled=True, checkin_time=_hhmm(arg))
    elif action == "rftijd" and _hhmm(arg):
        await change(svc, uid, reflection_enabled=True, reflection_time=_hhmm(arg))
        return "rfdag"
    elif action == "rfdag" and arg.isdigit() and int(arg) < 7:
        await change(svc, uid, reflection_enabled=True, reflection_day=int(arg))
        return "rfdag"
    elif action == "dagen" and arg in ("alle", "werk"):
        days = schedules.EVERY_DAY if arg == "alle" else schedules.WEEKDAYS
        await change(svc, uid, checkin_enabled=True, days=days)
    elif action == "dag" and arg.isdigit() and int(arg) < 7:
        await change(svc, uid, days=current.days ^ (1 << int(arg)))
        return "dagen"
    elif action == "zone" and arg in OFFERED_ZONES:
        await change(svc, uid, timezone=arg)
    elif action == "pauze" and arg in ("0", "3", "7"):
        until = schedules.PAUSED_INDEFINITELY if arg == "0" else now + timedelta(days=int(arg))
        await change(svc, uid, paused_until=until)
    elif action == "hervat":
        await change(svc, uid, paused_until=None)
    elif action == "disc":
        async with svc.db.transaction() as conn:
            await clients.update(conn, uid, discreet=not client.discreet)
    elif action == "typ" and arg in ("tijd", "rftijd", "zone"):
        _wait_map(svc)[uid] = (arg, now)
        await send_text(
            svc, bot, client.chat_id, ASK_ZONE if arg == "zone" else ASK_TIME, user_id=uid
        )
        return "typ"
    elif action == "veilig" and SAFETY_SCREEN in svc.library.dialogues:
        await flow.begin(svc, bot, client, SAFETY_SCREEN)
        return "veilig"
    elif action == "delen" and arg in journal.CHOICES and conversation.consented(client):
        async with svc.db.transaction() as conn:
            await journal.set_choice(conn, uid, arg, now)
        log.info("settings changed", extra={"user_id": uid, "setting": "share_default"})
        return "delen"
    elif action == "dl" and arg[:2] in ("0:", "1:") and conversation.consented(client):
        dialogue_id = arg[2:]
        if dialogue_id not in sharing.OWN_CHOICE:
            async with svc.db.transaction() as conn:
                # The user id is the presser's: a forged id of someone else's changes nothing.
                await journal.share_dialogue(conn, uid, dialogue_id, arg[0] == "1")
        log.info("settings changed", extra={"user_id": uid, "setting": "share_exercise"})
        return "delen"
    elif action == "intrek" and arg == "ja":
        await consent.withdraw_consent(svc, bot, client)
        return "intrek:ja"
    if action != "home":
        log.info("settings changed", extra={"user_id": uid, "setting": action})
    return None


async def show(svc: Services, bot: Any, client: Client) -> None:
    """Send the /instellingen overview."""
    _, s = await _state(svc, client.user_id)
    now = svc.clock.now()
    await send_text(
        svc,
        bot,
        client.chat_id,
        screen_text(svc, client, s, now),
        screen_rows(svc, client, s, now),
        user_id=client.user_id,
    )


async def _render(svc: Services, user_id: int, page: str | None) -> tuple[str, ButtonRows]:
    client, s = await _state(svc, user_id)
    if page == "delen" and conversation.consented(client):
        async with svc.db.read() as conn:
            choice = await journal.choice(conn, user_id)
            done = await journal.by_dialogue(conn, user_id)
        return share_screen(svc, choice, done)
    if page is not None:
        found = sub_screen(page, client, s)
        if found is not None:
            return found
    now = svc.clock.now()
    return screen_text(svc, client, s, now), screen_rows(svc, client, s, now)


# --- handlers -----------------------------------------------------------------------------------


async def on_command(update: Update, context: Context) -> None:
    """/instellingen."""
    svc = services(context.application)
    client = await conversation.client_for(svc, update)
    if client is None:
        return
    _wait_map(svc).pop(client.user_id, None)
    await show(svc, context.bot, client)


async def on_button(update: Update, context: Context) -> None:
    """A settings button: change, then show the same message with the new settings."""
    svc = services(context.application)
    query = update.callback_query
    if query is None:
        return
    client = await conversation.client_for(svc, update)
    await call(svc, "answerCallbackQuery", lambda: query.answer())
    if client is None:
        return  # only in the client's own chat
    page = await apply(svc, context.bot, client, query.data or "")
    message = query.message if isinstance(query.message, Message) else None
    if page in ("typ", "intrek:ja", "veilig"):
        # The client now types, answers the erasure question or the safety questions: take the
        # buttons away.
        if message is not None and message.reply_markup:
            await call(svc, "editMessageReplyMarkup", lambda: message.edit_reply_markup(None))
        return
    text, rows = await _render(svc, client.user_id, page)
    if message is None:
        await send_text(svc, context.bot, client.chat_id, text, rows, user_id=client.user_id)
        return
    try:
        await call(
            svc,
            "editMessageText",
            lambda: message.edit_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard(rows)),
            user_id=client.user_id,
        )
    except BadRequest as exc:
        # An old message pressed again may already show exactly this: nothing to change.
        if "not modified" not in str(exc).lower():
            raise


def find_zone(text: str) -> str | None:
    """An IANA zone from what the client typed: 'Europe/Lisbon', 'europe/lisbon' or 'Lisbon'."""
    cleaned = text.strip().replace(" ", "_")
    if not cleaned or len(cleaned) > 64 or ".." in cleaned:
        return None
    try:
        ZoneInfo(cleaned)
        if "/" in cleaned or cleaned == "UTC":
            return cleaned
    except (ZoneInfoNotFoundError, ValueError):
        pass
    lowered = cleaned.lower()
    zones = sorted(available_timezones())
    for zone in zones:
        if zone.lower() == lowered:
            return zone
    for zone in zones:
        if zone.lower().endswith("/" + lowered) and not zone.startswith(("Etc/", "SystemV/")):
            return zone
    return None


def stop_waiting(svc: Services, user_id: int) -> None:
    """Forget that we asked this client to type a time or a zone (a danger signal came first)."""
    _wait_map(svc).pop(user_id, None)


async def take_typed(svc: Services, bot: Any, client: Client, text: str) -> bool:
    """A typed time or time zone after "Andere ...", once the safety check has passed it.

    Returns False when nothing was asked (any more): the text is an ordinary message then.
    """
    what = waiting_for(svc, client.user_id)
    if what is None:
        return False
    if what == "zone":
        zone = find_zone(text)
        if zone is None:
            await send_text(svc, bot, client.chat_id, BAD_ZONE, user_id=client.user_id)
            return True
        await change(svc, client.user_id, timezone=zone)
    else:
        at = schedule.parse_hhmm(text)
        if at is None:
            await send_text(svc, bot, client.chat_id, BAD_TIME, user_id=client.user_id)
            return True
        hhmm = schedule.format_hhmm(at)
        if what == "rftijd":
            await change(svc, client.user_id, reflection_enabled=True, reflection_time=hhmm)
        else:
            await change(svc, client.user_id, checkin_enabled=True, checkin_time=hhmm)
    _wait_map(svc).pop(client.user_id, None)
    log.info("settings changed", extra={"user_id": client.user_id, "setting": what})
    client, _ = await _state(svc, client.user_id)
    await send_text(svc, bot, client.chat_id, SAVED, user_id=client.user_id)
    await show(svc, bot, client)
    return True


class Waiting(filters.MessageFilter):
    """Text from a client we just asked to type a time or a time zone."""

    def __init__(self, svc: Services) -> None:
        super().__init__(name="settings.waiting")
        self._svc = svc

    def filter(self, message: Message) -> bool:
        user = message.from_user
        return user is not None and waiting_for(self._svc, user.id) is not None


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """/instellingen and its buttons (typed times and zones come through the client routing,
    behind the safety check: see `bot.routing.handlers`)."""
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("instellingen", on_command, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=r"^st:"))
