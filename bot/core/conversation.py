"""One client event through the engine: load, step, store in one transaction, then send."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot, Update, User

from bot.core import keyboards, pins, schedule, sharing
from bot.edge.sender import send_text
from bot.edge.services import Services
from dialogues import (
    ChoiceMade,
    Context,
    DialogueEnded,
    MediaReceived,
    Notice,
    RecordMood,
    RequestHandoff,
    Resumed,
    SaveAnswer,
    ScheduleFollowUp,
    SendMessage,
    StaleButton,
    Started,
    State,
    TextReceived,
    TypingPause,
    step,
)
from storage import assignments, clients, followups, inbox, journal, moods, progress
from storage.clients import Client

log = logging.getLogger(__name__)

Event = Started | TextReceived | ChoiceMade | Resumed | MediaReceived

# Variables the bot reads from dialogue state (see dialogues/README.md).
# `veiligheid` (the safety screen: veilig, onveilig, onbekend) is kept even without consent:
# without it a session could coach someone toward a partner who is a danger to them.
# The safety questions' answer (dialogues/scripts/veiligheid.yaml): veilig / onveilig / onbekend.
SAFETY_VAR = "veiligheid"
PROFILE_VARS = (
    "toestemming",
    "leeftijd",
    "land",
    "aanspreeknaam",
    "checkin_tijd",
    "veiligheid",
    "delen",  # may the coach read new answers: ja / nee / kiezen (bot.core.sharing)
)
# Bot-owned keys kept in the state's variables; they start with "_" so no script uses them.
DEEPLINK_VAR = "_na_start"
QUESTION_VAR = "_vraag_id"
MOOD_VAR = "_mood_id"
# A session a check-in was started over, as JSON; it comes back when the check-in ends.
PARKED_VAR = "_geparkeerd"
# Dialogues that may be started over a session without losing the client's place in it.
PARKING_KINDS = ("checkin", "reflection")
# At most this many states of clients without consent are held in memory (least recent go).
MAX_EPHEMERAL = 10_000
MAX_TYPING_PAUSE = 3.0
# "typing…" is shown only before a pause at least this long (a bubble of about 75 characters or
# more, see dialogues.engine.typing_seconds): shorter, it would flicker for a moment, or not show
# at all by the time it arrives, and cost a Bot API request the client never sees. The pause
# itself stays, so the bubbles keep their rhythm.
TYPING_SHOWN_FROM = 1.0
# last_seen is refreshed at most this often (retention counts in months).
TOUCH_EVERY = timedelta(minutes=1)


@dataclass
class StepResult:
    """What one event did, for the handler that caused it."""

    state: State
    stale: str | None = None
    handoff: RequestHandoff | None = None
    restored: bool = False
    ended: list[DialogueEnded] = field(default_factory=list)
    # The client's answer to the safety questions just became "onveilig".
    became_unsafe: bool = False
    # A session with free-text answers ended: the ids of its first and last answer, for the
    # one-tap choice to share them with the coach or keep them private (bot.core.sharing).
    answers_span: tuple[int, int] | None = None


def consented(client: Client) -> bool:
    """Whether the client agreed to storing answers, moods and notes (and is old enough)."""
    return client.consent_version is not None and client.age_ok != 0


def display_name(client: Client) -> str:
    """How the bot addresses the client."""
    return client.display_name or client.first_name or "je"


def private_user(update: Update) -> User | None:
    """The person behind an update from their own private chat with the bot; None otherwise.

    A client acts only in that chat: a button pressed (or forged) on a message in a group,
    even one the client is in, must not move their chat or show their menu there. On
    Telegram a private chat's id is the user's id.
    """
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    if chat.type != "private" or chat.id != user.id:
        return None
    return user


async def client_for(svc: Services, update: Update) -> Client | None:
    """The client of an update from their private chat (created or refreshed); None otherwise."""
    user = private_user(update)
    return None if user is None else await touch(svc, user, user.id)


async def touch(svc: Services, user: User, chat_id: int) -> Client:
    """Create or refresh the client row for a Telegram user, from their private chat."""
    if chat_id != user.id:
        # A client's chat id comes from their private chat alone (see private_user).
        raise ValueError("a client's chat is their private chat with the bot")
    now = svc.clock.now()
    # Most updates come from a client seen moments ago: a read is enough then, and the single
    # write connection stays free for the step itself (profiling: two write transactions an
    # update, each waiting for the writer under load).
    async with svc.db.read() as conn:
        known = await clients.get(conn, user.id)
    same = (
        known is not None
        and known.active
        and known.blocked_at is None
        and known.chat_id == chat_id
        and known.first_name == user.first_name
        and known.language_code == user.language_code
        and timedelta(0) <= now - known.last_seen
    )

    async def write(conn: Any) -> Client:
        return await clients.touch(
            conn,
            user_id=user.id,
            chat_id=chat_id,
            first_name=user.first_name,
            language_code=user.language_code,
            timezone=svc.config.clients.default_timezone,
            now=now,
        )

    if same and known is not None:
        if now - known.last_seen < TOUCH_EVERY:
            return known
        handling = inbox.current.get()
        if handling is not None:
            # Only last_seen is old: the handling's own write transaction (or the inbox's next
            # batch) carries it, so an update takes the writer once, not twice. An update, not
            # touch's insert: a client erased by this very update must not come back.
            uid = user.id
            handling.deferred.append(lambda conn: clients.seen(conn, uid, now))
            return known
    async with svc.db.transaction() as conn:
        return await write(conn)


def current_state(svc: Services, client: Client) -> State:
    """The client's dialogue state: in memory for clients without consent, else stored."""
    kept = svc.ephemeral.get(client.user_id)
    if kept is not None:
        return kept
    if client.state:
        try:
            return State.from_json(client.state)
        except (KeyError, TypeError, ValueError):
            log.warning("unreadable dialogue state reset", extra={"user_id": client.user_id})
    return State.idle()


