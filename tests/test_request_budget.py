"""What one update costs: Bot API requests per kind of step, and SQLite write transactions.

Every request a step makes is counted from the sandbox's request log, per method, for a scripted
sequence (a new client's /start, button answers, a typed answer, a menu tap, a check-in mood
tap, /start again), so a change that adds a request to a kind of step fails here. Write
transactions are counted with a wrapper on the database: the handling of an update opens at
most one (its step's, which also marks the inbox row); storing the update and ending it are
the inbox's, shared by every update of a batch. In webhook mode a pressed button's answer rides
back in the webhook response instead of being a request of its own.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.core import conversation
from bot.edge import inbox as edge_inbox
from dialogues import SendMessage, TypingPause
from sandbox import Sandbox
from storage import clients
from storage import inbox as stored_inbox
from tests.harness import ONBOARDING_PATH, Harness, Person, buttons, plain
from tests.test_checkins_e2e import make_client, sweep_at, utc
from tests.test_e2e_webhook import webhook_config


class Writes:
    """Counts write transactions on a Database: inside an update's handling, and outside."""

    def __init__(self, db: Any) -> None:
        self.handling = 0
        self.outside = 0
        self.reads = 0
        transaction, read = db.transaction, db.read

        @contextlib.asynccontextmanager
        async def counted_transaction() -> AsyncIterator[Any]:
            if stored_inbox.current.get() is not None:
                self.handling += 1
            else:
                self.outside += 1
            async with transaction() as conn:
                yield conn

        @contextlib.asynccontextmanager
        async def counted_read() -> AsyncIterator[Any]:
            self.reads += 1
            async with read() as conn:
                yield conn

        db.transaction = counted_transaction
        db.read = counted_read

    def reset(self) -> None:
        self.handling = self.outside = self.reads = 0


async def _step(
    h: Harness, person: Person, writes: Writes, action: Awaitable[Any]
) -> tuple[dict[str, int], int, int]:
    """Run one client action to its end: (requests per method, handling writes, all writes)."""
    h.sb.requests.clear()
    writes.reset()
    await action
    await person.settle(quiet=0.4, first=10)
    # The inbox ends handled updates in batches, a moment after.
    await asyncio.sleep(0.2)
    counted = collections.Counter(m for m, _ in h.sb.requests if m != "getUpdates")
    return dict(counted), writes.handling, writes.handling + writes.outside


# Per kind of step: the requests, exactly. A press: its answer, its keyboard taken away, the
# bubbles of the next step; a typed answer at a step with buttons: those buttons taken away and
# the next bubbles; a menu tap: its answer and the bubbles (the menu keeps its buttons).
PRESS_ONE = {"answerCallbackQuery": 1, "editMessageReplyMarkup": 1, "sendMessage": 1}


async def test_requests_and_writes_per_kind_of_step(harness: Harness) -> None:
    h = harness
    writes = Writes(h.services.db)
    anna = h.person("Anna")
    seen: list[tuple[str, dict[str, int], int, int]] = []

    async def step(kind: str, action: Awaitable[Any]) -> dict[str, int]:
        requests, handling, total = await _step(h, anna, writes, action)
        seen.append((kind, requests, handling, total))
        return requests

    # A new client's /start: the three bubbles of the onboarding's first step, nothing else.
    assert await step("start new", anna.send("/start")) == {"sendMessage": 3}
    placeholders = {None: "akkoord", "COUNTRY": "Nederland", "SHARE": "Nee, alleen voor mij"}
    for label in ONBOARDING_PATH:
        label = placeholders.get(label, label)
        got = await step("press", anna.press(label))
        bubbles = got.get("sendMessage", 0)
        assert got == {**PRESS_ONE, "sendMessage": bubbles} and 1 <= bubbles <= 3, (label, got)
    # Back again: one message (the menu).
    assert await step("start again", anna.send("/start")) == {"sendMessage": 1}
    # A menu tap that opens a module: the answer and the session's first bubbles.
    module = h.services.library.menu.modules[0].title
    got = await step("menu tap", anna.press(module))
    assert got == {"answerCallbackQuery": 1, "sendMessage": got["sendMessage"]}, got
    # A typed answer where the step shows buttons: they go, and the next step comes.
    while len([d for _, d in buttons(anna.last_with_buttons()) if d.startswith("c:")]) != 1:
        label = buttons(anna.last_with_buttons())[0][0]
        await step("press", anna.press(label))
    got = await step("typed", anna.send("Ik merk dat ik onrustig word"))
    assert got == {"editMessageReplyMarkup": 1, "sendMessage": got["sendMessage"]}, got
    assert await step("menu command", anna.send("/menu")) == {"sendMessage": 1}

    # A check-in's mood tap: answered, its buttons taken away, one bubble.
    bea = await make_client(h, "Bea")
    await sweep_at(h, utc(2026, 11, 23, 19, 0, 30))
    await bea.settle(first=5)
    requests, handling, total = await _step(
        h, bea, writes, bea.press(buttons(bea.last_with_buttons())[2][0])
    )
    seen.append(("mood tap", requests, handling, total))
    assert requests == PRESS_ONE, requests

    for kind, requests, handling, total in seen:
        # The handling's own writes: the step's one transaction (the new client's /start also
        # creates the row). Storing and ending the update are the inbox's (one each here, where
        # every update comes alone; shared by a whole batch under load).
        # (Before: 2-3 per handling, 4-5 in all: a try counted, touch's last_seen, an empty
        # transaction to mark the row before a press's answer, then the step's own.)
        most = 2 if kind == "start new" else 1
        assert handling == most, (kind, handling, requests)
        assert total <= most + 2, (kind, total, requests)


