"""Issue 6 through the local Telegram: the crisis answer in a dialogue and a hand-off, the caring
question, /hulp; with a coach and a coach group (forum topics)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core import coach_channel as handoff
from bot.core.helplines import SAFETY_FOLLOWUP, unclear_no_answer
from bot.edge.config import CoachConfig, Config
from sandbox import Sandbox
from storage import handoffs, journal, safety
from storage.times import from_ts
from tests.harness import Harness, Person, buttons, onboard, plain

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
QUESTION = "Schrijf het in een paar woorden"  # stokt-1's first free-text question
AFTER_QUESTION = "Welke beweging herken je"
SUICIDAL = "ik wil niet meer leven"
PARTNER = "mijn vriend slaat me en ik ben bang"
UNCLEAR = "alles voelt zinloos de laatste tijd"


@dataclass
class Practice:
    """The bot with one coach and a coach group with topics."""

    h: Harness
    sb: Sandbox
    coach_id: int
    group: int

    async def thread(self, person: Person) -> int:
        """The person's topic in the coach group, once the bot made it."""

        async def find() -> int | None:
            async with self.h.services.db.read() as conn:
                topic = await handoffs.topic_for(conn, person.id)
            return topic.thread_id if topic is not None else None

        return int(await eventually(find))

    async def topic_texts(self, person: Person) -> list[str]:
        """Every text in the person's topic."""
        return [plain(m) for m in self.sb.messages(self.group, await self.thread(person))]


