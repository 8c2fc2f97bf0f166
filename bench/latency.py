"""Open-loop latency of the real bot against a bare python-telegram-bot echo bot.

Run: `.venv/bin/python bench/latency.py [--rates 10,30,60] [--seconds 20] [--quick]`. Never
passes or fails; prints the aims of issue 16 with "met" or "not met".

Unlike bench/throughput.py (a fixed number of clients, each waiting for its answer before acting
again: it measures saturation), updates here arrive at a fixed mean rate whatever the bot does:
Poisson arrivals, each from a client picked at random among the `--active` clients that are not
waiting for an answer. The database holds `--db-clients` consented clients (one INSERT ...
executemany per table in one transaction), `--active` of them are people in the sandbox.

Before the measured phases our bot is brought to where clients of a running service are: a share
of the active clients (`--checkin-share`) gets its daily check-in from the bot's own sweep (the
job runs every 2 s), the others asked for the menu once (/menu). Then every arrival is what the
client would do next in its chat, as tests/load.py does it: the latest bot message has buttons ->
press one (menu entries, dialogue choices, check-in mood buttons; a question with only "skip" is
answered in words half of the time), no buttons -> a typed answer; `--start-share` of the
arrivals are a /start instead. The mix that came out is printed per kind. The echo bot answers a
text with the same text and two buttons and a press with an answer and one message, so its
clients alternate text and presses.

Measured per rate and bot, in the sandbox (a wrapper around its Bot API dispatch, after the
spec check):
- first answer: from the moment the update is queued for the bot (getUpdates returns it at once)
  to the bot's first request that answers that chat: answerCallbackQuery for the press, or any
  message sent, edited or deleted in the chat (sendChatAction does not count);
- first message: the same, to the first message sent into the chat (what the client reads);
- bot CPU per update: user + system CPU time of the bot process over the phase (until every
  update of the phase is answered and the chat quiet) / updates;
- Bot API requests per update (getUpdates not counted).

The last line is `latency: rate=30 p50_ms=... p99_ms=... cpu_ratio_vs_echo=...
requests_per_update=...` (the rate closest to 30 that was run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from throughput import cpu_seconds, start_bot, stop_bot  # noqa: E402

from sandbox import Sandbox  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.times import to_ts  # noqa: E402
from tests.load import ANSWERS, bot_messages, percentile, pressable  # noqa: E402

# Requests that answer nothing a client sees.
NOT_ANSWERS = frozenset({"getUpdates", "sendChatAction"})
MESSAGE_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "sendSticker", "sendVoice", "copyMessage"}
)
AIMS = {"cpu_ratio": 1.5, "requests_per_update": 2.5, "p99_ms_at_30": 100.0}
# An update with no answer after this long counts as a timeout.
ANSWER_TIMEOUT = 10.0
DB_BASE_ID = 7_000_000_000


@dataclass
class Person:
    """One active client of the benchmark."""

    user_id: int
    rng: random.Random
    busy: bool = False
    count: int = 0


@dataclass
class Phase:
    """The figures of one rate for one bot."""

    bot: str
    rate: float
    seconds: float = 0.0
    updates: int = 0
    timeouts: int = 0
    requests: Counter[str] = field(default_factory=Counter)
    in_responses: Counter[str] = field(default_factory=Counter)
    first_answer: list[float] = field(default_factory=list)
    first_message: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    cpu_seconds: float = 0.0
    own_cpu_seconds: float = 0.0

    @property
    def cpu_ms(self) -> float:
        """Bot CPU per update in ms."""
        return 1000 * self.cpu_seconds / self.updates if self.updates else 0.0

    @property
    def per_update(self) -> float:
        """Bot API requests per update."""
        return sum(self.requests.values()) / self.updates if self.updates else 0.0

    def p(self, q: float, which: str = "first_answer") -> float:
        """A percentile of a latency list, in ms."""
        return 1000 * percentile(getattr(self, which), q)

    def line(self) -> str:
        """One human-readable line."""
        return (
            f"{self.bot:5s} rate={self.rate:g}/s updates={self.updates} "
            f"({self.updates / self.seconds if self.seconds else 0:.1f}/s) "
            f"first answer p50={self.p(50):.1f}ms p99={self.p(99):.1f}ms  "
            f"first message p50={self.p(50, 'first_message'):.1f}ms "
            f"p99={self.p(99, 'first_message'):.1f}ms  timeouts={self.timeouts}  "
            f"bot cpu={self.cpu_ms:.2f}ms/update  requests/update={self.per_update:.2f}"
            f"{self._responses()}  "
            f"load-side cpu={100 * self.own_cpu_seconds / max(self.seconds, 1e-9):.0f}%"
        )

    def _responses(self) -> str:
        count = sum(self.in_responses.values())
        return f" (+{count / self.updates:.2f} in webhook responses)" if count else ""


class Watch:
    """Sees every Bot API request the sandbox dispatches; times the first answer per chat."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        # chat id -> (queued at, answered, message seen, the phase it counts in)
        self.pending: dict[int, list[Any]] = {}
        self.answered: dict[int, asyncio.Event] = {}
        self.phase: Phase | None = None
        self._call = sb.api.call
        sb.api.call = self.call  # type: ignore[method-assign]
        sb.record_requests = False

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        now = time.perf_counter()
        replies = self.sb.webhook_replies
        # A method the bot put in its response to a webhook call is carried out, not requested.
        in_response = bool(replies) and replies[-1][1] is params
        if self.phase is not None and method != "getUpdates":
            if in_response:
                self.phase.in_responses[method] += 1
            else:
                self.phase.requests[method] += 1
        if method not in NOT_ANSWERS:
            chat = self._chat(method, params)
            entry = self.pending.get(chat) if chat is not None else None
            if chat is not None and entry is not None:
                queued, answered, messaged, phase = entry
                if not answered:
                    entry[1] = True
                    phase.first_answer.append(now - queued)
                    self.answered[chat].set()
                if not messaged and method in MESSAGE_METHODS:
                    entry[2] = True
                    phase.first_message.append(now - queued)
        return await self._call(method, params)

    def _chat(self, method: str, params: dict[str, Any]) -> int | None:
        if method == "answerCallbackQuery":
            record = self.sb.world.callbacks.get(str(params.get("callback_query_id")))
            return record.chat_id if record is not None else None
        chat = params.get("chat_id")
        return chat if isinstance(chat, int) else None

    def expect(self, chat: int, phase: Phase) -> asyncio.Event:
        """An update for `chat` is about to be queued now."""
        self.pending[chat] = [time.perf_counter(), False, False, phase]
        event = self.answered[chat] = asyncio.Event()
        return event


