"""The durable inbox with the bot in its own process: a poison update in a real run's log, and a
SIGKILL between storing an update and handling it.

The bot runs as `tests/botproc.py --log INFO` (logging set up as `coachbot run` does it), with
its stderr in a file, against the sandbox of the test.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

from sandbox import Sandbox
from tests.harness import Person, plain
from tests.test_inbox import POISON_NAME, POISON_WORDS, poison

ROOT = Path(__file__).resolve().parent.parent


async def start_bot(sb: Sandbox, db_path: Path, log_path: Path) -> asyncio.subprocess.Process:
    """The real bot in a child process, logging to log_path; returns once it polls."""
    log = log_path.open("ab")
    try:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "tests" / "botproc.py"),
            str(db_path),
            sb.base_url,
            sb.base_file_url,
            sb.token,
            "--rate",
            "1000",
            "--log",
            "INFO",
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
    finally:
        log.close()
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), 60)
    assert line.strip() == b"ready", line
    return child


def inbox_rows(db_path: Path) -> dict[int, dict[str, Any]]:
    """The inbox, read through a read-only connection while the bot may run."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return {int(r["update_id"]): dict(r) for r in conn.execute("SELECT * FROM inbox")}
    finally:
        conn.close()


async def wait_for_row(db_path: Path, check: Any, timeout: float = 10.0) -> None:
    """Wait until check(rows) holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check(inbox_rows(db_path)):
        assert loop.time() < deadline, f"timed out; inbox: {inbox_rows(db_path)}"
        await asyncio.sleep(0.05)


async def stop(child: asyncio.subprocess.Process) -> None:
    if child.returncode is None:
        child.terminate()
    await asyncio.wait_for(child.wait(), 20)


async def test_a_poison_update_in_a_real_run(sandbox: Sandbox, tmp_path: Path) -> None:
    sb = sandbox
    db_path, log_path = tmp_path / "bot.sqlite3", tmp_path / "bot.log"
    child = await start_bot(sb, db_path, log_path)
    try:
        victim = sb.add_user(POISON_NAME)
        others = [Person(sb, u.id, u.first_name) for u in (sb.add_user(f"K{n}") for n in range(5))]
        start = len(sb.requests)
        poisoned = sb.push_raw_update(poison(victim.id))
        assert poisoned is not None
        # Everyone else gets answers, the one who sent it too.
        for person in [*others, Person(sb, victim.id, victim.first_name)]:
            await person.send("/help")
        for person in [*others, Person(sb, victim.id, victim.first_name)]:
            (answer,) = await person.expect(timeout=10)
            assert "coachingshulp" in plain(answer)
        await wait_for_row(
            db_path, lambda r: r.get(poisoned["update_id"], {}).get("status") == "set_aside"
        )
        await asyncio.sleep(2.0)
        polls = [m for m, _ in sb.requests[start:] if m == "getUpdates"]
        assert len(polls) < 20, f"{len(polls)} getUpdates: fetching the same update again?"
        # A restart does not take it up again.
        await stop(child)
        child = await start_bot(sb, db_path, log_path)
        await others[0].send("/help")
        await others[0].expect(timeout=10)
    finally:
        await stop(child)
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert log.count("set aside (unparseable: TypeError)") == 1, log[-3000:]
    assert POISON_NAME not in log and POISON_WORDS not in log
    assert "CRITICAL" not in log and "Traceback" not in log, log[-3000:]
    assert len(log) < 20_000, f"the log grew to {len(log)} characters"


async def test_sigkill_between_storing_and_handling(sandbox: Sandbox, tmp_path: Path) -> None:
    sb = sandbox
    db_path, log_path = tmp_path / "bot.sqlite3", tmp_path / "bot.log"
    child = await start_bot(sb, db_path, log_path)
    user = sb.add_user("Pim")
    pim = Person(sb, user.id, user.first_name)
    try:
        # /help is handled first and hangs in its sendMessage (a slow Telegram); /hulp, sent
        # after it, is stored and confirmed, and waits for Pim's first update to finish.
        sb.faults.inject("slow", method="sendMessage", chat_id=pim.id, delay=60)
        await pim.send("/help")
        first = sb.world.updates[-1]["update_id"]
        await wait_for_row(db_path, lambda r: r.get(first, {}).get("effects") == 1)
        await pim.send("/hulp")
        second = sb.world.updates[-1]["update_id"]
        await wait_for_row(db_path, lambda r: second in r)
        # Confirmed: Telegram will not deliver it again; only the inbox still has it.
        for _ in range(100):
            if not any(u["update_id"] == second for u in sb.world.updates):
                break
            await asyncio.sleep(0.05)
        assert not any(u["update_id"] == second for u in sb.world.updates)
        child.kill()  # SIGKILL between the inbox write and the handling of /hulp
        await child.wait()
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
    assert child.returncode == -9
    before = inbox_rows(db_path)
    assert (before[first]["status"], before[first]["effects"]) == ("pending", 1)
    # Counted as handed over when it was stored (it waited behind /help).
    assert (before[second]["status"], before[second]["tries"]) == ("pending", 1)
    assert before[second]["raw"] and "/hulp" in before[second]["raw"]

    sb.faults.clear()
    restarted_at = len(sb.requests)
    child = await start_bot(sb, db_path, log_path)
    try:
        got = await pim.settle(1.0, first=10)
    finally:
        await stop(child)
    # /hulp is answered once, after the restart; /help, cut off half-way, is not handled again.
    texts = [plain(m) for m in got]
    assert sum("113" in t for t in texts) == 1, texts
    sends = [p for m, p in sb.requests[restarted_at:] if m == "sendMessage"]
    assert not any("coachingshulp" in str(p.get("text")) for p in sends)
    after = inbox_rows(db_path)
    assert after[first]["status"] == "interrupted"
    assert after[second]["status"] == "done" and after[second]["tries"] == 2
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert "1 update(s) were cut off after they had changed something" in log
    assert "1 stored update(s) taken up after a restart" in log
