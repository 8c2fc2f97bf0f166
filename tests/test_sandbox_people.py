"""The people HTTP API the web page uses, and the sandbox's import direction."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import httpx
import telegram

from sandbox import Sandbox
from tests.sandbox_helpers import bot_fixture, sandbox_fixture  # noqa: F401  (fixtures)

SANDBOX_DIR = Path(__file__).resolve().parent.parent / "sandbox"


async def test_people_http_round_trip(sb: Sandbox, bot: telegram.Bot) -> None:
    sb.info.update({"coaches": [7], "coach_group": -100})
    async with httpx.AsyncClient(base_url=sb.url, timeout=10) as web:
        info = (await web.get("/api/info")).json()
        assert info["bot"]["username"] == "coachbot_demo_bot"
        assert info["coaches"] == [7] and info["coach_group"] == -100

        person = (await web.post("/api/people", json={"first_name": "Sanne"})).json()
        assert person["chat_id"] == person["id"]
        people = (await web.get("/api/people")).json()["people"]
        assert {"id": person["id"], "first_name": "Sanne"} in people
        chats = (await web.get("/api/chats", params={"user_id": person["id"]})).json()["chats"]
        assert chats[0]["id"] == person["id"] and chats[0]["type"] == "private"

        chat = f"/api/chats/{person['id']}"
        sent = await web.post(f"{chat}/send", json={"user_id": person["id"], "text": "/start"})
        assert sent.json()["message"]["text"] == "/start"
        (update,) = await bot.get_updates()
        assert update.message.text == "/start" and update.message.from_user.first_name == "Sanne"

        everything = (await web.get(f"{chat}/events", params={"since": 0, "wait": 0})).json()
        assert [m["text"] for m in everything["messages"]] == ["/start"]
        seq = everything["seq"]

        # A long poll returns as soon as the bot answers.
        poll = asyncio.create_task(web.get(f"{chat}/events", params={"since": seq, "wait": 10}))
        await asyncio.sleep(0.1)
        keyboard = telegram.InlineKeyboardMarkup(
            [[telegram.InlineKeyboardButton("Ik doe mee", callback_data="consent")]]
        )
        answer = await bot.send_message(person["id"], "Welkom!", reply_markup=keyboard)
        events = (await poll).json()
        assert [m["text"] for m in events["messages"]] == ["Welkom!"]
        assert events["seq"] > seq

        async def answer_press() -> None:
            (update,) = await bot.get_updates(offset=update_id + 1, timeout=5, read_timeout=10)
            await update.callback_query.answer("Top!")

        update_id = update.update_id
        task = asyncio.create_task(answer_press())
        pressed = await web.post(
            f"{chat}/press",
            json={"user_id": person["id"], "message_id": answer.message_id, "data": "consent"},
        )
        await task
        assert pressed.json() == {"answer": {"text": "Top!", "show_alert": False}}

        photo = await web.post(f"{chat}/send", json={"user_id": person["id"], "kind": "photo"})
        file_id = photo.json()["message"]["photo"][-1]["file_id"]
        got = await web.get(f"/api/files/{file_id}")
        assert got.headers["content-type"] == "image/png"
        assert got.content.startswith(b"\x89PNG")

        await bot.delete_message(person["id"], answer.message_id)
        last = (await web.get(f"{chat}/events", params={"since": events["seq"], "wait": 0})).json()
        assert {"message_id": answer.message_id, "deleted": True} in last["messages"]

        bad = await web.post(f"{chat}/send", json={"user_id": 999, "text": "wie ben ik"})
        assert bad.status_code == 400 and "error" in bad.json()
        forged = await web.post(
            f"{chat}/press",
            json={"user_id": person["id"], "message_id": answer.message_id, "data": "x"},
        )
        assert forged.status_code == 400
        bad_wait = await web.get(f"{chat}/events", params={"since": 0, "wait": "lang"})
        assert bad_wait.status_code == 400
        assert (await web.get("/api/chats/12345/events")).status_code == 404


async def test_group_chats_and_topics_in_the_people_api(sb: Sandbox, bot: telegram.Bot) -> None:
    coach = sb.add_user("Eva")
    group = sb.add_forum_group("Coaching", [coach.id])
    topic = await bot.create_forum_topic(group, "Anna")
    async with httpx.AsyncClient(base_url=sb.url) as web:
        chats = (await web.get("/api/chats", params={"user_id": coach.id})).json()["chats"]
        forum = next(c for c in chats if c["id"] == group)
        assert forum["is_forum"] is True
        assert forum["topics"] == [
            {"message_thread_id": topic.message_thread_id, "name": "Anna", "deleted": False}
        ]
        sent = await web.post(
            f"/api/chats/{group}/send",
            json={
                "user_id": coach.id,
                "text": "Ik pak het op",
                "message_thread_id": topic.message_thread_id,
            },
        )
        assert sent.json()["message"]["message_thread_id"] == topic.message_thread_id


async def test_static_page_is_served_without_escapes(sb: Sandbox) -> None:
    async with httpx.AsyncClient(base_url=sb.url) as web:
        page = await web.get("/")
        index = SANDBOX_DIR / "static" / "index.html"
        assert page.status_code == (200 if index.is_file() else 404)
        escape = await web.get("/static/../server.py")
        assert escape.status_code == 404
        escape2 = await web.get("/static/%2e%2e/server.py")
        assert escape2.status_code == 404


def test_sandbox_imports_nothing_of_the_bot() -> None:
    forbidden = {"bot", "dialogues", "storage"}
    for path in SANDBOX_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"


async def test_many_people_stay_cheap(sb: Sandbox, bot: telegram.Bot) -> None:
    """A thousand people each write once: the sandbox stays fast and keeps every update."""
    people = [sb.add_user(f"P{k}") for k in range(1000)]
    loop = asyncio.get_running_loop()
    began = loop.time()
    for person in people:
        await sb.send_text(person.id, "hoi")
    assert loop.time() - began < 2.0
    seen = 0
    offset = 0
    while seen < 1000:
        batch = await bot.get_updates(offset=offset, limit=100)
        seen += len(batch)
        offset = batch[-1].update_id + 1
    assert seen == 1000
