"""The coach channel: the client's topic and card in the coach group (or the coaches' private
chats), lines and relayed messages to the coaches, opening a hand-off, danger alerts, erasure.

Shared by the features that reach the coach: the hand-off (client and coach side), the crisis
answer, data rights. Client text is relayed with copyMessage and never logged.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import html
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from telegram import Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.core import conversation, safety_plan, sharing
from bot.core.office_hours import MONTHS, availability, away, hhmm, zone
from bot.edge.config import CoachConfig
from bot.edge.sender import ButtonRows, call, keyboard, send_text
from bot.edge.services import Services
from storage import (
    assignments,
    clients,
    handoffs,
    journal,
    links,
    moods,
    notices,
    pins,
    progress,
    safety,
)
from storage import scheduled as scheduled_messages
from storage.assignments import Assignment
from storage.clients import Client
from storage.handoffs import Handoff
from storage.journal import Answer
from storage.pins import Pin

log = logging.getLogger(__name__)
T = TypeVar("T")

# Key in storage: "we asked this client for a reason" (notices, with the client's user id as
# subject, so export and erasure include it); opening the hand-off ends the wait.
REASON_WAIT = "handoff.reason_wait"
REASON_MAX = 500
MOOD_DAYS = 14
# The safety questions' answer on the card (the client consented to the card's facts). With
# "onveilig" the coach knows not to suggest couples work or confronting the partner.
SCREEN_VAR = "veiligheid"
SCREEN_WORDS = {
    "veilig": "voelt zich veilig",
    "onveilig": "⚠️ voelt zich niet altijd veilig; geen koppelwerk of confrontatie voorstellen",
    "onbekend": "wil het (nog) niet zeggen",
}
# Each part of a shared safety plan on the card, at most (the card stays one message).
CARD_PLAN_PART = 200
FLAG_DAYS = 30

# Client buttons (private chat) and card buttons (coach chat); both start with "h".
CARD_TAKE = "h:t:"
CARD_MENU = "h:m:"
CARD_MODULES = "h:k:"
CARD_BACK = "h:x:"
CARD_RETURN = "h:r:"
CARD_PIN = "h:p:"
# The card's "set out work" button (features/handoff/assign.py), with the client's user id.
CARD_ASSIGN = "as:m:"
ASSIGN_BUTTON = "📚 Werk klaarzetten"

COACH_LABEL = "💬 <b>Je coach</b>"
TEXT_MAX = 4096
CAPTION_MAX = 1024

# --- what the client reads (Dutch, je-form) -------------------------------------------------
# "Je coach" once a message: the three parts of the confirmation are read as one.
CONFIRMED = (
    "Je coach weet nu dat je contact zoekt. Alles wat je vanaf nu hier stuurt, komt daar aan."
)
ALREADY_OPEN = "Je bent al in gesprek met je coach. Alles wat je hier stuurt, komt daar aan."
NOT_24_7 = "Niet dag en nacht, wel zo snel als het kan. Is het niet veilig? Typ /hulp: die hulp is er altijd."
HANDED_BACK = (
    "Je coach heeft het gesprek afgerond. Fijn dat je contact zocht! Je bent weer terug bij mij."
)
HANDED_BACK_MODULE = (
    "Je coach heeft het gesprek afgerond en stelt voor om verder te gaan met "
    "<b>{title}</b>. Daar gaan we."
)
TAKEN = "Je coach heeft je bericht gezien en reageert zo."
NOT_PASSED_ON = (
    "Dit bericht kon ik niet doorgeven aan je coach. Wil je het op een andere manier sturen, "
    "bijvoorbeeld als tekst of als foto?"
)
# To the coaches when a client changes a message during a hand-off (after the name).
EDITED = "paste een eerder bericht aan. Nu staat er:"
EDITED_LONG = "paste een eerder bericht aan (te lang om hier te tonen)."
EDITED_MEDIA = "paste een eerder bericht aan (foto, bestand of iets anders zonder tekst)."
# To the coaches when Telegram would not copy one client message (the client is told too).
NOT_PASSED_ON_COACH = (
    "⚠️ <i>De cliënt stuurde een bericht dat Telegram niet liet doorsturen. "
    "De cliënt weet dat het niet is aangekomen.</i>"
)
NO_COACH = (
    "Er is op dit moment geen coach aan deze bot gekoppeld, dus je bericht kan niemand bereiken. "
    "Is het niet veilig? Typ /hulp voor hulp die altijd bereikbaar is."
)
# After an erasure, one line to the coaches, never with the client's name (in the group's
# general topic, or in each coach's private chat that held messages about the client).
ERASED_GROUP = "🗑️ De gegevens van een cliënt zijn gewist. Het topic van die cliënt is verwijderd."
ERASED_GROUP_KEPT = (
    "🗑️ De gegevens van een cliënt zijn gewist. Het topic ‘Gewist · {sid}’ kon ik niet "
    "verwijderen: verwijder het zelf, met alles wat erin staat."
)
ERASED_PRIVATE = (
    "🗑️ De gegevens van een cliënt zijn gewist. Mijn berichten over die cliënt in deze chat zijn "
    "verwijderd; je eigen antwoorden verwijder je zelf."
)
ERASED_PRIVATE_KEPT = (
    "🗑️ De gegevens van een cliënt zijn gewist. {count} van mijn berichten over ‘· {sid}’ kon ik "
    "hier niet verwijderen (Telegram staat dat na 48 uur niet toe): verwijder ze zelf, en je "
    "eigen antwoorden ook."
)

MOOD_FACES = {1: "😣", 2: "😕", 3: "😐", 4: "🙂", 5: "😄"}
FLAG_WORDS = {
    "suicide": "suïcidale gedachten",
    "selfharm": "zelfbeschadiging",
    "self_harm": "zelfbeschadiging",
    "overdose": "overdosis",
    "partner_danger": "gevaar door partner",
    "partner_violence": "gevaar door partner",
    "violence": "geweld",
}


class TopicGone(Exception):
    """The client's topic was deleted in the coach group."""


