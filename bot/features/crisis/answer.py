"""The answer to danger signals: at once, whatever else is going on, and the coach alerted."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from telegram import Bot

from bot.core import coach_channel
from bot.core.helplines import (
    SAFETY_FOLLOWUP,
    UNCLEAR_NO,
    UNCLEAR_YES,
    crisis_message,
    unclear_no_answer,
    unclear_question,
    unclear_yes_answer,
)
from bot.edge.sender import send_text
from bot.edge.services import Services
from safety import Assessment
from storage import followups, safety
from storage.clients import Client

log = logging.getLogger(__name__)

FOLLOWUP_TIME = time(10, 0)
FOLLOWUP_AT_LEAST = timedelta(hours=6)
YES_PREFIX = "s:ja:"
NO_PREFIX = "s:nee:"


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
            user_id=client.user_id,
        )
        await coach_channel.alert(svc, bot, client, "crisis", category)
        return
    rows = [[(UNCLEAR_YES, f"{YES_PREFIX}{event_id}"), (UNCLEAR_NO, f"{NO_PREFIX}{event_id}")]]
    await send_text(
        svc, bot, client.chat_id, unclear_question(category), rows, user_id=client.user_id
    )
    await coach_channel.alert(svc, bot, client, "unclear", category)


async def answer_question(svc: Services, bot: Bot, client: Client, data: str) -> bool:
    """Handle the yes/no buttons of the caring question; True when the data was ours."""
    if data.startswith(YES_PREFIX):
        response, raw = "yes", data[len(YES_PREFIX) :]
    elif data.startswith(NO_PREFIX):
        response, raw = "no", data[len(NO_PREFIX) :]
    else:
        return False
    if not raw.isdigit():
        return True
    now = svc.clock.now()
    category = None
    async with svc.db.transaction() as conn:
        events = await safety.recent(conn, client.user_id, now - timedelta(days=30))
        event = next((e for e in events if e.id == int(raw)), None)
        if event is None:
            return True
        category = event.category or None
        await safety.set_response(conn, event.id, response)
        if response == "yes":
            await followups.add(
                conn, client.user_id, SAFETY_FOLLOWUP, followup_at(now, client.timezone)
            )
    if response == "yes":
        text = unclear_yes_answer(_country(client), category)
        await send_text(svc, bot, client.chat_id, text, user_id=client.user_id)
        await coach_channel.alert(svc, bot, client, "crisis", category)
    else:
        await send_text(svc, bot, client.chat_id, unclear_no_answer(), user_id=client.user_id)
    return True