def context_for(svc: Services, client: Client, state: State) -> Context:
    """What templates may see: the name, country, current module and a few extras."""
    question = ""
    qid = state.vars.get(QUESTION_VAR)
    if qid:
        for q in svc.library.reflection_questions:
            if q.id == qid:
                question = q.text
                break
    land = client.country or str(state.vars.get("land") or "nl")
    return Context(
        naam=display_name(client),
        land=land if land in ("nl", "be") else "nl",
        module=client.module or "",
        extra={"min_leeftijd": str(svc.config.clients.min_age), "vraag": question},
    )


def rng_for(client: Client, state: State, now: datetime) -> random.Random:
    """A seeded random source: the same client, step and day pick the same wording."""
    return random.Random(f"{client.user_id}:{state.nonce}:{state.node}:{now.date().isoformat()}")


def strip_private(state: State) -> State:
    """The state without answers and free variables: what may be kept without consent."""
    keep = {k: v for k, v in state.vars.items() if k in PROFILE_VARS or k.startswith("_")}
    return replace(state, vars=keep, answers={})


async def run(
    svc: Services,
    bot: Bot,
    client: Client,
    event: Event,
    *,
    state: State | None = None,
) -> StepResult:
    """Step the engine for one event, store the outcome, then send what it says."""
    now = svc.clock.now()
    old = state if state is not None else current_state(svc, client)
    ctx = context_for(svc, client, old)
    if isinstance(event, Started) and PARKED_VAR not in old.vars and sharing.SPAN_VAR in old.vars:
        # A new session begins (not a check-in over one): an abandoned one's answers keep
        # the client's default and are not offered with this one.
        old = replace(old, vars={k: v for k, v in old.vars.items() if k != sharing.SPAN_VAR})
    new, outputs = step(svc.library, old, event, now, rng_for(client, old, now), ctx)
    new, restored = _unpark(new)
    client, span = await _store(svc, client, old, new, outputs, now)
    unsafe = old.vars.get(SAFETY_VAR) != "onveilig" and new.vars.get(SAFETY_VAR) == "onveilig"
    result = StepResult(state=new, restored=restored, became_unsafe=unsafe, answers_span=span)
    await _deliver(svc, bot, client, outputs, result)
    return result


def _unpark(state: State) -> tuple[State, bool]:
    """When a check-in started over a session ends, put the client back in that session."""
    parked = state.vars.get(PARKED_VAR)
    if not isinstance(parked, str) or not state.is_idle:
        return state, False
    variables = {k: v for k, v in state.vars.items() if k != PARKED_VAR}
    try:
        back = State.from_json(json.loads(parked))
    except (KeyError, TypeError, ValueError):
        log.warning("unreadable parked state dropped")
        return replace(state, vars=variables), False
    return replace(back, vars=variables), True


