"""Check-ins and reflections through the local Telegram, with the controlled clock.

Each test creates clients straight in storage (as onboarding would leave them), moves the
harness clock and calls `checkins.sweep` itself: the background jobs are paused.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from bot.core import conversation, schedule, texts
from bot.core.helplines import SAFETY_FOLLOWUP
from bot.features.checkins import sweep as checkins
from bot.features.checkins.sweep import SweepReport
from bot.features.crisis import answer as crisis
from dialogues import State
from storage import (
    clients,
    followups,
    handoffs,
    journal,
    moods,
    notices,
    pins,
    reflections,
    schedules,
)
from tests.harness import Harness, Person, buttons, onboard, plain
from tests.test_chart import measured_moods


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


async def make_client(
    h: Harness,
    name: str = "Anna",
    *,
    tz: str = "Europe/Amsterdam",
    at: str = "20:00",
    consent: bool = True,
    module: str | None = None,
    safety: str | None = "veilig",
) -> Person:
    """A client as onboarding leaves them: consent, age ok, the check-in time chosen."""
    person = h.person(name)
    svc = h.services
    now = h.clock.now()
    async with svc.db.transaction() as conn:
        await clients.touch(
            conn,
            user_id=person.id,
            chat_id=person.id,
            first_name=name,
            language_code="nl",
            timezone=tz,
            now=now,
        )
        await clients.update(conn, person.id, age_ok=1, country="nl")
        if module:
            await clients.update(conn, person.id, module=module)
        if consent:
            await clients.set_consent(conn, person.id, "kennismaking@1", now)
        await schedule.apply_onboarding_choice(svc, conn, person.id, at, now)
        # What the onboarding's safety screen leaves behind (dialogues/scripts/veiligheid.yaml).
        answers = {"toestemming": "ja" if consent else "nee"}
        if safety is not None:
            answers["veiligheid"] = safety
        await clients.save_state(conn, person.id, State.idle(answers).to_json())
    return person


async def sweep_at(h: Harness, when: datetime) -> SweepReport:
    h.clock.set(when)
    return await checkins.sweep(h.bot.app, when)


def bot_messages(h: Harness, person: Person) -> list[dict[str, Any]]:
    return [m for m in h.sb.messages(person.chat_id) if m["from"]["is_bot"]]


def is_checkin(message: dict[str, Any]) -> bool:
    """A check-in's opening: the mood question with five buttons."""
    return len(buttons(message)) == 5 and all(d.startswith("c:") for _, d in buttons(message))


def checkins_in(h: Harness, person: Person) -> int:
    return sum(1 for m in bot_messages(h, person) if is_checkin(m))


async def schedule_of(h: Harness, user_id: int) -> schedules.Schedule:
    async with h.services.db.read() as conn:
        found = await schedules.get(conn, user_id)
    assert found is not None
    return found


async def client_row(h: Harness, user_id: int) -> clients.Client:
    async with h.services.db.read() as conn:
        found = await clients.get(conn, user_id)
    assert found is not None
    return found


