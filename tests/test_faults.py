"""Faults on purpose: a flaky Telegram, a locked database, a full disk, a client who floods.

The guarantee under a flaky Telegram (429 with retry_after, 5xx, slow answers, dropped
connections): the bot keeps running and recovers by itself; a send that fails is retried
(429: after retry_after; 5xx and dropped connections: with backoff, up to max_retries), and the
state is stored before anything is sent, so a client who still saw no answer gets the current
step with /verder. A connection dropped after Telegram did the work looks like a failure to the
bot, which then sends again: delivery is at least once, never silently lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from bot.core import texts
from bot.edge.inbox import UNSTORED_NOTE
from bot.routing.application import POLLER_KEY
from storage import journal
from storage.errors import StorageFull
from tests.harness import Harness, Person, buttons, onboard, plain
from tests.load import Client, LoadStats, settle

# Button labels from the menu to the free-text question of the pause exercise (pauze.yaml).
TO_QUESTION = ("Oefeningen", "pauze", "Ik heb een moment", "Ik merk iets", "Weet ik niet")


async def to_question(person: Person) -> None:
    """Walk an onboarded person to the pause exercise's free-text question."""
    for label in TO_QUESTION:
        await person.press(label)
        await person.settle()
    # "Verder", "Klaar"... until the question (its only button skips it).
    for _ in range(6):
        labels = [label for label, _ in buttons(person.sb.messages(person.chat_id)[-1])]
        if labels == ["Sla over"]:
            return
        await person.press(labels[0])
        await person.settle()
    raise AssertionError("never reached the question")


async def stored_answers(h: Harness, user_id: int) -> list[str]:
    """The client's journal answers, oldest first."""
    async with h.services.db.read() as conn:
        return [a.text for a in await journal.answers(conn, user_id)]


async def test_chaos_the_bot_recovers_and_nobody_is_left_without_an_answer(
    harness: Harness,
) -> None:
    sb = harness.sb
    stats = LoadStats()
    clients = [Client(sb, sb.add_user(f"K{n}").id, stats, seed=n, quiet=0.2) for n in range(8)]
    # Everyone gets going on a healthy Telegram first.
    await asyncio.gather(*(_steps(c, 4) for c in clients))
    before = len(sb.faults.applied)
    sb.faults.chaos(
        0.25, ["429", "500", "502", "slow", "drop"], seed=7, duration=5.0, retry_after=1, delay=0.5
    )
    end = time.perf_counter() + 5.0
    await asyncio.gather(*(c.run_until(end, timeout=12) for c in clients))
    applied = sb.faults.applied[before:]
    kinds = {kind for _, kind in applied}
    assert {"429", "500", "502", "slow", "drop"} <= kinds, kinds
    assert any(method == "getUpdates" for method, _ in applied), "polling was never hit"
    await asyncio.sleep(2.5)  # the last retries run out
    # Recovered by itself: still polling, and every client gets /verder answered and goes on.
    assert harness.bot is not None and harness.bot.app.bot_data[POLLER_KEY].running
    for c in clients:
        await settle(sb, c.user_id, 0.0)
        await sb.send_text(c.user_id, "/verder")
    for c in clients:
        (answer,) = await sb.wait_for(c.user_id, timeout=10)
        assert plain(answer)
        await settle(sb, c.user_id, 0.3)
    after = LoadStats()
    for c in clients:
        c.stats = after
    await asyncio.gather(*(_steps(c, 3) for c in clients))
    assert after.timeouts == 0
    # Faults are not violations: every request the bot made was still valid.
    assert sb.violations == []


async def _steps(client: Client, count: int) -> None:
    for _ in range(count):
        assert await client.act(timeout=10)