async def test_typing_shows_only_before_a_pause_long_enough_to_see(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    typing = replace(h.config.dialogues, typing_pauses=True)
    svc = replace(h.services, config=replace(h.config, dialogues=typing))
    slept: list[float] = []

    async def no_wait(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(conversation.asyncio, "sleep", no_wait)
    anna = h.person("Anna")
    await anna.send("/start")
    await anna.settle(first=10)
    async with h.services.db.read() as conn:
        client = await clients.get(conn, anna.id)
    assert client is not None
    h.sb.requests.clear()
    outputs = [
        SendMessage("Hoi."),
        TypingPause(0.6),
        SendMessage("Kort."),
        TypingPause(1.8),
        SendMessage("Een langere zin, die even duurt om te typen, met nog wat meer woorden erin."),
        TypingPause(1.0),
        SendMessage("Nog een."),
    ]
    result = conversation.StepResult(state=conversation.current_state(svc, client))
    await conversation._deliver(svc, h.bot.app.bot, client, outputs, result)
    methods = [m for m, _ in h.sb.requests if m != "getUpdates"]
    assert methods == [
        "editMessageReplyMarkup",  # the onboarding's buttons, no longer live
        "sendMessage",
        "sendMessage",  # 0.6 s: no "typing…", but the pause stays
        "sendChatAction",
        "sendMessage",
        "sendChatAction",
        "sendMessage",
    ], methods
    assert slept == [0.6, 1.8, 1.0]
    got = await anna.settle(first=5)
    assert [plain(m) for m in got][0] == "Hoi."


async def test_webhook_carries_the_button_answer_in_its_response(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    port, _, config = webhook_config()
    h = Harness(sandbox, tmp_path, config)
    await h.start()
    try:
        writes = Writes(h.services.db)
        anna = h.person("Anna")
        await anna.send("/start")
        await anna.settle(first=10)
        # Pressing "Ja": the answer comes back in the webhook response and the sandbox carries it
        # out (the press sees it); no answerCallbackQuery request is made.
        sandbox.webhook_replies.clear()
        requests, _, _ = await _step(h, anna, writes, anna.press("Ja"))
        assert requests == {"editMessageReplyMarkup": 1, "sendMessage": 1}, requests
        assert [m for m, _ in sandbox.webhook_replies] == ["answerCallbackQuery"]
        # A stale press: its answer rides back too.
        old = [m for m in sandbox.messages(anna.id) if buttons(m)][0]
        answer = await anna.press_data(old["message_id"], buttons(old)[0][1], forge=True)
        await anna.settle(first=5)
        assert answer is not None, answer
        assert sandbox.webhook_replies[-1][0] == "answerCallbackQuery"
        assert not any(m == "answerCallbackQuery" for m, _ in sandbox.requests)

        # A handler slower than the wait: a plain 200, and the answer goes as a request.
        monkey = pytest.MonkeyPatch()
        monkey.setattr(edge_inbox, "REPLY_WAIT", 0.0)
        try:
            sandbox.requests.clear()
            await anna.press(buttons(anna.last_with_buttons())[0][0])
            await anna.settle(first=5)
            assert sum(m == "answerCallbackQuery" for m, _ in sandbox.requests) == 1
        finally:
            monkey.undo()
    finally:
        await h.stop()


async def test_webhook_answers_a_button_whose_handler_failed(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.routing import handlers

    port, secret, config = webhook_config()
    h = Harness(sandbox, tmp_path, config)
    await h.start()
    try:
        anna = h.person("Anna")
        await anna.send("/start")
        await anna.settle(first=10)

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("a bug")

        monkeypatch.setattr(handlers.conversation, "run", broken)
        sandbox.webhook_replies.clear()
        answer = await anna.press("Ja")
        # The handler died before it answered: the client still gets an answer (no spinner).
        assert answer is not None
        assert [m for m, _ in sandbox.webhook_replies] == ["answerCallbackQuery"]
        # The update is not lost: it is stored, and ended (it failed, the log says why).
        got = await anna.settle(first=5)
        assert any("mis" in plain(m).lower() for m in got), [plain(m) for m in got]
    finally:
        await h.stop()


async def test_sandbox_carries_out_a_method_in_a_webhook_response(sandbox: Sandbox) -> None:
    """The sandbox does with a webhook response what Telegram does: the method is checked
    against the spec and carried out; an invalid one is a violation, and nothing comes back."""
    from aiohttp import web

    replies: list[dict[str, Any]] = []
    chat = sandbox.add_user("Kim").id

    async def hook(request: web.Request) -> web.Response:
        update = await request.json()
        if "message" in update:
            body = replies.pop(0) if replies else None
            return web.json_response(body) if body is not None else web.Response()
        return web.Response()

    server = web.Application()
    server.router.add_post("/hook", hook)
    runner = web.AppRunner(server)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as http:
            url = f"{sandbox.base_url}{sandbox.token}/setWebhook"
            async with http.post(url, json={"url": f"http://127.0.0.1:{port}/hook"}) as r:
                assert (await r.json())["ok"]
        replies.append({"method": "sendMessage", "chat_id": chat, "text": "Via het antwoord"})
        await sandbox.send_text(chat, "hallo")
        got = await sandbox.wait_for(chat, timeout=5)
        assert plain(got[0]) == "Via het antwoord"
        assert sandbox.webhook_replies[-1][0] == "sendMessage"
        assert not any(m == "sendMessage" for m, _ in sandbox.requests)
        # An invalid method in the response: recorded as a violation, nothing sent.
        replies.append({"method": "sendMessage", "chat_id": chat})
        await sandbox.send_text(chat, "nog eens")
        for _ in range(50):
            if sandbox.violations:
                break
            await asyncio.sleep(0.05)
        assert sandbox.violations and "text" in sandbox.violations[-1]["description"]
        sandbox.violations.clear()  # expected here; the fixture checks for others
    finally:
        await runner.cleanup()


async def test_a_button_whose_handler_failed_is_answered_when_polling(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.routing import handlers

    anna = harness.person("Anna")
    await anna.send("/start")
    await anna.settle(first=10)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(handlers.conversation, "run", broken)
    harness.sb.requests.clear()
    # The handler dies before its answer: a plain answer goes when the handling ends, once.
    assert await anna.press("Ja") is not None
    await anna.settle(first=5)
    answers = [p for m, p in harness.sb.requests if m == "answerCallbackQuery"]
    assert len(answers) == 1 and "text" not in answers[0], answers


async def test_last_seen_rides_on_the_handlings_write_and_never_brings_a_row_back(
    harness: Harness,
) -> None:
    h = harness
    bea = await make_client(h, "Bea")
    writes = Writes(h.services.db)
    h.clock.advance(timedelta(minutes=5))
    # /menu writes nothing of its own but the mark before its message: last_seen rides on it.
    requests, handling, _ = await _step(h, bea, writes, bea.send("/menu"))
    assert requests == {"sendMessage": 1} and handling == 1
    async with h.services.db.read() as conn:
        row = await clients.get(conn, bea.id)
    assert row is not None and row.last_seen == h.clock.now().replace(microsecond=0)
    # The deferred write only moves last_seen forward on a row that is there.
    async with h.services.db.transaction() as conn:
        await clients.seen(conn, 424242, h.clock.now())
    async with h.services.db.read() as conn:
        assert await clients.get(conn, 424242) is None