# --- names, the card ------------------------------------------------------------------------


def short_id(user_id: int) -> str:
    """Four hex digits that tell clients with the same first name apart (not their user id)."""
    return hashlib.sha256(f"coachbot-client:{user_id}".encode()).hexdigest()[:4]


def chosen_name(client: Client) -> str:
    """The name the client chose in the onboarding, else their Telegram first name (plain)."""
    return " ".join(client.name.split())[:24] or "Cliënt"


def label(client: Client) -> str:
    """The client as coaches see them: "Anna · 4f2a", with the chosen name (plain text)."""
    return f"{chosen_name(client)} · {short_id(client.user_id)}"


@dataclass(frozen=True)
class CardFacts:
    """Everything a card shows, gathered from storage."""

    client: Client
    consented: bool
    handoff: Handoff | None
    module_title: str | None
    module_done: int
    module_total: int
    current_title: str | None
    moods: list[tuple[datetime, int]]
    flags: list[tuple[datetime, str, str, str]]  # when, level, category, response
    # The client's safety plan: the card says one exists, and shows it only when shared.
    plan: safety_plan.Plan | None = None
    # The client's own answer to the safety questions (veilig / onveilig / onbekend), if asked.
    safety_screen: str | None = None
    # Hand-offs with the coach that were closed before (the coach's own history with them).
    past_handoffs: int = 0
    # The coach's pinned sentence (the coach's own words, shown whatever the consent).
    pin: Pin | None = None
    # The newest journal answers the client shared (never a private one; none without consent).
    shared_answers: tuple[Answer, ...] = ()
    # Dialogue titles for those answers, by dialogue id.
    titles: Mapping[str, str] = field(default_factory=dict)
    # Work the coach set out (the latest not replaced), and messages waiting to be sent.
    assignment: Assignment | None = None
    later_pending: int = 0


# The client chose discreet mode (someone may see their phone): what a coach sends shows in a
# notification, so the card and /later say so, once, plainly.
DISCREET_NOTE = (
    "🔕 Discrete modus: wat je stuurt kan zichtbaar zijn op een vergrendeld scherm. "
    "Schrijf neutraal."
)


def _local(cfg: CoachConfig, when: datetime) -> str:
    local = when.astimezone(zone(cfg))
    return f"{local.day} {MONTHS[local.month - 1][:3]} {local.year}"


def _flag_line(cfg: CoachConfig, when: datetime, level: str, category: str, response: str) -> str:
    what = FLAG_WORDS.get(category, category or "onbekend")
    local = when.astimezone(zone(cfg))
    answer = {"yes": " (zei ja op de vraag)", "no": " (zei nee op de vraag)"}.get(response, "")
    kind = "CRISIS" if level == "crisis" else "onduidelijk signaal"
    return (
        f"🚩 <b>{kind}</b>: {html.escape(what)} — {local.day}/{local.month} "
        f"{local.hour:02d}:{local.minute:02d}{answer}"
    )


