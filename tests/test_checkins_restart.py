"""A bot process killed (SIGKILL) in the middle of a sweep: nothing twice, nothing stale.

The bot runs in a child process against the sandbox of this test; Telegram is made slow so the
kill lands while batches are being sent. Then a new bot starts on the same database.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli.demo import LocalBot, sandbox_config
from bot.edge.config import CheckinsConfig, Config, DialoguesConfig, TelegramConfig
from bot.edge.services import FakeClock
from bot.features.checkins import sweep as checkins
from sandbox import Sandbox
from storage import clients, schedules
from storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
DUE = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
CLIENTS = 20
BATCH = 5
# A low global rate keeps the claim look-ahead small (rate x 2 s = 6 items) for the test.
RATE = 3.0

CHILD = """
import asyncio, sys
from datetime import datetime
from bot.features.checkins import sweep as checkins
from bot.edge.config import CheckinsConfig, Config, DialoguesConfig, StorageConfig, TelegramConfig
from bot.cli.demo import LocalBot
from bot.edge.services import FakeClock

async def main() -> None:
    db, base_url, file_url, token, when, batch, rate = sys.argv[1:8]
    config = Config(
        telegram=TelegramConfig(
            token=token, base_url=base_url, base_file_url=file_url, global_rate=float(rate)
        ),
        storage=StorageConfig(database=db),
        checkins=CheckinsConfig(batch_size=int(batch)),
        dialogues=DialoguesConfig(typing_pauses=False),
    )
    clock = FakeClock(datetime.fromisoformat(when))
    bot = LocalBot(config, clock=clock, run_jobs=False)
    await bot.start()
    print("sweeping", flush=True)
    await checkins.sweep(bot.app, clock.now())
    print("swept", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def config_for(sb: Sandbox, db_path: Path) -> Config:
    base = Config(
        telegram=TelegramConfig(global_rate=RATE),
        checkins=CheckinsConfig(batch_size=BATCH),
        dialogues=DialoguesConfig(typing_pauses=False),
    )
    return sandbox_config(sb, db_path, base)


async def fill(sb: Sandbox, db_path: Path) -> list[int]:
    """CLIENTS clients, each with a check-in due at DUE."""
    ids = []
    db = await Database.open(db_path)
    try:
        async with db.transaction() as conn:
            for n in range(CLIENTS):
                user = sb.add_user(f"Klant{n}")
                ids.append(user.id)
                await clients.touch(
                    conn,
                    user_id=user.id,
                    chat_id=user.id,
                    first_name=user.first_name,
                    language_code="nl",
                    timezone="Europe/Amsterdam",
                    now=DUE - timedelta(days=1),
                )
                await clients.update(conn, user.id, age_ok=1)
                await schedules.upsert(
                    conn,
                    schedules.Schedule(
                        user_id=user.id,
                        checkin_time="20:00",
                        next_checkin_at=DUE,
                        next_reflection_at=DUE + timedelta(days=6),
                    ),
                )
    finally:
        await db.close()
    return ids


def checkins_sent(sb: Sandbox, user_id: int) -> int:
    """Check-in openings (five mood buttons) the person received."""
    count = 0
    for m in sb.messages(user_id):
        rows = (m.get("reply_markup") or {}).get("inline_keyboard", [])
        if m["from"]["is_bot"] and sum(len(r) for r in rows) == 5:
            count += 1
    return count


async def kill_mid_sweep(sb: Sandbox, db_path: Path) -> None:
    """Run a sweep in a child process and SIGKILL it once the second batch is being sent."""
    sb.faults.inject("slow", method="sendMessage", times=CLIENTS * 2, delay=0.5)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        str(db_path),
        sb.base_url,
        sb.base_file_url,
        sb.token,
        DUE.isoformat(),
        str(BATCH),
        str(RATE),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while sum(1 for m, _ in sb.requests if m == "sendMessage") < BATCH + 2:
            assert child.returncode is None, "the bot process ended by itself"
            assert loop.time() < deadline, "the child bot never started sending"
            await asyncio.sleep(0.02)
    finally:
        child.kill()  # SIGKILL: no clean-up, no closing of the database
        await child.wait()
    assert child.returncode == -9
    sb.faults.clear()
    await asyncio.sleep(0.7)  # requests already inside the slow sandbox finish


@pytest.mark.parametrize("restart_after", [timedelta(minutes=2), timedelta(hours=4)])
async def test_kill_in_the_middle_of_a_sweep(
    sandbox: Sandbox, tmp_path: Path, restart_after: timedelta
) -> None:
    sb = sandbox
    db_path = tmp_path / "bot.sqlite3"
    ids = await fill(sb, db_path)
    await kill_mid_sweep(sb, db_path)
    before = {uid: checkins_sent(sb, uid) for uid in ids}
    assert 0 < sum(before.values()) < CLIENTS, before

    clock = FakeClock(DUE + restart_after)
    bot = LocalBot(config_for(sb, db_path), clock=clock, run_jobs=False)
    await bot.start()
    try:
        report = await checkins.sweep(bot.app, clock.now())
        clock.advance(timedelta(minutes=1))
        again = await checkins.sweep(bot.app, clock.now())
        async with bot.services.db.read() as conn:
            statuses = [await schedules.send_status(conn, uid, "checkin", DUE) for uid in ids]
            planned = [await schedules.get(conn, uid) for uid in ids]
    finally:
        await bot.stop()
    after = {uid: checkins_sent(sb, uid) for uid in ids}

    # Nothing twice: no client has more than one check-in, and a second sweep adds nothing.
    assert max(after.values()) <= 1, after
    assert again.sent == 0
    # Every check-in is planned for tomorrow evening, whatever happened to today's.
    assert all(s is not None and s.next_checkin_at == DUE + timedelta(days=1) for s in planned)
    claimed_in_flight = statuses.count("claimed")
    # At-most-once: only what the killed process had claimed and not yet sent can be lost,
    # and the claim look-ahead bounds that.
    assert claimed_in_flight <= int(RATE * checkins.LOOKAHEAD_SECONDS)
    if restart_after < timedelta(hours=3):
        # Not stale: everything never claimed is sent after the restart.
        assert report.get("checkin", "sent") == sum(after.values()) - sum(before.values()) > 0
        # Each client got today's check-in, or it was claimed by the killed process.
        for uid, status in zip(ids, statuses, strict=True):
            assert after[uid] == 1 or status == "claimed", (uid, status)
        assert sum(after.values()) >= CLIENTS - claimed_in_flight
    else:
        # Stale: the restart sends nothing late; those never claimed are skipped.
        assert report.sent == 0 and after == before
        assert report.get("checkin", "late") == statuses.count("skipped") > 0


def test_the_child_script_builds_the_same_config_as_the_tests(tmp_path: Path) -> None:
    """Guard: the child bot and the restarted bot differ only in their process."""
    sb = Sandbox()
    cfg = config_for(sb, tmp_path / "x.sqlite3")
    assert cfg.checkins.batch_size == BATCH and "batch_size=int(batch)" in CHILD
    assert cfg.telegram.global_rate == RATE and "global_rate=float(rate)" in CHILD
    assert replace(cfg.dialogues) == DialoguesConfig(typing_pauses=False)