async def test_a_failed_send_is_retried_and_a_dropped_answer_sent_at_least_once(
    harness: Harness,
) -> None:
    sb = harness.sb
    anna = harness.person("Anna")
    await onboard(anna)
    sb.faults.inject("502", method="sendMessage", chat_id=anna.id, times=2)
    await anna.send("/menu")
    (menu,) = await anna.expect(timeout=10)
    assert plain(menu) == texts.MENU_TITLE
    assert [m for m, k in sb.faults.applied if k == "502"] == ["sendMessage"] * 2
    # Telegram did the work, the connection broke: the bot cannot know, and sends again.
    sb.faults.inject("drop_after", method="sendMessage", chat_id=anna.id, times=1)
    await anna.send("/menu")
    got = await anna.settle(1.5)
    assert [plain(m) for m in got] == [texts.MENU_TITLE] * 2


async def test_429_waits_retry_after_then_delivers(harness: Harness) -> None:
    sb = harness.sb
    bram = harness.person("Bram")
    await onboard(bram)
    sb.faults.inject("429", method="sendMessage", chat_id=bram.id, times=1, retry_after=2)
    start = time.perf_counter()
    await bram.send("/help")
    (answer,) = await bram.expect(timeout=10)
    assert plain(answer).startswith("Ik ben een coachingshulp")
    assert time.perf_counter() - start >= 1.9


LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