def card_text(cfg: CoachConfig, facts: CardFacts, now: datetime) -> str:
    """The card that opens a hand-off in the coach chat (HTML)."""
    c = facts.client
    lines = [f"🧾 <b>{html.escape(label(c))}</b>"]
    telegram_name = " ".join(c.first_name.split())
    if c.display_name and telegram_name and telegram_name != chosen_name(c):
        lines.append(f"Op Telegram: {html.escape(telegram_name[:64])}")
    if facts.handoff is not None:
        opened = facts.handoff.opened_at.astimezone(zone(cfg))
        lines.append(f"Wil contact sinds {opened.day}/{opened.month} {hhmm(opened.time())}")
    else:
        lines.append("Geen open hand-off")
    lines.append(f"Cliënt sinds {_local(cfg, c.created_at)}")
    if c.discreet:
        lines.append(DISCREET_NOTE)
    if facts.module_title:
        lines.append(
            f"Module: {html.escape(facts.module_title)} "
            f"({facts.module_done}/{facts.module_total} sessies af)"
        )
    else:
        lines.append("Module: nog geen")
    if facts.past_handoffs:
        lines.append(f"Eerdere gesprekken met de coach: {facts.past_handoffs}")
    if facts.pin is not None:
        seen = [
            w for w, p in (("sessie", "session"), ("check-in", "checkin")) if facts.pin.shown_in(p)
        ]
        shown = f"gezien in {' en '.join(seen)}" if seen else "nog niet gezien"
        lines.append(f"📌 Vastgezet: {html.escape(facts.pin.text)} ({shown})")
    if facts.assignment is not None:
        lines.append(_assignment_line(cfg, facts.assignment))
    if facts.later_pending:
        lines.append(f"🕒 Geplande berichten: {facts.later_pending} (/later in het topic)")
    if facts.flags:
        lines.append("")
        lines.extend(_flag_line(cfg, *f) for f in facts.flags)
    if facts.consented:
        lines.append(f"Laatst gezien: {_local(cfg, c.last_seen)}")
        if facts.current_title:
            lines.append(f"Nu bezig met: {html.escape(facts.current_title)}")
        if facts.moods:
            faces = " ".join(MOOD_FACES.get(score, "?") for _, score in facts.moods)
            average = sum(score for _, score in facts.moods) / len(facts.moods)
            shown = f"{average:.1f}".replace(".", ",")
            lines.append(f"Stemming {MOOD_DAYS} dagen: {faces} (gem. {shown}, {len(facts.moods)}×)")
        else:
            lines.append(f"Stemming {MOOD_DAYS} dagen: geen check-ins")
        if facts.handoff is not None:
            reason = facts.handoff.reason
            shown = html.escape(reason) if reason else "<i>geen reden gegeven</i>"
            lines.append(f"Reden: {shown}")
        if facts.safety_screen in SCREEN_WORDS:
            lines.append(
                f"Veiligheid bij partner (eigen antwoord): {SCREEN_WORDS[facts.safety_screen]}"
            )
        if facts.plan is not None and facts.plan.exists:
            if facts.plan.shared:
                lines.append("")
                lines.append("📋 <b>Veiligheidsplan</b> (gedeeld door de cliënt):")
                lines.append(safety_plan.as_html(facts.plan, limit=CARD_PLAN_PART))
                lines.append("")
            else:
                lines.append("📋 Veiligheidsplan: ja, niet gedeeld.")
        if facts.shared_answers:
            # Private answers are not counted either: the card says nothing about them.
            lines.append("")
            lines.extend(sharing.card_lines(facts.titles, list(facts.shared_answers), zone(cfg)))
            lines.append("")
        since = _local(cfg, c.consent_at) if c.consent_at else "?"
        lines.append(f"Toestemming: ja (sinds {since}); je ziet stemming, reden en voortgang.")
    else:
        lines.append(
            "Toestemming: nee. Je ziet alleen naam en module; de cliënt kan je wel schrijven."
        )
    return "\n".join(lines)


def _assignment_line(cfg: CoachConfig, a: Assignment) -> str:
    """The card's line about work the coach set out."""

    def short(when: datetime) -> str:
        local = when.astimezone(zone(cfg))
        return f"{local.day}/{local.month} {hhmm(local.time())}"

    head = f"📚 Klaargezet: {html.escape(a.title)}"
    total = len(a.sessions)
    if a.status == "done":
        return f"{head}: ✅ afgerond ({short(a.finished_at or a.created_at)})"
    if a.status == "declined":
        return f"{head}: nu liever niet ({short(a.finished_at or a.created_at)})"
    part = f" ({a.done}/{total} af)" if total > 1 else ""
    if a.notified_at is not None:
        return f"{head}{part}, bericht gestuurd {short(a.notified_at)}"
    if a.notify_at is not None:
        return f"{head}{part}, bericht op {short(a.notify_at)}"
    return f"{head}{part}, staat in het menu"


def card_rows(svc: Services, handoff: Handoff | None) -> ButtonRows:
    """The card's buttons: take on, hand back to the menu, hand back to a module."""
    if handoff is None:
        return []
    rows: list[list[tuple[str, str]]] = []
    if handoff.status == "open":
        rows.append([("✋ Ik pak dit op", f"{CARD_TAKE}{handoff.id}")])
    rows.append(
        [
            ("↩️ Terug naar menu", f"{CARD_MENU}{handoff.id}"),
            ("📚 Terug naar module…", f"{CARD_MODULES}{handoff.id}"),
        ]
    )
    rows.append([("📌 Zin vastzetten", f"{CARD_PIN}{handoff.id}")])
    rows.append([(ASSIGN_BUTTON, f"{CARD_ASSIGN}{handoff.user_id}")])
    return rows


def module_rows(svc: Services, handoff_id: int) -> ButtonRows:
    """One button per module that has a dialogue to start, and back to the card's buttons."""
    rows: list[list[tuple[str, str]]] = []
    for module in svc.library.menu.modules:
        if any(s in svc.library.dialogues for s in module.sessions):
            rows.append([(module.title, f"{CARD_RETURN}{handoff_id}:{module.id}")])
    rows.append([("← Terug", f"{CARD_BACK}{handoff_id}")])
    return rows


