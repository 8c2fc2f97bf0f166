"""Daily check-ins, weekly reflections and follow-ups: the one sweep (the schedule maths is in
`bot.core.schedule`).

SQLite is the source of truth: each client's schedule row holds the next check-in and reflection
time in UTC. One repeating JobQueue job (`sweep`) selects what is due through the partial indexes,
in batches; no job per client.

At-most-once: for each due item the sweep claims the send in the `sends` ledger AND plans the next
time in one write transaction, BEFORE anything is sent. A crash after that commit loses that one
check-in (it is never claimed again); it never doubles it. An item more than
`checkins.late_skip_hours` late is skipped to the next one, so a restart never floods anyone.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time as _time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from telegram import InputFile, Message, Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, TypeHandler

from bot.core import conversation, due_work, flow, menu, texts
from bot.core.helplines import SAFETY_FOLLOWUP, crisis_message
from bot.core.schedule import (
    local_moment,
    next_checkin,
    next_reflection,
    save_schedule,
    zone_or_default,
)
from bot.edge.sender import call, send_text
from bot.edge.services import Services, services
from bot.features.checkins import chart
from storage import clients, followups, handoffs, moods, notices, reflections, schedules
from storage.clients import Client
from storage.schedules import Schedule

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

SWEEP_JOB = "checkins.sweep"
REPAIR_JOB = "checkins.repair"
PRUNE_JOB = "checkins.prune"
# Runs after the client handlers (group 0) so the low-mood offer comes after the check-in ends.
AFTER_GROUP = 50

# Callback data of this module's buttons (the pattern in register() routes them here).
CB_CHECKIN = "k:ci"
CB_REFLECTION = "k:rf"
CB_SAFE_BETTER = "k:sf:beter"
CB_SAFE_HEAVY = "k:sf:zwaar"
# Discreet mode: the tap that opens a follow-up (with its dialogue id) or the next-day safety check.
CB_FOLLOWUP = "k:fu:"
CB_SAFE_SHOW = "k:sv"
CB_PATTERN = r"^k:(ci|rf|sv|sf:beter|sf:zwaar|fu:[a-z0-9-]{1,24})$"

LOW_MOOD = 2
LOW_MOOD_RUN = 3
LOW_OFFER_KEY = "checkins.low_offer"
LOW_OFFER_EVERY = timedelta(days=7)
# The offer follows the third low check-in, not a stale run of weeks ago.
LOW_OFFER_FRESH = timedelta(hours=12)
QUESTION_REPEAT_AFTER = timedelta(weeks=8)
SAFETY_LATE_LIMIT = timedelta(hours=24)
SENDS_KEPT = timedelta(days=30)
# Telegram allows about one message a second per chat: space the chart and the question.
CHAT_SPACING = 1.0
# Concurrent deliveries. More does not help: each one is CPU in this process (the engine step,
# a write transaction, the HTTP request), and httpx's pool gets slower with many connections.
SENDERS = 16
# Claim only about this many seconds of sending ahead (at telegram.global_rate): that bounds
# what a crash can lose, since claimed-but-unsent items are never sent again.
LOOKAHEAD_SECONDS = 2.0

# Dialogue kinds a new check-in or reflection may replace: an unanswered check-in is not
# held against anyone, so yesterday's open check-in must not block today's.
REPLACEABLE_KINDS = frozenset({"checkin", "reflection"})
REPLACE_AFTER = timedelta(hours=1)

DISCREET_LINE = "Hoi! Heb je even?"
DISCREET_BUTTON = "Ja, even"
SAFETY_TEXT = (
    "Hoi, ik wilde even bij je langskomen. Gisteren was het zwaar. Hoe gaat het nu met je?"
)
SAFETY_BETTER = "Beter"
SAFETY_HEAVY = "Nog steeds zwaar"
SAFETY_BETTER_REPLY = (
    "Fijn om te horen. Dank je dat je het laat weten. Als het weer zwaar wordt, typ dan /hulp "
    "of /coach."
)
SAFETY_HEAVY_COACH = "Wil je met je coach praten? Typ /coach, dan geef ik het door."
LOW_OFFER_TEXT = (
    "Ik zie dat het de laatste dagen een paar keer zwaar was. Dat mag er zijn. "
    "Wil je er met je coach over praten? Of eerst even een kleine oefening doen?"
)
LOW_OFFER_COACH = "💬 Praat met je coach"


# --- the sweep ------------------------------------------------------------------------------


@dataclass
class SweepReport:
    """What one sweep did: outcome counts per kind ('checkin.sent', ...) and query timings."""

    counts: Counter[str] = field(default_factory=Counter)
    selection_ms: list[float] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    def add(self, kind: str, outcome: str, n: int = 1) -> None:
        """Count one outcome."""
        self.counts[f"{kind}.{outcome}"] += n

    def get(self, kind: str, outcome: str) -> int:
        """How many items of a kind had an outcome."""
        return self.counts[f"{kind}.{outcome}"]

    @property
    def sent(self) -> int:
        """Items sent, all kinds."""
        return sum(v for k, v in self.counts.items() if k.endswith(".sent"))


@dataclass
class _Job:
    """One claimed item to deliver."""

    kind: schedules.SendKind
    user_id: int
    due_at: datetime
    dialogue_id: str = ""


class _CountingBot:
    """The Bot, counting the messages that really went out (for the ledger's 'sent')."""

    def __init__(self, bot: Any) -> None:
        self._bot = bot
        self.delivered = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)

    async def send_message(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._bot.send_message(*args, **kwargs)
        self.delivered += 1
        return result

    async def send_photo(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._bot.send_photo(*args, **kwargs)
        self.delivered += 1
        return result


# A client quiet this long in a session gets their check-in; the session waits for them.
PARK_AFTER = timedelta(hours=3)
# Why a planned follow-up is moved to the next day rather than dropped.
RETRY_FOLLOWUP = frozenset({"busy", "handoff", "late"})


def _idle_enough(svc: Services, client: Client) -> bool:
    """Whether a check-in may start: no dialogue, or an earlier check-in/reflection left open."""
    state = conversation.current_state(svc, client)
    if state.dialogue is None:
        return True
    dialogue = svc.library.dialogues.get(state.dialogue)
    quiet = svc.clock.now() - client.last_seen
    if dialogue is None or dialogue.kind not in REPLACEABLE_KINDS or state.stack:
        # A session left half-way is parked under the check-in (conversation.PARKED_VAR) once
        # the client has been quiet for a while; someone in the middle of it is left alone.
        return quiet >= PARK_AFTER
    # Someone answering right now is not interrupted; one who left it open is not held to it.
    return quiet >= REPLACE_AFTER


def _late(svc: Services, due: datetime, now: datetime) -> bool:
    return now - due > timedelta(hours=svc.config.checkins.late_skip_hours)


LOCK_KEY = "checkins.sweep_lock"


async def sweep(app: Application[Any, Any, Any, Any, Any, Any], now: datetime) -> SweepReport:
    """One pass: claim and send every due check-in, reflection and follow-up, in batches."""
    lock = app.bot_data.setdefault(LOCK_KEY, asyncio.Lock())
    report = SweepReport(started=_time.perf_counter())
    if lock.locked():
        # The previous sweep is still sending (a busy minute): it will pick these up.
        log.info("sweep skipped: the previous one is still running")
        return report
    async with lock:
        svc = services(app)
        # What other features hand the sweep (the coach's set-out work, messages for later).
        await due_work.run(svc, app.bot, now)
        ahead = lookahead(svc)
        # One slot per claimed item not yet delivered: never more than `ahead` of them.
        slots = asyncio.Semaphore(ahead)
        queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        finished: list[tuple[_Job, str]] = []
        workers = [
            asyncio.create_task(_worker(svc, app, queue, slots, finished, report))
            for _ in range(min(SENDERS, ahead))
        ]
        try:
            for kind in ("checkin", "reflection", "followup"):
                while True:
                    want = min(svc.config.checkins.batch_size, ahead)
                    for _ in range(want):
                        await slots.acquire()
                    jobs, more = await _claim_batch(svc, kind, now, want, finished, report)
                    for _ in range(want - len(jobs)):
                        slots.release()
                    for job in jobs:
                        queue.put_nowait(job)
                    if not more:
                        break
        finally:
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers, return_exceptions=True)
        await _record_finished(svc, finished, now)
    report.finished = _time.perf_counter()
    if report.counts:
        log.info("sweep done", extra={k.replace(".", "_"): v for k, v in report.counts.items()})
    return report


def lookahead(svc: Services) -> int:
    """How many claimed items may wait for sending: about LOOKAHEAD_SECONDS of the rate."""
    return max(1, int(svc.config.telegram.global_rate * LOOKAHEAD_SECONDS))


async def _record_finished(svc: Services, finished: list[tuple[_Job, str]], now: datetime) -> None:
    """Write how delivered items ended into the ledger (one transaction)."""
    if not finished:
        return
    done, finished[:] = list(finished), []
    async with svc.db.transaction() as conn:
        await _write_finished(conn, done, now)


async def _write_finished(conn: Any, done: list[tuple[_Job, str]], now: datetime) -> None:
    for job, status in done:
        await schedules.finish_send(conn, job.user_id, job.kind, job.due_at, status, now)  # type: ignore[arg-type]


async def _claim_batch(
    svc: Services,
    kind: str,
    now: datetime,
    batch: int,
    finished: list[tuple[_Job, str]],
    report: SweepReport,
) -> tuple[list[_Job], bool]:
    """Select a batch of due items, claim them and plan their next times in one transaction."""
    jobs: list[_Job] = []
    async with svc.db.transaction() as conn:
        # The statuses of items delivered meanwhile ride along in this transaction.
        done, finished[:] = list(finished), []
        await _write_finished(conn, done, now)
        started = _time.perf_counter()
        if kind == "checkin":
            due: list[Any] = await schedules.due_checkins(conn, now, batch)
        elif kind == "reflection":
            due = await schedules.due_reflections(conn, now, batch)
        else:
            due = await followups.due(conn, now, batch)
        report.selection_ms.append((_time.perf_counter() - started) * 1000)
        for item in due:
            if kind == "followup":
                job = await _claim_followup(svc, conn, item, now, report)
            else:
                job = await _claim_scheduled(svc, conn, kind, item, now, report)
            if job is not None:
                jobs.append(job)
    return jobs, len(due) >= batch


async def _claim_scheduled(
    svc: Services, conn: Any, kind: str, s: Schedule, now: datetime, report: SweepReport
) -> _Job | None:
    """Decide one due check-in or reflection; plan the next one in the same transaction."""
    client = await clients.get(conn, s.user_id)
    due = s.next_checkin_at if kind == "checkin" else s.next_reflection_at
    assert due is not None
    if client is None or not client.active or client.age_ok is False:
        # Blocked or too young: nothing more is planned (a returning client is re-planned by
        # the hourly repair job).
        await schedules.set_next(conn, s.user_id, checkin=None, reflection=None)
        report.add(kind, "inactive")
        return None
    zone = zone_or_default(client.timezone, svc.config.clients.default_timezone)
    # Strictly after now: the same moment (an ambiguous local time) never fires twice, and a
    # long outage resumes at the next moment instead of catching up.
    if kind == "checkin":
        await schedules.set_next(conn, s.user_id, checkin=next_checkin(s, zone, now))
    else:
        await schedules.set_next(conn, s.user_id, reflection=next_reflection(s, zone, now))
    send_kind: schedules.SendKind = "checkin" if kind == "checkin" else "reflection"
    outcome = None
    if _late(svc, due, now):
        outcome = "late"
    elif (
        kind == "checkin"
        and s.next_reflection_at is not None
        and s.next_reflection_at <= now
        and not _late(svc, s.next_reflection_at, now)
    ):
        # The weekly reflection due at the same time takes this check-in's place.
        outcome = "reflection"
    elif await handoffs.current(conn, s.user_id) is not None:
        outcome = "handoff"
    elif not _idle_enough(svc, client):
        outcome = "busy"
    if outcome is not None:
        await schedules.finish_send(conn, s.user_id, send_kind, due, "skipped", now)
        report.add(kind, outcome)
        return None
    if not await schedules.claim_send(conn, s.user_id, send_kind, due, now):
        report.add(kind, "already_claimed")
        return None
    dialogue_id = ""
    if kind == "checkin":
        dialogue_id = pick_checkin(svc, client.user_id, due.astimezone(zone).date())
    return _Job(send_kind, s.user_id, due, dialogue_id)


async def _claim_followup(
    svc: Services, conn: Any, f: followups.FollowUp, now: datetime, report: SweepReport
) -> _Job | None:
    """Decide one due follow-up; it is deleted in the same transaction as its claim."""
    await followups.delete(conn, f.id)
    safety = f.dialogue_id == SAFETY_FOLLOWUP
    kind: schedules.SendKind = "safety_followup" if safety else "followup"
    client = await clients.get(conn, f.user_id)
    late_limit = (
        SAFETY_LATE_LIMIT if safety else timedelta(hours=svc.config.checkins.late_skip_hours)
    )
    outcome = None
    if client is None or not client.active:
        outcome = "inactive"
    elif now - f.due_at > late_limit:
        outcome = "late"
    elif await handoffs.current(conn, f.user_id) is not None:
        # The coach is in direct contact: they do this check themselves.
        outcome = "handoff"
    elif not safety and (
        f.dialogue_id not in svc.library.dialogues or not _idle_enough(svc, client)
    ):
        outcome = "busy"
    if outcome is not None:
        await schedules.finish_send(conn, f.user_id, kind, f.due_at, "skipped", now)
        report.add(kind, outcome)
        if not safety and outcome in RETRY_FOLLOWUP and f.dialogue_id in svc.library.dialogues:
            # A follow-up a dialogue planned (a small step, the safety questions again) is not
            # lost to a busy moment: it comes the next day at the same time instead.
            later = f.due_at + timedelta(days=1)
            while later <= now:
                later += timedelta(days=1)
            await followups.add(conn, f.user_id, f.dialogue_id, later)
            report.add(kind, "rescheduled")
        return None
    if not await schedules.claim_send(conn, f.user_id, kind, f.due_at, now):
        report.add(kind, "already_claimed")
        return None
    return _Job(kind, f.user_id, f.due_at, f.dialogue_id)


async def _worker(
    svc: Services,
    app: Application[Any, Any, Any, Any, Any, Any],
    queue: asyncio.Queue[_Job | None],
    slots: asyncio.Semaphore,
    finished: list[tuple[_Job, str]],
    report: SweepReport,
) -> None:
    """Deliver claimed items until told to stop; one failing client never stops the sweep."""
    while True:
        job = await queue.get()
        if job is None:
            return
        bot = _CountingBot(app.bot)
        try:
            # Under the client's own lock: a tap of theirs cannot interleave with the start.
            async with svc.client_lock(job.user_id):
                status = await _deliver(svc, bot, job)
        except Exception:
            # A bug (or a request Telegram refused) for this client: logged loudly, and
            # the others still get theirs.
            log.exception("check-in delivery failed", extra={"user_id": job.user_id})
            status = "failed"
        finally:
            slots.release()
        if status == "sent" and bot.delivered == 0:
            status = "failed"
        if status == "failed" and not await _still_active(svc, job.user_id):
            status = "skipped"
            report.add(job.kind, "blocked")
        report.add(job.kind, status)
        finished.append((job, status))


async def _still_active(svc: Services, user_id: int) -> bool:
    async with svc.db.read() as conn:
        client = await clients.get(conn, user_id)
    return client is not None and client.active


async def _deliver(svc: Services, bot: Any, job: _Job) -> str:
    """Send one claimed item; returns the ledger status ('sent', 'skipped', 'failed')."""
    async with svc.db.read() as conn:
        client = await clients.get(conn, job.user_id)
    if client is None or not client.active:
        return "skipped"
    if client.discreet and job.kind == "safety_followup":
        # Only a neutral line can show on a locked screen; the question comes after the tap.
        rows = [[(DISCREET_BUTTON, CB_SAFE_SHOW)]]
        await send_text(svc, bot, client.chat_id, DISCREET_LINE, rows, user_id=client.user_id)
        return "sent"
    if job.kind == "safety_followup":
        rows = [[(SAFETY_BETTER, CB_SAFE_BETTER), (SAFETY_HEAVY, CB_SAFE_HEAVY)]]
        await send_text(svc, bot, client.chat_id, SAFETY_TEXT, rows, user_id=client.user_id)
        return "sent"
    # The client may have started something between the claim and now: never yank them out.
    if not _idle_enough(svc, client):
        return "skipped"
    before = conversation.current_state(svc, client)
    if client.discreet:
        # A follow-up quotes the client's own words, and a pinned sentence opens it: both wait
        # for the tap, like the check-in and the reflection.
        data = {"checkin": CB_CHECKIN, "reflection": CB_REFLECTION}.get(
            job.kind, f"{CB_FOLLOWUP}{job.dialogue_id}"
        )
        rows = [[(DISCREET_BUTTON, data)]]
        await send_text(svc, bot, client.chat_id, DISCREET_LINE, rows, user_id=client.user_id)
    elif job.kind == "followup":
        await _start(svc, bot, client, job.dialogue_id)
    elif job.kind == "checkin":
        await _start(svc, bot, client, job.dialogue_id)
    else:
        await send_reflection(svc, bot, client)
    if bot.delivered == 0:
        await _restore_state(svc, client, before)
    return "sent"


async def _restore_state(svc: Services, client: Client, before: Any) -> None:
    """Undo the state of a dialogue that never reached the client (blocked, or unreachable).

    Otherwise a client coming back weeks later would find their first message taken as the
    answer to a check-in they never saw.
    """
    async with svc.db.transaction() as conn:
        allowed = conversation.consented(client)
        await conversation.keep_state(svc, conn, client.user_id, before, allowed=allowed)


async def _start(svc: Services, bot: Any, client: Client, dialogue_id: str, **extra: Any) -> None:
    """Start a dialogue for the client and handle what follows (as a client tap would)."""
    # A session the client left half-way is parked, not lost: it comes back after the check-in.
    result = await conversation.start_dialogue(svc, bot, client, dialogue_id, park=True, **extra)
    await flow.after_step(svc, bot, client, result)


def pick_checkin(svc: Services, user_id: int, day: date) -> str:
    """The check-in variant of the day: seeded by client and date, so a retry picks the same."""
    variants = [d for d in svc.library.menu.checkins if d in svc.library.dialogues]
    if not variants:
        raise RuntimeError("the menu names no check-in dialogue that loaded")
    return random.Random(f"checkin:{user_id}:{day.isoformat()}").choice(variants)


async def pick_question(svc: Services, conn: Any, client: Client, now: datetime) -> str | None:
    """A reflection question for the client's module (or 'any'), not asked in eight weeks.

    A question about the partner as one side of a pattern, or about speaking up, is only for a
    client who said in the safety questions that they feel safe with their partner.
    """
    questions = svc.library.reflection_questions
    safe = conversation.current_state(svc, client).vars.get(conversation.SAFETY_VAR) == "veilig"
    if not safe:
        questions = tuple(q for q in questions if not q.only_when_safe)
    if not questions:
        return None
    recent = await reflections.asked_since(conn, client.user_id, now - QUESTION_REPEAT_AFTER)
    module = client.module or ""
    fitting = [q for q in questions if q.module in (module, "any")]
    fresh = [q for q in fitting if q.id not in recent]
    if not fresh:
        # The module's questions are used up: any question not asked lately, else any fitting.
        fresh = [q for q in questions if q.id not in recent] or fitting or list(questions)
    rng = random.Random(f"reflection:{client.user_id}:{now.date().isoformat()}")
    return rng.choice(fresh).id


async def week_days(svc: Services, client: Client, now: datetime) -> list[chart.Day]:
    """The last seven local days (today included) with each day's average mood."""
    zone = zone_or_default(client.timezone, svc.config.clients.default_timezone)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=6)
    start = local_moment(first, time(0, 0), zone)
    async with svc.db.read() as conn:
        found = await moods.since(conn, client.user_id, start)
    per_day: dict[date, list[int]] = {}
    for m in found:
        per_day.setdefault(m.created_at.astimezone(zone).date(), []).append(m.score)
    days = []
    for offset in range(7):
        day = first + timedelta(days=offset)
        scores = per_day.get(day)
        days.append(chart.Day(day, sum(scores) / len(scores) if scores else None))
    return days