async def eventually(probe: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll `probe` (sync or async) until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = probe()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


@pytest.fixture
async def practice(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[Practice]:
    """The real bot with a coach group, on a Monday morning in office hours."""
    coach = sandbox.add_user("Sanne")
    group = sandbox.add_forum_group("Coachpraktijk", [coach.id])
    config = Config(coach=CoachConfig(user_ids=(coach.id,), chat_id=group))
    h = Harness(sandbox, tmp_path, config)
    await h.start()
    try:
        yield Practice(h, sandbox, coach.id, group)
    finally:
        await h.stop()


async def into_a_question(person: Person) -> None:
    """From the menu into the first session, up to its first free-text question."""
    await person.press("Als liefde stokt")
    await person.expect_text("Deze eerste sessie")  # menu buttons answer first, then send
    for label in ("Laten we beginnen", "Als afstand", "Ja, dat dacht ik ook", "Verder"):
        await person.press(label)
    await person.expect_text(QUESTION)


async def where(h: Harness, person: Person) -> tuple[str | None, str | None]:
    """(dialogue, node) of the client as stored."""
    async with h.services.db.read() as conn:
        row = await conn.execute_fetchall(
            "SELECT state_json FROM clients WHERE user_id = ?", (person.id,)
        )
    state = json.loads(list(row)[0][0] or "{}")
    return state.get("dialogue"), state.get("node")


async def events_of(h: Harness, person: Person) -> list[safety.SafetyEvent]:
    """The client's recorded safety events."""
    async with h.services.db.read() as conn:
        return await safety.recent(conn, person.id, h.clock.now() - timedelta(days=1))


async def followups_of(h: Harness, person: Person) -> list[tuple[str, Any]]:
    """(dialogue, due) of every planned follow-up of the client, except the gentle re-ask of the
    safety screen that the onboarding plans for everyone (dialogues/scripts/veiligheid.yaml)."""
    async with h.services.db.read() as conn:
        rows = await conn.execute_fetchall(
            "SELECT dialogue_id, due_at FROM followups WHERE user_id = ? ORDER BY id", (person.id,)
        )
    return [(str(r[0]), from_ts(int(r[1]))) for r in rows if r[0] != "veiligheid-opnieuw"]


async def test_crisis_inside_a_dialogue_in_the_netherlands(practice: Practice) -> None:
    h = practice.h
    anna = h.person("Anna")
    await onboard(anna, country="Nederland")
    await into_a_question(anna)

    await anna.send(SUICIDAL)
    help_ = plain(await anna.expect_text("113"))
    assert "0800-0113" in help_ and "113.nl" in help_ and "112" in help_
    assert "1813" not in help_ and "1712" not in help_
    assert "niet dag en nacht bereikbaar" in help_  # the coach is not a crisis service
    # The dialogue waits: nothing of the session follows, the words are no journal answer.
    later = await anna.settle(0.6)
    assert not any(AFTER_QUESTION in plain(m) for m in later), [plain(m) for m in later]
    assert await where(h, anna) == ("stokt-1", "oefening")
    async with h.services.db.read() as conn:
        assert await journal.answers(conn, anna.id) == []

    [event] = await events_of(h, anna)
    assert (event.level, event.category) == ("crisis", "suicide")
    [(dialogue, due)] = await followups_of(h, anna)
    now = h.clock.now()
    assert dialogue == SAFETY_FOLLOWUP
    assert (
        due.astimezone(AMSTERDAM).date() == (now + timedelta(days=1)).astimezone(AMSTERDAM).date()
    )

    # The coach gets the loud flag in the client's topic and on the card; the words stay private
    # outside a hand-off.
    texts = await eventually(lambda: _with(practice, anna, "VEILIGHEID: CRISIS"))
    assert any("suïcidale gedachten" in t for t in texts)
    assert not any(SUICIDAL in t for t in texts)
    thread = await practice.thread(anna)
    # The card (who, module, moods, consent) carries the flag too.
    cards = [plain(m) for m in practice.sb.messages(practice.group, thread)]
    assert any("Toestemming:" in c and "CRISIS" in c for c in cards), cards
    assert not await handoff.is_open(h.services, anna.id)

    # Afterwards the dialogue goes on where it waited.
    await anna.send("Samen lachen om niks")
    await anna.expect_text(AFTER_QUESTION)
    async with h.services.db.read() as conn:
        assert [a.text for a in await journal.answers(conn, anna.id)] == ["Samen lachen om niks"]


async def _with(practice: Practice, person: Person, needle: str) -> list[str] | None:
    texts = await practice.topic_texts(person)
    return texts if any(needle in t for t in texts) else None


async def test_crisis_in_belgium_gets_the_belgian_lines(practice: Practice) -> None:
    h = practice.h
    bram = h.person("Bram")
    await onboard(bram, country="België")
    await into_a_question(bram)

    await bram.send(SUICIDAL)
    help_ = plain(await bram.expect_text("1813"))
    assert "zelfmoord1813.be" in help_ and "112" in help_
    assert "0800-0113" not in help_ and "113.nl" not in help_

    await bram.send(PARTNER)
    help_ = plain(await bram.expect_text("1712"))
    assert "101" in help_ and "112" in help_
    assert "Veilig Thuis" not in help_ and "0800-2000" not in help_
    assert [(e.level, e.category) for e in await events_of(h, bram)] == [
        ("crisis", "suicide"),
        ("crisis", "partner_danger"),
    ]
    assert await where(h, bram) == ("stokt-1", "oefening")
    await eventually(lambda: _with(practice, bram, "gevaar door partner"))


async def test_crisis_during_an_open_hand_off_reaches_client_and_coach(
    practice: Practice,
) -> None:
    h = practice.h
    cas = h.person("Cas")
    await onboard(cas, country="België")
    await cas.send("/coach")
    await cas.expect_text("waar wil je het over hebben")
    await cas.press("Gewoon contact")
    await cas.expect_text("je coach weet nu")
    assert await handoff.is_open(h.services, cas.id)

    await cas.send(SUICIDAL)
    help_ = plain(await cas.expect_text("1813"))
    assert "0800-0113" not in help_
    # The message itself still reaches the coach, with the flag.
    texts = await eventually(lambda: _with(practice, cas, SUICIDAL))
    assert any("VEILIGHEID: CRISIS" in t for t in texts)
    assert await handoff.is_open(h.services, cas.id)
    [event] = await events_of(h, cas)
    assert event.level == "crisis"
    assert [d for d, _ in await followups_of(h, cas)] == [SAFETY_FOLLOWUP]


async def test_the_unclear_question_yes_and_no(practice: Practice) -> None:
    h = practice.h
    dana = h.person("Dana")
    await onboard(dana)
    await into_a_question(dana)

    await dana.send(UNCLEAR)
    question = await dana.expect_text("Ik wil je iets eerlijk vragen")
    # Beside yes and no, always a way to the help lines and to the coach (issue 12).
    assert [label for label, _ in buttons(question)] == [
        "Ja, dat speelt",
        "Nee, dat niet",
        "📞 Hulplijnen",
        "💬 Praat met je coach",
    ]
    assert "0800-0113" not in plain(question)
    assert await where(h, dana) == ("stokt-1", "oefening")
    await eventually(lambda: _with(practice, dana, "onduidelijk signaal"))

    await dana.press("Nee, dat niet")
    no = await dana.expect_text("fijn dat het niet zo is")
    assert plain(no) == unclear_no_answer()
    [event] = await events_of(h, dana)
    assert (event.level, event.response) == ("unclear", "no")
    assert await followups_of(h, dana) == []  # respected: no next-day check for a "no"
    assert await where(h, dana) == ("stokt-1", "oefening")

    await dana.send(UNCLEAR)
    await dana.expect_text("Ik wil je iets eerlijk vragen")
    await dana.press("Ja, dat speelt")
    yes = plain(await dana.expect_text("Dank je dat je het eerlijk zegt"))
    assert "0800-0113" in yes and "112" in yes
    events = await events_of(h, dana)
    assert [(e.level, e.response) for e in events] == [("unclear", "no"), ("unclear", "yes")]
    assert [d for d, _ in await followups_of(h, dana)] == [SAFETY_FOLLOWUP]
    await eventually(lambda: _with(practice, dana, "VEILIGHEID: CRISIS"))
    assert await where(h, dana) == ("stokt-1", "oefening")


async def test_hulp_gives_the_lines_of_the_clients_country(harness: Harness) -> None:
    eva, fien, gert = harness.person("Eva"), harness.person("Fien"), harness.person("Gert")
    await onboard(eva, country="Nederland")
    await onboard(fien, country="België")
    await eva.send("/hulp")
    nl = plain(await eva.expect_text("113"))
    assert "0800-0113" in nl and "1813" not in nl
    await fien.send("/hulp")
    be = plain(await fien.expect_text("1813"))
    assert "0800-0113" not in be
    # Someone who never said where they live gets both countries.
    await gert.send("/hulp")
    both = plain(await gert.expect_text("1813"))
    assert "0800-0113" in both and "112" in both


async def test_a_caption_or_an_edited_message_gets_the_crisis_answer_too(harness: Harness) -> None:
    h = harness
    fay = h.person("Fay")
    await onboard(fay)
    await into_a_question(fay)
    await fay.send_media("photo", caption=PARTNER)
    help_ = plain(await fay.expect_text("Veilig Thuis"))
    assert "0800-2000" in help_ and "112" in help_
    sent = await fay.send("gewoon een gewone dag")
    await fay.expect_text(AFTER_QUESTION)  # an ordinary answer moves the session on
    await h.sb.edit_text(fay.id, fay.chat_id, sent["message_id"], SUICIDAL)
    await fay.expect_text("0800-0113")
    assert [e.category for e in await events_of(h, fay)] == ["partner_danger", "suicide"]
    # The edit is no new answer: the journal keeps what was first written.
    async with h.services.db.read() as conn:
        assert [a.text for a in await journal.answers(conn, fay.id)] == ["gewoon een gewone dag"]


async def test_without_consent_the_crisis_answer_comes_and_no_words_are_kept(
    harness: Harness,
) -> None:
    h = harness
    gijs = h.person("Gijs")
    await onboard(gijs, consent=False)
    await into_a_question(gijs)
    await gijs.send(SUICIDAL)
    await gijs.expect_text("0800-0113")
    [event] = await events_of(h, gijs)
    assert event.level == "crisis"
    assert [d for d, _ in await followups_of(h, gijs)] == [SAFETY_FOLLOWUP]
    async with h.services.db.read() as conn:
        cells = [
            str(c)
            for table in ("clients", "safety_events", "followups", "answers")
            for r in await conn.execute_fetchall(f"SELECT * FROM {table}")  # noqa: S608
            for c in r
        ]
    assert not any("leven" in c for c in cells)


def test_the_next_day_check_comes_the_next_morning() -> None:
    from datetime import UTC, datetime

    from bot.features.crisis.answer import followup_at

    # 02:00 in Amsterdam (01:00 UTC in winter): the same morning at 10:00 is 8 hours away.
    assert followup_at(datetime(2026, 11, 23, 1, 0, tzinfo=UTC), "Europe/Amsterdam") == datetime(
        2026, 11, 23, 9, 0, tzinfo=UTC
    )
    # 09:00 local: tomorrow morning, not in an hour.
    assert followup_at(datetime(2026, 11, 23, 8, 0, tzinfo=UTC), "Europe/Amsterdam") == datetime(
        2026, 11, 24, 9, 0, tzinfo=UTC
    )
    # Summer time, Brussels.
    assert followup_at(datetime(2026, 7, 1, 20, 0, tzinfo=UTC), "Europe/Brussels") == datetime(
        2026, 7, 2, 8, 0, tzinfo=UTC
    )