async def card_facts(svc: Services, user_id: int) -> CardFacts | None:
    """Read what the card shows; None when the client is unknown (erased)."""
    now = svc.clock.now()
    async with svc.db.read() as conn:
        client = await clients.get(conn, user_id)
        if client is None:
            return None
        handoff = await handoffs.current(conn, user_id)
        done = await progress.completed(conn, user_id)
        flags = await safety.recent(conn, user_id, now - timedelta(days=FLAG_DAYS))
        mood_rows = await moods.since(conn, user_id, now - timedelta(days=MOOD_DAYS))
        plan = await safety_plan.load(conn, user_id)
        past = [h for h in await handoffs.history(conn, user_id) if h.status == "closed"]
        pin = await pins.get(conn, user_id)
        # Only what the client shared, and nothing without consent (shared_answers checks it).
        shared = await journal.shared_answers(conn, user_id, limit=sharing.CARD_ANSWERS)
        assignment = await assignments.latest(conn, user_id)
        later_pending = await scheduled_messages.count_pending(conn, user_id)
    agreed = conversation.consented(client)
    module = next((m for m in svc.library.menu.modules if m.id == client.module), None)
    current = None
    if agreed and isinstance(client.state, dict):
        dialogue = svc.library.dialogues.get(str(client.state.get("dialogue") or ""))
        current = dialogue.title if dialogue is not None else None
    return CardFacts(
        client=client,
        consented=agreed,
        handoff=handoff,
        module_title=module.title if module else None,
        module_done=sum(1 for s in module.sessions if s in done) if module else 0,
        module_total=len(module.sessions) if module else 0,
        current_title=current,
        moods=[(m.created_at, m.score) for m in mood_rows] if agreed else [],
        # Danger signals are shown whatever the consent: the coach must be able to act on them.
        flags=[(f.created_at, f.level, f.category, f.response) for f in flags],
        plan=plan if agreed else None,
        safety_screen=_screen_answer(client) if agreed else None,
        past_handoffs=len(past),
        pin=pin,
        shared_answers=tuple(shared) if agreed else (),
        titles={a.dialogue_id: sharing.title(svc, a.dialogue_id) for a in shared},
        assignment=assignment,
        later_pending=later_pending,
    )


def _screen_answer(client: Client) -> str | None:
    """The profile variable the onboarding's safety questions leave."""
    state = client.state if isinstance(client.state, dict) else {}
    variables = state.get("vars")
    value = variables.get(SCREEN_VAR) if isinstance(variables, dict) else None
    return value if isinstance(value, str) else None


# --- talking to the coach chat --------------------------------------------------------------


def group_mode(svc: Services) -> bool:
    """Whether a coach group with topics is configured (else coaches' private chats are used)."""
    return svc.config.coach.chat_id != 0


def _thread_gone(exc: BadRequest) -> bool:
    text = str(exc).lower()
    return "thread not found" in text or "topic_deleted" in text or "topic deleted" in text


async def topic_call(svc: Services, what: str, make: Callable[[], Awaitable[T]]) -> T | None:
    """A Bot API call into a topic; raises TopicGone when the topic was deleted."""
    try:
        return await make()
    except BadRequest as exc:
        if _thread_gone(exc):
            raise TopicGone from exc
        raise
    except (RetryAfter, TimedOut, NetworkError):
        # The sender's retry logic handles the transient errors.
        return await call(svc, what, make)


def _topic_lock(svc: Services, user_id: int) -> asyncio.Lock:
    """One lock per client, so a coach's and a client's update never create two topics at once."""
    locks: dict[int, asyncio.Lock] = svc.scratch.setdefault("handoff.topic_locks", {})
    lock = locks.get(user_id)
    if lock is None:
        lock = locks[user_id] = asyncio.Lock()
    return lock


async def ensure_topic(svc: Services, bot: Any, client: Client) -> tuple[int, int, bool]:
    """The client's topic in the coach group (chat id, thread id, whether it was just created)."""
    async with _topic_lock(svc, client.user_id):
        return await _ensure_topic(svc, bot, client)


async def _ensure_topic(svc: Services, bot: Any, client: Client) -> tuple[int, int, bool]:
    chat_id = svc.config.coach.chat_id
    async with svc.db.read() as conn:
        topic = await handoffs.topic_for(conn, client.user_id)
    name = label(client)
    if topic is not None and topic.chat_id == chat_id:
        if topic.name != name:
            await _rename_topic(svc, bot, client.user_id, chat_id, topic.thread_id, name)
        return topic.chat_id, topic.thread_id, False
    created = await call(svc, "createForumTopic", lambda: bot.create_forum_topic(chat_id, name))
    if created is None:
        raise RuntimeError("could not create a forum topic in the coach group")
    async with svc.db.transaction() as conn:
        await handoffs.set_topic(conn, client.user_id, chat_id, created.message_thread_id, name)
    log.info("coach topic created", extra={"user_id": client.user_id})
    return chat_id, created.message_thread_id, True


async def _rename_topic(
    svc: Services, bot: Any, user_id: int, chat_id: int, thread_id: int, name: str
) -> None:
    """The client chose another name since their topic was made: the topic follows it."""
    try:
        await topic_call(
            svc, "editForumTopic", lambda: bot.edit_forum_topic(chat_id, thread_id, name=name)
        )
    except TopicGone:
        return  # the next post into it finds that out and makes a new one, with the new name
    except BadRequest as exc:
        # No right to manage topics: the old name stays (and is not tried again), nothing lost.
        log.info("could not rename a coach topic: %s", exc.message)
    async with svc.db.transaction() as conn:
        await handoffs.set_topic(conn, user_id, chat_id, thread_id, name)