def _mood(message: dict[str, Any]) -> bool:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return sum(len(r) for r in rows) == 5 and all(
        b.get("callback_data", "").startswith("c:") for r in rows for b in r
    )


async def settle(sb: Sandbox, chat: int, quiet: float) -> None:
    """Wait until the bot has sent nothing into the chat for `quiet` seconds."""
    while True:
        try:
            await sb.wait_for(chat, timeout=quiet)
        except TimeoutError:
            return


async def act(
    sb: Sandbox, watch: Watch, person: Person, phase: Phase, args: argparse.Namespace
) -> None:
    """One update from this client: what it would do next in its chat; the answer is timed."""
    uid, rng = person.user_id, person.rng
    person.busy = True
    try:
        msgs = bot_messages(sb, uid)
        last = msgs[-1] if msgs else None
        choices = pressable(last) if last is not None else []
        text = ""
        press = ""
        if rng.random() < args.start_share:
            text, kind = "/start", "/start"
        elif last is None:
            person.count += 1
            text = f"{rng.choice(ANSWERS)} (a{uid}n{person.count})"
            kind = "typed text (empty chat)"
        elif choices and not (len(choices) == 1 and rng.random() < 0.5):
            press = rng.choice(choices)
            if _mood(last):
                kind = "check-in mood tap"
            elif press.startswith("m:"):
                kind = "menu tap"
            elif press.startswith("e:"):
                kind = "echo button"
            else:
                kind = "dialogue button"
        elif last.get("reply_markup") and not choices:
            text, kind = "/menu", "/menu (no button to press)"
        else:
            person.count += 1
            text = f"{rng.choice(ANSWERS)} (a{uid}n{person.count})"
            kind = "typed answer"
        phase.kinds[kind] += 1
        phase.updates += 1
        answered = watch.expect(uid, phase)
        task = None
        if press:
            task = asyncio.create_task(
                sb.press(uid, uid, last["message_id"], press, wait=ANSWER_TIMEOUT)  # type: ignore[index]
            )
        else:
            await sb.send_text(uid, text)
        try:
            await asyncio.wait_for(answered.wait(), ANSWER_TIMEOUT)
        except TimeoutError:
            phase.timeouts += 1
        if task is not None:
            await task
        await settle(sb, uid, args.quiet)
    finally:
        watch.pending.pop(uid, None)
        person.busy = False


