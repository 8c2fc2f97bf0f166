"""Hand-off end to end: the real bot, a client, a coach and a coach group in the local Telegram."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core import coach_channel as handoff
from bot.core import conversation
from bot.edge.config import CoachConfig, Config
from bot.features.handoff import client as client_side
from bot.features.handoff import coach
from dialogues import State
from sandbox import Sandbox
from storage import clients, handoffs
from tests.harness import Harness, Person, buttons, plain


@dataclass
class World:
    """The harness plus the coach side: one coach, one non-coach group member, the group."""

    h: Harness
    sb: Sandbox
    coach_id: int
    stranger_id: int
    group: int

    @property
    def svc(self) -> Any:
        return self.h.services

    @property
    def bot(self) -> Any:
        assert self.h.bot is not None
        return self.h.bot.app.bot

    async def topic(self, person: Person, timeout: float = 5.0) -> int:
        """The thread id of the person's topic, once the bot made it."""

        async def find() -> int | None:
            async with self.svc.db.read() as conn:
                topic = await handoffs.topic_for(conn, person.id)
            return topic.thread_id if topic is not None else None

        return await eventually(find, timeout)

    def in_topic(self, thread: int) -> list[dict[str, Any]]:
        """Every message now in a topic."""
        return self.sb.messages(self.group, thread)

    def card(self, chat_id: int, thread: int | None = None) -> dict[str, Any]:
        """The latest card (a bot message with hand-off buttons) in a chat or topic."""
        for message in reversed(self.sb.messages(chat_id, thread)):
            if any(data.startswith("h:") for _, data in buttons(message)):
                return message
        raise AssertionError("no card with buttons")

    async def press_card(
        self, label: str, chat_id: int | None = None, thread: int | None = None, who: int = 0
    ) -> dict[str, Any] | None:
        """A coach (or `who`) presses a button of the latest card."""
        chat_id = self.group if chat_id is None else chat_id
        message = self.card(chat_id, thread)
        for text, data in buttons(message):
            if label.lower() in text.lower():
                return await self.sb.press(
                    who or self.coach_id, chat_id, message["message_id"], data
                )
        raise AssertionError(f"no card button {label!r}: {buttons(message)}")

    async def coach_says(self, thread: int, text: str, who: int = 0) -> None:
        await self.sb.send_text(who or self.coach_id, text, chat_id=self.group, thread_id=thread)

    async def is_open(self, person: Person) -> bool:
        return await handoff.is_open(self.svc, person.id)


