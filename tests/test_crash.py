"""The bot process killed with SIGKILL in the middle of a busy dialogue load, then restarted.

The bot runs in a child process (tests/botproc.py) against the sandbox of this test; twenty
simulated clients work through dialogues; the child is killed mid-load and a new one starts on
the same database. What must hold:

- acknowledged answers are stored: every free-text answer the bot answered and moved on from
  (the client saw the next step) is in the journal (or is the name the client chose);
- no client is stuck: each one can send /verder, gets an answer, and goes on;
- nothing is sent twice. "Twice" means one client update handled twice, which is what a
  restart can cause (Telegram delivers again what the old bot fetched but never confirmed):
  a press shows up as two answerCallbackQuery calls for one callback_query_id, a typed answer
  as its unique marker stored twice. Neither may happen. Not "twice": the new bot answering
  an update the client sent just before the kill that the old bot never handled (the client
  saw no answer to it yet), or showing the current step again because the client asked
  (/verder) or pressed an old button. An update stored in the inbox and not yet handled at the
  kill is handled by the new bot (once); one whose handling was cut off after it had changed
  something is not handled again: that client may have seen no answer, and /verder brings the
  current step back (tests/test_inbox_process.py kills the bot at a chosen moment).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sandbox import Sandbox
from tests.load import Client, LoadStats, settle, taken_answers

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 20


async def start_bot(sb: Sandbox, db_path: Path) -> asyncio.subprocess.Process:
    """The real bot in a child process; returns once it polls."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "tests" / "botproc.py"),
        str(db_path),
        sb.base_url,
        sb.base_file_url,
        sb.token,
        "--rate",
        "1000",
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), 60)
    assert line.strip() == b"ready", line
    return child


def answered_twice(requests: list[tuple[str, Any]]) -> list[str]:
    """Callback query ids the bot answered more than once (a press handled twice)."""
    seen = Counter(
        str(params.get("callback_query_id"))
        for method, params in requests
        if method == "answerCallbackQuery" and isinstance(params, dict)
    )
    return [query for query, n in seen.items() if n > 1]


def stored(db_path: Path) -> tuple[Counter[str], dict[int, str]]:
    """Journal answers (counted) and chosen names, read through a read-only connection."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        answers = Counter(r[0] for r in conn.execute("SELECT text FROM answers"))
        names = {
            r[0]: r[1] or "" for r in conn.execute("SELECT user_id, display_name FROM clients")
        }
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    assert ok == "ok"
    return answers, names


async def test_sigkill_mid_load_loses_no_acknowledged_answer(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sb = sandbox
    db_path = tmp_path / "bot.sqlite3"
    child = await start_bot(sb, db_path)
    stats = LoadStats()
    clients = [
        Client(sb, sb.add_user(f"Klant{n}").id, stats, seed=n, quiet=0.3) for n in range(CLIENTS)
    ]
    tasks = [asyncio.create_task(c.run_until(time.perf_counter() + 120)) for c in clients]
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        # Kill once every client is past the onboarding and well into its dialogues.
        while sum(len(taken_answers(sb, c.user_id)) for c in clients) < CLIENTS:
            assert child.returncode is None, "the bot process ended by itself"
            assert loop.time() < deadline, f"the load did not get going: {stats.updates}"
            await asyncio.sleep(0.1)
        child.kill()  # SIGKILL: no clean-up, nothing flushed, the database not closed
        await child.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert child.returncode == -9
    await asyncio.sleep(0.5)  # requests already inside the sandbox finish
    killed_at = len(sb.requests)

    # Acknowledged answers survive the kill (read before a new bot touches the file).
    answers, names = stored(db_path)
    acknowledged = {c.user_id: taken_answers(sb, c.user_id) for c in clients}
    assert sum(len(a) for a in acknowledged.values()) >= CLIENTS // 2, "too few answers to judge"
    for user_id, texts in acknowledged.items():
        for text in texts:
            # The answer to "how shall I call you" is the name (shortened), not a journal entry.
            name = names.get(user_id, "").rstrip("…")
            assert answers[text] >= 1 or (len(name) > 20 and text.startswith(name)), (
                f"client {user_id}: an acknowledged answer is not in the database"
            )

    # A new bot on the same database; with nobody writing, it sends nothing of its own accord.
    child = await start_bot(sb, db_path)
    try:
        await asyncio.sleep(1.0)
        # Only updates sent just before the kill that the old bot never handled are answered
        # now (at most one per client, each a step of a few messages).
        quiet = sb.requests[killed_at:]
        assert sum(1 for m, _ in quiet if m.startswith("send")) <= 8 * CLIENTS

        # Nobody is stuck: /verder answers everyone, and each goes on through the dialogue.
        for c in clients:
            await settle(sb, c.user_id, 0.0)
        for c in clients:
            await sb.send_text(c.user_id, "/verder")
        for c in clients:
            (answer,) = await sb.wait_for(c.user_id, timeout=15)
            assert answer["text"]
            await settle(sb, c.user_id, 0.3)
        after = LoadStats()
        for c in clients:
            c.stats = after
        await asyncio.gather(*(_go_on(c) for c in clients))
        assert after.timeouts == 0
    finally:
        child.terminate()
        await child.wait()

    # Nothing twice. A press is answered again only when the kill came between its answer and
    # its step's commit: the new bot handles it once more and Telegram refuses the repeated
    # answer, harmlessly (a press costs no write of its own: bot/edge/inbox.py before_request).
    # No answer is stored twice (unique markers).
    for query in answered_twice(sb.requests):
        at = [
            i
            for i, (method, params) in enumerate(sb.requests)
            if method == "answerCallbackQuery" and str(params.get("callback_query_id")) == query
        ]
        assert len(at) == 2 and at[0] < killed_at <= at[1], (query, at, killed_at)
    answers, _ = stored(db_path)
    assert [t for t, n in answers.items() if n > 1] == []


async def _go_on(client: Client) -> None:
    """Three more steps, each answered."""
    for _ in range(3):
        assert await client.act(timeout=15)