async def test_checkin_at_the_chosen_local_time_in_two_zones(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna", at="20:00")
    kenji = await make_client(h, "Kenji", tz="Asia/Tokyo", at="08:00")
    assert (await schedule_of(h, anna.id)).next_checkin_at == utc(2026, 11, 23, 19, 0)
    assert (await schedule_of(h, kenji.id)).next_checkin_at == utc(2026, 11, 23, 23, 0)

    report = await sweep_at(h, utc(2026, 11, 23, 18, 59))
    assert report.sent == 0 and not bot_messages(h, anna) and not bot_messages(h, kenji)

    report = await sweep_at(h, utc(2026, 11, 23, 19, 0, 20))
    assert report.get("checkin", "sent") == 1
    got = await anna.expect(1)
    assert is_checkin(got[0]) and "Anna" in plain(got[0])
    assert not bot_messages(h, kenji)
    await sweep_at(h, utc(2026, 11, 23, 19, 1))
    assert checkins_in(h, anna) == 1

    await sweep_at(h, utc(2026, 11, 23, 23, 0))
    assert checkins_in(h, kenji) == 1 and checkins_in(h, anna) == 1
    async with h.services.db.read() as conn:
        status = await schedules.send_status(conn, anna.id, "checkin", utc(2026, 11, 23, 19, 0))
    assert status == "sent"

    # The mood is saved with the time it was given.
    await anna.press("😊")
    await anna.settle()
    async with h.services.db.read() as conn:
        saved = await moods.last(conn, anna.id, 5)
    assert [m.score for m in saved] == [5]
    assert saved[0].created_at == h.clock.now().replace(microsecond=0)
    # The next check-in is tomorrow at 20:00 local.
    assert (await schedule_of(h, anna.id)).next_checkin_at == utc(2026, 11, 24, 19, 0)


async def _night(h: Harness, start: datetime, hours: int, step_minutes: int = 15) -> list[datetime]:
    """Sweep every few minutes through a night; return the sweep times that sent something."""
    sent_at = []
    at = start
    while at <= start + timedelta(hours=hours):
        if (await sweep_at(h, at)).get("checkin", "sent"):
            sent_at.append(at)
        at += timedelta(minutes=step_minutes)
    return sent_at


async def test_dst_nights_of_2026_and_2027_through_the_sandbox(harness: Harness) -> None:
    h = harness
    nights = [
        # (evening before in UTC, the moment 02:30 local fires in UTC)
        (utc(2026, 3, 28, 20, 0), utc(2026, 3, 29, 1, 0)),  # 02:30 does not exist -> 03:00
        (utc(2026, 10, 24, 20, 0), utc(2026, 10, 25, 0, 30)),  # 02:30 twice -> the first
        (utc(2027, 3, 27, 20, 0), utc(2027, 3, 28, 1, 0)),
        (utc(2027, 10, 30, 20, 0), utc(2027, 10, 31, 0, 30)),
    ]
    for evening, fires in nights:
        h.clock.set(evening)
        night_owl = await make_client(h, "Noor", at="02:30")
        assert (await schedule_of(h, night_owl.id)).next_checkin_at == fires
        sent_at = await _night(h, evening, hours=8)
        assert sent_at == [fires], (evening, sent_at)
        assert checkins_in(h, night_owl) == 1


async def test_a_late_checkin_is_skipped_not_sent(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna", at="20:00")
    bram = await make_client(h, "Bram", at="20:00")
    # The bot was down: the sweep runs 3.5 hours after 20:00 (late_skip_hours is 3).
    report = await sweep_at(h, utc(2026, 11, 23, 22, 30))
    assert report.get("checkin", "late") == 2 and report.sent == 0
    assert not bot_messages(h, anna) and not bot_messages(h, bram)
    async with h.services.db.read() as conn:
        status = await schedules.send_status(conn, anna.id, "checkin", utc(2026, 11, 23, 19, 0))
    assert status == "skipped"
    assert (await schedule_of(h, anna.id)).next_checkin_at == utc(2026, 11, 24, 19, 0)
    # Two hours late is still within the window: sent.
    report = await sweep_at(h, utc(2026, 11, 24, 21, 0))
    assert report.get("checkin", "sent") == 2
    assert checkins_in(h, anna) == 1 and checkins_in(h, bram) == 1


async def test_429_is_waited_out_and_sent_once(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    h.sb.faults.inject("429", method="sendMessage", chat_id=anna.chat_id, retry_after=1)
    report = await sweep_at(h, utc(2026, 11, 23, 19, 0))
    assert ("sendMessage", "429") in h.sb.faults.applied
    assert report.get("checkin", "sent") == 1
    assert checkins_in(h, anna) == 1


async def test_403_stops_the_schedule_and_a_blocked_client_gets_nothing_more(
    harness: Harness,
) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    bram = await make_client(h, "Bram")
    h.sb.faults.inject("403", method="sendMessage", chat_id=anna.chat_id)
    h.sb.block(bram.id)
    report = await sweep_at(h, utc(2026, 11, 23, 19, 0))
    assert report.get("checkin", "blocked") == 2
    for person in (anna, bram):
        row = await client_row(h, person.id)
        assert not row.active and row.blocked_at is not None
        s = await schedule_of(h, person.id)
        assert s.next_checkin_at is None and s.next_reflection_at is None
    asked = len(h.sb.requests)
    for day in range(1, 8):
        await sweep_at(h, utc(2026, 11, 23, 19, 0) + timedelta(days=day))
    assert checkins_in(h, anna) == 0 and checkins_in(h, bram) == 0
    to_them = [
        p for m, p in h.sb.requests[asked:] if p.get("chat_id") in (anna.chat_id, bram.chat_id)
    ]
    assert to_them == []
    # The check-in that never arrived left no trace in the dialogue state.
    assert conversation.current_state(h.services, await client_row(h, bram.id)).dialogue is None
    # Bram unblocks and writes: the hourly repair plans his check-ins again.
    h.sb.unblock(bram.id)
    await bram.send("hallo")
    await bram.settle()
    assert (await client_row(h, bram.id)).active
    assert await checkins.repair(h.services, h.clock.now()) == 1
    s = await schedule_of(h, bram.id)
    assert s.next_checkin_at is not None and s.next_reflection_at is not None
    await sweep_at(h, s.next_checkin_at)
    assert checkins_in(h, bram) == 1
    assert await checkins.repair(h.services, h.clock.now()) == 0


async def test_a_client_in_another_dialogue_is_not_interrupted(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    svc = h.services
    session = svc.library.menu.modules[0].sessions[0]
    h.clock.set(utc(2026, 11, 23, 18, 58))
    await _active_now(h, anna)
    await conversation.start_dialogue(svc, h.bot.app.bot, await client_row(h, anna.id), session)
    await anna.settle()
    before = len(bot_messages(h, anna))
    report = await sweep_at(h, utc(2026, 11, 23, 19, 0))
    assert report.get("checkin", "busy") == 1 and report.sent == 0
    assert len(bot_messages(h, anna)) == before
    state = conversation.current_state(svc, await client_row(h, anna.id))
    assert state.dialogue == session
    async with svc.db.read() as conn:
        status = await schedules.send_status(conn, anna.id, "checkin", utc(2026, 11, 23, 19, 0))
    assert status == "skipped"


async def _active_now(h: Harness, person: Person) -> None:
    """The client just did something (as any tap or message does): last_seen is now."""
    async with h.services.db.transaction() as conn:
        await clients.touch(
            conn,
            user_id=person.id,
            chat_id=person.chat_id,
            first_name=person.first_name,
            language_code="nl",
            timezone="Europe/Amsterdam",
            now=h.clock.now(),
        )


async def test_a_session_left_half_way_is_parked_under_the_checkin(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    svc = h.services
    session = svc.library.menu.modules[0].sessions[0]
    h.clock.set(utc(2026, 11, 23, 12, 0))
    await _active_now(h, anna)
    await conversation.start_dialogue(svc, h.bot.app.bot, await client_row(h, anna.id), session)
    await anna.settle()
    where = conversation.current_state(svc, await client_row(h, anna.id))
    # Seven hours later she has not come back to the session: the check-in still comes.
    report = await sweep_at(h, utc(2026, 11, 23, 19, 0))
    assert report.get("checkin", "sent") == 1
    await anna.settle()
    state = conversation.current_state(svc, await client_row(h, anna.id))
    assert state.dialogue in svc.library.menu.checkins
    # She answers the check-in to its end...
    for _ in range(12):
        state = conversation.current_state(svc, await client_row(h, anna.id))
        if state.dialogue not in svc.library.menu.checkins:
            break
        node = svc.library.dialogues[state.dialogue].nodes[state.node]
        if node.choices:
            await anna.press(node.choices[min(2, len(node.choices) - 1)].label)
        else:
            await anna.send("gewoon een rustige dag")
        await anna.settle(first=5)
    # ...and is back where she was in the session, with the menu offering to go on.
    back = conversation.current_state(svc, await client_row(h, anna.id))
    assert (back.dialogue, back.node) == (where.dialogue, where.node)
    last = anna.last_with_buttons()
    assert "bezig" in plain(last) and any("Ga verder" in label for label, _ in buttons(last))


async def test_an_unanswered_checkin_does_not_block_the_next(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    await sweep_at(h, utc(2026, 11, 23, 19, 0))
    assert checkins_in(h, anna) == 1
    # Anna never answered; the next evening brings a new check-in, not a repeat of silence.
    before = len(bot_messages(h, anna))
    report = await sweep_at(h, utc(2026, 11, 24, 19, 0))
    assert report.get("checkin", "sent") == 1
    # The new one can be answered; the unanswered one's buttons were taken away.
    assert len(bot_messages(h, anna)) > before and is_checkin(bot_messages(h, anna)[-1])
    assert checkins_in(h, anna) == 1


async def test_checkins_wait_while_a_handoff_is_open(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    async with h.services.db.transaction() as conn:
        await handoffs.open(conn, anna.id, "test", h.clock.now())
    report = await sweep_at(h, utc(2026, 11, 23, 19, 0))
    assert report.get("checkin", "handoff") == 1
    assert checkins_in(h, anna) == 0


async def test_discreet_mode_starts_with_a_neutral_line(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    async with h.services.db.transaction() as conn:
        await clients.update(conn, anna.id, discreet=1)
    await sweep_at(h, utc(2026, 11, 23, 19, 0))
    first = (await anna.expect(1))[0]
    assert plain(first) == checkins.DISCREET_LINE
    assert [label for label, _ in buttons(first)] == [checkins.DISCREET_BUTTON]
    assert checkins_in(h, anna) == 0
    await anna.press(checkins.DISCREET_BUTTON)
    await anna.settle()
    assert checkins_in(h, anna) == 1


async def test_discreet_mode_holds_back_a_followup_and_a_pin_until_the_tap(
    harness: Harness,
) -> None:
    """A follow-up quotes the client's own step and a pinned sentence opens it: on a locked
    screen a discreet client's phone shows only the neutral line."""
    h = harness
    anna = await make_client(h, "Anna")
    followup = "stap-terug"
    assert followup in checkins.followup_targets(h.services)
    due = h.clock.now() + timedelta(hours=5)
    async with h.services.db.transaction() as conn:
        await clients.update(conn, anna.id, discreet=1)
        await followups.add(conn, anna.id, followup, due)
        await pins.put(conn, anna.id, "Let op wat je lijf doet", 1, h.clock.now())
    report = await sweep_at(h, due)
    assert report.get("followup", "sent") == 1
    got = await anna.settle()
    assert [plain(m) for m in got] == [checkins.DISCREET_LINE]
    assert conversation.current_state(h.services, await client_row(h, anna.id)).dialogue is None
    await anna.press(checkins.DISCREET_BUTTON)
    after = " ".join(plain(m) for m in await anna.settle())
    assert "Let op wat je lijf doet" in after and "zoals beloofd" in after


async def test_discreet_mode_holds_back_the_safety_followup_until_the_tap(
    harness: Harness,
) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    due = crisis.followup_at(h.clock.now(), "Europe/Amsterdam")
    async with h.services.db.transaction() as conn:
        await clients.update(conn, anna.id, discreet=1)
        await followups.add(conn, anna.id, SAFETY_FOLLOWUP, due)
    report = await sweep_at(h, due + timedelta(seconds=30))
    assert report.get("safety_followup", "sent") == 1
    got = await anna.settle()
    assert [plain(m) for m in got] == [checkins.DISCREET_LINE]
    await anna.press(checkins.DISCREET_BUTTON)
    check = await anna.expect_text("Hoe gaat het nu")
    assert [label for label, _ in buttons(check)] == [checkins.SAFETY_BETTER, checkins.SAFETY_HEAVY]


async def test_a_forged_discreet_followup_tap_starts_nothing(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    await anna.send("/menu")
    menu_message = (await anna.settle())[-1]
    # A dialogue that exists but is no follow-up, and one that does not exist.
    for forged in ("k:fu:veiligheidsplan", "k:fu:bestaat-niet"):
        await anna.press_data(menu_message["message_id"], forged, forge=True)
        got = await anna.settle()
        assert any(texts.OLD_BUTTON in plain(m) for m in got), got
        state = conversation.current_state(h.services, await client_row(h, anna.id))
        assert state.dialogue is None


async def _moods_for_week(h: Harness, user_id: int, scores: list[int | None]) -> None:
    """Moods at 20:00 Amsterdam on Monday 23 .. Sunday 29 November 2026."""
    async with h.services.db.transaction() as conn:
        for day, score in enumerate(scores):
            if score is not None:
                await moods.add(conn, user_id, score, utc(2026, 11, 23, 19, 0) + timedelta(day))


async def test_weekly_reflection_sends_a_chart_that_matches_the_moods(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna", at="21:00", module="stokt")
    scores: list[int | None] = [2, 3, None, 4, 5, 1, None]
    await _moods_for_week(h, anna.id, scores)
    report = await sweep_at(h, utc(2026, 11, 29, 18, 0))  # Sunday 19:00 Amsterdam
    assert report.get("reflection", "sent") == 1
    got = await anna.settle(1.5)
    assert "photo" in got[0], "the chart comes first"
    assert "5 dagen" in got[0]["caption"] and "gemiddeld 3,0" in got[0]["caption"]
    sizes = got[0]["photo"]
    png = h.sb.file_bytes(max(sizes, key=lambda s: s.get("width", 0))["file_id"])
    assert Image.open(io.BytesIO(png)).format == "PNG"
    drawn = measured_moods(png)
    for want, have in zip(scores, drawn, strict=True):
        assert (want is None and have is None) or (
            want is not None and have is not None and abs(have - want) < 0.1
        ), (scores, drawn)
    # Then the question of the week, from the client's module.
    async with h.services.db.read() as conn:
        asked = await reflections.asked_since(conn, anna.id, utc(2026, 11, 1, 0, 0))
    assert len(asked) == 1
    question = next(q for q in h.services.library.reflection_questions if q.id in asked)
    assert question.module in ("stokt", "any")
    said = " ".join(plain(m) for m in got[1:])
    assert question.text in said
    # The answer is saved to the journal.
    await anna.send("Ik merkte dat ik me vaak terugtrok.")
    await anna.settle()
    async with h.services.db.read() as conn:
        saved = await journal.answers(conn, anna.id)
    assert any("terugtrok" in a.text for a in saved)


async def test_reflection_questions_do_not_repeat_within_eight_weeks(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna", at="21:00", module="hunkeren")
    seen: list[str] = []
    sunday = utc(2026, 11, 29, 18, 0)
    for _ in range(8):
        async with h.services.db.transaction() as conn:
            client = await clients.get(conn, anna.id)
            assert client is not None
            qid = await checkins.pick_question(h.services, conn, client, sunday)
            assert qid is not None
            await reflections.mark_asked(conn, anna.id, qid, sunday)
        seen.append(qid)
        sunday += timedelta(weeks=1)
    pool = [q.id for q in h.services.library.reflection_questions]
    fitting = [
        q.id for q in h.services.library.reflection_questions if q.module in ("hunkeren", "any")
    ]
    assert len(set(seen)) == 8, seen
    assert all(q in pool for q in seen)
    assert all(q in fitting for q in seen[: len(fitting)])


@pytest.mark.parametrize("safety", ["onveilig", "onbekend", None])
async def test_partner_questions_are_not_asked_of_a_client_who_is_not_safe(
    harness: Harness, safety: str | None
) -> None:
    """A client who is not safe with their partner (or never said) gets no question that treats
    the partner as one side of a pattern or invites a boundary or a talk; a safe client does."""
    h = harness
    library = h.services.library
    only_safe = {q.id for q in library.reflection_questions if q.only_when_safe}
    assert {"therapie-2", "optillen-11", "stokt-6"} <= only_safe
    for module in ("therapie", "optillen", "stokt", "hunkeren", "binding"):
        for who, screen in ((f"Sam {module}", safety), (f"Kim {module}", "veilig")):
            person = await make_client(h, who, module=module, safety=screen)
            sunday = utc(2026, 11, 29, 18, 0)
            seen = []
            for _ in range(12):
                async with h.services.db.transaction() as conn:
                    client = await clients.get(conn, person.id)
                    assert client is not None
                    qid = await checkins.pick_question(h.services, conn, client, sunday)
                    assert qid is not None
                    await reflections.mark_asked(conn, person.id, qid, sunday)
                seen.append(qid)
                sunday += timedelta(weeks=1)
            if screen == "veilig":
                if module != "binding":  # binding has one such question among six
                    assert only_safe & set(seen), (module, seen)
            else:
                assert not only_safe & set(seen), (module, screen, seen)


async def test_three_low_moods_bring_one_gentle_offer_a_week(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    now = h.clock.now()
    async with h.services.db.transaction() as conn:
        for days_ago, score in ((2, 1), (1, 2), (0, 2)):
            await moods.add(conn, anna.id, score, now - timedelta(days=days_ago))
    await anna.send("/menu")
    offer = await anna.expect_text("met je coach")
    labels = [label for label, _ in buttons(offer)]
    assert checkins.LOW_OFFER_COACH in labels and len(labels) == 2
    # Another low day within the week: no second offer.
    h.clock.advance(timedelta(days=1))
    async with h.services.db.transaction() as conn:
        await moods.add(conn, anna.id, 1, h.clock.now())
    await anna.send("/menu")
    got = await anna.settle()
    assert not any(checkins.LOW_OFFER_TEXT[:30] in plain(m) for m in got)
    async with h.services.db.read() as conn:
        assert await notices.seen(conn, checkins.LOW_OFFER_KEY, anna.id) == now.replace(
            microsecond=0
        )
    # A week later, a new run of three low moods may bring it again.
    h.clock.advance(timedelta(days=7))
    async with h.services.db.transaction() as conn:
        for _ in range(3):
            await moods.add(conn, anna.id, 2, h.clock.now())
    assert await checkins.maybe_offer_support(h.services, h.bot.app.bot, anna.id)


async def test_no_offer_after_mixed_moods(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    async with h.services.db.transaction() as conn:
        for score in (1, 4, 2):
            await moods.add(conn, anna.id, score, h.clock.now())
    assert not await checkins.maybe_offer_support(h.services, h.bot.app.bot, anna.id)


async def test_safety_followup_the_next_day(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    due = crisis.followup_at(h.clock.now(), "Europe/Amsterdam")
    async with h.services.db.transaction() as conn:
        await followups.add(conn, anna.id, SAFETY_FOLLOWUP, due)
    assert (await sweep_at(h, due - timedelta(minutes=1))).sent == 0
    report = await sweep_at(h, due + timedelta(seconds=30))
    assert report.get("safety_followup", "sent") == 1
    check = await anna.expect_text("Hoe gaat het nu")
    assert [label for label, _ in buttons(check)] == [checkins.SAFETY_BETTER, checkins.SAFETY_HEAVY]
    await anna.press(checkins.SAFETY_HEAVY)
    help_lines = await anna.expect_text("113")
    assert "/coach" in plain(help_lines)
    async with h.services.db.read() as conn:
        assert await followups.due(conn, h.clock.now() + timedelta(days=2), 10) == []
    assert (await sweep_at(h, due + timedelta(minutes=5))).sent == 0


async def test_a_planned_followup_dialogue_starts(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    exercise = h.services.library.menu.exercises[0]
    due = h.clock.now() + timedelta(hours=5)
    async with h.services.db.transaction() as conn:
        await followups.add(conn, anna.id, exercise, due)
    report = await sweep_at(h, due)
    assert report.get("followup", "sent") == 1
    state = conversation.current_state(h.services, await client_row(h, anna.id))
    assert state.dialogue == exercise


async def test_a_followup_that_meets_a_busy_moment_comes_the_next_day(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    exercise = h.services.library.menu.exercises[0]
    due = h.clock.now() + timedelta(hours=5)
    async with h.services.db.transaction() as conn:
        await followups.add(conn, anna.id, exercise, due)
        handoff = await handoffs.open(conn, anna.id, None, h.clock.now())
    report = await sweep_at(h, due)
    assert report.get("followup", "handoff") == 1 and report.get("followup", "rescheduled") == 1
    async with h.services.db.transaction() as conn:
        [moved] = await followups.due(conn, due + timedelta(days=2), 10)
        assert (moved.dialogue_id, moved.due_at) == (exercise, due + timedelta(days=1))
        await handoffs.close(conn, handoff.id, h.clock.now())
    report = await sweep_at(h, due + timedelta(days=1))
    assert report.get("followup", "sent") == 1


async def test_real_onboarding_sets_the_schedule(harness: Harness) -> None:
    h = harness
    eva = h.person("Eva")
    await onboard(eva)
    s = await schedule_of(h, eva.id)
    assert s.checkin_enabled and s.reflection_enabled
    assert s.checkin_time in ("08:00", "12:30", "20:00")
    assert s.next_checkin_at is not None and s.next_checkin_at > h.clock.now()
    await eva.settle()
    await sweep_at(h, s.next_checkin_at)
    assert checkins_in(h, eva) == 1


async def test_prune_removes_old_send_records(harness: Harness) -> None:
    h = harness
    anna = await make_client(h, "Anna")
    old = h.clock.now() - timedelta(days=40)
    async with h.services.db.transaction() as conn:
        await schedules.finish_send(conn, anna.id, "checkin", old, "sent", old)
        await schedules.finish_send(conn, anna.id, "checkin", h.clock.now(), "sent", h.clock.now())
    assert await checkins.prune(h.services, h.clock.now()) == 1
    async with h.services.db.read() as conn:
        assert await schedules.send_status(conn, anna.id, "checkin", old) is None
        assert await schedules.send_status(conn, anna.id, "checkin", h.clock.now()) == "sent"


async def test_the_sweep_is_one_job(harness: Harness) -> None:
    jobs = [j.name for j in harness.bot.app.job_queue.jobs()]
    assert jobs.count(checkins.SWEEP_JOB) == 1
    job = next(j for j in harness.bot.app.job_queue.jobs() if j.name == checkins.SWEEP_JOB)
    assert job.trigger.interval == timedelta(seconds=harness.config.checkins.sweep_seconds)