async def run_phase(
    sb: Sandbox,
    watch: Watch,
    people: list[Person],
    name: str,
    pid: int,
    rate: float,
    seconds: float,
    args: argparse.Namespace,
    rng: random.Random,
) -> Phase:
    """Poisson arrivals at `rate` for `seconds`; then every update's answer is waited for."""
    phase = Phase(name, rate)
    watch.phase = phase
    tasks: set[asyncio.Task[None]] = set()
    cpu0, own0 = cpu_seconds(pid), cpu_seconds(os.getpid())
    start = time.perf_counter()
    due = start
    while True:
        due += rng.expovariate(rate)
        if due - start >= seconds:
            break
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        idle = [p for p in people if not p.busy]
        if not idle:
            phase.kinds["skipped: every client busy"] += 1
            continue
        person = rng.choice(idle)
        person.busy = True
        task = asyncio.create_task(act(sb, watch, person, phase, args))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    phase.seconds = time.perf_counter() - start
    phase.cpu_seconds = cpu_seconds(pid) - cpu0
    phase.own_cpu_seconds = cpu_seconds(os.getpid()) - own0
    watch.phase = None
    return phase


async def fill(db_path: Path, total: int, active: list[int], due: set[int]) -> float:
    """`total` consented clients in one transaction; the `active` ids are sandbox people.

    Every client has a schedule; only the ids in `due` have a check-in due now (the bot's sweep
    sends those before the measured phases), the others' next one is hours away.
    """
    began = time.perf_counter()
    now = datetime.now(UTC)
    created = to_ts(now - timedelta(days=30))
    ids = [*active, *range(DB_BASE_ID, DB_BASE_ID + max(0, total - len(active)))]
    later = to_ts(now + timedelta(hours=10))
    soon = to_ts(now - timedelta(seconds=5))
    db = await Database.open(db_path)
    try:
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO clients (user_id, chat_id, first_name, language_code, timezone,"
                " country, created_at, last_seen, active, age_ok, consent_at, consent_version)"
                " VALUES (?1, ?1, 'Klant', 'nl', 'Europe/Amsterdam', 'nl', ?2, ?3, 1, 1, ?2,"
                " 'kennismaking@2')",
                [(uid, created, created + uid % 86_400) for uid in ids],
            )
            await conn.executemany(
                "INSERT INTO schedules (user_id, checkin_time, next_checkin_at)"
                " VALUES (?, '20:00', ?)",
                [(uid, soon if uid in due else later) for uid in ids],
            )
    finally:
        await db.close()
    return time.perf_counter() - began


async def prepare_ours(
    sb: Sandbox, watch: Watch, people: list[Person], due: set[int], args: argparse.Namespace
) -> str:
    """The check-ins of `due` arrive through the sweep; everyone else asks for the menu once."""
    began = time.perf_counter()
    deadline = began + 120
    while time.perf_counter() < deadline:
        got = sum(1 for uid in due if any(_mood(m) for m in bot_messages(sb, uid)))
        if got == len(due):
            break
        await asyncio.sleep(0.2)
    checkins = time.perf_counter() - began
    warm = Phase("warm", 0)
    gate = asyncio.Semaphore(50)

    async def menu(person: Person) -> None:
        async with gate:
            answered = watch.expect(person.user_id, warm)
            await sb.send_text(person.user_id, "/menu")
            try:
                await asyncio.wait_for(answered.wait(), 30)
            except TimeoutError:
                warm.timeouts += 1
            await settle(sb, person.user_id, args.quiet)
            watch.pending.pop(person.user_id, None)

    await asyncio.gather(*(menu(p) for p in people if p.user_id not in due))
    return (
        f"prepared: {len(due)} check-ins from the sweep in {checkins:.1f}s, "
        f"{len(people) - len(due)} x /menu in {time.perf_counter() - began - checkins:.1f}s"
        f" ({warm.timeouts} unanswered)"
    )