async def forget_topic(svc: Services, user_id: int, thread_id: int) -> None:
    """Drop the link to a topic that no longer exists (unless another update made a new one)."""
    async with _topic_lock(svc, user_id), svc.db.transaction() as conn:
        topic = await handoffs.topic_for(conn, user_id)
        if topic is None or topic.thread_id != thread_id:
            return
        await handoffs.delete_topic(conn, user_id)
    log.info("coach topic was deleted; it will be made again", extra={"user_id": user_id})


async def in_topic(
    svc: Services,
    bot: Any,
    client: Client,
    make: Callable[[int, int], Awaitable[T]],
    *,
    card_if_new: bool = True,
) -> T | None:
    """Post into the client's topic, (re)creating it, with a fresh card, when it is new or gone."""
    for _ in range(2):
        chat_id, thread_id, created = await ensure_topic(svc, bot, client)
        try:
            if created and card_if_new:
                await _post_card_in(svc, bot, client.user_id, chat_id, thread_id)
            return await topic_call(
                svc, "send to topic", functools.partial(make, chat_id, thread_id)
            )
        except TopicGone:
            await forget_topic(svc, client.user_id, thread_id)
    raise RuntimeError("the coach topic vanished twice in a row")


async def _in_group(
    svc: Services,
    bot: Any,
    client: Client,
    make: Callable[[int, int], Awaitable[Any]],
    *,
    card_if_new: bool = True,
) -> bool:
    """Post into the client's topic; False when the coach group cannot be used at all.

    A group that is not a forum, or where the bot is no admin, is a configuration mistake a
    person can make: the coaches' private chats take over, so no client message is lost.
    """
    try:
        await in_topic(svc, bot, client, make, card_if_new=card_if_new)
    except (BadRequest, RuntimeError) as exc:
        log.error(
            "coach group unusable (%s); using the coaches' private chats instead",
            getattr(exc, "message", type(exc).__name__),
        )
        return False
    return True


async def _post_card_in(
    svc: Services, bot: Any, user_id: int, chat_id: int, thread_id: int | None
) -> Message | None:
    facts = await card_facts(svc, user_id)
    if facts is None:
        return None
    text = card_text(svc.config.coach, facts, svc.clock.now())
    markup = keyboard(card_rows(svc, facts.handoff))
    return await topic_call(
        svc,
        "sendMessage card",
        lambda: bot.send_message(
            chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            message_thread_id=thread_id,
        ),
    )


async def to_coaches_privately(
    svc: Services, bot: Any, user_id: int, make: Callable[[int], Awaitable[Any]]
) -> list[tuple[int, int]]:
    """Send something to each coach's private chat; returns (chat id, message id) of each."""
    sent: list[tuple[int, int]] = []
    for coach_id in svc.config.coach.user_ids:
        # user_id=None: a coach who never started the bot is not a blocked client.
        result = await call(svc, "send to coach", functools.partial(make, coach_id))
        if result is not None:
            sent.append((coach_id, int(result.message_id)))
    if sent:
        now = svc.clock.now()
        async with svc.db.transaction() as conn:
            for chat_id, message_id in sent:
                await handoffs.add_relay(conn, chat_id, message_id, user_id, now)
    return sent


async def post_card(svc: Services, bot: Any, client: Client) -> None:
    """Post the client's card: in their topic, or to each coach privately."""

    # A new topic gets its card from in_topic; an existing one gets it here.
    async def send_card(chat_id: int, thread_id: int) -> Message | None:
        return await _post_card_in(svc, bot, client.user_id, chat_id, thread_id)

    if group_mode(svc) and await _in_group(svc, bot, client, send_card, card_if_new=False):
        return
    facts = await card_facts(svc, client.user_id)
    if facts is None:
        return
    text = card_text(svc.config.coach, facts, svc.clock.now())
    text += "\n\n<i>Beantwoord (reply) een bericht van deze cliënt om te antwoorden.</i>"
    markup = keyboard(card_rows(svc, facts.handoff))
    await to_coaches_privately(
        svc,
        bot,
        client.user_id,
        lambda cid: bot.send_message(cid, text, parse_mode=ParseMode.HTML, reply_markup=markup),
    )


# A coach's command about a client whose data was erased.
GONE = "Deze cliënt is er niet meer."


async def command_target(
    svc: Services, bot: Any, message: Message, where: str
) -> tuple[int, Client] | None:
    """For a coach's command about one client (in their topic, or replying to their message):
    the coach's id and the client, read afresh. None when the sender is no coach (nothing is
    said), or after telling the coach `where` to use it, or that the client is gone."""
    sender = message.from_user
    if sender is None or not svc.config.is_coach(sender.id):
        return None
    user_id = await client_of_command(svc, message)
    if user_id is None:
        await reply_here(svc, bot, message, where)
        return None
    async with svc.db.read() as conn:
        client = await clients.get(conn, user_id)
    if client is None:
        await reply_here(svc, bot, message, GONE)
        return None
    return sender.id, client


async def client_of_command(svc: Services, message: Message) -> int | None:
    """The client a coach's command is about: their topic, or the relayed message it replies to."""
    async with svc.db.read() as conn:
        if message.chat_id == svc.config.coach.chat_id != 0:
            if message.is_topic_message and message.message_thread_id is not None:
                return await handoffs.user_for_topic(
                    conn, message.chat_id, message.message_thread_id
                )
            return None
        replied = message.reply_to_message
        if replied is None:
            return None
        return await handoffs.user_for_relay(conn, message.chat_id, replied.message_id)


