"""Throughput of the real bot against a bare python-telegram-bot echo bot, and its memory.

Run: `.venv/bin/python bench/throughput.py [--clients 200] [--seconds 20]`. Never passes or fails.

N simulated clients (tests/load.py) work through dialogues at once, pressing buttons and typing
answers, through the sandbox over loopback HTTP. The bot runs in its own process
(tests/botproc.py) on a fresh SQLite database, so its CPU time and memory are its own. The same
clients then drive a plain python-telegram-bot Application that only echoes (built with the same
concurrency and rate limiter) on the same sandbox. Printed: updates per second, p50/p99 from a
client's update to the bot's first answer, the bot's CPU time per update, the ratio of the two
throughputs, and the bot's resident memory with 100,000 clients in the database and 1,000 active.
The last line is `throughput: clients=N updates_per_s=... p50_ms=... p99_ms=... ratio_vs_echo=...`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox import Sandbox  # noqa: E402
from storage import clients as client_rows  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.times import to_ts  # noqa: E402
from tests.load import Client, LoadStats, percentile  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    """The figures of one load run."""

    name: str
    stats: LoadStats
    seconds: float
    cpu_seconds: float
    own_cpu_seconds: float
    requests: int

    @property
    def rate(self) -> float:
        """Updates per second."""
        return self.stats.updates / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        """One human-readable line."""
        s = self.stats
        lat = s.latencies
        cpu_ms = 1000 * self.cpu_seconds / s.updates if s.updates else 0.0
        return (
            f"{self.name:5s} updates={s.updates} ({s.presses} presses, {s.texts} texts) "
            f"in {self.seconds:.1f}s = {self.rate:.1f}/s  p50={1000 * percentile(lat, 50):.1f}ms "
            f"p99={1000 * percentile(lat, 99):.1f}ms  timeouts={s.timeouts}  "
            f"bot cpu={cpu_ms:.2f}ms/update  bot api requests/update="
            f"{self.requests / max(1, s.updates):.2f}  sandbox+clients cpu="
            f"{100 * self.own_cpu_seconds / self.seconds:.0f}%"
        )


def free_port() -> int:
    """A free loopback port for the bot's webhook."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def start_bot(
    sb: Sandbox,
    db: Path,
    *,
    echo: bool,
    rate: float,
    profile: str = "",
    webhook: bool = False,
    extra: tuple[str, ...] = (),
) -> asyncio.subprocess.Process:
    """Our bot (or the echo bot) in a child process; returns once it polls (or listens).

    `extra` are more tests/botproc.py options (--jobs, --sweep-seconds, --request ...).
    """
    args = [str(db), sb.base_url, sb.base_file_url, sb.token, "--rate", str(rate), *extra]
    if echo:
        args.append("--echo")
    if webhook:
        args += ["--webhook", str(free_port())]
    if profile:
        args += ["--profile", profile]
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "tests" / "botproc.py"),
        *args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), 60)
    if line.strip() != b"ready":
        raise RuntimeError(f"the bot process did not start: {line!r}")
    return child


async def stop_bot(child: asyncio.subprocess.Process) -> None:
    """SIGTERM, so a profile is written; wait for the end."""
    child.terminate()
    await child.wait()


async def load(
    sb: Sandbox, name: str, child: asyncio.subprocess.Process, n: int, seconds: float, quiet: float
) -> Run:
    """N fresh clients acting until `seconds` have passed."""
    stats = LoadStats()
    people = [
        Client(sb, sb.add_user(f"{name}{i}").id, stats, seed=i, quiet=quiet) for i in range(n)
    ]
    sb.requests.clear()
    cpu0, own0 = cpu_seconds(child.pid), cpu_seconds(os.getpid())
    start = time.perf_counter()
    await asyncio.gather(*(p.run_until(start + seconds) for p in people))
    elapsed = time.perf_counter() - start
    requests = sum(1 for method, _ in sb.requests if method != "getUpdates")
    sb.requests.clear()
    return Run(
        name,
        stats,
        elapsed,
        cpu_seconds(child.pid) - cpu0,
        cpu_seconds(os.getpid()) - own0,
        requests,
    )


async def fill(db_path: Path, count: int) -> float:
    """`count` clients written straight into the database (no Telegram); returns seconds taken.

    The database is opened and migrated by storage; the rows go in with one executemany per
    10,000 (clients.touch one by one would take a minute on this machine). The first row is
    written by clients.touch, so the bulk rows match what the bot itself stores.
    """
    start = time.perf_counter()
    db = await Database.open(db_path)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    base = 5_000_000_000
    try:
        async with db.transaction() as conn:
            await client_rows.touch(
                conn,
                user_id=base,
                chat_id=base,
                first_name="Klant0",
                language_code="nl",
                timezone="Europe/Amsterdam",
                now=now,
            )
        for first in range(1, count, 10_000):
            rows = [
                (
                    base + uid,
                    base + uid,
                    f"Klant{uid}",
                    "nl",
                    "Europe/Amsterdam",
                    to_ts(now - timedelta(minutes=uid % 50_000)),
                )
                for uid in range(first, min(count, first + 10_000))
            ]
            async with db.transaction() as conn:
                await conn.executemany(
                    "INSERT INTO clients (user_id, chat_id, first_name, language_code, timezone,"
                    " created_at, last_seen, active) VALUES (?, ?, ?, ?, ?, ?6, ?6, 1)",
                    rows,
                )
        async with db.read() as conn:
            stored = await client_rows.count(conn)
        assert stored == count, (stored, count)
    finally:
        await db.close()
    return time.perf_counter() - start


