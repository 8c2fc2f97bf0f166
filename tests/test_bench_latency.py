"""bench/latency.py and bench/stacks.py, run tiny so they cannot rot (no timing is asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import stacks  # noqa: E402


def test_the_latency_benchmark_runs_both_bots_and_prints_its_line() -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "latency.py"),
            "--rates",
            "15",
            "--seconds",
            "1.5",
            "--active",
            "24",
            "--db-clients",
            "400",
            "--checkin-share",
            "0.4",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = run.stdout
    assert run.returncode == 0, run.stderr[-3000:]
    assert re.search(r"^database: 400 clients in one transaction", out, re.M)
    # The check-ins came from the bot's own sweep, the others asked for the menu.
    match = re.search(
        r"^prepared: (\d+) check-ins .* (\d+) x /menu .*\((\d+) unanswered\)", out, re.M
    )
    assert match is not None, out
    assert int(match.group(1)) > 0 and int(match.group(1)) + int(match.group(2)) == 24
    assert match.group(3) == "0"
    for name in ("bot", "echo"):
        line = re.search(rf"^{name} +rate=15/s updates=(\d+) .* timeouts=(\d+)", out, re.M)
        assert line is not None, out
        assert int(line.group(1)) > 0
    assert "Bot API violations" not in out
    assert re.search(r"^mix \(bot\): .*(menu tap|check-in mood tap)", out, re.M)
    assert re.search(r"requests/update=\d+\.\d+x", out)
    for aim in ("bot cpu per update <= 1.5x echo", "requests per update <= 2.5"):
        assert re.search(rf"{re.escape(aim)}: .*: (met|NOT MET)$", out, re.M), aim
    last = out.strip().splitlines()[-1]
    assert re.fullmatch(
        r"latency: rate=15 p50_ms=[\d.]+ p99_ms=[\d.]+ cpu_ratio_vs_echo=[\d.]+ "
        r"requests_per_update=[\d.]+",
        last,
    ), last


def test_stacks_puts_each_sample_in_one_bucket_and_leaves_waits_out(tmp_path: Path) -> None:
    loop = (
        "thread (1): MainThread;<module> (tests/botproc.py:1);_run_once (asyncio/base_events.py:1)"
    )
    handler = f"{loop};Inbox.handle (bot/edge/inbox.py:9);on_callback (bot/routing/handlers.py:5)"
    text = "\n".join(
        [
            f"{loop};EpollSelector.select (selectors.py:468) 50",
            f"{handler};ExtBot.send_message (telegram/ext/_extbot.py:2);x (httpx/_client.py:3) 6",
            f"{handler};get (storage/clients.py:78);_execute (aiosqlite/core.py:158) 3",
            f"{handler};step (dialogues/engine.py:10) 1",
            "thread (2): Thread-1 (_connection_worker_thread);_connection_worker_thread "
            "(aiosqlite/core.py:59) 40",
            "thread (2): Thread-1 (_connection_worker_thread);_connection_worker_thread "
            "(aiosqlite/core.py:63) 2",
        ]
    )
    path = tmp_path / "s.spy"
    path.write_text(text + "\n")
    report = stacks.summary(path, cpu_ms=12.0)
    assert report.startswith("12 samples at work, every thread (90 waiting")
    assert "50.0%    6.00 ms/update  Bot API requests" in report
    assert "25.0%    3.00 ms/update  SQLite calls (main thread side)" in report
    assert "16.7%    2.00 ms/update  SQLite (aiosqlite's worker thread)" in report
    assert "8.3%    1.00 ms/update  dialogue engine" in report
    assert "Inbox.handle (bot/edge/inbox.py)" in report
