"""What the demo page reads from the local Telegram (issue 15): /commands in the bot's text
marked as Telegram marks them, and the bot's chat action ("typing") in the people API."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import telegram

from sandbox import Sandbox
from sandbox.html import add_bot_commands, parse_html
from tests.sandbox_helpers import bot_fixture, sandbox_fixture  # noqa: F401  (fixtures)


@pytest.mark.parametrize(
    ("source", "commands"),
    [
        ("Typ /menu of /hulp.", ["/menu", "/hulp"]),
        ("/start@coachbot_demo_bot om te beginnen", ["/start@coachbot_demo_bot"]),
        ("👋 Typ <b>/verder</b>", ["/verder"]),
        ("<code>/hulp</code> en a/b en </u> en /x/y", []),
        ("https://t.me/coachbot_demo_bot en 1/2", []),
        ('<a href="https://x.nl">/menu</a>', []),
    ],
)
def test_bot_commands_are_marked_like_telegram(source: str, commands: list[str]) -> None:
    text, entities = parse_html(source.replace("</u>", "&lt;/u&gt;"))
    marked = add_bot_commands(text, entities)
    utf16 = text.encode("utf-16-le")
    found = [
        utf16[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in marked
        if e["type"] == "bot_command"
    ]
    assert found == commands


async def test_the_bot_s_message_carries_its_commands(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    sent = await bot.send_message(anna.id, "Typ /menu, of <i>/hulp</i>.", parse_mode="HTML")
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bot_command", 4, 5),
        ("italic", 14, 5),
        ("bot_command", 14, 5),
    ]


async def test_typing_reaches_the_page_until_the_message_comes(
    sb: Sandbox, bot: telegram.Bot
) -> None:
    anna = sb.add_user("Anna")
    events = f"/api/chats/{anna.id}/events"
    async with httpx.AsyncClient(base_url=sb.url, timeout=10) as web:
        first = (await web.get(events, params={"since": 0, "wait": 0})).json()
        assert first["actions"] == []
        # A page waiting for news wakes up for "typing"...
        waiting = asyncio.create_task(
            web.get(
                events,
                params={"since": first["seq"], "actions": first["actions_version"], "wait": 10},
            )
        )
        await asyncio.sleep(0.2)
        assert await bot.send_chat_action(anna.id, "typing")
        woke = (await asyncio.wait_for(waiting, 5)).json()
        assert [a["action"] for a in woke["actions"]] == ["typing"]
        assert woke["actions"][0]["message_thread_id"] is None
        # ... and one that asks after it (with the version it saw) hears of it at once.
        late = await web.get(
            events, params={"since": first["seq"], "actions": first["actions_version"], "wait": 10}
        )
        assert [a["action"] for a in late.json()["actions"]] == ["typing"]
        await bot.send_message(anna.id, "Hier ben ik")
        after = (await web.get(events, params={"since": first["seq"], "wait": 0})).json()
        assert after["actions"] == [] and after["messages"][-1]["text"] == "Hier ben ik"