async def reply_here(
    svc: Services, bot: Any, message: Message, text: str, rows: ButtonRows | None = None
) -> Message | None:
    """Answer a coach in the chat (and topic) their command or button came from (HTML)."""
    thread = message.message_thread_id if message.is_topic_message else None
    return await call(
        svc,
        "sendMessage to coach chat",
        lambda: bot.send_message(
            message.chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard(rows),
            message_thread_id=thread,
        ),
    )


async def say_to_coaches(
    svc: Services, bot: Any, client: Client, text: str, *, card_if_new: bool = True
) -> list[tuple[int, int]]:
    """A line (HTML) about this client in their topic, or to each coach privately; returns
    where it went (chat id, message id)."""
    placed: list[tuple[int, int]] = []

    async def send(chat_id: int, thread_id: int) -> Any:
        sent = await bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, message_thread_id=thread_id
        )
        if sent is not None:
            placed.append((chat_id, int(sent.message_id)))
        return sent

    if group_mode(svc) and await _in_group(svc, bot, client, send, card_if_new=card_if_new):
        return placed
    head = f"<b>{html.escape(label(client))}</b>\n"
    return await to_coaches_privately(
        svc,
        bot,
        client.user_id,
        lambda cid: bot.send_message(cid, head + text, parse_mode=ParseMode.HTML),
    )


async def copy_or_refused(make: Callable[[], Awaitable[T]], what: str) -> T | None:
    """A copyMessage Telegram may refuse for this one message (a kind it will not copy, a
    message deleted meanwhile): None then, quietly, since it is no bug; a topic that is gone
    still raises TopicGone."""
    try:
        return await make()
    except BadRequest as exc:
        if _thread_gone(exc):
            raise TopicGone from exc
        log.warning("telegram would not copy a message (%s): %s", what, exc.message)
        return None


async def relay_from_client(svc: Services, bot: Any, client: Client, message: Message) -> bool:
    """Copy one client message to the coach chat (their topic, or each coach privately).

    False when Telegram would not copy this one message: the client is told so, the coaches
    get a line saying so, and nothing else changes (the group stays in use).
    """
    refused = False
    placed: list[tuple[int, int]] = []

    async def copy(chat_id: int, thread_id: int) -> Any:
        nonlocal refused
        copied = await _labelled_copy(bot, client, message, chat_id, thread_id)
        refused = copied is None
        if copied is not None:
            placed.append((chat_id, int(copied.message_id)))
        return copied

    async def line(chat_id: int, thread_id: int) -> Any:
        return await bot.send_message(
            chat_id, NOT_PASSED_ON_COACH, parse_mode=ParseMode.HTML, message_thread_id=thread_id
        )

    in_group = group_mode(svc) and await _in_group(svc, bot, client, copy)
    if in_group and refused:
        # This one message, or the whole group? A plain line into the topic tells them apart.
        in_group = await _in_group(svc, bot, client, line, card_if_new=False)
    if not in_group:
        placed.clear()
        refused = await _relay_privately(svc, bot, client, message, placed)
    await link_messages(svc, client.user_id, links.IN, message.message_id, placed)
    if refused:
        await send_text(svc, bot, client.chat_id, NOT_PASSED_ON, user_id=client.user_id)
        log.info("client message not passed on to the coach", extra={"user_id": client.user_id})
        return False
    log.info("relayed client message to coach", extra={"user_id": client.user_id})
    return True


def captioned(message: Message) -> bool:
    """Whether the message is media that carries a caption (so a label can go in it)."""
    return any(
        getattr(message, kind, None)
        for kind in ("photo", "video", "document", "audio", "voice", "animation")
    )


async def _labelled_copy(
    bot: Any, client: Client, message: Message, chat_id: int, thread_id: int
) -> Any:
    """The client's message in their topic under their chosen name ("✉️ Anna"), so that no
    coach takes it for the bot's own words; None when Telegram would not copy it. Protected
    (protect_content): a group member cannot forward or save what a client wrote."""
    head = f"✉️ <b>{html.escape(chosen_name(client))}</b>"
    if message.text is not None and len(head) + 1 + len(message.text_html) <= TEXT_MAX:
        return await bot.send_message(
            chat_id,
            f"{head}\n{message.text_html}",
            parse_mode=ParseMode.HTML,
            message_thread_id=thread_id,
            protect_content=True,
        )
    caption = f"{head}\n{message.caption_html}" if message.caption else head
    if message.text is None and captioned(message) and len(caption) <= CAPTION_MAX:
        return await copy_or_refused(
            lambda: bot.copy_message(
                chat_id,
                client.chat_id,
                message.message_id,
                message_thread_id=thread_id,
                caption=caption,
                parse_mode=ParseMode.HTML,
                protect_content=True,
            ),
            "client to topic",
        )
    # Stickers, video notes, locations, a text too long for the label: the label, then the copy.
    line = await bot.send_message(
        chat_id, f"{head} stuurt:", parse_mode=ParseMode.HTML, message_thread_id=thread_id
    )
    copied = await copy_or_refused(
        lambda: bot.copy_message(
            chat_id,
            client.chat_id,
            message.message_id,
            message_thread_id=thread_id,
            protect_content=True,
        ),
        "client to topic",
    )
    if copied is None:
        try:
            await bot.delete_message(chat_id, line.message_id)
        except TelegramError:
            log.info("could not take back a label in the coach topic")
    return copied


