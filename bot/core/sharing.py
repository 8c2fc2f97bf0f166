"""What the client shares with the coach from their journal: per answer shared or private.

Answers written before this existed are private; new ones follow the client's own choice from
the onboarding or /instellingen ('ja' shared; 'nee', 'kiezen' or never asked: private). At the
end of a session with free-text answers the client gets one tap to share or keep that session's
answers private. The coach reads only `storage.journal.shared_answers` (nothing without consent).
The safety plan keeps its own share choice (bot.core.safety_plan): its answers are never shared
through the journal.

Shared by the conversation (new answers, the end of a session), the settings, data rights and
the coach's card.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from telegram import Message
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.core import safety_plan
from bot.edge.sender import ButtonRows, call, keyboard, send_text
from bot.edge.services import Services
from storage import journal
from storage.journal import Answer, Choice

log = logging.getLogger(__name__)

# Bot-owned dialogue variable: the id of the first answer written in the running session.
SPAN_VAR = "_eerste_antwoord"
# Kinds whose end offers the choice; check-ins and reflections follow the client's default.
OFFER_KINDS = ("session", "exercise")
# Never shared through the journal: the safety plan has its own choice.
OWN_CHOICE = frozenset({safety_plan.DIALOGUE})

PREFIX = "jd:"  # "jd:1:<first id>:<last id>" share, "jd:0:..." keep private
SHARE = "👁 Deel met je coach"
KEEP = "🔒 Hou privé"
NOW_SHARED = "👁 Je coach kan je antwoorden van deze sessie lezen."
NOW_PRIVATE = "🔒 Je antwoorden van deze sessie zijn alleen voor jou."
ASK_SHARE = "Wil je ze delen met je coach?"
CHANGE_LATER = "Je kunt dit altijd veranderen in /instellingen."
TOLD_SHARED = "Gedeeld met je coach"
TOLD_PRIVATE = "Alleen voor jou"
NOT_YOURS = "Bij deze knop horen geen antwoorden (meer)."
NO_CONSENT = "Zonder je toestemming bewaar en deel ik geen antwoorden."

MARK_SHARED = "👁 gedeeld met je coach"
MARK_PRIVATE = "🔒 privé"

# The question in the onboarding and in /instellingen, and what each answer means.
QUESTION = "Mag je coach je antwoorden in de oefeningen lezen?"
CHOICE_WORDS: dict[str, str] = {
    "ja": "je coach mag je nieuwe antwoorden lezen",
    "nee": "je antwoorden zijn alleen voor jou",
    "kiezen": "je kiest na elke sessie zelf; tot dan zijn ze alleen voor jou",
}
NOT_ASKED = "je antwoorden zijn alleen voor jou (je koos nog niets)"

# The card: the newest few shared answers, each shortened.
CARD_ANSWERS = 5
CARD_ANSWER_MAX = 160


def shared_by_default(choice: Choice | None, dialogue_id: str) -> bool:
    """Whether a new answer in this dialogue starts shared."""
    return choice == "ja" and dialogue_id not in OWN_CHOICE


def tracked(svc: Services, dialogue_id: str) -> bool:
    """Whether an answer in this dialogue belongs to the session's one-tap choice."""
    dialogue = svc.library.dialogues.get(dialogue_id)
    kind = dialogue.kind if dialogue is not None else ""
    return dialogue_id not in OWN_CHOICE and kind not in ("checkin", "reflection")


def offers_choice(svc: Services, dialogue_id: str) -> bool:
    """Whether the end of this dialogue offers the one-tap choice."""
    dialogue = svc.library.dialogues.get(dialogue_id)
    return dialogue is not None and dialogue.kind in OFFER_KINDS


def title(svc: Services, dialogue_id: str) -> str:
    """A dialogue's title as the client and the coach know it (its id when gone)."""
    dialogue = svc.library.dialogues.get(dialogue_id)
    return dialogue.title if dialogue is not None else dialogue_id


def mark(answer: Answer, plan_shared: bool = False) -> str:
    """How /mijndata marks an answer: shared with the coach or private."""
    if answer.dialogue_id in OWN_CHOICE:
        return MARK_SHARED if plan_shared else MARK_PRIVATE
    return MARK_SHARED if answer.shared else MARK_PRIVATE


def shorten(text: str, limit: int) -> str:
    """Text on one line, at most `limit` characters (… when cut), not yet escaped."""
    words = " ".join(text.split())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"


# --- the one-tap choice at the end of a session ---------------------------------------------


def _data(shared: bool, span: tuple[int, int]) -> str:
    return f"{PREFIX}{int(shared)}:{span[0]}:{span[1]}"