async def send_reflection(svc: Services, bot: Any, client: Client) -> None:
    """The weekly reflection: the chart with its one-line summary, then the question dialogue."""
    reflection = svc.library.menu.reflection
    if not reflection or reflection not in svc.library.dialogues:
        raise RuntimeError("the menu names no reflection dialogue that loaded")
    now = svc.clock.now()
    days = await week_days(svc, client, now)
    png = await asyncio.to_thread(chart.render_week, days)
    photo = await call(
        svc,
        "sendPhoto",
        lambda: bot.send_photo(
            client.chat_id,
            InputFile(png, filename="week.png"),
            caption=chart.summary(days),
        ),
        user_id=client.user_id,
    )
    if photo is None:
        return
    async with svc.db.transaction() as conn:
        question = await pick_question(svc, conn, client, now)
        if question is not None:
            await reflections.mark_asked(conn, client.user_id, question, now)
    # One message a second per chat: the question follows the chart after a short pause.
    await asyncio.sleep(CHAT_SPACING)
    extra = {conversation.QUESTION_VAR: question} if question else {}
    await _start(svc, bot, client, reflection, **extra)


# --- buttons and the low-mood offer ---------------------------------------------------------


async def on_button(update: Update, context: Context) -> None:
    """The discreet-mode taps and the next-day safety check's answers."""
    svc = services(context.application)
    query = update.callback_query
    if query is None:
        return
    await call(svc, "answerCallbackQuery", lambda: query.answer())
    if conversation.private_user(update) is None:
        return  # only in the client's own chat
    message = query.message if isinstance(query.message, Message) else None
    if message is not None and message.reply_markup:
        await call(
            svc, "editMessageReplyMarkup", lambda: message.edit_reply_markup(reply_markup=None)
        )
    client = await conversation.client_for(svc, update)
    if client is None:
        return
    bot = context.bot
    data = query.data or ""
    if data == CB_CHECKIN:
        zone = zone_or_default(client.timezone, svc.config.clients.default_timezone)
        day = svc.clock.now().astimezone(zone).date()
        await _start(svc, bot, client, pick_checkin(svc, client.user_id, day))
    elif data == CB_REFLECTION:
        await send_reflection(svc, bot, client)
    elif data.startswith(CB_FOLLOWUP):
        dialogue_id = data.removeprefix(CB_FOLLOWUP)
        if dialogue_id in followup_targets(svc):
            await _start(svc, bot, client, dialogue_id)
        else:  # forged, or a dialogue that is no longer a follow-up
            await flow.show_menu(svc, bot, client, texts.OLD_BUTTON)
    elif data == CB_SAFE_SHOW:
        rows = [[(SAFETY_BETTER, CB_SAFE_BETTER), (SAFETY_HEAVY, CB_SAFE_HEAVY)]]
        await send_text(svc, bot, client.chat_id, SAFETY_TEXT, rows, user_id=client.user_id)
    elif data == CB_SAFE_BETTER:
        await send_text(svc, bot, client.chat_id, SAFETY_BETTER_REPLY, user_id=client.user_id)
    elif data == CB_SAFE_HEAVY:
        country = client.country if client.country in ("nl", "be") else None
        text = f"{crisis_message(country, None)}\n\n{SAFETY_HEAVY_COACH}"  # type: ignore[arg-type]
        await send_text(svc, bot, client.chat_id, text, user_id=client.user_id)