async def link_messages(
    svc: Services,
    user_id: int,
    direction: str,
    client_message_id: int,
    placed: list[tuple[int, int]],
) -> None:
    """Link a message in the client's chat to its counterparts (chat id, message id) in the
    coaches' chats, so that a reaction on either side can reach the other."""
    if not placed:
        return
    now = svc.clock.now()
    async with svc.db.transaction() as conn:
        for chat_id, message_id in placed:
            await links.add(conn, user_id, direction, client_message_id, chat_id, message_id, now)


async def _relay_privately(
    svc: Services, bot: Any, client: Client, message: Message, placed: list[tuple[int, int]]
) -> bool:
    """The message to each coach's private chat; True when Telegram would not copy it. Where
    it arrived, (chat id, message id) goes into `placed`."""
    # In a private chat messages of several clients mix: a name line before each message
    # tells them apart, and replying to either one reaches this client.
    head = f"✉️ <b>{html.escape(label(client))}</b>:"
    heads = await to_coaches_privately(
        svc,
        bot,
        client.user_id,
        lambda cid: bot.send_message(cid, head, parse_mode=ParseMode.HTML),
    )
    refused: set[int] = set()

    async def copy(cid: int) -> Any:
        copied = await copy_or_refused(
            lambda: bot.copy_message(cid, client.chat_id, message.message_id), "client to coach"
        )
        if copied is None:
            refused.add(cid)
        return copied

    placed.extend(await to_coaches_privately(svc, bot, client.user_id, copy))
    for cid, head_id in heads:
        if cid in refused:
            # No name line left hanging over nothing: it says what happened instead.
            await call(
                svc,
                "editMessageText",
                functools.partial(
                    bot.edit_message_text,
                    f"{head} {NOT_PASSED_ON_COACH}",
                    chat_id=cid,
                    message_id=head_id,
                    parse_mode=ParseMode.HTML,
                ),
            )
    return bool(refused)


async def relay_edit(svc: Services, bot: Any, client: Client, message: Message) -> None:
    """During a hand-off the client changed a message: the coaches get an edit note with the
    new text (or caption), so they never answer what is no longer there."""
    body = message.text_html if message.text is not None else message.caption_html

    def note_for(name: str) -> str:
        head = f"✏️ <b>{html.escape(name)}</b>"
        if not body:
            return f"{head} {EDITED_MEDIA}"
        note = f"{head} {EDITED}\n{body}"
        return note if len(note) <= TEXT_MAX else f"{head} {EDITED_LONG}"

    # In the topic the chosen name; in a private chat, where clients mix, with the short id.
    note = note_for(chosen_name(client))

    async def send(chat_id: int, thread_id: int) -> Any:
        return await bot.send_message(
            chat_id,
            note,
            parse_mode=ParseMode.HTML,
            message_thread_id=thread_id,
            protect_content=True,
        )

    if group_mode(svc) and await _in_group(svc, bot, client, send):
        return
    private_note = note_for(label(client))
    await to_coaches_privately(
        svc,
        bot,
        client.user_id,
        lambda cid: bot.send_message(cid, private_note, parse_mode=ParseMode.HTML),
    )
    log.info("client edit passed on to the coach", extra={"user_id": client.user_id})


# --- opening a hand-off, alerts, erasure ----------------------------------------------------


async def is_open(svc: Services, user_id: int) -> bool:
    """Whether the client has a hand-off that is open or taken (check-ins stay quiet then)."""
    async with svc.db.read() as conn:
        return await handoffs.current(conn, user_id) is not None


async def request(svc: Services, bot: Any, client: Client, reason: str | None) -> None:
    """From a dialogue: open the hand-off at once, confirm, and say when to expect an answer."""
    await open_handoff(svc, bot, client, reason)


async def open_handoff(
    svc: Services,
    bot: Any,
    client: Client,
    reason: str | None,
    *,
    first_message: Message | None = None,
) -> None:
    """Open (or find) the hand-off, tell the client, post the card, relay a first message."""
    if not svc.config.coach.user_ids:
        # Promising a coach who does not exist would leave someone waiting for nobody.
        await send_text(svc, bot, client.chat_id, NO_COACH, user_id=client.user_id)
        return
    now = svc.clock.now()
    reason = reason.strip()[:REASON_MAX] if reason and reason.strip() else None
    async with svc.db.transaction() as conn:
        await notices.clear(conn, REASON_WAIT, client.user_id)
        existing = await handoffs.current(conn, client.user_id)
        if existing is None:
            handoff = await handoffs.open(conn, client.user_id, reason, now)
    if existing is not None:
        await send_text(svc, bot, client.chat_id, ALREADY_OPEN, user_id=client.user_id)
        if first_message is not None:
            await relay_from_client(svc, bot, client, first_message)
        return
    log.info("handoff opened", extra={"user_id": client.user_id, "handoff_id": handoff.id})
    period = await away(svc, now)
    text = f"{CONFIRMED}\n\n{availability(svc.config.coach, now, period)}\n\n{NOT_24_7}"
    await send_text(svc, bot, client.chat_id, text, user_id=client.user_id)
    await post_card(svc, bot, client)
    if first_message is not None:
        await relay_from_client(svc, bot, client, first_message)