def choice_message(shared: bool, span: tuple[int, int]) -> tuple[str, ButtonRows]:
    """The text and buttons that show the session's current choice and change it."""
    if shared:
        text = f"{NOW_SHARED}\n<i>{CHANGE_LATER}</i>"
    else:
        text = f"{NOW_PRIVATE} {ASK_SHARE}\n<i>{CHANGE_LATER}</i>"
    share = ("✓ " if shared else "") + SHARE
    keep = ("" if shared else "✓ ") + KEEP
    return text, [[(share, _data(True, span)), (keep, _data(False, span))]]


async def offer(svc: Services, bot: Any, user_id: int, chat_id: int, span: tuple[int, int]) -> None:
    """After a session with free-text answers: show whether they are shared, one tap to change."""
    async with svc.db.read() as conn:
        answers = [
            a for a in await journal.in_span(conn, user_id, *span) if tracked(svc, a.dialogue_id)
        ]
    if not answers:
        return
    text, rows = choice_message(all(a.shared for a in answers), span)
    await send_text(svc, bot, chat_id, text, rows, user_id=user_id)


def parse(data: str) -> tuple[bool, tuple[int, int]] | None:
    """The choice and the span a button carries; None for anything else."""
    parts = data[len(PREFIX) :].split(":") if data.startswith(PREFIX) else []
    ids = parts[1:]
    if len(parts) != 3 or parts[0] not in ("0", "1"):
        return None
    # Row ids fit SQLite's 64-bit integers; anything longer is not one of ours.
    if not all(p.isdigit() and len(p) <= 18 for p in ids):
        return None
    first, last = int(parts[1]), int(parts[2])
    return (parts[0] == "1", (first, last)) if first <= last else None


async def choose(svc: Services, user_id: int, data: str, message: Message | None) -> str:
    """The client tapped "Deel met je coach" or "Hou privé": change their answers in that span
    (only their own: the user id comes from Telegram, never from the button) and show the new
    choice on the same message. Returns the short line for answerCallbackQuery."""
    parsed = parse(data)
    if parsed is None:
        return NOT_YOURS
    shared, span = parsed
    exclude = list(OWN_CHOICE)
    async with svc.db.transaction() as conn:
        answers = await journal.in_span(conn, user_id, *span)
        exclude += [a.dialogue_id for a in answers if not tracked(svc, a.dialogue_id)]
        found = await journal.share_span(conn, user_id, *span, shared, exclude=exclude)
    if not found:
        log.info("sharing button without answers", extra={"user_id": user_id})
        return NOT_YOURS
    log.info("session answers sharing", extra={"user_id": user_id, "shared": shared})
    if message is not None:
        text, rows = choice_message(shared, span)
        try:
            await call(
                svc,
                "editMessageText",
                lambda: message.edit_text(
                    text, parse_mode=ParseMode.HTML, reply_markup=keyboard(rows)
                ),
                user_id=user_id,
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
    return TOLD_SHARED if shared else TOLD_PRIVATE


# --- what others show -----------------------------------------------------------------------


def card_lines(titles: Mapping[str, str], answers: list[Answer], tz: tzinfo) -> list[str]:
    """The shared answers on the coach's card: per dialogue, newest first, short, escaped."""
    if not answers:
        return []
    lines = ["📝 <b>Gedeeld uit de oefeningen</b>:"]
    order: list[str] = []
    for a in answers:
        if a.dialogue_id not in order:
            order.append(a.dialogue_id)
    for dialogue_id in order:
        lines.append(f"<i>{html.escape(titles.get(dialogue_id, dialogue_id))}</i>")
        for a in answers:
            if a.dialogue_id == dialogue_id:
                local = a.created_at.astimezone(tz)
                day = f"{local.day}/{local.month}"
                words = html.escape(shorten(a.text, CARD_ANSWER_MAX), quote=False)
                lines.append(f"• {day}: {words}")
    return lines


def choice_line(choice: Choice | None) -> str:
    """The client's choice for new answers, in words."""
    return CHOICE_WORDS.get(choice or "", NOT_ASKED)


def overview(
    svc: Services, answers: list[Answer], plan_shared: bool, limit: int = 4000
) -> list[str]:
    """/mijndata: every answer per dialogue with its mark, in messages of at most `limit`."""
    if not answers:
        return []
    blocks: list[str] = []
    current = ""
    for a in answers:
        if a.dialogue_id != current:
            current = a.dialogue_id
            blocks.append(f"\n<b>{html.escape(title(svc, current))}</b>")
        day = f"{a.created_at.day}/{a.created_at.month}/{a.created_at.year}"
        words = html.escape(shorten(a.text, 600), quote=False)
        blocks.append(f"{mark(a, plan_shared)} · {day}\n{words}")
    messages: list[str] = []
    text = "<b>Je antwoorden</b>, en wie ze kan lezen:"
    for block in blocks:
        if len(text) + 1 + len(block) > limit:
            messages.append(text)
            text = block.lstrip("\n")
        else:
            text += "\n" + block
    messages.append(text)
    return messages
