"""Benchmark of the check-in sweep: one simulated day for N clients against the sandbox.

Run: `.venv/bin/python bench/checkins.py` (2,000 clients, quick) or `--clients 100000`.

The sandbox (the local Telegram) runs in a child process so this process's memory is the bot's
alone. The database is filled with N clients spread over the day and over time zones (a third
chose one of the onboarding's times, so some minutes are busy); then the sweep runs once per
simulated minute of one UTC day with a controlled clock, sending for real over loopback HTTP at
the configured global rate (--rate, 500 a second by default, so the day fits in minutes).

Printed: fill and start-up time, due-selection times, the busiest minute's sending rate against
the limit, peak RSS during the sweeps, and duplicates / missed check-ins counted in the sandbox
against an independent count of what each client should get. Ends with one line:
`checkins: clients=N due_selection_ms_p99=... sweep_rss_mb=... send_rate_ratio=...
duplicates=... missed=...`. Never passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cli.demo import LocalBot  # noqa: E402
from bot.core import schedule  # noqa: E402
from bot.edge.config import (  # noqa: E402
    CheckinsConfig,
    Config,
    DialoguesConfig,
    StorageConfig,
    TelegramConfig,
)
from bot.edge.services import FakeClock  # noqa: E402
from bot.features.checkins import chart  # noqa: E402
from bot.features.checkins import sweep as checkins  # noqa: E402
from storage import schedules  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.times import to_ts, to_ts_opt  # noqa: E402

# A Wednesday in November: no DST change anywhere in these zones, no weekly reflections.
DAY = date(2026, 11, 25)
ZONES = (
    ("Europe/Amsterdam", 60),
    ("Europe/Brussels", 25),
    ("Europe/London", 4),
    ("Europe/Lisbon", 2),
    ("America/Curacao", 3),
    ("America/Paramaribo", 3),
    ("America/New_York", 1),
    ("Asia/Tokyo", 1),
    ("Australia/Sydney", 1),
)
# (time, weight): a third of the clients kept an onboarding time; the rest chose freely.
PRESETS = (("08:00", 10), ("12:30", 5), ("20:00", 20))
PRESET_SHARE = 0.35
WEEKDAYS_SHARE = 0.15
WEEKEND_SHARE = 0.05


# --- the sandbox child -----------------------------------------------------------------------


async def serve_sandbox(count: int) -> None:
    """Child mode: a sandbox with `count` people; answers 'count' on stdin with JSON."""
    from sandbox import Sandbox

    sb = Sandbox()
    await sb.start()
    sb.record_requests = False  # keep the sandbox's memory flat over a long day
    ids = [sb.add_user(f"Klant{n}").id for n in range(count)]
    hello = {
        "base_url": sb.base_url,
        "file_url": sb.base_file_url,
        "token": sb.token,
        "ids": [ids[0], ids[-1]],
    }
    print(json.dumps(hello), flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().strip()
        if not line or line == "quit":
            break
        if line == "count":
            per_chat: dict[int, int] = {}
            for uid in ids:
                per_chat[uid] = sum(
                    1
                    for m in sb.world.chats[uid].messages.values()
                    if m["from"]["is_bot"] and _mood_buttons(m)
                )
            errors = [f"{e['method']}: {e['description']}" for e in sb.errors[:3]]
            print(json.dumps({"checkins": per_chat, "errors": errors}), flush=True)
    await sb.stop()


def _mood_buttons(message: dict[str, Any]) -> bool:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return sum(len(r) for r in rows) == 5


class SandboxProcess:
    """The sandbox child and its line protocol."""

    def __init__(self, proc: asyncio.subprocess.Process, hello: dict[str, Any]) -> None:
        self.proc = proc
        self.hello = hello

    @classmethod
    async def start(cls, count: int) -> SandboxProcess:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--serve-sandbox",
            str(count),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,
        )
        assert proc.stdout is not None
        hello = json.loads(await proc.stdout.readline())
        return cls(proc, hello)

    async def counts(self) -> tuple[dict[int, int], list[str]]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(b"count\n")
        await self.proc.stdin.drain()
        data = json.loads(await self.proc.stdout.readline())
        return {int(k): v for k, v in data["checkins"].items()}, list(data["errors"])

    async def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"quit\n")
        await self.proc.stdin.drain()
        try:
            await asyncio.wait_for(self.proc.wait(), 10)
        except TimeoutError:
            self.proc.kill()


# --- the population ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """One benchmark client's choices."""

    user_id: int
    zone: str
    at: str
    days: int