async def one_bot(
    sb: Sandbox, watch: Watch, tmp: Path, name: str, args: argparse.Namespace
) -> list[Phase]:
    """Start one bot, prepare its clients, run every rate, stop it."""
    rng = random.Random(args.seed)
    people = [
        Person(sb.add_user(f"{name}{i}").id, random.Random(args.seed * 100_003 + i))
        for i in range(args.active)
    ]
    echo = name == "echo"
    if sb.world.updates:
        # Updates the previous bot never fetched would go to this one: they were its timeouts.
        print(f"dropped {len(sb.world.updates)} updates the previous bot never fetched")
        sb.world.updates.clear()
    extra: tuple[str, ...] = ()
    due: set[int] = set()
    if not echo:
        due = {p.user_id for p in people if rng.random() < args.checkin_share}
        took = await fill(
            tmp / f"{name}.sqlite3", args.db_clients, [p.user_id for p in people], due
        )
        size = (tmp / f"{name}.sqlite3").stat().st_size / 2**20
        print(
            f"database: {args.db_clients} clients in one transaction in {took:.1f}s ({size:.1f} MiB)"
        )
        extra = ("--jobs", "--sweep-seconds", "2")
        if args.typing:
            extra += ("--typing",)
    if args.request and not echo:
        extra += ("--request", args.request)
    if args.profile and not echo:
        extra += ("--profile-signals",)
    child = await start_bot(
        sb,
        tmp / f"{name}.sqlite3",
        echo=echo,
        rate=args.limit,
        profile="" if echo else args.profile,
        webhook=args.webhook and not echo,
        extra=extra,
    )
    phases = []
    spy: asyncio.subprocess.Process | None = None
    try:
        if not echo:
            print(await prepare_ours(sb, watch, people, due, args), flush=True)
        idle0 = cpu_seconds(child.pid)
        await asyncio.sleep(1.0)
        print(f"{name:5s} idle cpu={1000 * (cpu_seconds(child.pid) - idle0):.1f}ms/s", flush=True)
        if args.py_spy and not echo:
            spy = await start_py_spy(child.pid, args.py_spy)
        for rate in args.rates:
            if args.profile and not echo:
                child.send_signal(signal.SIGUSR1)  # the profile covers the measured phases only
            phase = await run_phase(
                sb, watch, people, name, child.pid, rate, args.seconds, args, rng
            )
            if args.profile and not echo:
                child.send_signal(signal.SIGUSR2)
            print(phase.line(), flush=True)
            phases.append(phase)
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on ^C
            await spy.wait()
        await stop_bot(child)
    return phases