async def start_dialogue(
    svc: Services,
    bot: Bot,
    client: Client,
    dialogue_id: str,
    *,
    park: bool = False,
    **extra_vars: Any,
) -> StepResult:
    """Begin a dialogue for a client, optionally with bot-owned variables set first.

    With `park` (a check-in the bot starts by itself), a session the client left half-way is
    kept and comes back when the check-in ends, so "ga verder waar je was" still works.
    """
    state = current_state(svc, client)
    variables = {k: v for k, v in state.vars.items() if k != PARKED_VAR}
    kind = _kind(svc, state.dialogue)
    if park and state.dialogue is not None and kind not in PARKING_KINDS:
        keep = state if consented(client) else replace(state, answers={})
        variables[PARKED_VAR] = json.dumps(replace(keep, vars={}).to_json())
    elif park and isinstance(state.vars.get(PARKED_VAR), str):
        variables[PARKED_VAR] = state.vars[PARKED_VAR]  # a check-in replacing an open one
    state = replace(state, vars={**variables, **extra_vars})
    # The coach's pinned sentence opens the next session, and shows once in the next check-in.
    await pins.show(svc, bot, client, _kind(svc, dialogue_id))
    return await run(svc, bot, client, Started(dialogue_id), state=state)


def _kind(svc: Services, dialogue_id: str | None) -> str:
    dialogue = svc.library.dialogues.get(dialogue_id) if dialogue_id else None
    return dialogue.kind if dialogue is not None else ""


async def _store(
    svc: Services, client: Client, old: State, new: State, outputs: list[Any], now: datetime
) -> tuple[Client, tuple[int, int] | None]:
    """Everything the step changed, in one transaction, before anything is sent; with the span
    of answers of a session that ended (see StepResult.answers_span)."""
    uid = client.user_id
    span: tuple[int, int] | None = None
    async with svc.db.transaction() as conn:
        changes: dict[str, Any] = {}
        for name in PROFILE_VARS:
            if new.vars.get(name) != old.vars.get(name) and name in new.vars:
                changes[name] = new.vars[name]
        if changes.get("leeftijd"):
            # Only an answer counts: the onboarding's empty default leaves the age unknown.
            await clients.update(conn, uid, age_ok=1 if changes["leeftijd"] == "ok" else 0)
        if "toestemming" in changes:
            if changes["toestemming"] == "ja" and changes.get("leeftijd", "ok") == "ok":
                await clients.set_consent(conn, uid, consent_version(svc), now)
            elif changes["toestemming"] != "ja" and client.consent_version is not None:
                await clients.set_consent(conn, uid, None, now)
                await journal.unshare_all(conn, uid)
        if changes.get("land") in ("nl", "be"):
            await clients.update(conn, uid, country=changes["land"])
        if isinstance(changes.get("aanspreeknaam"), str) and changes["aanspreeknaam"].strip():
            await clients.update(conn, uid, display_name=changes["aanspreeknaam"].strip()[:64])
        if "checkin_tijd" in changes:
            await schedule.apply_onboarding_choice(
                svc, conn, uid, str(changes["checkin_tijd"]), now
            )
        if changes:
            client = await clients.get(conn, uid) or client
        allowed = consented(client)
        if allowed and changes.get("delen") in journal.CHOICES:
            await journal.set_choice(conn, uid, changes["delen"], now)
        mood_id = new.vars.get(MOOD_VAR)
        first = new.vars.get(sharing.SPAN_VAR)
        # The session the client is in (a called exercise belongs to it; a check-in is none).
        top = old.stack[0].dialogue if old.stack else old.dialogue
        in_session = top is not None and sharing.offers_choice(svc, top)
        share_choice: Any = False  # read once, at the first answer of this step
        for out in outputs:
            if isinstance(out, SaveAnswer) and allowed:
                checkin = _kind(svc, out.dialogue_id) == "checkin"
                if checkin and out.name == "notitie" and isinstance(mood_id, int):
                    await moods.set_note(conn, uid, mood_id, out.text)
                else:
                    if share_choice is False:
                        share_choice = await journal.choice(conn, uid)
                    shared = sharing.shared_by_default(share_choice, out.dialogue_id)
                    answer_id = await journal.add_answer(
                        conn, uid, out.dialogue_id, out.name, out.text, now, shared=shared
                    )
                    track = in_session and sharing.tracked(svc, out.dialogue_id)
                    if not isinstance(first, int) and track:
                        first = answer_id
                        new = replace(new, vars={**new.vars, sharing.SPAN_VAR: first})
            elif isinstance(out, RecordMood) and allowed:
                mood_id = await moods.add(conn, uid, out.score, now)
                new = replace(new, vars={**new.vars, MOOD_VAR: mood_id})
            elif isinstance(out, ScheduleFollowUp):
                await followups.add(conn, uid, out.dialogue_id, now + out.after)
            elif isinstance(out, DialogueEnded):
                if out.completed:
                    await progress.mark_completed(conn, uid, out.dialogue_id, now)
                    # Work the coach set out moves on (and is done after its last session).
                    await assignments.session_done(conn, uid, out.dialogue_id, now)
                if isinstance(first, int) and sharing.offers_choice(svc, out.dialogue_id):
                    last = await journal.last_id(conn, uid)
                    span = (first, last) if last is not None and allowed else None
                    first = None
                    new = replace(
                        new, vars={k: v for k, v in new.vars.items() if k != sharing.SPAN_VAR}
                    )
        module = svc.library.module_of(new.dialogue) if new.dialogue else None
        if module and module != client.module:
            await clients.update(conn, uid, module=module)
        await keep_state(svc, conn, uid, new, allowed=allowed)
    # Not read back a second time: the caller only needs the ids and the consent read above
    # (profiling showed the same row selected three times in every step).
    return client, span


