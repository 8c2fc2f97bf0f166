"""Reactions in the local Telegram: setMessageReaction checked like Telegram, and a person's
reaction reaching the bot as a message_reaction update only when allowed_updates ask for it."""

from __future__ import annotations

import json

import httpx
import pytest
import telegram
from telegram import ReactionTypeCustomEmoji, ReactionTypeEmoji

from sandbox import Sandbox
from tests.sandbox_helpers import bot_fixture, sandbox_fixture  # noqa: F401  (fixtures)


async def _raw(sb: Sandbox, method: str, params: dict[str, object]) -> dict[str, object]:
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{sb.base_url}{sb.token}/{method}", json=params)
    result: dict[str, object] = answer.json()
    return result


async def test_the_bot_sets_and_takes_away_its_reaction(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    said = await sb.send_text(anna.id, "dank je")
    assert await bot.set_message_reaction(anna.id, said["message_id"], "👍") is True
    assert sb.reactions(anna.id, said["message_id"]) == [
        {"type": "emoji", "key": "👍", "by": ["bot"]}
    ]
    # A new reaction replaces the bot's; none (or an empty list) takes it away.
    await bot.set_message_reaction(anna.id, said["message_id"], [ReactionTypeEmoji("❤")])
    assert [r["key"] for r in sb.reactions(anna.id, said["message_id"])] == ["❤"]
    await bot.set_message_reaction(anna.id, said["message_id"])
    assert sb.reactions(anna.id, said["message_id"]) == []
    assert sb.violations == []


async def test_set_message_reaction_is_checked(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    said = await sb.send_text(anna.id, "hoi")
    mid = said["message_id"]
    # Not in the standard set the specification lists: a violation. (python-telegram-bot
    # would send an unknown emoji string as a custom emoji id, so this one goes raw.)
    pizza = await _raw(
        sb,
        "setMessageReaction",
        {"chat_id": anna.id, "message_id": mid, "reaction": [{"type": "emoji", "emoji": "🍕"}]},
    )
    assert pizza["ok"] is False and "REACTION_INVALID" in str(pizza["description"])
    # More than one: bots are not Premium.
    with pytest.raises(telegram.error.BadRequest, match="(?i)reactions_too_many"):
        await bot.set_message_reaction(anna.id, mid, ["👍", "❤"])
    # Paid reactions are not for bots; a "type" that does not match its fields is no reaction.
    assert (
        await _raw(
            sb,
            "setMessageReaction",
            {"chat_id": anna.id, "message_id": mid, "reaction": [{"type": "paid"}]},
        )
    )["ok"] is False
    bare = await _raw(
        sb,
        "setMessageReaction",
        {"chat_id": anna.id, "message_id": mid, "reaction": [{"type": "emoji"}]},
    )
    assert bare["ok"] is False and "ReactionType" in str(bare["description"])
    assert len(sb.violations) == 4
    sb.violations.clear()
    # Runtime errors, not violations: a missing message or chat, a custom emoji not there.
    with pytest.raises(telegram.error.BadRequest, match="(?i)message to react not found"):
        await bot.set_message_reaction(anna.id, mid + 50, "👍")
    with pytest.raises(telegram.error.BadRequest, match="Chat not found"):
        await bot.set_message_reaction(424242, mid, "👍")
    with pytest.raises(telegram.error.BadRequest, match="(?i)reaction_invalid"):
        await bot.set_message_reaction(anna.id, mid, ReactionTypeCustomEmoji("5368324170671202286"))
    sb.block(anna.id)
    with pytest.raises(telegram.error.Forbidden):
        await bot.set_message_reaction(anna.id, mid, "👍")
    assert sb.violations == []
    assert sb.reactions(anna.id, mid) == []


async def test_a_group_can_allow_only_some_reactions(sb: Sandbox, bot: telegram.Bot) -> None:
    coach = sb.add_user("Coach")
    group = sb.add_forum_group("Coaches", [coach.id])
    topic = await bot.create_forum_topic(group, "Anna")
    said = await sb.send_text(coach.id, "hoi", chat_id=group, thread_id=topic.message_thread_id)
    sb.limit_reactions(group, ["👍"])
    assert await bot.set_message_reaction(group, said["message_id"], "👍")
    with pytest.raises(telegram.error.BadRequest, match="(?i)reaction_invalid"):
        await bot.set_message_reaction(group, said["message_id"], "❤")
    chat = await bot.get_chat(group)
    assert [r.emoji for r in chat.available_reactions or []] == ["👍"]
    # A service message (the topic's creation) takes no reaction.
    with pytest.raises(telegram.error.BadRequest, match="(?i)can.t be reacted"):
        await bot.set_message_reaction(group, topic.message_thread_id, "👍")
    assert sb.violations == []


async def test_a_persons_reaction_is_an_update_only_when_asked_for(
    sb: Sandbox, bot: telegram.Bot
) -> None:
    anna = sb.add_user("Anna")
    sent = await bot.send_message(anna.id, "Hoe gaat het?")
    # Not in the default set: like Telegram, nothing is sent unless asked for.
    assert sb.react(anna.id, anna.id, sent.message_id, "👍") is None
    assert await bot.get_updates() == ()
    assert [r["by"] for r in sb.reactions(anna.id, sent.message_id)] == [[anna.id]]
    await bot.get_updates(allowed_updates=["message", "message_reaction"])
    sb.react(anna.id, anna.id, sent.message_id, "❤")
    sb.react(anna.id, anna.id, sent.message_id, "❤")  # unchanged: no update
    sb.react(anna.id, anna.id, sent.message_id, None)
    updates = await bot.get_updates()
    changes = [u.message_reaction for u in updates]
    assert [c and (c.old_reaction, c.new_reaction) for c in changes] == [
        ((ReactionTypeEmoji("👍"),), (ReactionTypeEmoji("❤"),)),
        ((ReactionTypeEmoji("❤"),), ()),
    ]
    first = changes[0]
    assert first is not None and first.user is not None and first.user.id == anna.id
    assert first.chat.id == anna.id and first.message_id == sent.message_id
    assert sb.reactions(anna.id, sent.message_id) == []
    # People react with the standard emoji only (a custom emoji by id, as Premium people can).
    with pytest.raises(ValueError, match="standard"):
        sb.react(anna.id, anna.id, sent.message_id, "🍕")
    sb.react(anna.id, anna.id, sent.message_id, [{"type": "custom_emoji", "custom_emoji_id": "77"}])
    assert sb.reactions(anna.id, sent.message_id)[0]["type"] == "custom_emoji"
    assert sb.violations == []


async def test_the_page_reacts_and_sees_reactions(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    sent = await bot.send_message(anna.id, "Fijn dat je er bent")
    await bot.set_message_reaction(anna.id, sent.message_id, "🙏")
    async with httpx.AsyncClient(base_url=sb.url) as page:
        answer = await page.post(
            f"/api/chats/{anna.id}/react",
            json={"user_id": anna.id, "message_id": sent.message_id, "emoji": "👍"},
        )
        assert answer.status_code == 200, answer.text
        events = (await page.get(f"/api/chats/{anna.id}/events", params={"wait": 0})).json()
        (shown,) = [m for m in events["messages"] if m["message_id"] == sent.message_id]
        assert shown["reactions"] == [
            {"type": "emoji", "key": "🙏", "by": ["bot"]},
            {"type": "emoji", "key": "👍", "by": [anna.id]},
        ]
        wrong = await page.post(
            f"/api/chats/{anna.id}/react",
            json={"user_id": anna.id, "message_id": sent.message_id, "emoji": "🍕"},
        )
        assert wrong.status_code == 400 and "standard" in json.loads(wrong.text)["error"]
        taken = await page.post(
            f"/api/chats/{anna.id}/react",
            json={"user_id": anna.id, "message_id": sent.message_id, "emoji": None},
        )
        assert [r["key"] for r in taken.json()["reactions"]] == ["🙏"]


async def test_reactions_survive_a_restart(tmp_path: object) -> None:
    from pathlib import Path

    state = Path(str(tmp_path)) / "state.json"
    first = Sandbox(state_file=state)
    await first.start()
    anna = first.add_user("Anna")
    said = await first.send_text(anna.id, "hoi")
    first.react(anna.id, anna.id, said["message_id"], "👍")
    await first.stop()
    second = Sandbox(state_file=state)
    assert [r["key"] for r in second.reactions(anna.id, said["message_id"])] == ["👍"]