async def start_py_spy(pid: int, out: str) -> asyncio.subprocess.Process:
    """Sample the bot process (every thread, on-CPU only) into collapsed stacks (bench/stacks.py).

    py-spy is not a project dependency: `pip install py-spy` (it needs ptrace rights).
    """
    spy_bin = Path(sys.executable).with_name("py-spy")
    spy = await asyncio.create_subprocess_exec(
        str(spy_bin) if spy_bin.exists() else "py-spy",
        "record",
        "--pid",
        str(pid),
        "--rate",
        "250",
        "--format",
        "raw",
        "--threads",
        "--output",
        out,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(0.5)
    return spy


def mix(phases: list[Phase]) -> str:
    """The kinds of updates sent, with their shares."""
    kinds: Counter[str] = Counter()
    for phase in phases:
        kinds.update(phase.kinds)
    total = sum(kinds.values()) or 1
    return ", ".join(f"{k} {100 * n / total:.0f}%" for k, n in kinds.most_common())


def requests_mix(phases: list[Phase]) -> str:
    """Bot API requests per update by method."""
    counts: Counter[str] = Counter()
    for phase in phases:
        counts.update(phase.requests)
    updates = sum(p.updates for p in phases) or 1
    return ", ".join(f"{m} {n / updates:.2f}" for m, n in counts.most_common())


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


async def main(args: argparse.Namespace) -> None:
    """Both bots at every rate, the ratios, the aims, the final line."""
    print(
        f"settings: rates={','.join(f'{r:g}' for r in args.rates)}/s seconds={args.seconds} "
        f"active={args.active} db_clients={args.db_clients} checkin_share={args.checkin_share} "
        f"start_share={args.start_share} quiet={args.quiet}s rate_limit={args.limit}/s "
        f"typing={'on' if args.typing else 'off'} webhook={'on' if args.webhook else 'off'} "
        f"request={args.request or 'default'} "
        f"cpus={os.cpu_count()} python={sys.version.split()[0]}",
        flush=True,
    )
    sb = Sandbox()
    await sb.start()
    watch = Watch(sb)
    try:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            ours = await one_bot(sb, watch, tmp, "bot", args)
            echo = await one_bot(sb, watch, tmp, "echo", args)
    finally:
        await sb.stop()
    print(f"mix (bot): {mix(ours)}")
    print(f"mix (echo): {mix(echo)}")
    print(f"requests per update (bot): {requests_mix(ours)}")
    print(f"requests per update (echo): {requests_mix(echo)}")
    carried: Counter[str] = Counter()
    for phase in ours:
        carried.update(phase.in_responses)
    if carried:
        per = sum(p.updates for p in ours) or 1
        print(
            "carried in webhook responses (bot, not requests): "
            + ", ".join(f"{m} {n / per:.2f}" for m, n in carried.most_common())
        )
    if sb.violations:
        print(f"Bot API violations: {len(sb.violations)}: {sb.violations[:3]}")
    print("ratios, bot / echo:")
    for a, b in zip(ours, echo, strict=True):
        print(
            f"  rate={a.rate:g}/s cpu/update={a.cpu_ms / max(b.cpu_ms, 1e-9):.2f}x "
            f"requests/update={a.per_update / max(b.per_update, 1e-9):.2f}x "
            f"p50={a.p(50) / max(b.p(50), 1e-9):.2f}x p99={a.p(99) / max(b.p(99), 1e-9):.2f}x "
            f"cpu/request={(a.cpu_ms / max(a.per_update, 1e-9)) / max(b.cpu_ms / max(b.per_update, 1e-9), 1e-9):.2f}x"
        )
    index = min(range(len(ours)), key=lambda i: abs(ours[i].rate - 30))
    a, b = ours[index], echo[index]
    cpu_ratio = a.cpu_ms / b.cpu_ms if b.cpu_ms else 0.0
    print(f"aims (at rate={a.rate:g}/s):")
    print(
        f"  bot cpu per update <= {AIMS['cpu_ratio']}x echo: {cpu_ratio:.2f}x "
        f"({a.cpu_ms:.2f} / {b.cpu_ms:.2f} ms): {verdict(cpu_ratio <= AIMS['cpu_ratio'])}"
    )
    print(
        f"  requests per update <= {AIMS['requests_per_update']}: {a.per_update:.2f}: "
        f"{verdict(a.per_update <= AIMS['requests_per_update'])}"
    )
    if a.rate == 30:
        print(
            f"  p99 first answer < {AIMS['p99_ms_at_30']:.0f} ms at 30/s: {a.p(99):.1f} ms: "
            f"{verdict(a.p(99) < AIMS['p99_ms_at_30'])}"
        )
    print("  check-ins send_rate_ratio >= 0.95: see bench/checkins.py")
    print(
        f"latency: rate={a.rate:g} p50_ms={a.p(50):.1f} p99_ms={a.p(99):.1f} "
        f"cpu_ratio_vs_echo={cpu_ratio:.2f} requests_per_update={a.per_update:.2f}",
        flush=True,
    )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line arguments."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rates", default="10,30,60", help="updates per second, comma-separated")
    p.add_argument("--seconds", type=float, default=20.0, help="length of each rate's phase")
    p.add_argument("--active", type=int, default=1000, help="clients sending updates")
    p.add_argument("--db-clients", type=int, default=100_000, help="clients in the database")
    p.add_argument(
        "--checkin-share", type=float, default=0.3, help="active clients with a check-in"
    )
    p.add_argument("--start-share", type=float, default=0.03, help="arrivals that are a /start")
    p.add_argument(
        "--quiet", type=float, default=0.3, help="a client is busy until its chat is this quiet"
    )
    p.add_argument(
        "--limit", type=float, default=1000.0, help="the bots' AIORateLimiter overall rate"
    )
    p.add_argument("--typing", action="store_true", help="our bot with typing pauses on")
    p.add_argument(
        "--webhook", action="store_true", help="our bot in webhook mode (the echo bot polls)"
    )
    p.add_argument(
        "--request", default="", help="our bot's request class (config telegram.request)"
    )
    p.add_argument(
        "--profile",
        default="",
        help="cProfile (CPU time) of our bot during the measured phases, into this file",
    )
    p.add_argument(
        "--py-spy",
        default="",
        help="py-spy samples of our bot during the measured phases into this file (raw stacks)",
    )
    p.add_argument("--seed", type=int, default=16)
    p.add_argument(
        "--quick", action="store_true", help="CI smoke: rates 10,30, 5 s each, 200 of 10,000"
    )
    args = p.parse_args(argv)
    if args.quick:
        args.rates, args.seconds, args.active, args.db_clients = "10,30", 5.0, 200, 10_000
    args.rates = [float(r) for r in str(args.rates).split(",") if r.strip()]
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
