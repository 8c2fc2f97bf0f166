"""The coach in the loop (issue 14), end to end: the chosen name, /client, saved replies, pins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox import Sandbox
from storage import clients
from tests.harness import Harness, plain
from tests.test_handoff import World, _config, ask_coach, enrol, eventually, texts_of


@pytest.fixture
async def world(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[World]:
    """The bot with a coach group (forum topics), a coach and a group member who is not one."""
    coach_user = sandbox.add_user("Sanne")
    stranger = sandbox.add_user("Piet")
    group = sandbox.add_forum_group("Coachpraktijk", [coach_user.id, stranger.id])
    h = Harness(sandbox, tmp_path, _config(coach_user.id, group))
    await h.start()
    try:
        yield World(h, sandbox, coach_user.id, stranger.id, group)
    finally:
        await h.stop()


async def choose_name(world: World, user_id: int, name: str) -> None:
    """What the onboarding's "aanspreeknaam" question leaves behind."""
    async with world.svc.db.transaction() as conn:
        await clients.update(conn, user_id, display_name=name)


async def test_the_chosen_name_on_topic_card_and_relayed_messages(world: World) -> None:
    anna = world.h.person("Anna")
    await enrol(world.h, anna)
    await choose_name(world, anna.id, "Annie")
    await ask_coach(anna, "Even praten")
    thread = await world.topic(anna)
    topic = next(t for t in world.sb.topics(world.group) if t["message_thread_id"] == thread)
    assert topic["name"].startswith("Annie · ")
    card = await eventually(lambda: world.card(world.group, thread))
    assert plain(card).startswith("🧾 Annie · ") and "Op Telegram: Anna" in plain(card)

    await anna.send("Hoi, ik ben het")
    relayed = await eventually(
        lambda: next((m for m in world.in_topic(thread) if "Hoi, ik ben het" in plain(m)), None)
    )
    # Labelled with the client's chosen name, never looking like the bot's own words.
    assert plain(relayed) == "✉️ Annie\nHoi, ik ben het"
    await anna.send_media("sticker")
    await eventually(lambda: "✉️ Annie stuurt:" in texts_of(world.in_topic(thread)))

    # The client picks another name: the topic follows at the next message.
    await choose_name(world, anna.id, "An")
    await anna.send("Nieuwe naam")
    await eventually(lambda: "✉️ An\nNieuwe naam" in texts_of(world.in_topic(thread)))
    topic = next(t for t in world.sb.topics(world.group) if t["message_thread_id"] == thread)
    assert topic["name"].startswith("An · ")
