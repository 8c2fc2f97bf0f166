"""The answer to danger signals: at once, whatever else is going on, and the coach alerted.

The check reads the newest message with the client's last few (a signal spread over messages);
the caring question can be answered with its buttons or in words ("ja", "een beetje", "ik weet
het niet", "nee"); every answer offers the help lines, the coach and the safety plan; where the
partner is the danger, also "wis dit gesprek".
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Bot
from telegram.error import BadRequest

import safety as danger
from bot.core import coach_channel, conversation, keyboards, menu, recent, safety_plan
from bot.core.conversation import SAFETY_VAR
from bot.core.helplines import (
    ERASE_ASK,
    ERASE_CHAT,
    ERASE_CHAT_CONFIRM,
    ERASE_CHAT_DONE,
    ERASE_CHAT_KEPT,
    ERASE_CHAT_NO,
    ERASE_CHAT_YES,
    HELP_LINES,
    MAKE_PLAN,
    PLAN,
    SAFETY_FOLLOWUP,
    TO_COACH,
    UNCLEAR_NO,
    UNCLEAR_YES,
    crisis_message,
    unclear_no_answer,
    unclear_question,
    unclear_unsure_answer,
    unclear_yes_answer,
)
from bot.edge.sender import ButtonRows, call, send_text
from bot.edge.services import Services
from safety import Assessment
from safety.conversation import Answer, answer_to_question, assess_in_context
from storage import followups, safety
from storage.clients import Client
from storage.safety import SafetyEvent

log = logging.getLogger(__name__)

FOLLOWUP_TIME = time(10, 0)
FOLLOWUP_AT_LEAST = timedelta(hours=6)
YES_PREFIX = "s:ja:"
NO_PREFIX = "s:nee:"
# Buttons of the crisis answer; stateless, so an old one still works.
SHOW_HELP = "s:hulp"
SHOW_PLAN = "s:plan"
ERASE_YES = "s:wis:ja"
ERASE_NO = "s:wis:nee"
# A caring question is answered in words for this long after it was asked.
PENDING_FOR = timedelta(minutes=30)
# "Wis dit gesprek": Telegram lets a bot delete both sides of a private chat for 48 hours;
# message ids in a private chat count up by one, so the last ids are the last messages.
ERASE_SPAN = 1000
ERASE_BATCH = 100


def followup_at(now: datetime, zone: str) -> datetime:
    """The next morning (10:00 in the client's zone) at least six hours away: "the next day"."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("Europe/Amsterdam")
    local = now.astimezone(tz)
    day = local.date()
    while True:
        candidate = datetime.combine(day, FOLLOWUP_TIME, tzinfo=tz)
        if candidate - local >= FOLLOWUP_AT_LEAST:
            return candidate.astimezone(now.tzinfo)
        day += timedelta(days=1)


def _country(client: Client) -> str | None:
    return client.country if client.country in ("nl", "be") else None


async def check(svc: Services, client: Client, text: str) -> Assessment:
    """The danger check on a client's message, read together with their last few messages.

    The check runs in a worker thread: the learned second opinion takes tens of milliseconds,
    and other clients' updates must not wait for it.
    """
    now = svc.clock.now()
    context = recent.context(svc, client.user_id, now)
    assessment, window_level = await asyncio.to_thread(
        assess_in_context, text, context, danger.assess
    )
    recent.remember(svc, client.user_id, text, window_level, now)
    return assessment


async def check_alone(text: str) -> Assessment:
    """The danger check on one text alone (an edited message), in a worker thread."""
    return await asyncio.to_thread(danger.assess, text)


def _help_rows(category: str | None) -> list[list[tuple[str, str]]]:
    """What goes with the help: the coach, the safety plan, and where the partner is the danger,
    wiping this chat."""
    rows: list[list[tuple[str, str]]] = [[(TO_COACH, menu.COACH), (PLAN, SHOW_PLAN)]]
    if category == "partner_danger":
        rows.append([(ERASE_CHAT, ERASE_ASK)])
    return rows


async def respond(svc: Services, bot: Bot, client: Client, assessment: Assessment) -> None:
    """Answer a crisis or unclear signal: help lines or a caring question; record; alert."""
    now = svc.clock.now()
    category = assessment.category
    async with svc.db.transaction() as conn:
        event_id = await safety.record(conn, client.user_id, assessment.level, category or "", now)
        if assessment.level == "crisis":
            await followups.add(
                conn, client.user_id, SAFETY_FOLLOWUP, followup_at(now, client.timezone)
            )
    log.warning(
        "safety signal",
        extra={"user_id": client.user_id, "level": assessment.level, "rule": assessment.reason},
    )
    if assessment.level == "crisis":
        await send_text(
            svc,
            bot,
            client.chat_id,
            crisis_message(_country(client), category),
            _help_rows(category),
            user_id=client.user_id,
        )
        await coach_channel.alert(svc, bot, client, "crisis", category)
        return
    rows: ButtonRows = [
        [(UNCLEAR_YES, f"{YES_PREFIX}{event_id}"), (UNCLEAR_NO, f"{NO_PREFIX}{event_id}")],
        [(HELP_LINES, SHOW_HELP), (TO_COACH, menu.COACH)],
    ]
    asked = await send_text(
        svc, bot, client.chat_id, unclear_question(category), rows, user_id=client.user_id
    )
    # Answered in words, its "ja"/"nee" buttons no longer apply (answer_in_words takes them off).
    keyboards.remember(svc, client.user_id, "question", asked)
    await coach_channel.alert(svc, bot, client, "unclear", category)


async def _pending_question(svc: Services, user_id: int) -> SafetyEvent | None:
    """The caring question the client has not answered yet, asked less than 30 minutes ago."""
    async with svc.db.read() as conn:
        events = await safety.recent(conn, user_id, svc.clock.now() - PENDING_FOR)
    asked = [e for e in events if e.level == "unclear" and e.response == "shown"]
    return asked[-1] if asked else None


async def _answered(
    svc: Services, bot: Any, client: Client, event: SafetyEvent, answer: Answer
) -> None:
    """The client answered the caring question (a button or in words)."""
    now = svc.clock.now()
    category = event.category or None
    response: safety.Response = "no" if answer == "no" else "yes"
    async with svc.db.transaction() as conn:
        await safety.set_response(conn, event.id, response)
        if response == "yes":
            await followups.add(
                conn, client.user_id, SAFETY_FOLLOWUP, followup_at(now, client.timezone)
            )
    log.info("caring question answered", extra={"user_id": client.user_id, "answer": answer})
    if answer == "no":
        await send_text(svc, bot, client.chat_id, unclear_no_answer(), user_id=client.user_id)
        return
    country = _country(client)
    if answer == "unsure":
        text = unclear_unsure_answer(country, category)  # type: ignore[arg-type]
    else:
        text = unclear_yes_answer(country, category)  # type: ignore[arg-type]
    rows = _help_rows(category)
    await send_text(svc, bot, client.chat_id, text, rows, user_id=client.user_id)
    await coach_channel.alert(svc, bot, client, "crisis", category)


async def answer_in_words(svc: Services, bot: Any, client: Client, text: str) -> bool:
    """A typed answer ("ja", "een beetje", "ik weet het niet", "nee") to a caring question that
    is still open; True when the message was taken as that answer."""
    answer = answer_to_question(text)
    if answer is None:
        return False
    event = await _pending_question(svc, client.user_id)
    if event is None:
        return False
    await keyboards.clear(svc, bot, client.user_id, "question")
    await _answered(svc, bot, client, event, answer)
    return True


async def show_help(svc: Services, bot: Any, client: Client) -> None:
    """/hulp and "Ik heb nu hulp nodig": the help lines, with the coach and the safety plan; for
    a client who said they do not feel safe with their partner, also "wis dit gesprek"."""
    unsafe = conversation.current_state(svc, client).vars.get(SAFETY_VAR) == "onveilig"
    await send_text(
        svc,
        bot,
        client.chat_id,
        crisis_message(_country(client), None),  # type: ignore[arg-type]
        _help_rows("partner_danger" if unsafe else None),
        user_id=client.user_id,
    )


async def answer_question(svc: Services, bot: Bot, client: Client, data: str) -> bool:
    """The buttons of the caring question and the crisis answer; True when the data was ours."""
    if data == SHOW_HELP:
        await show_help(svc, bot, client)
        return True
    if data == SHOW_PLAN:
        await show_plan(svc, bot, client)
        return True
    if data in (ERASE_ASK, ERASE_YES, ERASE_NO):
        await _erase_button(svc, bot, client, data)
        return True
    if data.startswith(YES_PREFIX):
        answer: Answer = "yes"
        raw = data[len(YES_PREFIX) :]
    elif data.startswith(NO_PREFIX):
        answer, raw = "no", data[len(NO_PREFIX) :]
    else:
        return False
    if not raw.isdigit():
        return True
    async with svc.db.read() as conn:
        events = await safety.recent(conn, client.user_id, svc.clock.now() - timedelta(days=30))
    event = next((e for e in events if e.id == int(raw)), None)
    # Answered already (a second press, an old copy): recorded once, the coach alerted once.
    if event is not None and event.response == "shown":
        await _answered(svc, bot, client, event, answer)
    return True


# --- the safety plan ------------------------------------------------------------------------

PLAN_INTRO = "<b>Jouw veiligheidsplan</b>, in je eigen woorden:"
PLAN_NONE = (
    "Je hebt nog geen veiligheidsplan. Zo'n plan schrijf je op een rustig moment, voor een "
    "moment dat het zwaar is: wat je dan zelf kunt doen, wie je kunt bellen, en wat je helpt. "
    "Het duurt een paar minuten."
)
PLAN_NOT_KEPT = (
    "Je gaf geen toestemming om je antwoorden te bewaren, dus ik bewaar je plan niet. Schrijf "
    "het tijdens de oefening op papier of in je telefoon, dan heb je het altijd bij je."
)
PLAN_SHARED = "Je coach kan dit plan zien."
PLAN_PRIVATE = "Dit plan is alleen voor jou; je coach ziet alleen dát je er een hebt."
PLAN_SHARE = "Deel met mijn coach"
PLAN_UNSHARE = "Niet meer delen"
PLAN_REDO = "✏️ Plan aanpassen"
SHARE_ON = "s:plan:deel"
SHARE_OFF = "s:plan:prive"


async def show_plan(svc: Services, bot: Any, client: Client) -> None:
    """/veiligheidsplan: the plan with buttons to change or share it; or an offer to make one."""
    from_consent = client.consent_version is not None
    async with svc.db.read() as conn:
        plan = await safety_plan.load(conn, client.user_id)
    start = menu.EXERCISE_PREFIX + safety_plan.DIALOGUE
    if not plan.exists:
        text = PLAN_NONE if from_consent else f"{PLAN_NONE}\n\n{PLAN_NOT_KEPT}"
        rows: ButtonRows = [[(MAKE_PLAN, start)]]
        await send_text(svc, bot, client.chat_id, text, rows, user_id=client.user_id)
        return
    share = (PLAN_UNSHARE, SHARE_OFF) if plan.shared else (PLAN_SHARE, SHARE_ON)
    footer = PLAN_SHARED if plan.shared else PLAN_PRIVATE
    text = f"{PLAN_INTRO}\n\n{safety_plan.as_html(plan)}\n\n<i>{footer}</i>"
    rows = [[(PLAN_REDO, start)], [share]]
    await send_text(svc, bot, client.chat_id, text, rows, user_id=client.user_id)


async def share_plan(svc: Services, bot: Any, client: Client, data: str) -> bool:
    """The share buttons under the plan; True when the data was ours."""
    if data not in (SHARE_ON, SHARE_OFF):
        return False
    async with svc.db.transaction() as conn:
        await safety_plan.set_shared(conn, client.user_id, data == SHARE_ON, svc.clock.now())
    log.info("safety plan sharing", extra={"user_id": client.user_id, "shared": data == SHARE_ON})
    await show_plan(svc, bot, client)
    return True


# --- "wis dit gesprek" ----------------------------------------------------------------------


async def _erase_button(svc: Services, bot: Any, client: Client, data: str) -> None:
    if data == ERASE_ASK:
        rows = [[(ERASE_CHAT_YES, ERASE_YES), (ERASE_CHAT_NO, ERASE_NO)]]
        await send_text(svc, bot, client.chat_id, ERASE_CHAT_CONFIRM, rows, user_id=client.user_id)
        return
    if data == ERASE_NO:
        await send_text(svc, bot, client.chat_id, ERASE_CHAT_KEPT, user_id=client.user_id)
        return
    # The newest message in the chat is the bot's confirmation question or what follows it.
    newest = await send_text(svc, bot, client.chat_id, "…", user_id=client.user_id)
    if newest is None:
        return
    top = newest.message_id
    for high in range(top, max(0, top - ERASE_SPAN), -ERASE_BATCH):
        ids = list(range(max(1, high - ERASE_BATCH + 1), high + 1))
        try:
            await call(
                svc,
                "deleteMessages",
                lambda ids=ids: bot.delete_messages(client.chat_id, ids),  # type: ignore[misc]
                user_id=client.user_id,
            )
        except BadRequest:
            # Nothing left to delete in this stretch (older than 48 hours, or gone already).
            log.info("chat wipe: a stretch could not be deleted", extra={"user_id": client.user_id})
        if high - ERASE_BATCH < 1:
            break
    recent.forget(svc, client.user_id)
    log.info("chat wiped on request", extra={"user_id": client.user_id})
    await send_text(svc, bot, client.chat_id, ERASE_CHAT_DONE, user_id=client.user_id)
