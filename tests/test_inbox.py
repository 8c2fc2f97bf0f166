"""The durable inbox, in-process: stored before acknowledged, taken up after a restart, never
twice, a poison update set aside without a trace of its content in the log.

The bot in its own process (a SIGKILL between storing and handling, the poison update with the
log of a real run) is in tests/test_inbox_process.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.edge import logs
from bot.edge.inbox import MAX_TRIES, UNSTORED_NOTE
from bot.edge.webhook import PATH, SECRET_HEADER
from sandbox import Sandbox
from storage import Database, inbox
from tests.harness import Harness, plain
from tests.test_e2e_webhook import webhook_config

POISON_NAME = "Giftignaampje"
POISON_WORDS = "mijnpollgeheimpje"


def poison(user_id: int, update_id: int | None = None) -> dict[str, Any]:
    """A private message whose poll lacks fields python-telegram-bot 22.8 requires."""
    person = {"id": user_id, "is_bot": False, "first_name": POISON_NAME}
    chat = {"id": user_id, "type": "private", "first_name": POISON_NAME}
    update: dict[str, Any] = {
        "message": {
            "message_id": 424242,
            "date": 0,
            "chat": chat,
            "from": person,
            "poll": {"id": "77", "question": POISON_WORDS},
        }
    }
    if update_id is not None:
        update["update_id"] = update_id
    return update


def command(update_id: int, user_id: int, text: str, message_id: int = 9000) -> dict[str, Any]:
    """A valid update: a person's command in their private chat."""
    person = {"id": user_id, "is_bot": False, "first_name": "X"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": 0,
            "chat": {"id": user_id, "type": "private", "first_name": "X"},
            "from": person,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def rows(db: Database) -> dict[int, dict[str, Any]]:
    """The inbox rows by update id."""
    async with db.read() as conn:
        async with conn.execute("SELECT * FROM inbox") as cur:
            return {int(r["update_id"]): dict(r) for r in await cur.fetchall()}


async def wait_until(check: Any, timeout: float = 5.0) -> None:
    """Poll an async check until it is true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_poison_update_is_set_aside_and_holds_up_no_one(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sb = harness.sb
    victim = harness.person(POISON_NAME)
    other = harness.person("Rosa")
    start = len(sb.requests)
    sb.push_raw_update(poison(victim.id))
    await other.send("/help")
    assert "coachingshulp" in plain((await other.expect(timeout=5))[0])
    await victim.send("/help")
    assert "coachingshulp" in plain((await victim.expect(timeout=5))[0])
    db = harness.services.db

    async def aside() -> bool:
        async with db.read() as conn:
            return (await inbox.counts(conn))["set_aside"] == 1

    await wait_until(aside)
    await asyncio.sleep(1.0)
    # Polling went on as always (one long poll at a time), not fetching the same update again.
    polls = [m for m, _ in sb.requests[start:] if m == "getUpdates"]
    assert len(polls) < 15, len(polls)
    [row] = [r for r in (await rows(db)).values() if r["status"] == "set_aside"]
    assert row["reason"] == "unparseable" and row["raw"] is None and row["user_id"] is None
    # Counted, and no trace of what the update held, in any logger, at any level.
    formatter = logs.IdsFormatter("%(name)s %(levelname)s %(message)s")
    ours = [r for r in caplog.records if not r.name.startswith("sandbox")]
    text = "\n".join(formatter.format(r) for r in ours)
    assert "set aside (unparseable: TypeError); 1 set aside since start" in text
    assert POISON_NAME not in text and POISON_WORDS not in text
    # A restart does not take it up again.
    await harness.restart()
    await victim.send("/help")
    assert "coachingshulp" in plain((await victim.expect(timeout=5))[0])
    async with harness.services.db.read() as conn:
        assert (await inbox.counts(conn))["set_aside"] == 1
    assert POISON_WORDS not in json.dumps(sb.requests[start:], default=str)


async def test_an_update_is_stored_before_telegram_is_told(harness: Harness) -> None:
    sb = harness.sb
    rosa = harness.person("Rosa")
    await rosa.send("/help")
    await rosa.expect(timeout=5)
    await asyncio.sleep(0.3)  # the inbox ends the first update (a write) before we take the lock
    # Another process holds the database's write lock longer than busy_timeout (5 s).
    blocker = sqlite3.connect(harness.db_path, timeout=0, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        await rosa.send("/help")
        update_id = sb.world.updates[-1]["update_id"]
        for _ in range(60):  # 6 s: the bot's first try to store it has failed by then
            await asyncio.sleep(0.1)
            # Not stored, so never confirmed: Telegram still holds it and would send it again.
            assert any(u["update_id"] == update_id for u in sb.world.updates)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    # Told once that it waits; then, stored at last, answered once.
    got = [plain(m) for m in await rosa.settle(0.7, first=10)]
    assert got[0] == UNSTORED_NOTE
    assert [t for t in got[1:] if t != UNSTORED_NOTE] == [t for t in got[1:]]
    assert sum("coachingshulp" in t for t in got) == 1, got
    stored = await rows(harness.services.db)
    assert stored[update_id]["status"] in ("pending", "done")
    assert not any(u["update_id"] == update_id for u in sb.world.updates)


async def test_a_restart_takes_up_what_was_stored_and_not_done(harness: Harness) -> None:
    pim = harness.person("Pim")
    await pim.send("/help")
    await pim.expect(timeout=5)
    await harness.stop()
    # What a killed run left behind: stored and never begun; begun and cut off before it
    # changed anything; cut off after it changed something; tried too often already.
    updates = {
        101: command(101, pim.id, "/help", 9001),
        102: command(102, pim.id, "/hulp", 9002),
        103: command(103, pim.id, "/privacy", 9003),
        104: command(104, pim.id, "/menu", 9004),
    }
    db = await Database.open(harness.db_path)
    async with db.transaction() as conn:
        await inbox.store(
            conn,
            [inbox.Incoming(u, pim.id, "message", json.dumps(raw)) for u, raw in updates.items()],
            datetime.now(UTC),
        )
        await inbox.begin(conn, 102)
        await inbox.begin(conn, 103)
        await inbox.mark_effects(conn, 103)
        for _ in range(MAX_TRIES):
            await inbox.begin(conn, 104)
    await db.close()

    await harness.start()
    got = [plain(m) for m in await pim.settle(0.7, first=5)]
    assert sum("coachingshulp" in t for t in got) == 1, got  # 101: once
    assert sum("113" in t for t in got) == 1, got  # 102: once
    assert not any("Privacy in het kort" in t for t in got), got  # 103: not twice
    assert not any("Waar wil je" in t or "waar wil je" in t for t in got), got  # 104: aside
    stored = await rows(harness.services.db)
    assert {u: stored[u]["status"] for u in updates} == {
        101: "done",
        102: "done",
        103: "interrupted",
        104: "set_aside",
    }
    assert stored[104]["reason"] == "kept failing"
    assert all(stored[u]["raw"] is None for u in updates)


async def test_webhook_stores_before_200_sets_poison_aside_and_handles_a_repeat_once(
    sandbox: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    port, secret, config = webhook_config()
    h = Harness(sandbox, tmp_path, config)
    await h.start()
    try:
        kim = h.person("Kim")
        url = f"http://127.0.0.1:{port}{PATH}"
        headers = {SECRET_HEADER: secret}
        async with aiohttp.ClientSession() as http:
            # Telegram would deliver a 400 again and again; stored and set aside, it is a 200.
            async with http.post(url, json=poison(kim.id, 777001), headers=headers) as resp:
                assert resp.status == 200
            # The same update delivered twice (Telegram did not get the first 200): once.
            for _ in range(2):
                update = command(777002, kim.id, "/help")
                async with http.post(url, json=update, headers=headers) as resp:
                    assert resp.status == 200
            async with http.post(url, json={"no": "update"}, headers=headers) as resp:
                assert resp.status == 400
        got = await kim.settle(0.7, first=5)
        assert [("coachingshulp" in plain(m)) for m in got] == [True]
        stored = await rows(h.services.db)
        assert stored[777001]["status"] == "set_aside"
        assert stored[777002]["status"] in ("pending", "done")
        text = "\n".join(r.getMessage() for r in caplog.records)
        assert POISON_NAME not in text and POISON_WORDS not in text
    finally:
        await h.stop()


def test_library_log_records_never_carry_an_update(caplog: pytest.LogCaptureFixture) -> None:
    logs.quiet_libraries()
    caplog.set_level(logging.DEBUG)
    data = [{"update_id": 1, "message": {"text": POISON_WORDS}}]
    logging.getLogger("telegram.Bot").critical("Received data was %r", data)
    logging.getLogger("telegram.ext.Updater").warning("%d updates: %s", 3, POISON_WORDS)
    logging.getLogger("httpx").warning("count %d", POISON_WORDS)
    logging.getLogger("bot.edge.inbox").warning("ours: update %d", 5)
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "Received data was '<hidden>'",
        "3 updates: <hidden>",
        "count %d [arguments hidden]",
        "ours: update 5",
    ]