async def keep_state(
    svc: Services, conn: Any, user_id: int, state: State, *, allowed: bool
) -> None:
    """Store a client's dialogue state, inside the caller's transaction.

    With consent the whole state goes to SQLite. Without, SQLite gets only the position and
    profile choices, and the whole state is held in memory while a dialogue runs (bounded,
    least recent first out) and dropped once the client is idle.
    """
    svc.ephemeral.pop(user_id, None)
    if allowed:
        await clients.save_state(conn, user_id, state.to_json())
        return
    if not state.is_idle:
        svc.ephemeral[user_id] = state
        while len(svc.ephemeral) > MAX_EPHEMERAL:
            svc.ephemeral.pop(next(iter(svc.ephemeral)))
    await clients.save_state(conn, user_id, strip_private(state).to_json())


def consent_version(svc: Services) -> str:
    """Which consent text the client agreed to: the onboarding dialogue and its version."""
    onboarding = svc.library.menu.onboarding
    dialogue = svc.library.dialogues.get(onboarding)
    return f"{onboarding}@{dialogue.version if dialogue else 0}"


async def _deliver(
    svc: Services, bot: Bot, client: Client, outputs: list[Any], result: StepResult
) -> None:
    """Turn engine outputs into Bot API calls, in order."""
    chat_id = client.chat_id
    pauses = svc.config.dialogues.typing_pauses
    offered = False
    # Whatever the event, the buttons shown with the previous step no longer apply (an answer
    # typed at "Sla over", a step shown again, another dialogue started): take them away.
    await keyboards.clear(svc, bot, client.user_id, "step")
    for out in outputs:
        if isinstance(out, SendMessage):
            rows = [[(b.label, b.token) for b in row] for row in out.buttons]
            sent = await send_text(svc, bot, chat_id, out.text, rows, user_id=client.user_id)
            keyboards.remember(svc, client.user_id, "step", sent)
        elif isinstance(out, TypingPause):
            if pauses:
                if out.seconds >= TYPING_SHOWN_FROM:
                    await bot.send_chat_action(chat_id, "typing")
                await asyncio.sleep(min(out.seconds, MAX_TYPING_PAUSE))
        elif isinstance(out, Notice):
            await send_text(svc, bot, chat_id, f"<i>{out.text}</i>", user_id=client.user_id)
        elif isinstance(out, StaleButton):
            result.stale = out.text
        elif isinstance(out, RequestHandoff):
            result.handoff = out
        elif isinstance(out, DialogueEnded):
            result.ended.append(out)
            span = result.answers_span
            if span is not None and sharing.offers_choice(svc, out.dialogue_id) and not offered:
                # The session's answers: shared with the coach or private, one tap to change
                # it; here, so that it comes before a next session the dialogue starts.
                offered = True
                await sharing.offer(svc, bot, client.user_id, chat_id, span)
    log.info(
        "dialogue step",
        extra={
            "user_id": client.user_id,
            "dialogue": result.state.dialogue,
            "node": result.state.node,
        },
    )