def population(first_id: int, count: int, seed: int = 8) -> list[Person]:
    """Clients spread over zones, times of day and days of the week (seeded)."""
    rng = random.Random(seed)
    zones = [z for z, _ in ZONES]
    zone_weights = [w for _, w in ZONES]
    people = []
    for n in range(count):
        zone = rng.choices(zones, zone_weights)[0]
        if rng.random() < PRESET_SHARE:
            at = rng.choices([t for t, _ in PRESETS], [w for _, w in PRESETS])[0]
        else:
            minute = rng.randrange(0, 24 * 60, 5)
            at = f"{minute // 60:02d}:{minute % 60:02d}"
        roll = rng.random()
        if roll < WEEKDAYS_SHARE:
            days = schedules.WEEKDAYS
        elif roll < WEEKDAYS_SHARE + WEEKEND_SHARE:
            days = 96
        else:
            days = schedules.EVERY_DAY
        people.append(Person(first_id + n, zone, at, days))
    return people


def expected_in_window(p: Person, start: datetime, end: datetime) -> int:
    """How many check-ins p should get in [start, end): counted here without the bot's code."""
    zone = ZoneInfo(p.zone)
    hours, minutes = (int(x) for x in p.at.split(":"))
    count = 0
    local_day = start.astimezone(zone).date() - timedelta(days=1)
    while local_day <= end.astimezone(zone).date() + timedelta(days=1):
        if p.days & (1 << local_day.weekday()):
            moment = datetime(
                local_day.year, local_day.month, local_day.day, hours, minutes, tzinfo=zone
            ).astimezone(UTC)
            if start <= moment < end:
                count += 1
        local_day += timedelta(days=1)
    return count


async def fill(db_path: Path, people: list[Person], start: datetime) -> float:
    """Write every client and schedule (next times planned from `start`); returns seconds.

    Plain INSERTs in large transactions (the repositories would take minutes for 100,000);
    the next times still come from the bot's own planning code.
    """
    began = time.perf_counter()
    created = to_ts(start - timedelta(days=30))
    db = await Database.open(db_path)
    try:
        for chunk in range(0, len(people), 20000):
            part = people[chunk : chunk + 20000]
            # Consented clients: their dialogue state lives in SQLite, not in memory.
            client_rows = [
                (p.user_id, p.user_id, "Klant", "nl", p.zone, created, created, 1, 1, created)
                for p in part
            ]
            schedule_rows = []
            for p in part:
                s = schedule.plan(
                    schedules.Schedule(user_id=p.user_id, checkin_time=p.at, days=p.days),
                    ZoneInfo(p.zone),
                    start,
                )
                schedule_rows.append(
                    (
                        s.user_id,
                        1,
                        s.checkin_time,
                        s.days,
                        1,
                        s.reflection_day,
                        s.reflection_time,
                        to_ts_opt(s.next_checkin_at),
                        to_ts_opt(s.next_reflection_at),
                    )
                )
            async with db.transaction() as conn:
                await conn.executemany(
                    "INSERT INTO clients (user_id, chat_id, first_name, language_code, timezone,"
                    " created_at, last_seen, active, age_ok, consent_at, consent_version)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'kennismaking@1')",
                    client_rows,
                )
                await conn.executemany(
                    "INSERT INTO schedules (user_id, checkin_enabled, checkin_time, days,"
                    " reflection_enabled, reflection_day, reflection_time, next_checkin_at,"
                    " next_reflection_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    schedule_rows,
                )
    finally:
        await db.close()
    return time.perf_counter() - began


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0