async def lock_database(path: Path, seconds: float) -> asyncio.subprocess.Process:
    """Another process takes the write lock of the database for `seconds`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LOCKER, str(path), str(seconds), stdout=asyncio.subprocess.PIPE
    )
    assert proc.stdout is not None
    assert (await proc.stdout.readline()).strip() == b"locked"
    return proc


async def test_database_locked_by_another_process_the_bot_waits(harness: Harness) -> None:
    cleo = harness.person("Cleo")
    await onboard(cleo)
    await to_question(cleo)
    locker = await lock_database(harness.db_path, 3.0)
    start = time.perf_counter()
    await cleo.send("Ik merk dat ik wil terugtrekken")
    got = await cleo.expect(timeout=15)
    waited = time.perf_counter() - start
    assert await locker.wait() == 0
    assert waited >= 2.5, "the answer came while the database was locked"
    assert texts.SOMETHING_WENT_WRONG not in plain(got[0])
    assert await stored_answers(harness, cleo.id) == ["Ik merk dat ik wil terugtrekken"]


async def test_database_locked_too_long_a_clear_note_then_the_answer_is_taken(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    # busy_timeout is 5 s: a lock of 7 s is longer than the bot waits to store an update.
    dirk = harness.person("Dirk")
    await onboard(dirk)
    await to_question(dirk)
    locker = await lock_database(harness.db_path, 7.0)
    with caplog.at_level(logging.ERROR, logger="bot.edge.polling"):
        await dirk.send("Ik zou willen vertragen")
        (got,) = await dirk.expect(timeout=15)
    # Not stored, so not confirmed to Telegram: the client hears it waits, not that it is lost.
    assert plain(got) == UNSTORED_NOTE
    assert any("not stored" in r.getMessage() for r in caplog.records)
    await locker.wait()
    # Once the lock is gone the update is stored and handled: the answer is taken, once,
    # without the client sending it again.
    got = await dirk.settle(1.0, first=10)
    assert got and texts.SOMETHING_WENT_WRONG not in plain(got[0])
    assert await stored_answers(harness, dirk.id) == ["Ik zou willen vertragen"]


async def test_disk_full_a_clear_note_and_no_corruption(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    eva = harness.person("Eva")
    await onboard(eva)
    await to_question(eva)
    db = harness.services.db
    writer = db._writer  # the bot's own write connection: max_page_count is per connection
    pages = (await (await writer.execute("PRAGMA page_count")).fetchone())[0]
    # The file may not grow any more: SQLite answers SQLITE_FULL, as on a full disk. Filler
    # rows then take up the free room left inside the file.
    await writer.execute(f"PRAGMA max_page_count = {int(pages) + 4}")
    async with db.transaction() as conn:
        await conn.execute("CREATE TABLE filler (data BLOB)")
    with pytest.raises(StorageFull):
        for _ in range(10_000):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO filler VALUES (zeroblob(200))")
    big = "Ik merk spanning in mijn schouders. " * 110  # ~4000 characters
    told = (texts.SOMETHING_WENT_WRONG, UNSTORED_NOTE)
    # The room left inside the tables' own pages takes a few answers; then it is full: either
    # the inbox cannot store the update (it waits at Telegram, unconfirmed, and the client is
    # told so), or the handler cannot store the answer (the client is told to send it again).
    with caplog.at_level(logging.ERROR):
        for attempt in range(8):
            if attempt:
                await eva.send("/menu")
                await eva.settle()
                await to_question(eva)
            await eva.send(big)
            (got,) = await eva.expect(timeout=10)
            await eva.settle()
            if plain(got) in told:
                break
    kept = await stored_answers(harness, eva.id)
    assert plain(got) in told
    waiting = plain(got) == UNSTORED_NOTE
    if waiting:
        failures = [r for r in caplog.records if "not stored" in r.getMessage()]
        assert failures and "disk is full" in failures[0].getMessage()
    else:
        failures = [r for r in caplog.records if "handler failed" in r.getMessage()]
        assert failures and "StorageFull" in failures[0].getMessage()
        assert "disk is full" in str(failures[0].exc_info[1])
    assert kept == [big] * attempt
    # No corruption: the file checks out, and once there is room again the bot goes on.
    assert (await (await writer.execute("PRAGMA integrity_check")).fetchone())[0] == "ok"
    await writer.execute("PRAGMA max_page_count = 1073741823")
    async with db.transaction() as conn:
        await conn.execute("DROP TABLE filler")
    if waiting:
        # The update that waited is stored and handled by itself, without being sent again.
        await eva.settle(1.0, first=40)
    else:
        await eva.send("/verder")
        await eva.settle()
        await eva.send(big)
        await eva.settle()
    assert await stored_answers(harness, eva.id) == [big] * (attempt + 1)
    conn = sqlite3.connect(f"file:{harness.db_path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


async def test_twenty_commands_within_a_second_are_answered_in_order(harness: Harness) -> None:
    fay = harness.person("Fay")
    await onboard(fay)
    await fay.settle()
    commands = ["/help", "/hulp", "/menu", "/hulp", "/help"] * 4
    start = time.perf_counter()
    for command in commands:
        await fay.send(command)
    assert time.perf_counter() - start < 1.0
    got = await fay.expect(len(commands), timeout=30)
    expected = {"/help": "Ik ben een coachingshulp", "/menu": texts.MENU_TITLE, "/hulp": ""}
    for command, message in zip(commands, got, strict=True):
        text = plain(message)
        if command == "/hulp":
            assert "113" in text or "1813" in text, text[:60]
        else:
            assert text.startswith(expected[command]), (command, text[:60])


async def test_twenty_answers_within_a_second_keep_the_state_consistent(harness: Harness) -> None:
    gijs = harness.person("Gijs")
    await onboard(gijs)
    await to_question(gijs)
    sent = [f"Gedachte nummer {n}" for n in range(1, 21)]
    start = time.perf_counter()
    for text in sent:
        await gijs.send(text)
    assert time.perf_counter() - start < 1.0
    await gijs.settle(1.0)
    stored = await stored_answers(harness, gijs.id)
    # The first message answers the question; whatever else was stored kept the sent order.
    assert stored and stored[0] == sent[0]
    assert stored == sorted(stored, key=sent.index)
    async with harness.services.db.read() as conn:
        row = await (
            await conn.execute("SELECT state_json FROM clients WHERE user_id = ?", (gijs.id,))
        ).fetchone()
    json.loads(row[0])  # a whole, readable state
    await gijs.send("/verder")
    assert await gijs.settle()
