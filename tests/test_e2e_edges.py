"""The edges issue 15 found broken, each through the local Telegram with the real bot: a client
acts only in their own chat, the age gate, deep links, a message Telegram will not copy, old
buttons and unexpected input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.core import texts
from sandbox import Sandbox
from storage import clients
from tests.harness import Harness, buttons, onboard, plain
from tests.test_handoff import World, _config, enrol, eventually


@pytest.fixture
async def world(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[World]:
    """The bot with a coach group, like the hand-off tests."""
    coach_user = sandbox.add_user("Sanne")
    stranger = sandbox.add_user("Piet")
    group = sandbox.add_forum_group("Coachpraktijk", [coach_user.id, stranger.id])
    h = Harness(sandbox, tmp_path, _config(coach_user.id, group))
    await h.start()
    try:
        yield World(h, sandbox, coach_user.id, stranger.id, group)
    finally:
        await h.stop()


async def _row(h: Harness, user_id: int) -> clients.Client | None:
    async with h.services.db.read() as conn:
        return await clients.get(conn, user_id)


def _bot_messages(sb: Sandbox, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in sb.messages(chat_id) if m.get("from", {}).get("is_bot")]


# --- 1. a client acts only in their own private chat -----------------------------------------


async def test_forged_buttons_in_another_group_move_nothing(world: World) -> None:
    """Broke #2: a forged menu or dialogue button pressed in a second group the bot administers
    posted the client's menu there and moved `clients.chat_id` to the group."""
    sb, h = world.sb, world.h
    anna = h.person("Anna")
    await onboard(anna)
    other = sb.add_forum_group("Vriendinnen", [anna.id])
    said = await sb.send_text(anna.id, "/menu", chat_id=other)
    await sb.send_text(anna.id, "hoi allemaal", chat_id=other)
    forged = (
        "m:menu",
        "m:coach",
        "m:hulp",
        "m:instellingen",
        "m:mod:stokt",
        "c:abcde12:0",
        "s:hulp",
        "s:plan",
        "st:tijd",
        "k:ci",
        "p:wis:ja",
        "hc:plain",
    )
    for data in forged:
        answer = await sb.press(anna.id, other, said["message_id"], data, forge=True)
        assert answer is not None, f"{data} was never answered"
        if data != "hc:plain":
            assert answer.get("text") == texts.NOT_HERE, (data, answer)
    # The client's own chat still works, and it is the chat the bot writes to.
    await anna.send("/help")
    await anna.expect_text("/menu")
    assert _bot_messages(sb, other) == [], "the bot wrote into the other group"
    row = await _row(h, anna.id)
    assert row is not None, "a forged erasure button erased the client"
    assert row.chat_id == anna.id
    assert not await world.is_open(anna), "a forged coach button opened a hand-off"
    assert not [t for t in sb.topics(world.group)], "a forged press made a coach topic"


async def test_a_coach_reply_still_reaches_the_private_chat(world: World) -> None:
    """The coach's next message lands in the client's private chat, whatever was pressed where."""
    sb, h = world.sb, world.h
    bram = h.person("Bram")
    await enrol(h, bram)
    other = sb.add_forum_group("Werk", [bram.id])
    said = await sb.send_text(bram.id, "hallo", chat_id=other)
    await sb.press(bram.id, other, said["message_id"], "m:menu", forge=True)
    await bram.send("/coach")
    await bram.expect_text("waar wil je het over hebben")
    await bram.press("Gewoon contact")
    await bram.expect_text("je coach weet nu")
    thread = await world.topic(bram)
    await world.coach_says(thread, "Hoi Bram")
    got = await bram.expect_text("Hoi Bram")
    assert got["chat"]["id"] == bram.id
    assert _bot_messages(sb, other) == []
    await eventually(lambda: plain(got).startswith("💬 Je coach"))
    assert buttons(got) == []