async def run(
    count: int, rate: float, batch: int, keep: Path | None, request: str = "aiohttp"
) -> None:
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    end = start + timedelta(days=1)
    folder = Path(tempfile.mkdtemp(prefix="bench-checkins-")) if keep is None else keep
    db_path = folder / "bench.sqlite3"
    print(
        f"clients: {count}  day: {DAY} (UTC)  global rate: {rate:.0f}/s  batch: {batch}  "
        f"request: {request}"
    )
    sandbox = await SandboxProcess.start(count)
    try:
        first_id = sandbox.hello["ids"][0]
        people = population(first_id, count)
        expected = {p.user_id: expected_in_window(p, start, end) for p in people}
        fill_s = await fill(db_path, people, start - timedelta(seconds=1))
        print(f"fill: {fill_s:.1f} s ({count / fill_s:.0f} clients/s)")
        config = Config(
            telegram=TelegramConfig(
                token=sandbox.hello["token"],
                base_url=sandbox.hello["base_url"],
                base_file_url=sandbox.hello["file_url"],
                global_rate=rate,
                request=request,
            ),
            storage=StorageConfig(database=str(db_path)),
            checkins=CheckinsConfig(batch_size=batch),
            dialogues=DialoguesConfig(typing_pauses=False),
        )
        clock = FakeClock(start)
        bot = LocalBot(config, clock=clock, run_jobs=False)
        began = time.perf_counter()
        await bot.start()
        startup_s = time.perf_counter() - began
        for name in ("apscheduler", "telegram", "httpx", "bot"):
            logging.getLogger(name).setLevel(logging.WARNING)
        print(f"bot start-up with {count} clients in the database: {startup_s:.2f} s")
        rss_before = rss_mb()
        selections: list[float] = []
        per_minute: list[tuple[int, float, datetime]] = []
        peak_rss = rss_before
        totals: Counter[str] = Counter()
        day_began = time.perf_counter()
        try:
            for minute in range(24 * 60):
                now = start + timedelta(minutes=minute)
                clock.set(now)
                report = await checkins.sweep(bot.app, now)
                selections += report.selection_ms
                totals.update(report.counts)
                wall = report.finished - report.started
                per_minute.append((report.get("checkin", "sent"), wall, now))
                if minute % 10 == 0:
                    peak_rss = max(peak_rss, rss_mb())
            peak_rss = max(peak_rss, rss_mb())
        finally:
            await bot.stop()
        day_s = time.perf_counter() - day_began
        got, errors = await sandbox.counts()
    finally:
        await sandbox.stop()

    duplicates = sum(max(0, got.get(uid, 0) - want) for uid, want in expected.items())
    missed = sum(max(0, want - got.get(uid, 0)) for uid, want in expected.items())
    sent, wall, busiest_at = max(per_minute, key=lambda x: x[0])
    achieved = sent / wall if wall > 0 else 0.0
    ratio = achieved / rate
    print(f"simulated day: {day_s:.1f} s wall, {sum(expected.values())} check-ins expected")
    print(f"outcomes: {dict(sorted(totals.items()))}")
    print(f"Bot API errors seen by the sandbox (first three): {errors or 'none'}")
    print(
        f"due selection: {len(selections)} queries, median {statistics.median(selections):.2f} ms,"
        f" p99 {p99(selections):.2f} ms, max {max(selections):.2f} ms"
    )
    print(
        f"busiest minute {busiest_at:%H:%M} UTC: {sent} check-ins in {wall:.1f} s = "
        f"{achieved:.0f}/s against the limit {rate:.0f}/s (ratio {ratio:.2f})"
    )
    print(f"RSS: {rss_before:.0f} MB before the day, peak {peak_rss:.0f} MB during the sweeps")
    days = [chart.Day(DAY - timedelta(days=6 - i), [3, 4, None, 2, 5, 4, 3][i]) for i in range(7)]
    chart.render_week(days)
    began = time.perf_counter()
    for _ in range(5):
        chart.render_week(days)
    print(
        f"weekly chart (Sundays, not in this day): {(time.perf_counter() - began) / 5 * 1000:.0f}"
        " ms per PNG"
    )
    met = ratio >= 0.95 and duplicates == 0 and missed == 0
    print(
        f"aim (issue 16): send_rate_ratio >= 0.95, nothing twice, nothing missed: "
        f"{ratio:.2f}, {duplicates} twice, {missed} missed: {'met' if met else 'NOT MET'}"
    )
    print(
        f"checkins: clients={count} due_selection_ms_p99={p99(selections):.2f} "
        f"sweep_rss_mb={peak_rss:.0f} send_rate_ratio={ratio:.2f} "
        f"duplicates={duplicates} missed={missed}"
    )


def main() -> None:
    """Parse the command line and run (or serve the sandbox, in the child)."""
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-sandbox":
        asyncio.run(serve_sandbox(int(sys.argv[2])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=500.0, help="global send limit per second")
    parser.add_argument("--batch", type=int, default=500, help="checkins.batch_size")
    parser.add_argument("--keep", type=Path, default=None, help="folder for the database")
    parser.add_argument("--request", default="aiohttp", help="telegram.request: aiohttp or httpx")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    for name in ("apscheduler", "telegram", "httpx", "bot"):
        logging.getLogger(name).setLevel(logging.WARNING)
    asyncio.run(run(args.clients, args.rate, args.batch, args.keep, args.request))


if __name__ == "__main__":
    main()
