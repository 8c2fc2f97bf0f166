"""Reactions both ways during a hand-off (issue 14), end to end through the local Telegram:
a client's reaction on a coach's message shows on the coach's own message in the topic, a
coach's reaction on a relayed client message reaches the client's own message, and nothing
else moves (a non-coach, a message without a link, an erased client)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot.features.handoff import reactions
from sandbox import Sandbox
from storage import links
from storage import privacy as store
from tests.harness import Harness, plain
from tests.test_handoff import World, ask_coach, enrol, eventually, private_world, world

__all__ = ["private_world", "world"]  # the fixtures, shared with the hand-off tests


def _in_topic(world: World, thread: int, needle: str) -> dict[str, Any] | None:
    return next((m for m in world.in_topic(thread) if needle in plain(m)), None)


def _keys(sb: Sandbox, chat_id: int, message_id: int) -> list[tuple[str, list[Any]]]:
    return [(r["key"], r["by"]) for r in sb.reactions(chat_id, message_id)]


def _reaction_calls(sb: Sandbox) -> int:
    return sum(1 for method, _ in sb.requests if method == "setMessageReaction")


async def _talking(world: World, name: str = "Anna") -> tuple[Any, int]:
    """A client in a hand-off, with the topic made and the card posted."""
    person = world.h.person(name)
    await enrol(world.h, person)
    await ask_coach(person, None)
    thread = await world.topic(person)
    await eventually(lambda: world.card(world.group, thread))
    return person, thread


async def test_a_client_reaction_shows_on_the_coach_message_and_goes_again(world: World) -> None:
    anna, thread = await _talking(world)
    sb = world.sb
    await world.coach_says(thread, "Hoe was je week?")
    got = await anna.expect_text("Hoe was je week?")
    original = _in_topic(world, thread, "Hoe was je week?")
    assert original is not None and original["from"]["id"] == world.coach_id

    sb.react(anna.id, anna.chat_id, got["message_id"], "👍")
    await eventually(lambda: _keys(sb, world.group, original["message_id"]) == [("👍", ["bot"])])
    # Another emoji replaces it; taking it away takes it away on the coach's side too.
    sb.react(anna.id, anna.chat_id, got["message_id"], "🙏")
    await eventually(lambda: _keys(sb, world.group, original["message_id"]) == [("🙏", ["bot"])])
    sb.react(anna.id, anna.chat_id, got["message_id"], None)
    await eventually(lambda: _keys(sb, world.group, original["message_id"]) == [])
    # No extra message in the topic for any of it.
    assert not any("van Anna" in plain(m) for m in world.in_topic(thread))
    assert sb.violations == []


async def test_a_coach_reaction_reaches_the_clients_own_message(world: World) -> None:
    anna, thread = await _talking(world)
    sb = world.sb
    said = await anna.send("Het ging best goed eigenlijk")
    copy = await eventually(lambda: _in_topic(world, thread, "Het ging best goed eigenlijk"))

    sb.react(world.coach_id, world.group, copy["message_id"], "❤")
    await eventually(lambda: _keys(sb, anna.chat_id, said["message_id"]) == [("❤", ["bot"])])
    sb.react(world.coach_id, world.group, copy["message_id"], "👏")
    await eventually(lambda: _keys(sb, anna.chat_id, said["message_id"]) == [("👏", ["bot"])])
    sb.react(world.coach_id, world.group, copy["message_id"], None)
    await eventually(lambda: _keys(sb, anna.chat_id, said["message_id"]) == [])
    # Nothing was said to Anna about it: a reaction is all she sees.
    assert await anna.settle(0.3) == []
    assert sb.violations == []


async def test_a_non_coach_and_messages_without_a_link_move_nothing(world: World) -> None:
    anna, thread = await _talking(world)
    sb = world.sb
    said = await anna.send("Ik twijfel nog")
    copy = await eventually(lambda: _in_topic(world, thread, "Ik twijfel nog"))
    await asyncio.sleep(0.3)
    before = _reaction_calls(sb)

    # A group member who is no coach reacts on the relayed message: nothing reaches Anna.
    sb.react(world.stranger_id, world.group, copy["message_id"], "👎")
    # A coach reacts on the card (no relayed message): nothing either.
    card = world.card(world.group, thread)
    sb.react(world.coach_id, world.group, card["message_id"], "👍")
    # Anna reacts on the bot's own words and on her own message: nothing in the topic.
    confirmation = next(m for m in anna.seen if "je coach weet nu" in plain(m).lower())
    sb.react(anna.id, anna.chat_id, confirmation["message_id"], "👍")
    sb.react(anna.id, anna.chat_id, said["message_id"], "🔥")
    await asyncio.sleep(0.8)
    assert _reaction_calls(sb) == before
    assert _keys(sb, anna.chat_id, said["message_id"]) == [("🔥", [anna.id])]
    assert _keys(sb, world.group, card["message_id"]) == [("👍", [world.coach_id])]
    assert await anna.settle(0.2) == []
    assert sb.violations == []


async def test_a_reaction_telegram_will_not_mirror_becomes_a_note(world: World) -> None:
    anna, thread = await _talking(world)
    sb = world.sb
    await world.coach_says(thread, "Wat fijn om te horen")
    got = await anna.expect_text("Wat fijn om te horen")
    original = _in_topic(world, thread, "Wat fijn om te horen")
    assert original is not None

    # A custom emoji (Telegram Premium): the bot cannot set it, so a note answers the message.
    custom = {"type": "custom_emoji", "custom_emoji_id": "5368324170671202286"}
    sb.react(anna.id, anna.chat_id, got["message_id"], [custom])
    note = await eventually(lambda: _in_topic(world, thread, "eigen emoji"))
    assert plain(note) == reactions.REACTED_CUSTOM.format(name="Anna")
    assert note["reply_to_message"]["message_id"] == original["message_id"]
    # Taken away: the note goes too.
    sb.react(anna.id, anna.chat_id, got["message_id"], None)
    await eventually(lambda: _in_topic(world, thread, "eigen emoji") is None)

    # The group allows only some reactions: the others become a note as well.
    sb.limit_reactions(world.group, ["👍"])
    sb.react(anna.id, anna.chat_id, got["message_id"], "❤")
    note = await eventually(lambda: _in_topic(world, thread, "❤ van Anna"))
    assert note["reply_to_message"]["message_id"] == original["message_id"]
    assert _keys(sb, world.group, original["message_id"]) == []
    # One the group allows replaces the note with the reaction itself.
    sb.react(anna.id, anna.chat_id, got["message_id"], "👍")
    await eventually(lambda: _keys(sb, world.group, original["message_id"]) == [("👍", ["bot"])])
    await eventually(lambda: _in_topic(world, thread, "❤ van Anna") is None)

    # The coach's message is gone (deleted in the group): nothing to answer, so no note either.
    await world.bot.delete_message(world.group, original["message_id"])
    sb.react(anna.id, anna.chat_id, got["message_id"], "❤")
    await asyncio.sleep(0.8)
    assert _in_topic(world, thread, "van Anna") is None
    assert sb.violations == []


async def test_an_erased_client_gets_no_reaction_and_sends_none(world: World) -> None:
    anna, thread = await _talking(world)
    sb = world.sb
    said = await anna.send("Tot snel")
    copy = await eventually(lambda: _in_topic(world, thread, "Tot snel"))
    await world.coach_says(thread, "Tot snel, Anna")
    got = await anna.expect_text("Tot snel, Anna")
    original = _in_topic(world, thread, "Tot snel, Anna")
    assert original is not None
    async with world.svc.db.read() as conn:
        assert await links.by_coach_message(conn, world.group, copy["message_id"]) is not None
    # Erased (here straight in storage, so the topic's messages are still there to react on):
    # the links went with everything else.
    async with world.svc.db.transaction() as conn:
        await store.erase(conn, anna.id)
        assert await links.by_coach_message(conn, world.group, copy["message_id"]) is None
    await asyncio.sleep(0.2)
    before = _reaction_calls(sb)
    sb.react(world.coach_id, world.group, copy["message_id"], "👍")
    sb.react(anna.id, anna.chat_id, got["message_id"], "👍")
    await asyncio.sleep(0.8)
    assert _reaction_calls(sb) == before
    assert _keys(sb, anna.chat_id, said["message_id"]) == []
    assert _keys(sb, world.group, original["message_id"]) == []
    assert sb.violations == []


async def test_reactions_both_ways_in_the_coaches_private_chats(private_world: World) -> None:
    h, sandbox, coach_id = private_world.h, private_world.sb, private_world.coach_id
    sb, cid = sandbox, coach_id
    anna = h.person("Anna")
    await enrol(h, anna)
    await ask_coach(anna, None)
    said = await anna.send("Mag ik iets vragen?")
    copy = await eventually(
        lambda: next((m for m in sb.messages(cid) if plain(m) == "Mag ik iets vragen?"), None)
    )
    sb.react(cid, cid, copy["message_id"], "🤔")
    await eventually(lambda: _keys(sb, anna.chat_id, said["message_id"]) == [("🤔", ["bot"])])

    answer = await sb.send_text(cid, "Natuurlijk", reply_to=copy["message_id"])
    got = await anna.expect_text("Natuurlijk")
    sb.react(anna.id, anna.chat_id, got["message_id"], "🙏")
    await eventually(lambda: _keys(sb, cid, answer["message_id"]) == [("🙏", ["bot"])])
    sb.react(anna.id, anna.chat_id, got["message_id"], None)
    await eventually(lambda: _keys(sb, cid, answer["message_id"]) == [])
    assert sb.violations == []


async def test_two_coaches_one_reaction_on_the_clients_message(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    from bot.edge.config import CoachConfig, Config

    sanne, joris = sandbox.add_user("Sanne"), sandbox.add_user("Joris")
    group = sandbox.add_forum_group("Coachpraktijk", [sanne.id, joris.id])
    config = Config(coach=CoachConfig(user_ids=(sanne.id, joris.id), chat_id=group))
    h = Harness(sandbox, tmp_path, config)
    await h.start()
    try:
        w = World(h, sandbox, sanne.id, joris.id, group)
        anna, thread = await _talking(w)
        said = await anna.send("Dank jullie")
        copy = await eventually(lambda: _in_topic(w, thread, "Dank jullie"))
        mid = copy["message_id"]
        sandbox.react(sanne.id, group, mid, "👍")
        await eventually(
            lambda: _keys(sandbox, anna.chat_id, said["message_id"]) == [("👍", ["bot"])]
        )
        sandbox.react(joris.id, group, mid, "❤")
        await eventually(
            lambda: _keys(sandbox, anna.chat_id, said["message_id"]) == [("❤", ["bot"])]
        )
        # Joris takes his away: Sanne's still stands, so hers shows again.
        sandbox.react(joris.id, group, mid, None)
        await eventually(
            lambda: _keys(sandbox, anna.chat_id, said["message_id"]) == [("👍", ["bot"])]
        )
        sandbox.react(sanne.id, group, mid, None)
        await eventually(lambda: _keys(sandbox, anna.chat_id, said["message_id"]) == [])
        assert sandbox.violations == []
    finally:
        await h.stop()


async def test_reactions_arrive_by_webhook_too(sandbox: Sandbox, tmp_path: Path) -> None:
    from dataclasses import replace

    from bot.edge.config import CoachConfig
    from tests.test_e2e_webhook import webhook_config

    sanne = sandbox.add_user("Sanne")
    group = sandbox.add_forum_group("Coachpraktijk", [sanne.id])
    _, _, config = webhook_config()
    config = replace(config, coach=CoachConfig(user_ids=(sanne.id,), chat_id=group))
    h = Harness(sandbox, tmp_path, config)
    await h.start()
    try:
        # The webhook asked for reactions, as polling does.
        assert "message_reaction" in sandbox.world.allowed_updates
        w = World(h, sandbox, sanne.id, sanne.id, group)
        anna, thread = await _talking(w)
        await w.coach_says(thread, "Goed bezig")
        got = await anna.expect_text("Goed bezig")
        original = _in_topic(w, thread, "Goed bezig")
        assert original is not None
        sandbox.react(anna.id, anna.chat_id, got["message_id"], "🔥")
        await eventually(lambda: _keys(sandbox, group, original["message_id"]) == [("🔥", ["bot"])])
        assert sandbox.violations == []
    finally:
        await h.stop()


def test_the_inbox_keeps_who_reacted_so_an_erasure_takes_it_along() -> None:
    from bot.edge.inbox import describe

    raw = {
        "update_id": 7,
        "message_reaction": {
            "chat": {"id": 5, "type": "private", "first_name": "Anna"},
            "message_id": 3,
            "user": {"id": 5, "is_bot": False, "first_name": "Anna"},
            "date": 0,
            "old_reaction": [],
            "new_reaction": [{"type": "emoji", "emoji": "👍"}],
        },
    }
    assert describe(raw) == ("message_reaction", 5)


async def test_a_reaction_on_a_saved_reply_shows_on_its_note_in_the_topic(world: World) -> None:
    from tests.harness import buttons

    anna, thread = await _talking(world)
    sb = world.sb
    await sb.send_text(
        world.coach_id, "/sjablonen nieuw Hoi {naam}, ik denk aan je.", chat_id=world.group
    )
    await world.coach_says(thread, "/sjablonen")
    picker = await eventually(lambda: _in_topic(world, thread, "te sturen"))
    first = next(data for text, data in buttons(picker) if text.startswith("1. "))
    await sb.press(world.coach_id, world.group, picker["message_id"], first)
    got = await anna.expect_text("ik denk aan je")
    note = await eventually(lambda: _in_topic(world, thread, "Verstuurd als opgeslagen"))
    sb.react(anna.id, anna.chat_id, got["message_id"], "❤")
    await eventually(lambda: _keys(sb, world.group, note["message_id"]) == [("❤", ["bot"])])
    assert sb.violations == []
