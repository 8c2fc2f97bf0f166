"""Updates reach the bot like on Telegram: long polling with offsets, or a webhook."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
import telegram
from aiohttp import web

from sandbox import Sandbox
from tests.sandbox_helpers import bot_fixture, sandbox_fixture  # noqa: F401  (fixtures)


async def test_long_polling_returns_early_on_an_update(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")

    async def later() -> None:
        await asyncio.sleep(0.3)
        await sb.send_text(anna.id, "hallo")

    task = asyncio.create_task(later())
    began = time.monotonic()
    updates = await bot.get_updates(timeout=10, read_timeout=15)
    elapsed = time.monotonic() - began
    await task
    assert 0.25 <= elapsed < 3
    assert [u.message.text for u in updates if u.message] == ["hallo"]


async def test_long_polling_times_out_empty(sb: Sandbox, bot: telegram.Bot) -> None:
    began = time.monotonic()
    assert await bot.get_updates(timeout=1, read_timeout=5) == ()
    assert time.monotonic() - began >= 0.9


async def test_offset_confirms_and_limit_caps(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    for k in range(5):
        await sb.send_text(anna.id, f"bericht {k}")
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first] == ["bericht 0", "bericht 1"]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["bericht 2", "bericht 3", "bericht 4"]
    assert (await bot.get_webhook_info()).pending_update_count == 3
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()


async def test_allowed_updates_filter_new_updates(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    await bot.get_updates(allowed_updates=["callback_query"])
    await sb.send_text(anna.id, "wordt niet bezorgd")
    assert await bot.get_updates() == ()
    await bot.get_updates(allowed_updates=[])  # empty: back to the default set
    await sb.send_text(anna.id, "wel")
    assert [u.message.text for u in await bot.get_updates()] == ["wel"]


async def test_second_poller_terminates_the_first(sb: Sandbox, bot: telegram.Bot) -> None:
    # PTB serialises its own getUpdates calls, so the first poller is a raw client.
    async with httpx.AsyncClient(timeout=10) as client:
        url = f"{sb.base_url}{sb.token}/getUpdates"
        first = asyncio.create_task(client.post(url, json={"timeout": 5}))
        await asyncio.sleep(0.2)
        began = time.monotonic()
        assert await bot.get_updates(timeout=1, read_timeout=5) == ()
        answer = await first
        assert time.monotonic() - began < 3
    assert answer.status_code == 409
    assert "terminated by other getUpdates" in answer.json()["description"]


async def test_press_delivers_callback_query_and_returns_answer(
    sb: Sandbox, bot: telegram.Bot
) -> None:
    anna = sb.add_user("Anna")
    keyboard = telegram.InlineKeyboardMarkup(
        [[telegram.InlineKeyboardButton("Ja", callback_data="consent:yes")]]
    )
    msg = await bot.send_message(anna.id, "Mag ik je antwoorden bewaren?", reply_markup=keyboard)

    async def answer_it() -> None:
        (update,) = await bot.get_updates(timeout=5, read_timeout=10)
        query = update.callback_query
        assert query is not None and query.data == "consent:yes"
        assert query.message.message_id == msg.message_id
        assert query.from_user.id == anna.id
        await query.answer("Dank je!", show_alert=False)

    task = asyncio.create_task(answer_it())
    answer = await sb.press(anna.id, anna.id, msg.message_id, "consent:yes")
    await task
    assert answer is not None and answer["text"] == "Dank je!"
    with pytest.raises(ValueError, match="no button"):
        await sb.press(anna.id, anna.id, msg.message_id, "consent:forged")
    # A forged press is delivered; nobody answers it, so press gives None after `wait`.
    assert await sb.press(anna.id, anna.id, msg.message_id, "x", forge=True, wait=0.2) is None
    # Answering an unknown query is refused like on Telegram.
    with pytest.raises(telegram.error.BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query("123")


async def test_wait_for_uses_a_cursor_per_chat_and_thread(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    await bot.send_message(anna.id, "een")
    await bot.send_message(anna.id, "twee")
    first = await sb.wait_for(anna.id)
    assert [m["text"] for m in first] == ["een"]
    assert [m["text"] for m in await sb.wait_for(anna.id)] == ["twee"]

    async def later() -> None:
        await asyncio.sleep(0.2)
        await bot.send_message(anna.id, "drie")

    task = asyncio.create_task(later())
    assert [m["text"] for m in await sb.wait_for(anna.id, timeout=3)] == ["drie"]
    await task
    with pytest.raises(TimeoutError, match="got 0"):
        await sb.wait_for(anna.id, timeout=0.2)
    # Messages from the person never count.
    await sb.send_text(anna.id, "van mij")
    with pytest.raises(TimeoutError):
        await sb.wait_for(anna.id, timeout=0.1)


async def test_wait_for_in_a_topic(sb: Sandbox, bot: telegram.Bot) -> None:
    coach = sb.add_user("Eva")
    group = sb.add_forum_group("Coaching", [coach.id])
    one = (await bot.create_forum_topic(group, "Anna")).message_thread_id
    two = (await bot.create_forum_topic(group, "Bram")).message_thread_id
    await bot.send_message(group, "voor Bram", message_thread_id=two)
    await bot.send_message(group, "voor Anna", message_thread_id=one)
    assert [m["text"] for m in await sb.wait_for(group, thread_id=one)] == ["voor Anna"]
    assert [m["text"] for m in await sb.wait_for(group, thread_id=two)] == ["voor Bram"]
    both = await sb.wait_for(group, count=2)
    assert [m["text"] for m in both] == ["voor Bram", "voor Anna"]


async def test_edit_text_and_media_reach_the_bot(sb: Sandbox, bot: telegram.Bot) -> None:
    anna = sb.add_user("Anna")
    sent = await sb.send_text(anna.id, "/start hallo")
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    await sb.edit_text(anna.id, anna.id, sent["message_id"], "hallo daar")
    for kind in ("photo", "sticker", "voice", "document", "video", "audio", "location", "contact"):
        await sb.send_media(anna.id, kind)
    updates = await bot.get_updates()
    assert updates[0].message.text == "/start hallo"
    assert updates[1].edited_message.text == "hallo daar"
    msgs = [u.message for u in updates[2:]]
    assert msgs[0].photo and msgs[1].sticker and msgs[2].voice and msgs[3].document
    assert msgs[4].video and msgs[5].audio and msgs[6].location and msgs[7].contact
    photo_file = await bot.get_file(msgs[0].photo[-1].file_id)
    data = bytes(await photo_file.download_as_bytearray())
    assert data.startswith(b"\x89PNG\r\n\x1a\n")


async def test_webhook_delivery_with_secret_token(sb: Sandbox, bot: telegram.Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    failures = [1]  # the first delivery fails: Telegram tries again

    async def hook(request: web.Request) -> web.Response:
        if failures:
            failures.pop()
            return web.Response(status=500)
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(text="ok")

    app = web.Application()
    app.add_routes([web.post("/hook", hook)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        anna = sb.add_user("Anna")
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="geheim-1")
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook")
        with pytest.raises(telegram.error.Conflict, match="webhook is active"):
            await bot.get_updates()
        await sb.send_text(anna.id, "via webhook")
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.05)
        assert received, "the webhook got nothing"
        secret, update = received[0]
        assert secret == "geheim-1"
        assert update["message"]["text"] == "via webhook"
        assert await bot.delete_webhook()
        await sb.send_text(anna.id, "weer polling")
        assert [u.message.text for u in await bot.get_updates()] == ["weer polling"]
    finally:
        await runner.cleanup()


async def test_a_plain_ptb_application_runs_on_the_sandbox(sb: Sandbox) -> None:
    """An unmodified Application with polling, a rate limiter and an echo handler."""
    from telegram.ext import AIORateLimiter, ApplicationBuilder, MessageHandler, filters

    async def echo(update: telegram.Update, context: object) -> None:
        assert update.effective_message is not None
        text = f"Je zei: {update.effective_message.text}"
        await update.effective_message.reply_text(text, do_quote=True)

    app = (
        ApplicationBuilder()
        .token(sb.token)
        .base_url(sb.base_url)
        .base_file_url(sb.base_file_url)
        .rate_limiter(AIORateLimiter())
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    anna = sb.add_user("Anna")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=5)
        try:
            await sb.send_text(anna.id, "hallo")
            (reply,) = await sb.wait_for(anna.id, timeout=5)
            assert reply["text"] == "Je zei: hallo"
            assert reply["reply_to_message"]["text"] == "hallo"
        finally:
            await app.updater.stop()
            await app.stop()
    assert sb.violations == []


async def test_stop_ends_a_pending_long_poll_at_once() -> None:
    sandbox = Sandbox()
    await sandbox.start()
    async with httpx.AsyncClient(timeout=10) as client:
        poll = asyncio.create_task(
            client.post(f"{sandbox.base_url}{sandbox.token}/getUpdates", json={"timeout": 30})
        )
        await asyncio.sleep(0.2)
        began = time.monotonic()
        await sandbox.stop()
        answer = await poll
    assert time.monotonic() - began < 1.0
    assert answer.json() == {"ok": True, "result": []}


async def test_stop_ends_webhook_retries_to_a_dead_url() -> None:
    sandbox = Sandbox()
    await sandbox.start()
    client = telegram.Bot(sandbox.token, base_url=sandbox.base_url)
    async with client:
        await client.set_webhook("http://127.0.0.1:9/nobody-listens")
        anna = sandbox.add_user("Anna")
        await sandbox.send_text(anna.id, "hallo?")
        await asyncio.sleep(0.3)
        info = await client.get_webhook_info()
        assert info.last_error_message is not None
    await sandbox.stop()
    await asyncio.sleep(0)
    pending = [
        t for t in asyncio.all_tasks() if "_post_update" in repr(t.get_coro()) and not t.done()
    ]
    assert pending == []
    assert [u["message"]["text"] for u in sandbox.world.updates] == ["hallo?"]