async def eventually(probe: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll `probe` (sync or async) until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            value = probe()
            if asyncio.iscoroutine(value):
                value = await value
        except AssertionError:
            value = None
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


async def enrol(h: Harness, person: Person, *, consent: bool = True) -> None:
    """Make the person a known client (as after onboarding) straight in storage."""
    svc = h.services
    now = h.clock.now()
    async with svc.db.transaction() as conn:
        await clients.touch(
            conn,
            user_id=person.id,
            chat_id=person.chat_id,
            first_name=person.first_name,
            language_code="nl",
            timezone="Europe/Amsterdam",
            now=now,
        )
        await clients.update(conn, person.id, age_ok=True, country="nl", module="therapie")
        if consent:
            await clients.set_consent(conn, person.id, conversation.consent_version(svc), now)
        # What the onboarding's safety screen leaves behind (dialogues/scripts/veiligheid.yaml).
        answers = {"toestemming": "ja" if consent else "nee", "veiligheid": "veilig"}
        await clients.save_state(conn, person.id, State.idle(answers).to_json())


def texts_of(messages: list[dict[str, Any]]) -> list[str]:
    return [plain(m) for m in messages]


def relayed(messages: list[dict[str, Any]]) -> list[str]:
    """What clients said in a topic, without the name line over each relayed message."""
    return [plain(m).split("\n", 1)[1] for m in messages if plain(m).startswith("✉️ ")]


async def quiet(person: Person, seconds: float = 0.6) -> list[dict[str, Any]]:
    """What the person received in the next moment (should usually be nothing)."""
    return await person.settle(seconds)


def _config(coach_id: int, group: int, **coach_kw: Any) -> Config:
    return Config(coach=CoachConfig(user_ids=(coach_id,), chat_id=group, **coach_kw))


@pytest.fixture
async def world(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[World]:
    """The bot with a coach group (forum topics), started on a Monday morning in office hours."""
    coach_user = sandbox.add_user("Sanne")
    stranger = sandbox.add_user("Piet")
    group = sandbox.add_forum_group("Coachpraktijk", [coach_user.id, stranger.id])
    h = Harness(sandbox, tmp_path, _config(coach_user.id, group))
    await h.start()
    try:
        yield World(h, sandbox, coach_user.id, stranger.id, group)
    finally:
        await h.stop()


@pytest.fixture
async def private_world(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[World]:
    """The bot without a coach group: hand-offs go to the coach's private chat (no stranger)."""
    coach_user = sandbox.add_user("Sanne")
    h = Harness(sandbox, tmp_path, _config(coach_user.id, 0))
    await h.start()
    try:
        yield World(h, sandbox, coach_user.id, 0, 0)
    finally:
        await h.stop()


async def ask_coach(person: Person, reason: str | None) -> None:
    """The client asks for the coach with /coach, with a reason or "Gewoon contact"."""
    await person.send("/coach")
    await person.expect_text("waar wil je het over hebben")
    if reason is None:
        await person.press("Gewoon contact")
    else:
        await person.send(reason)
    await person.expect_text("je coach weet nu")


async def test_round_trip_text_photo_and_hand_back(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await ask_coach(anna, "Ik wil het over ruzie hebben")
    assert "tot 17:00" in plain(anna.seen[-1])
    thread = await world.topic(anna)
    topic = next(t for t in world.sb.topics(world.group) if t["message_thread_id"] == thread)
    assert topic["name"].startswith("Anna · ")

    card = await eventually(lambda: world.card(world.group, thread))
    assert "Reden: Ik wil het over ruzie hebben" in plain(card)
    assert "Toestemming: ja" in plain(card)

    await anna.send("Hallo coach, ben je er?")
    await anna.send_media("photo", caption="zo voel ik me")
    await eventually(
        lambda: any("✉️ Anna\nHallo coach, ben je er?" == plain(m) for m in world.in_topic(thread))
    )
    photo = await eventually(
        lambda: next((m for m in world.in_topic(thread) if m.get("photo")), None)
    )
    assert photo["from"]["is_bot"] and photo.get("caption") == "✉️ Anna\nzo voel ik me"
    assert await quiet(anna) == []  # relaying is silent for the client

    answer = await world.press_card("pak dit op", thread=thread)
    assert answer is not None and answer.get("text") == "Opgepakt."
    await anna.expect_text("heeft je bericht gezien")
    assert not any(d.startswith("h:t:") for _, d in buttons(world.card(world.group, thread)))

    await world.coach_says(thread, "Hoi Anna, fijn dat je schrijft.")
    got = await anna.expect_text("fijn dat je schrijft")
    assert plain(got).startswith("💬 Je coach")
    assert "Sanne" not in plain(got)
    await world.sb.send_media(
        world.coach_id, "photo", chat_id=world.group, thread_id=thread, caption="Kijk hier eens"
    )
    photo_back = (await anna.expect(1))[0]
    assert photo_back.get("photo") and plain(photo_back) == "💬 Je coach\nKijk hier eens"
    methods = [method for method, _ in world.sb.requests]
    assert "copyMessage" in methods and "createForumTopic" in methods

    await world.press_card("terug naar menu", thread=thread)
    await anna.expect_text("je coach heeft het gesprek afgerond")
    assert not await world.is_open(anna)
    assert "Teruggegeven aan het menu" in texts_of(world.in_topic(thread))[-1]

    before = len(world.in_topic(thread))
    await anna.send("Hoi bot")
    await anna.expect(1)
    assert len(world.in_topic(thread)) == before  # back with the bot: nothing goes to the coach

    # The next hand-off reuses the topic.
    await ask_coach(anna, None)
    await eventually(lambda: len(world.in_topic(thread)) > before)
    assert len(world.sb.topics(world.group)) == 1


async def test_hand_back_to_a_chosen_module(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await ask_coach(anna, None)
    thread = await world.topic(anna)
    await eventually(lambda: world.card(world.group, thread))
    await world.press_card("terug naar module", thread=thread)

    def module_card() -> dict[str, Any] | None:
        card = world.card(world.group, thread)
        return card if any(d.startswith("h:r:") for _, d in buttons(card)) else None

    card = await eventually(module_card)
    module = next(m for m in world.svc.library.menu.modules if m.id == "therapie")
    assert any(module.title == label for label, _ in buttons(card))
    await world.press_card(module.title, thread=thread)
    await anna.expect_text(f"verder te gaan met {module.title}")
    async with world.svc.db.read() as conn:
        history = await handoffs.history(conn, anna.id)
    assert history[-1].status == "closed" and history[-1].return_to == "therapie"
    state = await eventually(lambda: _dialogue_of(world, anna))
    assert state in module.sessions


async def _dialogue_of(world: World, person: Person) -> str | None:
    from storage import clients

    async with world.svc.db.read() as conn:
        client = await clients.get(conn, person.id)
    return None if client is None or not client.state else client.state.get("dialogue")


async def test_two_clients_at_once_never_cross(world: World) -> None:
    anna, bram = world.h.person("Anna"), world.h.person("Bram")
    await enrol(world.h, anna)
    await enrol(world.h, bram, consent=False)
    await ask_coach(anna, "Over Anna haar zorgen")
    await ask_coach(bram, "Over Bram zijn zorgen")
    t_anna, t_bram = await world.topic(anna), await world.topic(bram)
    assert t_anna != t_bram

    # Without consent the reason is not stored: it reaches the coach as a relayed message.
    bram_card = await eventually(lambda: world.card(world.group, t_bram))
    assert "Toestemming: nee" in plain(bram_card) and "Reden" not in plain(bram_card)
    await eventually(lambda: "Over Bram zijn zorgen" in relayed(world.in_topic(t_bram)))
    async with world.svc.db.read() as conn:
        assert (await handoffs.current(conn, bram.id)).reason is None  # type: ignore[union-attr]

    await anna.send("Bericht van Anna")
    await bram.send("Bericht van Bram")
    await eventually(lambda: "Bericht van Anna" in relayed(world.in_topic(t_anna)))
    await eventually(lambda: "Bericht van Bram" in relayed(world.in_topic(t_bram)))

    await world.coach_says(t_anna, "Alleen voor Anna")
    await world.coach_says(t_bram, "Alleen voor Bram")
    await anna.expect_text("Alleen voor Anna")
    await bram.expect_text("Alleen voor Bram")
    await asyncio.sleep(0.3)
    anna_all = " ".join(texts_of(world.sb.messages(anna.chat_id)))
    bram_all = " ".join(texts_of(world.sb.messages(bram.chat_id)))
    assert "Bram" not in anna_all and "Alleen voor Anna" not in bram_all
    assert "Anna" not in " ".join(texts_of(world.in_topic(t_bram)))
    assert "Bram" not in " ".join(texts_of(world.in_topic(t_anna)))


async def test_non_coach_in_the_group_is_ignored_and_told_once(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await ask_coach(anna, None)
    thread = await world.topic(anna)
    await eventually(lambda: world.card(world.group, thread))

    await world.coach_says(thread, "Ik ben de coach niet", who=world.stranger_id)
    notice = await eventually(
        lambda: [t for t in texts_of(world.in_topic(thread)) if "niet als coach" in t]
    )
    assert len(notice) == 1
    await world.coach_says(thread, "Nog een keer", who=world.stranger_id)
    answer = await world.press_card("pak dit op", thread=thread, who=world.stranger_id)
    assert answer is not None and answer.get("text") == coach.ONLY_COACHES
    await world.sb.send_text(world.stranger_id, "/open", chat_id=world.group)
    assert await quiet(anna) == []
    assert len([t for t in texts_of(world.in_topic(thread)) if "niet als coach" in t]) == 1
    assert not any(
        "Er wacht" in t or "Open hand-offs" in t for t in texts_of(world.sb.messages(world.group))
    )
    async with world.svc.db.read() as conn:
        current = await handoffs.current(conn, anna.id)
    assert current is not None and current.status == "open"


async def test_deleted_topic_is_made_again(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await ask_coach(anna, "eerste keer")
    thread = await world.topic(anna)
    await eventually(lambda: world.card(world.group, thread))
    await world.sb.api.call(
        "deleteForumTopic", {"chat_id": world.group, "message_thread_id": thread}
    )

    await anna.send("Ben je er nog?")

    async def new_thread() -> int | None:
        t = await world.topic(anna)
        return t if t != thread else None

    fresh = await eventually(new_thread)
    await eventually(lambda: "Ben je er nog?" in relayed(world.in_topic(fresh)))
    messages = world.in_topic(fresh)
    card_at = next(i for i, m in enumerate(messages) if any(buttons(m)))
    relay_at = next(i for i, m in enumerate(messages) if plain(m) == "✉️ Anna\nBen je er nog?")
    assert card_at < relay_at  # the coach gets the context first
    await world.coach_says(fresh, "Ja hoor")
    await anna.expect_text("Ja hoor")


async def test_restart_during_an_open_hand_off_loses_nothing(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await ask_coach(anna, "voor de herstart")
    thread = await world.topic(anna)
    await eventually(lambda: world.card(world.group, thread))

    await world.h.restart()

    assert await world.is_open(anna)
    await anna.send("Na de herstart")
    await eventually(lambda: "Na de herstart" in relayed(world.in_topic(thread)))
    await world.coach_says(thread, "Ik ben er nog")
    await anna.expect_text("Ik ben er nog")
    await world.press_card("terug naar menu", thread=thread)
    await anna.expect_text("je coach heeft het gesprek afgerond")
    assert len(world.sb.topics(world.group)) == 1


async def test_away_message_and_office_hours(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await world.sb.send_text(
        world.coach_id, "/afwezig 30-11 Ik ben op cursus.", chat_id=world.group
    )
    reply = await eventually(
        lambda: [t for t in texts_of(world.sb.messages(world.group)) if "Genoteerd" in t]
    )
    assert "maandag 30 november" in reply[0]

    await ask_coach(anna, None)
    confirmation = plain(anna.seen[-1])
    assert "Ik ben op cursus." in confirmation and "maandag 30 november" in confirmation

    await world.sb.send_text(world.coach_id, "/afwezig uit", chat_id=world.group)
    await eventually(
        lambda: any("niet meer afwezig" in t for t in texts_of(world.sb.messages(world.group)))
    )
    # Outside office hours (Monday 20:00 in Amsterdam) the client hears when the coach is back.
    world.h.clock.advance(timedelta(hours=10))
    bram = world.h.person("Bram")
    await enrol(world.h, bram)
    await ask_coach(bram, None)
    text = plain(bram.seen[-1])
    assert world.svc.config.coach.away_message in text and "morgen 09:00" in text


async def test_open_lists_waiting_times(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await ask_coach(anna, None)
    world.h.clock.advance(timedelta(hours=2, minutes=5))
    await world.sb.send_text(world.coach_id, "/open", chat_id=world.group)
    listing = await eventually(
        lambda: [t for t in texts_of(world.sb.messages(world.group)) if "Open hand-offs" in t]
    )
    assert "Anna · " in listing[0] and "wacht, 2 u 5 min" in listing[0]


async def test_waiting_reminder_within_office_hours(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await ask_coach(anna, None)  # Monday 10:00 in Amsterdam
    thread = await world.topic(anna)
    svc, bot = world.svc, world.bot
    world.h.clock.advance(timedelta(hours=3))
    assert await coach.send_reminders(svc, bot) == 0
    world.h.clock.advance(timedelta(hours=1, minutes=1))
    assert await coach.send_reminders(svc, bot) == 1
    assert any("Wacht al 4,0 u" in t for t in texts_of(world.in_topic(thread)))
    assert await coach.send_reminders(svc, bot) == 0  # not again right away
    world.h.clock.advance(timedelta(hours=4))  # Monday 18:01: outside office hours
    assert await coach.send_reminders(svc, bot) == 0
    world.h.clock.advance(timedelta(hours=15))  # Tuesday 09:01, 4 office hours since
    assert await coach.send_reminders(svc, bot) == 0
    world.h.clock.advance(timedelta(hours=3))  # Tuesday 12:01
    assert await coach.send_reminders(svc, bot) == 1
    await world.press_card("pak dit op", thread=thread)
    await anna.expect_text("heeft je bericht gezien")
    world.h.clock.advance(timedelta(hours=5))
    assert await coach.send_reminders(svc, bot) == 0  # taken: no more reminders


async def test_private_chat_fallback_replies_reach_only_that_client(private_world: World) -> None:
    h, sandbox, coach_id = private_world.h, private_world.sb, private_world.coach_id
    sb, cid = sandbox, coach_id
    anna, bram = h.person("Anna"), h.person("Bram")
    await enrol(h, anna)
    await enrol(h, bram)
    await ask_coach(anna, "Anna wil praten")
    await ask_coach(bram, None)
    await eventually(
        lambda: sum("Reden: Anna wil praten" in t for t in texts_of(sb.messages(cid))) == 1
    )
    await anna.send("Anna schrijft")
    await bram.send("Bram schrijft")
    anna_copy = await eventually(
        lambda: next((m for m in sb.messages(cid) if plain(m) == "Anna schrijft"), None)
    )
    bram_copy = await eventually(
        lambda: next((m for m in sb.messages(cid) if plain(m) == "Bram schrijft"), None)
    )
    await sb.send_text(cid, "Antwoord voor Bram", reply_to=bram_copy["message_id"])
    await bram.expect_text("Antwoord voor Bram")
    await sb.send_text(cid, "Antwoord voor Anna", reply_to=anna_copy["message_id"])
    await anna.expect_text("Antwoord voor Anna")
    await asyncio.sleep(0.3)
    assert "Antwoord voor Bram" not in " ".join(texts_of(sb.messages(anna.chat_id)))
    assert "Antwoord voor Anna" not in " ".join(texts_of(sb.messages(bram.chat_id)))

    await sb.send_text(cid, "Voor wie is dit?")
    await eventually(lambda: any("Beantwoord (reply)" in t for t in texts_of(sb.messages(cid))))
    assert await quiet(anna, 0.3) == [] and await quiet(bram, 0.3) == []

    # The card in the private chat works too; it belongs to the client it was sent for.
    card = next(
        m for m in reversed(sb.messages(cid)) if "Reden: Anna wil praten" in plain(m) and buttons(m)
    )
    data = next(d for label, d in buttons(card) if "menu" in label.lower())
    await sb.press(cid, cid, card["message_id"], data)
    await anna.expect_text("je coach heeft het gesprek afgerond")
    assert await handoff.is_open(h.services, bram.id)
    assert not await handoff.is_open(h.services, anna.id)


async def test_a_client_cannot_use_coach_commands_or_buttons(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await ask_coach(anna, None)
    thread = await world.topic(anna)
    card = await eventually(lambda: world.card(world.group, thread))
    take = next(d for _, d in buttons(card) if d.startswith("h:t:"))
    # A forged card button in the client's own chat does nothing.
    answer = await anna.press_data(anna.seen[-1]["message_id"], take, forge=True)
    assert answer is not None and answer.get("text") == coach.ONLY_COACHES
    await anna.send("/open")
    got = await anna.settle()
    assert not any("Open hand-offs" in plain(m) for m in got)
    async with world.svc.db.read() as conn:
        current = await handoffs.current(conn, anna.id)
    assert current is not None and current.status == "open"


async def test_crisis_during_a_hand_off_flags_the_coach_loudly(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await ask_coach(anna, None)
    thread = await world.topic(anna)
    await eventually(lambda: world.card(world.group, thread))
    await anna.send("ik wil niet meer leven")
    await anna.expect_text("113")  # the crisis answer never waits for the coach
    await eventually(lambda: "ik wil niet meer leven" in relayed(world.in_topic(thread)))
    topic_texts = texts_of(world.in_topic(thread))
    loud = next(i for i, t in enumerate(topic_texts) if "VEILIGHEID: CRISIS" in t)
    assert "suïcidale gedachten" in topic_texts[loud]
    flagged = world.card(world.group, thread)
    assert "CRISIS" in plain(flagged) and "suïcidale gedachten" in plain(flagged)


async def test_crisis_outside_a_hand_off_opens_a_topic_with_the_flag(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await anna.send("mijn vriend slaat me en ik ben bang")
    await anna.expect_text("112")
    thread = await world.topic(anna)
    topic_texts = await eventually(
        lambda: (t := [x for x in texts_of(world.in_topic(thread)) if x]) and len(t) >= 2 and t
    )
    assert "VEILIGHEID: CRISIS" in topic_texts[0] and "gevaar door partner" in topic_texts[0]
    assert "Geen open hand-off" in topic_texts[1] and "gevaar door partner" in topic_texts[1]
    assert not await world.is_open(anna)  # the client did not ask for the coach
    # The coach can still reach out from the topic; that opens the conversation.
    await world.coach_says(thread, "Ik zag je bericht. Ben je veilig?")
    await anna.expect_text("Ben je veilig?")
    assert await world.is_open(anna)
    await anna.send("Ja, ik ben bij mijn zus")
    await eventually(lambda: "Ja, ik ben bij mijn zus" in relayed(world.in_topic(thread)))


async def test_erasure_deletes_the_topic_and_tells_the_coaches_without_a_name(
    world: World,
) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await ask_coach(anna, "iets persoonlijks")
    thread = await world.topic(anna)
    await eventually(lambda: world.card(world.group, thread))
    await anna.send("/vergeetmij")
    await anna.expect(1)
    await anna.press("wis alles")
    topic = await eventually(
        lambda: next(
            (
                t
                for t in world.sb.topics(world.group)
                if t["message_thread_id"] == thread and t["deleted"]
            ),
            None,
        )
    )
    assert topic and world.in_topic(thread) == []
    general = await eventually(
        lambda: [
            plain(m)
            for m in world.sb.messages(world.group)
            if "message_thread_id" not in m and "gewist" in plain(m)
        ]
    )
    assert general == [handoff.ERASED_GROUP]
    await anna.settle()
    # The coach can no longer write into the topic; nothing reaches Anna.
    with pytest.raises(ValueError):
        await world.coach_says(thread, "Hallo?")
    assert await quiet(anna) == []


async def test_a_blocked_client_is_reported_to_the_coach(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await ask_coach(anna, None)
    thread = await world.topic(anna)
    await eventually(lambda: world.card(world.group, thread))
    world.sb.block(anna.id)
    await world.coach_says(thread, "Ben je er nog?")
    await eventually(lambda: any("geblokkeerd" in t for t in texts_of(world.in_topic(thread))))


async def test_without_a_coach_configured_nobody_is_promised(harness: Harness) -> None:
    anna = harness.person("Anna")
    await enrol(harness, anna)
    await anna.send("/coach")
    got = await anna.expect_text("geen coach")
    assert "/hulp" in plain(got)
    assert not await handoff.is_open(harness.services, anna.id)


async def test_an_unusable_coach_group_falls_back_to_private_chats(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    coach_user = sandbox.add_user("Sanne")
    h = Harness(sandbox, tmp_path, _config(coach_user.id, -1009999999999))  # no such group
    await h.start()
    try:
        anna = h.person("Anna")
        await enrol(h, anna)
        await ask_coach(anna, "groep kapot")
        await eventually(
            lambda: any(
                "Reden: groep kapot" in t for t in texts_of(sandbox.messages(coach_user.id))
            )
        )
        await anna.send("Komt dit aan?")
        copy = await eventually(
            lambda: next(
                (m for m in sandbox.messages(coach_user.id) if plain(m) == "Komt dit aan?"), None
            )
        )
        await sandbox.send_text(coach_user.id, "Ja, het komt aan", reply_to=copy["message_id"])
        await anna.expect_text("Ja, het komt aan")
    finally:
        await h.stop()


async def test_the_reason_question_lapses_on_cancel_a_command_or_time(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await anna.send("/coach")
    await anna.expect_text("waar wil je het over hebben")
    await anna.press("Toch niet")
    await anna.expect_text("later nog /coach")
    assert not await world.is_open(anna)

    await anna.send("/coach")
    await anna.expect_text("waar wil je het over hebben")
    await anna.send("/menu")
    await anna.settle()
    await anna.send("gewoon een zin")
    await anna.settle()
    assert not await world.is_open(anna)

    await anna.send("/coach")
    await anna.expect_text("waar wil je het over hebben")
    world.h.clock.advance(client_side.REASON_WAIT_FOR + timedelta(minutes=1))
    await anna.send("veel later")
    await anna.settle()
    assert not await world.is_open(anna)
    assert world.sb.topics(world.group) == []