async def alert(svc: Services, bot: Any, client: Client, level: str, category: str | None) -> None:
    """A danger signal: a loud line in the coach chat and the card with its flags."""
    if not svc.config.coach.user_ids:
        return
    what = FLAG_WORDS.get(category or "", category or "onbekend")
    if level == "crisis":
        text = (
            f"🚨🚨 <b>VEILIGHEID: CRISIS</b> ({html.escape(what)}). "
            "De cliënt kreeg meteen de hulplijnen. Neem zo snel mogelijk contact op."
        )
    else:
        text = (
            f"⚠️ <b>Veiligheid: onduidelijk signaal</b> ({html.escape(what)}). "
            "De cliënt kreeg een vraag of het veilig is."
        )
    if not group_mode(svc):
        text += "\n<i>Beantwoord dit bericht om de cliënt te schrijven.</i>"
    # The card with the flag follows the loud line, so a new topic does not get two cards.
    await say_to_coaches(svc, bot, client, text, card_if_new=False)
    await post_card(svc, bot, client)
    log.warning("coach alerted", extra={"user_id": client.user_id, "level": level})


async def forget(svc: Services, bot: Any, user_id: int) -> bool | None:
    """Before erasure: delete what the coach side holds of the client, tell the coaches in one
    line without a name, drop the link. True when nothing of the client is left there, False
    when something could not be deleted, None when the coaches never had anything of them.

    The topic is deleted with everything in it (a topic the bot may not delete is renamed and
    closed, and the coaches are asked to delete it); the bot's messages about the client in the
    coaches' private chats (the relays) are deleted, which Telegram allows for 48 hours.
    """
    async with svc.db.read() as conn:
        topic = await handoffs.topic_for(conn, user_id)
        relays = await handoffs.relays_of(conn, user_id)
    if topic is None and not relays:
        return None
    sid = short_id(user_id)
    complete = True
    if topic is not None:
        deleted = await _delete_topic(svc, bot, topic.chat_id, topic.thread_id, sid)
        complete = deleted
        note = ERASED_GROUP if deleted else ERASED_GROUP_KEPT.format(sid=sid)
        await _tell_coaches(svc, bot, topic.chat_id, note)
    by_chat: dict[int, list[int]] = {}
    for chat_id, message_id in relays:
        by_chat.setdefault(chat_id, []).append(message_id)
    for chat_id, message_ids in by_chat.items():
        kept = 0
        for message_id in message_ids:
            if not await _delete_message(svc, bot, chat_id, message_id):
                kept += 1
        complete = complete and kept == 0
        note = ERASED_PRIVATE_KEPT.format(count=kept, sid=sid) if kept else ERASED_PRIVATE
        await _tell_coaches(svc, bot, chat_id, note)
    async with svc.db.transaction() as conn:
        await handoffs.delete_topic(conn, user_id)
    log.info(
        "coach side cleared for erasure",
        extra={"user_id": user_id, "kind": "complete" if complete else "partial"},
    )
    return complete


async def _delete_topic(svc: Services, bot: Any, chat_id: int, thread: int, sid: str) -> bool:
    """Delete a client's topic; if the bot may not, rename and close it. True when deleted."""
    try:
        done = await topic_call(
            svc, "deleteForumTopic", lambda: bot.delete_forum_topic(chat_id, thread)
        )
    except TopicGone:
        return True  # deleted already
    except BadRequest as exc:
        log.warning("could not delete a coach topic: %s", exc.message)
        done = None
    if done:
        return True
    # Not allowed (no right to delete messages), or Telegram kept failing: at least the name
    # goes and the topic closes; the coaches are asked to delete it.
    steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("editForumTopic", lambda: bot.edit_forum_topic(chat_id, thread, name=f"Gewist · {sid}")),
        ("closeForumTopic", lambda: bot.close_forum_topic(chat_id, thread)),
    ]
    for what, make in steps:
        try:
            await topic_call(svc, what, make)
        except TopicGone:
            return True
        except BadRequest:
            log.info("coach topic step failed during erasure", extra={"step": what})
    return False


async def _delete_message(svc: Services, bot: Any, chat_id: int, message_id: int) -> bool:
    """Delete one of the bot's messages in a coach's chat; True when it is gone."""
    try:
        done = await call(svc, "deleteMessage", lambda: bot.delete_message(chat_id, message_id))
    except BadRequest as exc:
        # "message to delete not found": gone already. Anything else (too old): still there.
        return "not found" in exc.message.lower()
    return bool(done)


async def _tell_coaches(svc: Services, bot: Any, chat_id: int, text: str) -> None:
    """One line in a coach chat (a group's general topic, or a coach's private chat)."""
    try:
        await call(svc, "sendMessage", lambda: bot.send_message(chat_id, text))
    except BadRequest as exc:
        log.warning("could not tell the coaches about an erasure: %s", exc.message)