def followup_targets(svc: Services) -> set[str]:
    """The dialogues some dialogue schedules as a follow-up: the only ones a discreet tap opens."""
    return {
        node.dialogue
        for dialogue in svc.library.dialogues.values()
        for node in dialogue.nodes.values()
        if node.after_hours is not None and node.dialogue in svc.library.dialogues
    }


async def after_update(update: Update, context: Context) -> None:
    """After a client's update: three low moods in a row get a gentle offer, once a week."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != "private" or user.is_bot:
        return
    svc = services(context.application)
    if svc.config.is_coach(user.id):
        return
    await maybe_offer_support(svc, context.bot, user.id)


async def maybe_offer_support(svc: Services, bot: Any, user_id: int) -> bool:
    """Offer the coach and an exercise after three low moods in a row (at most once a week)."""
    now = svc.clock.now()
    async with svc.db.read() as conn:
        recent = await moods.last(conn, user_id, LOW_MOOD_RUN)
        if len(recent) < LOW_MOOD_RUN or any(m.score > LOW_MOOD for m in recent):
            return False
        if now - recent[-1].created_at > LOW_OFFER_FRESH:
            return False
        offered = await notices.seen(conn, LOW_OFFER_KEY, user_id)
        client = await clients.get(conn, user_id)
    if offered is not None and (
        now - offered < LOW_OFFER_EVERY or offered >= recent[-1].created_at
    ):
        return False
    if client is None or not client.active:
        return False
    if conversation.current_state(svc, client).dialogue is not None:
        return False  # after the check-in ends, not in the middle of it
    async with svc.db.transaction() as conn:
        talking = await handoffs.current(conn, user_id) is not None
        # Marked either way: with a hand-off open the coach is already there.
        await notices.mark(conn, LOW_OFFER_KEY, user_id, now)
    if talking:
        return False
    rows: list[list[tuple[str, str]]] = [[(LOW_OFFER_COACH, menu.COACH)]]
    exercises = [e for e in svc.library.menu.exercises if e in svc.library.dialogues]
    if exercises:
        first = exercises[0]
        rows.append([(f"🌿 {svc.library.dialogues[first].title}", menu.EXERCISE_PREFIX + first)])
    log.info("low-mood offer made", extra={"user_id": user_id})
    await send_text(svc, bot, client.chat_id, LOW_OFFER_TEXT, rows, user_id=user_id)
    return True


# --- upkeep -----------------------------------------------------------------------------------


async def repair(svc: Services, now: datetime, limit: int = 1000) -> int:
    """Re-plan active clients whose schedule has nothing planned (back after blocking the bot)."""
    fixed = last = 0
    while True:
        async with svc.db.transaction() as conn:
            ids = await schedules.needing_plan(conn, last, limit)
            for user_id in ids:
                last = user_id
                current = await schedules.get(conn, user_id)
                if current is not None:
                    await save_schedule(svc, conn, current, now)
        fixed += len(ids)
        if len(ids) < limit:
            break
    if fixed:
        log.info("re-planned %d schedules", fixed)
    return fixed


async def prune(svc: Services, now: datetime) -> int:
    """Delete send-ledger rows older than a month (the ledger only guards recent sends)."""
    async with svc.db.transaction() as conn:
        removed = await schedules.prune_sends(conn, now - SENDS_KEPT)
    log.info("pruned %d old send records", removed)
    return removed


async def _sweep_job(context: Context) -> None:
    svc = services(context.application)
    await sweep(context.application, svc.clock.now())


async def _repair_job(context: Context) -> None:
    svc = services(context.application)
    await repair(svc, svc.clock.now())


async def _prune_job(context: Context) -> None:
    svc = services(context.application)
    await prune(svc, svc.clock.now())


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The buttons, the low-mood check after updates, and the sweep / repair / prune jobs."""
    app.add_handler(CallbackQueryHandler(on_button, pattern=CB_PATTERN))
    app.add_handler(TypeHandler(Update, after_update), group=AFTER_GROUP)
    jobs = app.job_queue
    if jobs is None:
        raise RuntimeError("python-telegram-bot was installed without the job-queue extra")
    seconds = services(app).config.checkins.sweep_seconds
    jobs.run_repeating(_sweep_job, interval=seconds, first=seconds, name=SWEEP_JOB)
    jobs.run_repeating(_repair_job, interval=timedelta(hours=1), first=90, name=REPAIR_JOB)
    jobs.run_repeating(_prune_job, interval=timedelta(days=1), first=300, name=PRUNE_JOB)