async def memory(sb: Sandbox, tmp: Path, total: int, active: int, rate: float) -> str:
    """Bot RSS: empty database, then `total` clients stored and `active` of them chatting."""
    db = tmp / "memory.sqlite3"
    took = await fill(db, total)
    child = await start_bot(sb, db, echo=False, rate=rate)
    try:
        idle = rss_mb(child.pid)
        stats = LoadStats()
        people = [
            Client(sb, sb.add_user(f"M{i}").id, stats, seed=i, quiet=0.05) for i in range(active)
        ]

        # At most 100 at once: 1,000 clients all waiting on one core would only measure
        # queueing; what matters here is that all of them have been active.
        gate = asyncio.Semaphore(100)

        async def steps(client: Client) -> None:
            async with gate:
                for _ in range(4):
                    await client.act(timeout=30)

        await asyncio.gather(*(steps(p) for p in people))
        busy = rss_mb(child.pid)
    finally:
        await stop_bot(child)
    return (
        f"memory: {total} clients in the database (filled in {took:.1f}s, "
        f"{db.stat().st_size / 2**20:.1f} MiB), bot rss after start={idle:.1f} MiB, "
        f"after {active} active clients x 4 updates, 100 at a time ({stats.updates} updates, "
        f"{stats.timeouts} timeouts)={busy:.1f} MiB"
    )


async def main(args: argparse.Namespace) -> None:
    """Both runs, the memory figure, the final line."""
    print(
        f"settings: clients={args.clients} seconds={args.seconds} rate_limit={args.rate}/s "
        f"quiet={args.quiet}s memory={args.memory_clients}/{args.active} "
        f"cpus={os.cpu_count()} python={sys.version.split()[0]}",
        flush=True,
    )
    sb = Sandbox()
    # Requests are recorded to count them per update; each run clears the list.
    await sb.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            child = await start_bot(
                sb,
                tmp / "bot.sqlite3",
                echo=False,
                rate=args.rate,
                profile=args.profile,
                webhook=args.webhook,
            )
            try:
                ours = await load(sb, "bot", child, args.clients, args.seconds, args.quiet)
            finally:
                await stop_bot(child)
                if args.webhook:
                    await sb.api.call("deleteWebhook", {})  # the echo bot polls
            print(ours.line(), flush=True)
            child = await start_bot(sb, tmp / "echo.sqlite3", echo=True, rate=args.rate)
            try:
                echo = await load(sb, "echo", child, args.clients, args.seconds, args.quiet)
            finally:
                await stop_bot(child)
            print(echo.line(), flush=True)
            if args.memory_clients:
                print(
                    await memory(sb, tmp, args.memory_clients, args.active, args.rate), flush=True
                )
    finally:
        await sb.stop()
    if sb.violations:
        print(f"Bot API violations: {len(sb.violations)}", flush=True)
    ratio = ours.rate / echo.rate if echo.rate else 0.0
    lat = ours.stats.latencies
    print(
        f"throughput: clients={args.clients} updates_per_s={ours.rate:.1f} "
        f"p50_ms={1000 * percentile(lat, 50):.1f} p99_ms={1000 * percentile(lat, 99):.1f} "
        f"ratio_vs_echo={ratio:.2f}",
        flush=True,
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = argparse.ArgumentParser(description="Throughput and memory of the bot against echo.")
    p.add_argument("--clients", type=int, default=200, help="simulated clients at once")
    p.add_argument("--seconds", type=float, default=15.0, help="length of each load run")
    p.add_argument(
        "--rate",
        type=float,
        default=1000.0,
        help="AIORateLimiter overall rate of both bots (Telegram's is 30/s)",
    )
    p.add_argument(
        "--quiet",
        type=float,
        default=0.05,
        help="a client waits this long without new messages before acting again",
    )
    p.add_argument(
        "--memory-clients",
        type=int,
        default=100_000,
        help="clients in the database for the memory figure (0 skips it)",
    )
    p.add_argument(
        "--active", type=int, default=1000, help="clients chatting for the memory figure"
    )
    p.add_argument(
        "--webhook",
        action="store_true",
        help="run our bot in webhook mode (a press's answer rides in the webhook response)",
    )
    p.add_argument("--profile", default="", help="write a cProfile of our bot's run to this file")
    return p.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse()))
